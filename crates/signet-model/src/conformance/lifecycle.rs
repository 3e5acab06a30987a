//! The lifecycle: a fresh store reports a completed migration and a clean integrity check,
//! and housekeeping and the shutdown flush lose nothing.

use super::support::{insert, is_live, memory};
use crate::{Lifecycle, MemoryStore};

/// A fresh store was migrated to a version at least as new as the one it found, applied the
/// versions it lists in order, and passes its integrity check.
pub fn a_fresh_store_reports_its_migration_and_a_clean_integrity_check(
    _store: &dyn MemoryStore,
    life: &dyn Lifecycle,
) {
    let report = life.migration();
    assert!(
        report.to_version >= report.from_version,
        "migration went backwards: {report:?}"
    );
    assert!(report.to_version > 0, "a fresh store has a schema version");
    assert!(
        report.applied.windows(2).all(|w| w[0] < w[1]),
        "applied versions are in order: {report:?}"
    );
    if let Some(last) = report.applied.last() {
        assert_eq!(
            *last, report.to_version,
            "the last applied version is the current one"
        );
    }
    let integrity = life.integrity().expect("integrity");
    assert!(integrity.ok, "a fresh store is intact: {integrity:?}");
    assert!(integrity.problems.is_empty());
}

/// Housekeeping (at any threshold) and the shutdown flush keep every write readable, and
/// the store stays intact after them.
pub fn housekeeping_and_the_flush_keep_every_write(store: &dyn MemoryStore, life: &dyn Lifecycle) {
    insert(store, memory("life-1", "written before housekeeping"));
    life.housekeep(0).expect("housekeep with truncation");
    insert(
        store,
        memory("life-2", "written between housekeeping rounds"),
    );
    life.housekeep(u64::MAX)
        .expect("housekeep without truncation");
    life.checkpoint().expect("checkpoint");
    insert(store, memory("life-3", "written after the flush"));
    for id in ["life-1", "life-2", "life-3"] {
        assert!(is_live(store, id), "{id} survived housekeeping");
    }
    assert!(life.integrity().expect("integrity").ok);
}
