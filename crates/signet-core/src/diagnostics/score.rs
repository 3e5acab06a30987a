//! One function per domain: metrics, penalties (upstream's, plus the ones our extra signals
//! call for, noted where they apply), score clamped to [0, 1] and status.

use chrono::{DateTime, Utc};
use signet_model::maintenance::{
    ConnectorCounts, DuplicateCounts, IndexCounts, MutationCounts, QueueCounts, RetentionCounts,
    StorageCounts,
};

use signet_api::Extra;

use super::{
    ConnectorDomain, DuplicateDomain, IndexDomain, MemoryDomain, MutationDomain, ProviderDomain,
    ProviderView, QueueDomain, Status, StorageDomain, round, scored,
};
use crate::memory::Extraction;
use crate::retention;

fn age_ms(at: Option<&str>, now: DateTime<Utc>) -> Option<i64> {
    let t = signet_model::time::parse(at?)?;
    Some((now - t).num_milliseconds().max(0))
}

fn ratio(a: i64, b: i64) -> f64 {
    if b <= 0 { 0.0 } else { a as f64 / b as f64 }
}

/// Ours: when nothing processes extraction jobs (the pipeline disabled or its provider
/// `none`: remember queues none then), pending jobs (from an earlier configuration) wait by
/// design, so depth and age are reported but not penalised. A pipeline that queues jobs has
/// an extraction worker behind it; if that worker cannot drain them (paused, out of budget,
/// an unusable provider) the queue is backing up, which is what this domain reports.
pub fn queue(q: &QueueCounts, extraction: &Extraction, now: DateTime<Utc>) -> QueueDomain {
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
    QueueDomain {
        depth: q.pending,
        oldest_age_sec: oldest,
        dead_rate: round(dead_rate),
        lease_anomalies: q.lease_anomalies,
        leased: q.leased,
        dead: q.dead,
        stale_leases: q.stale_leases,
        dead_summary_jobs: q.dead_summary_jobs,
        processing,
        idle_reason: extraction.off_reason().map(str::to_owned),
        health: scored(s),
        extra: Extra::new(),
    }
}

/// Past the recovery window by this long, a tombstone should have been purged (two sweep
/// intervals of slack).
pub const OVERDUE_GRACE_MS: i64 = 2 * retention::INTERVAL.as_millis() as i64;
/// A sweep older than this (or none at all) while tombstones exist means retention stopped.
const SWEEP_STALE_MS: i64 = 24 * 3600 * 1000;

/// Ours (the guide's `memory` domain): retention health. Overdue purges mean sweeps are not
/// running; so does no sweep in a day while tombstones wait; vectors of rows that no longer
/// exist are leaked space.
pub fn memory(r: &RetentionCounts, now: DateTime<Utc>) -> MemoryDomain {
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
    MemoryDomain {
        tombstones: r.tombstones,
        overdue_purges: r.overdue_tombstones,
        oldest_overdue_deleted_at: r.oldest_overdue_deleted_at.clone(),
        last_sweep_at: r.last_sweep_at.clone(),
        seconds_since_last_sweep: since_sweep.map(|ms| ms / 1000),
        orphaned_embeddings: r.orphaned_embeddings,
        health: scored(s),
        extra: Extra::new(),
    }
}

pub fn storage(st: &StorageCounts) -> StorageDomain {
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
    StorageDomain {
        total_memories: st.total,
        deleted_tombstones: st.tombstones,
        tombstone_ratio: round(tomb),
        expired_tombstones: st.expired_tombstones,
        db_size_bytes: st.page_count * st.page_size,
        free_bytes: st.freelist_count * st.page_size,
        integrity: st.integrity.clone(),
        health: scored(s),
        extra: Extra::new(),
    }
}

pub fn index(ix: &IndexCounts, embeddings_expected: bool) -> IndexDomain {
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
    IndexDomain {
        memories_row_count: ix.live,
        fts_row_count: ix.fts_rows,
        fts_mismatch: mismatch,
        fts_missing: ix.fts_missing,
        fts_orphans: ix.fts_orphans,
        embedding_coverage: round(coverage),
        embeddings_expected,
        unembedded: ix.without_embedding,
        tombstone_embeddings: ix.tombstone_embeddings,
        health: scored(s),
        extra: Extra::new(),
    }
}

pub fn provider(p: &ProviderView) -> ProviderDomain {
    match p {
        ProviderView::Measured {
            provider,
            model,
            available,
            counts,
        } => {
            let rate = counts.availability();
            ProviderDomain::Measured {
                counts: *counts,
                availability_rate: round(rate),
                configured: true,
                provider: provider.clone(),
                model: model.clone(),
                available: *available,
                health: scored(rate),
            }
        }
        ProviderView::NotConfigured { reason } => ProviderDomain::NotConfigured {
            configured: false,
            reason: reason.clone(),
            status: Status::Disabled,
            score: 0,
        },
        ProviderView::Offline { configured } => ProviderDomain::Offline {
            measured: false,
            configured: configured.clone(),
            note: "not measured offline: provider outcomes are recorded by the running daemon"
                .to_owned(),
            status: Status::Unknown,
            score: None,
        },
    }
}

pub fn mutation(m: &MutationCounts) -> MutationDomain {
    let s = if m.recent_recovers > 5 { 0.7 } else { 1.0 };
    MutationDomain {
        recent_recovers: m.recent_recovers,
        recent_deletes: m.recent_deletes,
        health: scored(s),
        extra: Extra::new(),
    }
}

pub fn duplicate(d: &DuplicateCounts) -> DuplicateDomain {
    let r = ratio(d.exact_excess, d.total_active);
    let s = if r > 0.1 {
        0.5
    } else if r > 0.05 {
        0.7
    } else {
        1.0
    };
    DuplicateDomain {
        exact_duplicates: d.exact_excess,
        exact_clusters: d.exact_clusters,
        total_active: d.total_active,
        duplicate_ratio: round(r),
        health: scored(s),
        extra: Extra::new(),
    }
}

pub fn connector(c: &ConnectorCounts, now: DateTime<Utc>) -> ConnectorDomain {
    let oldest = age_ms(c.oldest_error_at.as_deref(), now);
    let mut s = 1.0;
    if c.errors > 0 {
        s -= 0.3;
    }
    if oldest.is_some_and(|ms| ms > 24 * 3600 * 1000) {
        s -= 0.2;
    }
    ConnectorDomain {
        connector_count: c.count,
        syncing_count: c.syncing,
        error_count: c.errors,
        oldest_error_age: oldest,
        health: scored(s),
        extra: Extra::new(),
    }
}
