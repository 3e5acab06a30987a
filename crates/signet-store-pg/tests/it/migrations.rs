//! Migrations: versioned, applied once, and safe when two nodes open an empty database at
//! the same moment (the advisory lock).

use std::sync::{Arc, Barrier};

use signet_model::Lifecycle;
use signet_store_pg::{PgStore, schema};

use super::support::Scratch;

#[test]
fn two_nodes_opening_an_empty_database_at_once_migrate_it_once() {
    let Some(scratch) = Scratch::new() else {
        return;
    };
    let scratch = Arc::new(scratch);
    let barrier = Arc::new(Barrier::new(2));
    let nodes: Vec<_> = (0..2)
        .map(|_| {
            let (scratch, barrier) = (scratch.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                let store = PgStore::open(&scratch.config(1)).expect("open");
                store.migration().clone()
            })
        })
        .collect();
    let reports: Vec<_> = nodes
        .into_iter()
        .map(|n| n.join().expect("a node panicked"))
        .collect();
    let mut applied: Vec<i64> = reports.iter().flat_map(|r| r.applied.clone()).collect();
    applied.sort_unstable();
    let every: Vec<i64> = schema::MIGRATIONS.iter().map(|m| m.0).collect();
    assert_eq!(
        applied, every,
        "each migration applied by exactly one node: {reports:?}"
    );
    for r in &reports {
        assert_eq!(r.to_version, schema::latest(), "{r:?}");
    }
    let rows: Vec<(i64, i64)> = scratch
        .client()
        .query(
            "SELECT version, count(*) FROM schema_migrations GROUP BY version ORDER BY version",
            &[],
        )
        .expect("schema_migrations")
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(rows, every.iter().map(|v| (*v, 1)).collect::<Vec<_>>());
}

#[test]
fn reopening_a_current_database_applies_nothing_and_keeps_the_data() {
    let Some(scratch) = Scratch::new() else {
        return;
    };
    let first = PgStore::open(&scratch.config(1)).expect("open");
    assert_eq!(first.migration().from_version, 0);
    let m = signet_model::memories::NewMemory {
        content_hash: "h-kept".into(),
        ..super::support::memory("kept", "survives a reopen", "2026-03-02T12:00:00.000Z")
    };
    use signet_model::MemoryStore;
    first
        .remember(&m, Default::default(), &Default::default())
        .expect("remember");
    drop(first);
    let again = PgStore::open(&scratch.config(1)).expect("reopen");
    let report = again.migration();
    assert_eq!(report.from_version, schema::latest());
    assert_eq!(report.to_version, schema::latest());
    assert!(report.applied.is_empty(), "{report:?}");
    assert!(again.live_detail("kept").expect("read").is_some());
}

#[test]
fn a_database_from_a_newer_build_is_refused() {
    let Some(scratch) = Scratch::new() else {
        return;
    };
    drop(PgStore::open(&scratch.config(1)).expect("open"));
    let newer = schema::latest() + 1;
    scratch
        .client()
        .execute(
            "INSERT INTO schema_migrations (version, name) VALUES ($1, 'from the future')",
            &[&newer],
        )
        .expect("record a newer version");
    let err = PgStore::open(&scratch.config(1)).expect_err("a newer schema");
    let msg = err.to_string();
    assert!(matches!(err, signet_model::StoreError::Schema(_)), "{msg}");
    assert!(
        msg.contains(&newer.to_string()) && msg.contains("upgrade"),
        "{msg}"
    );
}
