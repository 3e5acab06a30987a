//! Maintenance over PostgreSQL ([`MaintenanceStore`]): the raw counts behind diagnostics
//! ([`diagnostics`]), the repairs ([`repair`]), the retention sweep ([`retention`]) and the
//! graph and archive repairs ([`graph`]). A repair and its audit row commit together.

mod diagnostics;
mod graph;
mod repair;
mod retention;

use signet_model::maintenance::{
    AuditOf, ColdCounts, DedupCluster, DedupMerge, DedupRow, DiagnosticsSnapshot, EntityPrune,
    FtsCounts, PruneStep, PrunedEntities, PurgedTombstones, RepairAudit, SnapshotParams,
};
use signet_model::{MaintenanceStore, Result};

use crate::PgStore;

impl MaintenanceStore for PgStore {
    fn diagnostics_snapshot(&self, p: &SnapshotParams) -> Result<DiagnosticsSnapshot> {
        // REPEATABLE READ: every count of the snapshot sees the same moment.
        self.pool().tx(|tx| {
            tx.batch_execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
                .map_err(crate::error::map)?;
            diagnostics::snapshot(tx, p)
        })
    }
    fn requeue_dead_jobs(
        &self,
        limit: usize,
        now: &str,
        audit: AuditOf<(usize, usize)>,
    ) -> Result<(usize, usize)> {
        self.pool().tx(|tx| {
            let done = repair::requeue_dead(tx, limit, now)?;
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
        self.pool().tx(|tx| {
            let done = repair::release_leases(tx, cutoff, now)?;
            repair::record(tx, &audit(&done))?;
            Ok(done)
        })
    }
    fn fts_counts(&self) -> Result<FtsCounts> {
        self.pool().tx(|tx| repair::fts_counts(tx))
    }
    /// The keyword index is a generated column, always current: a rebuild recomputes it (an
    /// `UPDATE` of every row, which regenerates it) and reports the counts.
    fn fts_rebuild(&self, audit: AuditOf<FtsCounts>) -> Result<FtsCounts> {
        self.pool().tx(|tx| {
            repair::fts_rebuild(tx)?;
            let after = repair::fts_counts(tx)?;
            repair::record(tx, &audit(&after))?;
            Ok(after)
        })
    }
    fn dedup_clusters(&self, limit: usize) -> Result<Vec<DedupCluster>> {
        self.pool().tx(|tx| repair::dedup_clusters(tx, limit))
    }
    fn dedup_rows(&self, ids: &[String]) -> Result<Vec<DedupRow>> {
        self.pool().with(|c| repair::dedup_rows(c, ids))
    }
    fn dedup_candidate_ids(&self, limit: usize) -> Result<Vec<String>> {
        self.pool().with(|c| repair::dedup_candidate_ids(c, limit))
    }
    fn apply_dedup(&self, merges: &[DedupMerge], audit: &RepairAudit) -> Result<Vec<String>> {
        self.pool().tx(|tx| repair::apply_dedup(tx, merges, audit))
    }
    fn record_repair(&self, audit: &RepairAudit) -> Result<()> {
        self.pool().with(|c| repair::record(c, audit))
    }
    fn purge_tombstones(&self, cutoff: &str, limit: usize, now: &str) -> Result<PurgedTombstones> {
        self.pool()
            .tx(|tx| retention::purge_tombstones(tx, cutoff, limit, now))
    }
    fn prune(&self, step: PruneStep, cutoff: &str, limit: usize) -> Result<usize> {
        self.pool()
            .tx(|tx| retention::prune(tx, step, cutoff, limit))
    }
    fn cold_counts(&self) -> Result<Option<ColdCounts>> {
        self.pool().tx(|tx| graph::cold_counts(tx).map(Some))
    }
    fn prunable_entities(&self, which: EntityPrune) -> Result<usize> {
        self.pool().with(|c| graph::prunable(c, which))
    }
    fn prune_entities(
        &self,
        which: EntityPrune,
        limit: usize,
        audit: AuditOf<PrunedEntities>,
    ) -> Result<PrunedEntities> {
        self.pool().tx(|tx| {
            let done = graph::prune(tx, which, limit)?;
            repair::record(tx, &audit(&done))?;
            Ok(done)
        })
    }
    fn skipped_summaries(&self) -> Result<usize> {
        self.pool().with(graph::skipped_summaries)
    }
    fn requeue_skipped_summaries(&self, limit: usize, audit: AuditOf<usize>) -> Result<usize> {
        self.pool().tx(|tx| {
            let done = graph::requeue_skipped(tx, limit)?;
            repair::record(tx, &audit(&done))?;
            Ok(done)
        })
    }
}

/// A row count from the client as the `usize` the traits answer.
pub(crate) fn rows(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}
