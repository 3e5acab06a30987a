//! Maintenance basics: the diagnostics snapshot's counts, dead jobs requeued, repair audit rows,
//! the full-text counts, tombstones purged, history pruned.

use std::sync::{Arc, Mutex};

use super::Fixtures;
use super::support::{
    DAY, HOUR, MINUTE, T0, at, forget, ids, insert, instant, job, memory, operator, recover,
};
use crate::MemoryStore;
use crate::maintenance::{
    AuditOf, FtsCounts, MaintenanceStore, PruneStep, RepairAudit, SWEEP_ACTIONS, SnapshotParams,
};
use crate::memories::{MutationOutcome, NewMemory, RECOVER_WINDOW_MS, WriteOptions};

/// Saves a vector (model `m`, one dimension) for the memory `id` holding `content`.
fn embed(store: &dyn MemoryStore, id: &str, content: &str) {
    let saved = store.save_embeddings(&[(job(id, content), vec![0; 4])], 1, "m", T0);
    assert_eq!(saved.expect("save_embeddings"), [true]);
}

/// The snapshot taken `now_ms` after `T0`, with the integrity check and one day of grace.
fn snapshot_at(
    maint: &dyn MaintenanceStore,
    now_ms: i64,
) -> crate::maintenance::DiagnosticsSnapshot {
    let p = SnapshotParams {
        now: instant(now_ms),
        lease_timeout_ms: 5 * 60 * 1000,
        integrity: true,
        tombstone_overdue_ms: RECOVER_WINDOW_MS + DAY,
    };
    maint
        .diagnostics_snapshot(&p)
        .expect("diagnostics_snapshot")
}

/// Remembers `m` with an extraction job.
fn with_job(store: &dyn MemoryStore, m: &NewMemory) {
    let opts = WriteOptions {
        enqueue_extraction: true,
        ..WriteOptions::default()
    };
    store.remember(m, opts, &operator()).expect("remember");
}

/// An audit row for `action` at `now`, and the closure that hands it to a repair while
/// keeping what the repair reported.
pub(super) fn audit<T: Clone + Send + 'static>(
    action: &str,
    now: &str,
) -> (AuditOf<T>, Arc<Mutex<Option<T>>>) {
    let seen = Arc::new(Mutex::new(None));
    let keep = Arc::clone(&seen);
    let row = RepairAudit {
        action: action.into(),
        changed_by: "conformance".into(),
        actor_type: "operator".into(),
        reason: "conformance".into(),
        now: now.into(),
        ..RepairAudit::default()
    };
    let build: AuditOf<T> = Box::new(move |done: &T| {
        *keep.lock().unwrap_or_else(|p| p.into_inner()) = Some(done.clone());
        row
    });
    (build, seen)
}

pub(super) fn taken<T: Clone>(seen: &Arc<Mutex<Option<T>>>) -> Option<T> {
    seen.lock().unwrap_or_else(|p| p.into_inner()).clone()
}

/// The snapshot counts memories, tombstones (expired and overdue ones relative to its `now`),
/// the job queue, recent deletes, live exact duplicates and vectors, consistently.
pub fn diagnostics_snapshot_counts_memories_tombstones_and_jobs(
    store: &dyn MemoryStore,
    maint: &dyn MaintenanceStore,
) {
    for (id, text) in [
        ("a", "snapshot a"),
        ("b", "snapshot b"),
        ("c", "snapshot c"),
    ] {
        with_job(store, &memory(id, text));
    }
    let mut twin = memory("twin", "Snapshot   A");
    twin.content_hash = "another hash, same normalised text".into();
    twin.normalized_content = memory("a", "snapshot a").normalized_content;
    insert(store, twin);
    forget(store, "c", &at(HOUR));

    let s = snapshot_at(maint, 2 * HOUR);
    assert_eq!((s.queue.pending, s.queue.leased, s.queue.dead), (3, 0, 0));
    assert_eq!(s.queue.oldest_pending_at.as_deref(), Some(T0));
    assert_eq!((s.storage.total, s.storage.tombstones), (4, 1));
    assert_eq!(s.storage.expired_tombstones, 0);
    assert_eq!(s.storage.integrity.as_deref(), Some("ok"));
    assert_eq!((s.index.live, s.index.without_embedding), (3, 3));
    assert_eq!((s.index.fts_missing, s.index.fts_orphans), (0, 0));
    assert_eq!(
        (s.mutation.recent_deletes, s.mutation.recent_recovers),
        (1, 0)
    );
    let dup = &s.duplicate;
    assert_eq!(
        (dup.exact_clusters, dup.exact_excess, dup.total_active),
        (1, 1, 3)
    );
    assert_eq!(
        (s.retention.tombstones, s.retention.overdue_tombstones),
        (1, 0)
    );
    assert_eq!(s.retention.last_sweep_at, None);

    embed(store, "b", "snapshot b");
    let later = snapshot_at(maint, 40 * DAY);
    assert_eq!(later.index.without_embedding, 2);
    assert_eq!(later.storage.expired_tombstones, 1);
    assert_eq!(later.retention.overdue_tombstones, 1);
    assert_eq!(later.retention.oldest_overdue_deleted_at, Some(at(HOUR)));
    assert_eq!(
        later.mutation.recent_deletes, 0,
        "a week later the delete is not recent"
    );
}

