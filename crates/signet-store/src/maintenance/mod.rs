//! Maintenance: the raw counts behind diagnostics, the repairs, and the retention sweep.
//!
//! [`MaintenanceStore`] is the interface the core's diagnostics, repair and retention services
//! use; [`crate::Store`] implements it over SQLite (writes through the group-commit writer,
//! reads on the read pool). A PostgreSQL backend implements the same trait. The scoring of
//! these counts lives in `signet-core`; this module only counts and changes rows.
//!
//! [`snapshot_read_only`] takes the same snapshot over a database file opened read-only, for
//! `signet doctor` (works with the daemon down; never migrates or writes).

mod diagnostics;
mod repair;
mod retention;

pub use diagnostics::{
    ConnectorCounts, DiagnosticsSnapshot, DuplicateCounts, IndexCounts, MutationCounts,
    QueueCounts, RetentionCounts, SWEEP_ACTIONS, SnapshotParams, StorageCounts, snapshot_read_only,
};
pub use repair::{DedupCluster, DedupMerge, DedupRow, FtsCounts, RepairAudit};
pub use retention::{PruneStep, PurgedTombstones};

use crate::Store;
use crate::error::Result;

/// Builds a repair's audit row from what the repair changed; run inside the repair's own
/// transaction, so a repair and its audit row commit together or not at all.
pub type AuditOf<T> = Box<dyn FnOnce(&T) -> RepairAudit + Send>;

/// Everything diagnostics, repairs and retention need from storage. Each method is one
/// transaction (reads: one read connection).
pub trait MaintenanceStore: Send + Sync + 'static {
    /// The counts every diagnostics domain is scored from.
    fn diagnostics_snapshot(&self, p: &SnapshotParams) -> Result<DiagnosticsSnapshot>;
    /// Moves up to `limit` dead jobs back to pending (memory jobs first, then summary jobs);
    /// returns (memory jobs, summary jobs) requeued.
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
    /// Compares the full-text index with the memories table.
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
    /// Purges up to `limit` tombstones deleted before `cutoff`: mentions, embeddings,
    /// archive to `memories_cold`, hard delete. One transaction.
    fn purge_tombstones(&self, cutoff: &str, limit: usize, now: &str) -> Result<PurgedTombstones>;
    /// Deletes up to `limit` rows of one prunable table older than `cutoff`. One transaction.
    fn prune(&self, step: PruneStep, cutoff: &str, limit: usize) -> Result<usize>;
}

impl MaintenanceStore for Store {
    fn diagnostics_snapshot(&self, p: &SnapshotParams) -> Result<DiagnosticsSnapshot> {
        self.pool().read(|c| diagnostics::snapshot(c, p))
    }
    fn requeue_dead_jobs(
        &self,
        limit: usize,
        now: &str,
        audit: AuditOf<(usize, usize)>,
    ) -> Result<(usize, usize)> {
        let now = now.to_owned();
        self.pool().write(move |tx| {
            let done = repair::requeue_dead(tx, limit, &now)?;
            repair::record(tx, &audit(&done))?;
            Ok(done)
        })
    }
    fn release_stale_leases(
        &self,
        cutoff: &str,
        now: &str,
        audit: AuditOf<usize>,
    ) -> Result<usize> {
        let (cutoff, now) = (cutoff.to_owned(), now.to_owned());
        self.pool().write(move |tx| {
            let done = repair::release_leases(tx, &cutoff, &now)?;
            repair::record(tx, &audit(&done))?;
            Ok(done)
        })
    }
    fn fts_counts(&self) -> Result<FtsCounts> {
        self.pool().read(repair::fts_counts)
    }
    fn fts_rebuild(&self, audit: AuditOf<FtsCounts>) -> Result<FtsCounts> {
        self.pool().write(move |tx| {
            tx.execute_batch("INSERT INTO memories_fts(memories_fts) VALUES('rebuild')")?;
            let after = repair::fts_counts(tx)?;
            repair::record(tx, &audit(&after))?;
            Ok(after)
        })
    }
    fn dedup_clusters(&self, limit: usize) -> Result<Vec<DedupCluster>> {
        self.pool().read(|c| repair::dedup_clusters(c, limit))
    }
    fn dedup_rows(&self, ids: &[String]) -> Result<Vec<DedupRow>> {
        self.pool().read(|c| repair::dedup_rows(c, ids))
    }
    fn dedup_candidate_ids(&self, limit: usize) -> Result<Vec<String>> {
        self.pool().read(|c| repair::dedup_candidate_ids(c, limit))
    }
    fn apply_dedup(&self, merges: &[DedupMerge], audit: &RepairAudit) -> Result<Vec<String>> {
        let (merges, audit) = (merges.to_vec(), audit.clone());
        self.pool()
            .write(move |tx| repair::apply_dedup(tx, &merges, &audit))
    }
    fn record_repair(&self, audit: &RepairAudit) -> Result<()> {
        let audit = audit.clone();
        self.pool().write(move |tx| repair::record(tx, &audit))
    }
    fn purge_tombstones(&self, cutoff: &str, limit: usize, now: &str) -> Result<PurgedTombstones> {
        let (cutoff, now) = (cutoff.to_owned(), now.to_owned());
        self.pool()
            .write(move |tx| retention::purge_tombstones(tx, &cutoff, limit, &now))
    }
    fn prune(&self, step: PruneStep, cutoff: &str, limit: usize) -> Result<usize> {
        let cutoff = cutoff.to_owned();
        self.pool()
            .write(move |tx| retention::prune(tx, step, &cutoff, limit))
    }
}

pub(crate) use crate::pool::open_reader as open_read_only;
pub(crate) use crate::schema::table_exists;
