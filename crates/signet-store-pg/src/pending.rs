//! The store traits not yet written for PostgreSQL. Each method fails with a `Backend` error
//! naming itself — never a fake success — so nothing can run on a half-done backend unnoticed
//! (the daemon does not offer the backend until these are done).

use signet_model::export::{ExportPage, ImportItem, ImportedItem};
use signet_model::maintenance::{
    AuditOf, ColdCounts, DedupCluster, DedupMerge, DedupRow, DiagnosticsSnapshot, EntityPrune,
    FtsCounts, PruneStep, PrunedEntities, PurgedTombstones, RepairAudit, SnapshotParams,
};
use signet_model::{ExportStore, MaintenanceStore, Result, StoreError};

use crate::PgStore;

fn pending<T>(what: &str) -> Result<T> {
    Err(StoreError::Backend(format!(
        "{what} is not implemented on PostgreSQL yet"
    )))
}

impl MaintenanceStore for PgStore {
    fn diagnostics_snapshot(&self, _p: &SnapshotParams) -> Result<DiagnosticsSnapshot> {
        pending("diagnostics_snapshot")
    }
    fn requeue_dead_jobs(
        &self,
        _limit: usize,
        _now: &str,
        _audit: AuditOf<(usize, usize)>,
    ) -> Result<(usize, usize)> {
        pending("requeue_dead_jobs")
    }
    fn release_stale_leases(
        &self,
        _cutoff: &str,
        _now: &str,
        _audit: AuditOf<usize>,
    ) -> Result<usize> {
        pending("release_stale_leases")
    }
    fn fts_counts(&self) -> Result<FtsCounts> {
        pending("fts_counts")
    }
    fn fts_rebuild(&self, _audit: AuditOf<FtsCounts>) -> Result<FtsCounts> {
        pending("fts_rebuild")
    }
    fn dedup_clusters(&self, _limit: usize) -> Result<Vec<DedupCluster>> {
        pending("dedup_clusters")
    }
    fn dedup_rows(&self, _ids: &[String]) -> Result<Vec<DedupRow>> {
        pending("dedup_rows")
    }
    fn dedup_candidate_ids(&self, _limit: usize) -> Result<Vec<String>> {
        pending("dedup_candidate_ids")
    }
    fn apply_dedup(&self, _merges: &[DedupMerge], _audit: &RepairAudit) -> Result<Vec<String>> {
        pending("apply_dedup")
    }
    fn record_repair(&self, _audit: &RepairAudit) -> Result<()> {
        pending("record_repair")
    }
    fn purge_tombstones(
        &self,
        _cutoff: &str,
        _limit: usize,
        _now: &str,
    ) -> Result<PurgedTombstones> {
        pending("purge_tombstones")
    }
    fn prune(&self, _step: PruneStep, _cutoff: &str, _limit: usize) -> Result<usize> {
        pending("prune")
    }
    fn cold_counts(&self) -> Result<Option<ColdCounts>> {
        pending("cold_counts")
    }
    fn prunable_entities(&self, _which: EntityPrune) -> Result<usize> {
        pending("prunable_entities")
    }
    fn prune_entities(
        &self,
        _which: EntityPrune,
        _limit: usize,
        _audit: AuditOf<PrunedEntities>,
    ) -> Result<PrunedEntities> {
        pending("prune_entities")
    }
    fn skipped_summaries(&self) -> Result<usize> {
        pending("skipped_summaries")
    }
    fn requeue_skipped_summaries(&self, _limit: usize, _audit: AuditOf<usize>) -> Result<usize> {
        pending("requeue_skipped_summaries")
    }
}

impl ExportStore for PgStore {
    fn export_page(
        &self,
        _after: i64,
        _limit: usize,
        _include_deleted: bool,
        _with_vectors: bool,
    ) -> Result<ExportPage> {
        pending("export_page")
    }
    fn import_batch(
        &self,
        _items: Vec<ImportItem>,
        _now: &str,
        _dry_run: bool,
    ) -> Result<Vec<ImportedItem>> {
        pending("import_batch")
    }
}
