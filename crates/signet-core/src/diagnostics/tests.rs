use chrono::{Duration, Utc};
use signet_model::maintenance::DiagnosticsSnapshot;

use super::*;

/// The report as the API serialises it.
fn json(r: &Report) -> serde_json::Value {
    serde_json::to_value(r).unwrap()
}

fn measured(successes: usize, failures: usize) -> ProviderView {
    ProviderView::Measured {
        provider: "test".into(),
        model: "m".into(),
        available: true,
        counts: ProviderOutcomes {
            recent_total: successes + failures,
            recent_successes: successes,
            recent_failures: failures,
            recent_timeouts: 0,
        },
    }
}

/// The backup domain without a schedule.
fn no_backups() -> signet_api::diagnostics::BackupDomain {
    crate::backup::domain(&Default::default(), &Default::default(), Utc::now())
}

/// Inputs with extraction jobs being processed (so queue depth and age count).
fn with(provider: ProviderView) -> ReportInputs {
    ReportInputs {
        provider,
        extraction: Extraction::Enqueue,
        backup: no_backups(),
    }
}

fn healthy() -> DiagnosticsSnapshot {
    let mut s = DiagnosticsSnapshot::default();
    s.storage.total = 10;
    s.storage.integrity = Some("ok".into());
    s.index.live = 10;
    s.index.fts_present = true;
    s.index.fts_rows = 10;
    s.index.with_embedding_model = 10;
    s.duplicate.total_active = 10;
    s
}

#[test]
fn an_empty_healthy_store_scores_one() {
    let rep = report(&healthy(), &with(measured(0, 0)), Utc::now());
    let r = json(&rep);
    assert_eq!(r["composite"]["score"], 1.0);
    assert_eq!(r["composite"]["status"], "healthy");
    assert_eq!(r["predictor"]["status"], "disabled");
    assert!(r.get("update").is_none());
    for d in DOMAINS {
        assert!(domain(&rep, d).is_some(), "{d}");
    }
    assert!(domain(&rep, "timestamp").is_none());
    // The guide's monitoring commands: `jq '.score'` and `jq '{score, memory, mutation}'`.
    assert_eq!(r["score"], 1.0);
    assert_eq!(r["status"], "healthy");
    assert!(domain(&rep, "score").is_none());
    assert_eq!(r["memory"]["status"], "healthy");
    assert_eq!(r["memory"]["tombstones"], 0);
    assert!(domain(&rep, "nope").is_none());
}

#[test]
fn penalties_follow_upstream() {
    let now = Utc::now();
    let mut s = healthy();
    s.queue.pending = 51;
    s.queue.oldest_pending_at = Some(signet_model::time::format_iso(now - Duration::minutes(6)));
    s.queue.dead_last_hour = 1;
    s.queue.completed_last_hour = 9;
    s.queue.lease_anomalies = 1;
    let rep = report(&s, &with(measured(1, 1)), now);
    let r = json(&rep);
    assert_eq!(r["queue"]["score"], 0.0);
    assert_eq!(r["queue"]["status"], "unhealthy");
    assert_eq!(r["queue"]["deadRate"], 0.1);
    assert_eq!(r["provider"]["availabilityRate"], 0.5);
    assert_eq!(r["provider"]["status"], "degraded");

    let mut s = healthy();
    s.storage.tombstones = 4;
    s.index.fts_missing = 1;
    s.duplicate.exact_excess = 2;
    s.mutation.recent_recovers = 6;
    let rep = report(&s, &with(measured(1, 0)), now);
    let r = json(&rep);
    assert_eq!(r["storage"]["score"], 0.7);
    assert_eq!(r["index"]["score"], 0.5);
    assert_eq!(r["index"]["ftsMismatch"], true);
    assert_eq!(r["duplicate"]["score"], 0.5);
    assert_eq!(r["mutation"]["score"], 0.7);
}

#[test]
fn composite_renormalises_over_scored_domains() {
    let mut s = healthy();
    s.index.with_embedding_model = 0;
    // Keyword-only: no coverage penalty, provider out of the composite.
    let rep = report(
        &s,
        &with(ProviderView::NotConfigured {
            reason: "none".into(),
        }),
        Utc::now(),
    );
    let r = json(&rep);
    assert_eq!(r["index"]["score"], 1.0);
    assert_eq!(r["provider"]["status"], "disabled");
    assert_eq!(r["composite"]["score"], 1.0);
    // Provider at 0: composite = 1 - 0.22 / 0.99 (upstream's weights without `update`, plus
    // `memory` at 0.10).
    let rep = report(&healthy(), &with(measured(0, 5)), Utc::now());
    let r = json(&rep);
    let want = round(1.0 - 0.22 / 0.99);
    assert_eq!(r["composite"]["score"], want);
    assert_eq!(r["composite"]["status"], "degraded");
}