/// Dead jobs go back to pending, oldest first, at most `limit` per call; the audit closure
/// sees what was requeued.
pub fn dead_jobs_are_requeued_up_to_the_limit(
    store: &dyn MemoryStore,
    maint: &dyn MaintenanceStore,
    fixtures: &dyn Fixtures,
) {
    for (id, text) in [("a", "job a"), ("b", "job b"), ("c", "job c")] {
        with_job(store, &memory(id, text));
    }
    fixtures.kill_jobs(&at(HOUR));
    let jobs = |store: &dyn MemoryStore| store.ops_counts().expect("ops_counts").jobs;
    assert_eq!(jobs(store), vec![("dead".to_owned(), 3)]);
    assert_eq!(snapshot_at(maint, 2 * HOUR).queue.dead, 3);

    let (build, seen) = audit("requeueDeadJobs", &at(2 * HOUR));
    let done = maint.requeue_dead_jobs(2, &at(2 * HOUR), build);
    assert_eq!(done.expect("requeue_dead_jobs"), (2, 0));
    assert_eq!(taken(&seen), Some((2, 0)));
    let expected = vec![("dead".to_owned(), 1), ("pending".to_owned(), 2)];
    assert_eq!(jobs(store), expected);
    let s = snapshot_at(maint, 2 * HOUR);
    assert_eq!((s.queue.pending, s.queue.dead), (2, 1));

    let (build, seen) = audit("requeueDeadJobs", &at(3 * HOUR));
    let done = maint.requeue_dead_jobs(10, &at(3 * HOUR), build);
    assert_eq!(done.expect("requeue_dead_jobs"), (1, 0));
    assert_eq!(taken(&seen), Some((1, 0)));
    let (build, _) = audit("requeueDeadJobs", &at(4 * HOUR));
    let done = maint.requeue_dead_jobs(10, &at(4 * HOUR), build);
    assert_eq!(done.expect("requeue_dead_jobs"), (0, 0));
}

/// Audit rows are written with their repair: the latest sweep's row (recorded alone or by a
/// repair) is the snapshot's last sweep; other actions are not sweeps.
pub fn repair_audit_rows_record_the_last_sweep(
    _store: &dyn MemoryStore,
    maint: &dyn MaintenanceStore,
) {
    let (other, _) = audit::<(usize, usize)>("requeueDeadJobs", &at(HOUR));
    maint
        .requeue_dead_jobs(5, &at(HOUR), other)
        .expect("requeue_dead_jobs");
    assert_eq!(snapshot_at(maint, 5 * HOUR).retention.last_sweep_at, None);

    let sweep = RepairAudit {
        action: SWEEP_ACTIONS[0].into(),
        changed_by: "retention".into(),
        now: at(2 * HOUR),
        ..RepairAudit::default()
    };
    maint.record_repair(&sweep).expect("record_repair");
    let last = snapshot_at(maint, 5 * HOUR).retention.last_sweep_at;
    assert_eq!(last, Some(at(2 * HOUR)));

    let (manual, _) = audit::<(usize, usize)>(SWEEP_ACTIONS[1], &at(3 * HOUR));
    maint
        .requeue_dead_jobs(5, &at(3 * HOUR), manual)
        .expect("requeue_dead_jobs");
    let last = snapshot_at(maint, 5 * HOUR).retention.last_sweep_at;
    assert_eq!(
        last,
        Some(at(3 * HOUR)),
        "the audit row came with the repair"
    );
}

