use chrono::{Duration, Utc};
use signet_store::maintenance::DiagnosticsSnapshot;

use super::*;

fn measured(successes: usize, failures: usize) -> ProviderView {
    ProviderView::Measured {
        provider: "test".into(),
        model: "m".into(),
        available: true,
        counts: OutcomeCounts {
            recent_total: successes + failures,
            recent_successes: successes,
            recent_failures: failures,
            recent_timeouts: 0,
        },
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
    let r = report(&healthy(), &measured(0, 0), Utc::now());
    assert_eq!(r["composite"]["score"], 1.0);
    assert_eq!(r["composite"]["status"], "healthy");
    assert_eq!(r["predictor"]["status"], "disabled");
    assert!(r.get("update").is_none());
    for d in DOMAINS {
        assert!(domain(&r, d).is_some(), "{d}");
    }
    assert!(domain(&r, "timestamp").is_none());
    assert!(domain(&r, "nope").is_none());
}

#[test]
fn penalties_follow_upstream() {
    let now = Utc::now();
    let mut s = healthy();
    s.queue.pending = 51;
    s.queue.oldest_pending_at = Some(signet_store::time::format_iso(now - Duration::minutes(6)));
    s.queue.dead_last_hour = 1;
    s.queue.completed_last_hour = 9;
    s.queue.lease_anomalies = 1;
    let r = report(&s, &measured(1, 1), now);
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
    let r = report(&s, &measured(1, 0), now);
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
    let r = report(
        &s,
        &ProviderView::NotConfigured {
            reason: "none".into(),
        },
        Utc::now(),
    );
    assert_eq!(r["index"]["score"], 1.0);
    assert_eq!(r["provider"]["status"], "disabled");
    assert_eq!(r["composite"]["score"], 1.0);
    // Provider at 0: composite = 1 - 0.22 / 0.89.
    let r = report(&healthy(), &measured(0, 5), Utc::now());
    let want = round(1.0 - 0.22 / 0.89);
    assert_eq!(r["composite"]["score"], want);
    assert_eq!(r["composite"]["status"], "degraded");
}

#[test]
fn a_failed_integrity_check_is_unhealthy_and_advised() {
    let mut s = healthy();
    s.storage.integrity = Some("*** in database main ***".into());
    s.queue.dead = 3;
    s.queue.dead_last_hour = 3;
    let r = report(&s, &ProviderView::Offline { configured: None }, Utc::now());
    assert_eq!(r["storage"]["status"], "unhealthy");
    assert_eq!(r["provider"]["status"], "unknown");
    let a = advice(&r);
    let names: Vec<&str> = a.iter().map(|a| a.domain.as_str()).collect();
    assert_eq!(names, ["queue", "storage"]);
    assert!(a[0].actions[0].contains("requeue-dead"));
    assert!(a[1].actions[0].contains("quick_check"));
}
