//! One function per domain: metrics, penalties (upstream's, plus the ones our extra signals
//! call for, noted where they apply), score clamped to [0, 1] and status.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use signet_store::maintenance::{
    ConnectorCounts, DuplicateCounts, IndexCounts, MutationCounts, QueueCounts, RetentionCounts,
    StorageCounts,
};

use super::{ProviderView, round, status};
use crate::memory::Extraction;
use crate::retention;

fn finish(mut v: Value, score: f64) -> Value {
    // Rounded before the thresholds: 1 - 0.3 - 0.2 is 0.4999... in floating point.
    let score = round(score.clamp(0.0, 1.0));
    v["score"] = score.into();
    v["status"] = status(score).into();
    v
}

fn age_ms(at: Option<&str>, now: DateTime<Utc>) -> Option<i64> {
    let t = signet_store::time::parse(at?)?;
    Some((now - t).num_milliseconds().max(0))
}

fn ratio(a: i64, b: i64) -> f64 {
    if b <= 0 { 0.0 } else { a as f64 / b as f64 }
}

/// Ours: when nothing processes extraction jobs (pipeline disabled, provider `none`, or no
/// worker), pending jobs wait by design, so depth and age are reported but not penalised.
pub fn queue(q: &QueueCounts, extraction: &Extraction, now: DateTime<Utc>) -> Value {
    let oldest = age_ms(q.oldest_pending_at.as_deref(), now).unwrap_or(0) / 1000;
    let dead_rate = ratio(q.dead_last_hour, q.completed_last_hour + q.dead_last_hour);
    let processing = extraction.enqueues();
    let mut s = 1.0;
    if processing && q.pending > 50 {
        s -= 0.3;
    }
    if dead_rate > 0.01 {
        s -= 0.3;
    }
    if processing && oldest > 300 {
        s -= 0.2;
    }
    // Ours: a lease past the lease timeout is an anomaly even if the job is young.
    if q.lease_anomalies > 0 || q.stale_leases > 0 {
        s -= 0.2;
    }
    let v = json!({"depth": q.pending, "oldestAgeSec": oldest, "deadRate": round(dead_rate),
        "leaseAnomalies": q.lease_anomalies, "leased": q.leased, "dead": q.dead,
        "staleLeases": q.stale_leases, "deadSummaryJobs": q.dead_summary_jobs,
        "processing": processing, "idleReason": extraction.off_reason()});
    finish(v, s)
}

/// Past the recovery window by this long, a tombstone should have been purged (two sweep
/// intervals of slack).
pub const OVERDUE_GRACE_MS: i64 = 2 * retention::INTERVAL.as_millis() as i64;
/// A sweep older than this (or none at all) while tombstones exist means retention stopped.
const SWEEP_STALE_MS: i64 = 24 * 3600 * 1000;

/// Ours (the guide's `memory` domain): retention health. Overdue purges mean sweeps are not
/// running; so does no sweep in a day while tombstones wait; vectors of rows that no longer
/// exist are leaked space.
pub fn memory(r: &RetentionCounts, now: DateTime<Utc>) -> Value {
    let since_sweep = age_ms(r.last_sweep_at.as_deref(), now);
    let sweep_stale = since_sweep.is_none_or(|ms| ms > SWEEP_STALE_MS);
    let mut s = 1.0;
    if r.overdue_tombstones > 0 {
        s -= 0.4;
    }
    if sweep_stale && r.tombstones > 0 {
        s -= 0.3;
    }
    if r.orphaned_embeddings > 0 {
        s -= 0.2;
    }
    let v = json!({"tombstones": r.tombstones, "overduePurges": r.overdue_tombstones,
        "oldestOverdueDeletedAt": r.oldest_overdue_deleted_at, "lastSweepAt": r.last_sweep_at,
        "secondsSinceLastSweep": since_sweep.map(|ms| ms / 1000),
        "orphanedEmbeddings": r.orphaned_embeddings});
    finish(v, s)
}