/// The full-text counts cover every row (tombstones stay indexed); a rebuild keeps them and
/// hands them to its audit.
pub fn fts_counts_cover_every_row_and_survive_a_rebuild(
    store: &dyn MemoryStore,
    maint: &dyn MaintenanceStore,
) {
    for (id, text) in [("a", "indexed a"), ("b", "indexed b"), ("c", "indexed c")] {
        insert(store, memory(id, text));
    }
    forget(store, "c", &at(MINUTE));
    let want = FtsCounts {
        memories: 3,
        live: 2,
        fts_rows: 3,
        missing: 0,
        orphans: 0,
    };
    assert_eq!(maint.fts_counts().expect("fts_counts"), want);
    let (build, seen) = audit("ftsRebuild", &at(HOUR));
    assert_eq!(maint.fts_rebuild(build).expect("fts_rebuild"), want);
    assert_eq!(taken(&seen), Some(want));
    let query = crate::KeywordQuery::all(["indexed"]);
    let hits = store.keyword_search(&query, &Default::default(), 10);
    assert_eq!(
        hits.expect("keyword_search").len(),
        2,
        "search works after a rebuild"
    );
}

/// A purge removes only tombstones deleted before the cutoff, at most `limit`, with their
/// vectors: the memory is gone (no history answer, recover `NotFound`); younger tombstones
/// stay recoverable and live memories are untouched.
pub fn purge_tombstones_removes_only_expired_tombstones(
    store: &dyn MemoryStore,
    maint: &dyn MaintenanceStore,
) {
    for (id, text) in [
        ("old1", "old one"),
        ("old2", "old two"),
        ("young", "young"),
        ("live", "live"),
    ] {
        insert(store, memory(id, text));
    }
    embed(store, "old1", "old one");
    forget(store, "old1", T0);
    forget(store, "old2", &at(MINUTE));
    forget(store, "young", &at(20 * DAY));

    let cutoff = at(10 * DAY);
    let first = maint.purge_tombstones(&cutoff, 1, &at(31 * DAY));
    let first = first.expect("purge_tombstones");
    assert_eq!(first.ids.len(), 1, "{first:?}");
    let second = maint.purge_tombstones(&cutoff, 10, &at(31 * DAY));
    let second = second.expect("purge_tombstones");
    let mut purged = [first.ids, second.ids].concat();
    purged.sort();
    assert_eq!(purged, ids(&["old1", "old2"]));
    assert_eq!(first.embeddings + second.embeddings, 1);
    let third = maint.purge_tombstones(&cutoff, 10, &at(31 * DAY));
    assert!(third.expect("purge_tombstones").ids.is_empty());

    assert_eq!(store.history("old1", 10).expect("history"), None);
    assert_eq!(
        recover(store, "old1", &at(31 * DAY)),
        MutationOutcome::NotFound
    );
    assert_eq!(store.vector_of("old1", "m", 1).expect("vector_of"), None);
    let out = recover(store, "young", &at(31 * DAY));
    assert!(matches!(out, MutationOutcome::Recovered { .. }), "{out:?}");
    let counts = store.ops_counts().expect("ops_counts");
    assert_eq!((counts.live, counts.deleted), (2, 0));
}

/// Pruning history removes only rows older than the cutoff, at most `limit`. (The events are
/// deletes: a backend may keep a remember's `created` event on the memory's row, where no
/// prune reaches it, so every memory is created after the cutoff.)
pub fn prune_history_removes_only_old_rows(store: &dyn MemoryStore, maint: &dyn MaintenanceStore) {
    for (id, days) in [("ancient", -100), ("old", -95), ("recent", 0)] {
        insert(store, memory(id, &format!("history of {id}")));
        forget(store, id, &at(days * DAY));
    }
    let cutoff = at(-90 * DAY);
    assert_eq!(
        maint.prune(PruneStep::History, &cutoff, 1).expect("prune"),
        1
    );
    assert_eq!(
        maint.prune(PruneStep::History, &cutoff, 10).expect("prune"),
        1
    );
    assert_eq!(
        maint.prune(PruneStep::History, &cutoff, 10).expect("prune"),
        0
    );
    let rows = |id: &str| store.history(id, 10).expect("history").map(|h| h.len());
    assert_eq!(
        (rows("ancient"), rows("old"), rows("recent")),
        (Some(1), Some(1), Some(2))
    );
}
