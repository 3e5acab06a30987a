//! Maintenance over SQLite: the raw counts behind diagnostics, the repairs, and the retention
//! sweep.
//!
//! [`MaintenanceStore`] and the types it speaks live in `signet_model::maintenance` and are
//! re-exported here at their old paths; [`crate::Store`] implements the trait over SQLite
//! (writes through the group-commit writer, reads on the read pool).
//!
//! [`snapshot_read_only`] takes the same snapshot over a database file opened read-only, for
//! `signet doctor` (works with the daemon down; never migrates or writes).

mod diagnostics;
mod graph;
mod repair;
pub(crate) mod retention;

pub use diagnostics::snapshot_read_only;
pub use signet_model::maintenance::{
    AuditOf, ColdCounts, ConnectorCounts, DedupCluster, DedupMerge, DedupRow, DiagnosticsSnapshot,
    DuplicateCounts, EntityPrune, FtsCounts, IndexCounts, MaintenanceStore, MutationCounts,
    PruneStep, PrunedEntities, PurgedTombstones, QueueCounts, RepairAudit, RetentionCounts,
    SWEEP_ACTIONS, SnapshotParams, StorageCounts,
};

use crate::Store;
use crate::error::Result;

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
    fn cold_counts(&self) -> Result<Option<ColdCounts>> {
        self.pool().read(graph::cold_counts)
    }
    fn prunable_entities(&self, which: EntityPrune) -> Result<usize> {
        self.pool().read(|c| graph::prunable(c, which))
    }
    fn prune_entities(
        &self,
        which: EntityPrune,
        limit: usize,
        audit: AuditOf<PrunedEntities>,
    ) -> Result<PrunedEntities> {
        self.pool().write(move |tx| {
            let done = graph::prune(tx, which, limit)?;
            repair::record(tx, &audit(&done))?;
            Ok(done)
        })
    }
    fn skipped_summaries(&self) -> Result<usize> {
        self.pool().read(graph::skipped_summaries)
    }
    fn requeue_skipped_summaries(&self, limit: usize, audit: AuditOf<usize>) -> Result<usize> {
        self.pool().write(move |tx| {
            let done = graph::requeue_skipped(tx, limit)?;
            repair::record(tx, &audit(&done))?;
            Ok(done)
        })
    }
}

pub(crate) use crate::pool::open_reader as open_read_only;
pub(crate) use crate::schema::table_exists;