#[test]
fn a_failed_integrity_check_is_unhealthy_and_advised() {
    let mut s = healthy();
    s.storage.integrity = Some("*** in database main ***".into());
    s.queue.dead = 3;
    s.queue.dead_last_hour = 3;
    let rep = report(
        &s,
        &with(ProviderView::Offline { configured: None }),
        Utc::now(),
    );
    let r = json(&rep);
    assert_eq!(r["storage"]["status"], "unhealthy");
    assert_eq!(r["provider"]["status"], "unknown");
    let a = advice(&rep);
    let names: Vec<&str> = a.iter().map(|a| a.domain.as_str()).collect();
    assert_eq!(names, ["queue", "storage"]);
    // The report carries the same advice (one source of the texts).
    let carried: Vec<(&str, &[String])> = rep
        .advice
        .iter()
        .map(|a| (a.domain.as_str(), a.actions.as_slice()))
        .collect();
    let doctor: Vec<(&str, &[String])> = a
        .iter()
        .map(|a| (a.domain.as_str(), a.actions.as_slice()))
        .collect();
    assert_eq!(carried, doctor);
    assert!(a[0].actions[0].contains("requeue-dead"));
    assert!(
        a[0].actions[0].contains("/api/pipeline/status"),
        "{:?}",
        a[0]
    );
    assert!(a[1].actions[0].contains("quick_check"));
    // With nothing processing jobs, the advice does not send the user to requeue them.
    let idle = ReportInputs {
        provider: ProviderView::Offline { configured: None },
        extraction: Extraction::Off("memory.pipelineV2.enabled is false".into()),
        backup: no_backups(),
    };
    let a = advice(&report(&s, &idle, Utc::now()));
    assert!(
        !a[0].actions[0].contains("POST /api/repair/requeue-dead"),
        "{:?}",
        a[0]
    );
    assert!(a[0].actions[0].contains("nothing processes"), "{:?}", a[0]);
}

#[test]
fn the_memory_domain_scores_retention_health() {
    let now = Utc::now();
    let iso = |d: Duration| signet_model::time::format_iso(now - d);
    let mut s = healthy();
    s.retention.tombstones = 3;
    s.retention.last_sweep_at = Some(iso(Duration::hours(2)));
    let rep = report(&s, &with(measured(0, 0)), now);
    let r = json(&rep);
    assert_eq!(r["memory"]["score"], 1.0, "{}", r["memory"]);
    assert_eq!(r["memory"]["secondsSinceLastSweep"], 7200);

    // Overdue purges, no sweep for two days, vectors of vanished rows: all advised.
    s.retention.overdue_tombstones = 2;
    s.retention.last_sweep_at = Some(iso(Duration::days(2)));
    s.retention.orphaned_embeddings = 4;
    let rep = report(&s, &with(measured(0, 0)), now);
    let r = json(&rep);
    assert_eq!(r["memory"]["score"], 0.1);
    assert_eq!(r["memory"]["status"], "unhealthy");
    assert_eq!(r["memory"]["overduePurges"], 2);
    let a = advice(&rep);
    let memory = a.iter().find(|a| a.domain == "memory").unwrap();
    assert!(memory.actions.iter().any(|t| t.contains("retention-sweep")));
    assert!(memory.actions.iter().any(|t| t.contains("clean-orphans")));
    assert!(r["score"].as_f64().unwrap() < 1.0);

    // Never swept, but nothing to purge: healthy (a fresh workspace).
    let rep = report(&healthy(), &with(measured(0, 0)), now);
    let r = json(&rep);
    assert_eq!(r["memory"]["lastSweepAt"], serde_json::Value::Null);
    assert_eq!(r["memory"]["status"], "healthy");
}

#[test]
fn a_queue_nobody_drains_is_not_backing_up() {
    let now = Utc::now();
    let mut s = healthy();
    s.queue.pending = 500;
    s.queue.oldest_pending_at = Some(signet_model::time::format_iso(now - Duration::days(3)));
    let idle = ReportInputs {
        provider: measured(0, 0),
        extraction: Extraction::Off("memory.pipelineV2.extraction.provider is none".into()),
        backup: no_backups(),
    };
    let rep = report(&s, &idle, now);
    let r = json(&rep);
    assert_eq!(r["queue"]["status"], "healthy", "{}", r["queue"]);
    assert_eq!(r["queue"]["processing"], false);
    assert!(r["queue"]["idleReason"].as_str().unwrap().contains("none"));
    assert!(advice(&rep).is_empty());
    // The same queue with a worker behind it is backing up, and the advice says so.
    let rep = report(&s, &with(measured(0, 0)), now);
    let r = json(&rep);
    assert_eq!(r["queue"]["status"], "degraded");
    let backing_up = &advice(&rep)[0].actions[0];
    assert!(backing_up.contains("backing up"), "{backing_up}");
    // The pipeline's status says which of pause, budget or provider holds the queue.
    assert!(
        backing_up.contains("GET /api/pipeline/status"),
        "{backing_up}"
    );
}