pub fn storage(st: &StorageCounts) -> Value {
    let tomb = ratio(st.tombstones, st.total);
    let mut s = 1.0;
    if tomb > 0.3 {
        s -= 0.3;
    }
    // Ours: a database that fails its integrity check is unhealthy whatever else holds.
    let intact = st.integrity.as_deref().is_none_or(|i| i == "ok");
    if !intact {
        s = 0.0;
    }
    let v = json!({"totalMemories": st.total, "deletedTombstones": st.tombstones,
        "tombstoneRatio": round(tomb), "expiredTombstones": st.expired_tombstones,
        "dbSizeBytes": st.page_count * st.page_size, "freeBytes": st.freelist_count * st.page_size,
        "integrity": st.integrity});
    finish(v, s)
}

pub fn index(ix: &IndexCounts, embeddings_expected: bool) -> Value {
    let mismatch = (!ix.fts_present && ix.live > 0) || ix.fts_missing > 0 || ix.fts_orphans > 0;
    let coverage = if ix.live == 0 {
        1.0
    } else {
        ratio(ix.with_embedding_model, ix.live)
    };
    let mut s = 1.0;
    if mismatch {
        s -= 0.5;
    }
    if embeddings_expected && coverage < 0.8 {
        s -= 0.3;
    }
    let v = json!({"memoriesRowCount": ix.live, "ftsRowCount": ix.fts_rows, "ftsMismatch": mismatch,
        "ftsMissing": ix.fts_missing, "ftsOrphans": ix.fts_orphans,
        "embeddingCoverage": round(coverage), "embeddingsExpected": embeddings_expected,
        "unembedded": ix.without_embedding, "tombstoneEmbeddings": ix.tombstone_embeddings});
    finish(v, s)
}

pub fn provider(p: &ProviderView) -> Value {
    match p {
        ProviderView::Measured {
            provider,
            model,
            available,
            counts,
        } => {
            let rate = counts.availability();
            let mut v = serde_json::to_value(counts).unwrap_or_default();
            v["availabilityRate"] = round(rate).into();
            v["configured"] = true.into();
            v["provider"] = provider.as_str().into();
            v["model"] = model.as_str().into();
            v["available"] = (*available).into();
            finish(v, rate)
        }
        ProviderView::NotConfigured { reason } => json!({"configured": false, "reason": reason,
            "status": "disabled", "score": 0}),
        ProviderView::Offline { configured } => json!({"measured": false, "configured": configured,
            "note": "not measured offline: provider outcomes are recorded by the running daemon",
            "status": "unknown", "score": null}),
    }
}

pub fn mutation(m: &MutationCounts) -> Value {
    let s = if m.recent_recovers > 5 { 0.7 } else { 1.0 };
    finish(
        json!({"recentRecovers": m.recent_recovers, "recentDeletes": m.recent_deletes}),
        s,
    )
}

pub fn duplicate(d: &DuplicateCounts) -> Value {
    let r = ratio(d.exact_excess, d.total_active);
    let s = if r > 0.1 {
        0.5
    } else if r > 0.05 {
        0.7
    } else {
        1.0
    };
    let v = json!({"exactDuplicates": d.exact_excess, "exactClusters": d.exact_clusters,
        "totalActive": d.total_active, "duplicateRatio": round(r)});
    finish(v, s)
}

pub fn connector(c: &ConnectorCounts, now: DateTime<Utc>) -> Value {
    let oldest = age_ms(c.oldest_error_at.as_deref(), now);
    let mut s = 1.0;
    if c.errors > 0 {
        s -= 0.3;
    }
    if oldest.is_some_and(|ms| ms > 24 * 3600 * 1000) {
        s -= 0.2;
    }
    let v = json!({"connectorCount": c.count, "syncingCount": c.syncing, "errorCount": c.errors,
        "oldestErrorAge": oldest});
    finish(v, s)
}
