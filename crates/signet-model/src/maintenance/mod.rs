//! Maintenance: the raw counts behind diagnostics, the repairs, and the retention sweep, and
//! [`MaintenanceStore`], the interface the core's diagnostics, repair and retention services
//! use. The scoring of these counts lives in signet-core; a store only counts and changes rows.

mod counts;
mod graph;
mod repair;
mod retention;

pub use counts::{
    ConnectorCounts, DiagnosticsSnapshot, DuplicateCounts, IndexCounts, MutationCounts,
    QueueCounts, RetentionCounts, SWEEP_ACTIONS, SnapshotParams, StorageCounts,
};
pub use graph::{ColdCounts, EntityPrune, PrunedEntities};
pub use repair::{DedupCluster, DedupMerge, DedupRow, FtsCounts, RepairAudit};
pub use retention::{PruneStep, PurgedTombstones};

use crate::error::Result;

/// Builds a repair's audit row from what the repair changed; run inside the repair's own
/// transaction, so a repair and its audit row commit together or not at all.
pub type AuditOf<T> = Box<dyn FnOnce(&T) -> RepairAudit + Send>;

/// Everything diagnostics, repairs and retention need from storage. Each method is one
/// transaction (reads: one consistent snapshot). A repair's audit row is a history row of the
/// pseudo-memory `system` (event `none`, metadata `repairAction`, `affected`, `message`); the
/// last one whose action is in [`SWEEP_ACTIONS`] is the snapshot's `retention.last_sweep_at`.
pub trait MaintenanceStore: Send + Sync + 'static {
    /// The counts every diagnostics domain is scored from, relative to `p.now`, all taken in
    /// one read transaction so they agree.
    fn diagnostics_snapshot(&self, p: &SnapshotParams) -> Result<DiagnosticsSnapshot>;
    /// Moves up to `limit` dead jobs back to pending (memory jobs first, oldest first, then
    /// summary jobs) with their attempts reset; returns (memory jobs, summary jobs) requeued.
    /// The audit row is written in the same transaction.
    fn requeue_dead_jobs(
        &self,
        limit: usize,
        now: &str,
        audit: AuditOf<(usize, usize)>,
    ) -> Result<(usize, usize)>;
    /// Returns leased jobs whose lease began before `cutoff` (or has no start) to pending; the
    /// audit row is written in the same transaction.
    fn release_stale_leases(&self, cutoff: &str, now: &str, audit: AuditOf<usize>)
    -> Result<usize>;
    /// Compares the full-text index with the memories table (tombstones are indexed too).
    fn fts_counts(&self) -> Result<FtsCounts>;
    /// Rebuilds the full-text index from the memories table; returns the counts after. The
    /// audit row is written in the same transaction.
    fn fts_rebuild(&self, audit: AuditOf<FtsCounts>) -> Result<FtsCounts>;
    /// Up to `limit` clusters of live, unpinned, not manually overridden memories with the same
    /// normalised content (so the same content hash).
    fn dedup_clusters(&self, limit: usize) -> Result<Vec<DedupCluster>>;
    /// The dedup fields of these live, unpinned, not overridden memories (semantic pass).
    fn dedup_rows(&self, ids: &[String]) -> Result<Vec<DedupRow>>;
    /// Ids of up to `limit` live, unpinned, not overridden memories, newest first.
    fn dedup_candidate_ids(&self, limit: usize) -> Result<Vec<String>>;
    /// Applies merges: tags onto keepers, losers soft-deleted, history rows; returns the ids
    /// actually deleted (rows changed since they were read are skipped).
    fn apply_dedup(&self, merges: &[DedupMerge], audit: &RepairAudit) -> Result<Vec<String>>;
    /// Writes one repair audit row (`memory_id = 'system'`, `event = 'none'`).
    fn record_repair(&self, audit: &RepairAudit) -> Result<()>;
    /// Purges up to `limit` tombstones deleted before `cutoff`: their vectors, entity mentions
    /// (and entities left with none), an archive copy, then the row itself, so the memory is
    /// gone (its history stays but `history` answers `None`, a recover is `NotFound`). Live
    /// memories and younger tombstones are untouched. One transaction.
    fn purge_tombstones(&self, cutoff: &str, limit: usize, now: &str) -> Result<PurgedTombstones>;
    /// Deletes up to `limit` rows of one prunable table older than `cutoff` (a missing table
    /// prunes nothing). One transaction.
    fn prune(&self, step: PruneStep, cutoff: &str, limit: usize) -> Result<usize>;
    /// The cold archive's counts ([`ColdCounts`]); `None` when the backend has no archive
    /// table. A read.
    fn cold_counts(&self) -> Result<Option<ColdCounts>>;
    /// How many entities `which` selects, all of them (a prune takes a batch of these).
    fn prunable_entities(&self, which: EntityPrune) -> Result<usize>;
    /// Deletes up to `limit` of the entities `which` selects (oldest first) with everything
    /// that names them: their mentions, the relations at either end, their dependencies,
    /// aspects and those aspects' attributes. Memories are untouched. The audit row is written
    /// in the same transaction.
    fn prune_entities(
        &self,
        which: EntityPrune,
        limit: usize,
        audit: AuditOf<PrunedEntities>,
    ) -> Result<PrunedEntities>;
    /// How many `completed` summary jobs have a session key with no depth-0 session summary
    /// (the summary worker skipped the session). Jobs without a session key are not counted:
    /// no summary can ever match them, so requeuing them would repeat forever.
    fn skipped_summaries(&self) -> Result<usize>;
    /// Moves up to `limit` of those jobs (oldest first) back to `pending` with `attempts = 0`
    /// and `result`, `completed_at` and `error` cleared; returns how many. The audit row is
    /// written in the same transaction.
    fn requeue_skipped_summaries(&self, limit: usize, audit: AuditOf<usize>) -> Result<usize>;
}
