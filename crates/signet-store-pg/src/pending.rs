//! The store traits not yet written for PostgreSQL. Each method fails with a `Backend` error
//! naming itself — never a fake success — so nothing can run on a half-done backend unnoticed
//! (the daemon does not offer the backend until these are done).

use signet_model::documents::{
    CreatedDocument, DeletedDocument, Document, DocumentChunk, DocumentQuery, FailedJob,
    IngestWrite, Ingested, LeasePolicy, LeasedJob, NewDocument,
};
use signet_model::export::{ExportPage, ImportItem, ImportedItem};
use signet_model::maintenance::{
    AuditOf, ColdCounts, DedupCluster, DedupMerge, DedupRow, DiagnosticsSnapshot, EntityPrune,
    FtsCounts, PruneStep, PrunedEntities, PurgedTombstones, RepairAudit, SnapshotParams,
};
use signet_model::memories::Actor;
use signet_model::pipeline::{
    Applied, ExtractSource, ExtractWrite, GraphCounts, JobCount, JobPage, JobQuery, JobRecord,
    LeasedSummary, LlmCall, LlmTotals, ProviderTotals, Summarised, SummaryWrite,
};
use signet_model::{
    DocumentStore, ExportStore, JobQueue, MaintenanceStore, PipelineStore, Result, StoreError,
};

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

impl JobQueue for PgStore {
    fn lease_job(
        &self,
        _kind: &str,
        _now: &str,
        _policy: &LeasePolicy,
    ) -> Result<Option<LeasedJob>> {
        pending("lease_job")
    }
    fn complete_job(&self, _id: &str, _result: Option<&str>, _now: &str) -> Result<bool> {
        pending("complete_job")
    }
    fn fail_job(&self, _id: &str, _error: &str, _now: &str) -> Result<FailedJob> {
        pending("fail_job")
    }
    fn recover_leases(&self, _kind: &str, _leased_before: &str, _now: &str) -> Result<usize> {
        pending("recover_leases")
    }
    fn release_orphans(&self, _kind: &str, _now: &str) -> Result<usize> {
        pending("release_orphans")
    }
}

impl DocumentStore for PgStore {
    fn create_document(&self, _d: &NewDocument) -> Result<CreatedDocument> {
        pending("create_document")
    }
    fn document(&self, _id: &str) -> Result<Option<Document>> {
        pending("document")
    }
    fn documents(&self, _q: &DocumentQuery) -> Result<(Vec<Document>, i64)> {
        pending("documents")
    }
    fn document_chunks(&self, _id: &str) -> Result<Option<Vec<DocumentChunk>>> {
        pending("document_chunks")
    }
    fn delete_document(
        &self,
        _id: &str,
        _reason: &str,
        _actor: &Actor,
        _now: &str,
    ) -> Result<Option<DeletedDocument>> {
        pending("delete_document")
    }
    fn write_ingest(&self, _w: &IngestWrite) -> Result<Ingested> {
        pending("write_ingest")
    }
    fn fail_ingest(
        &self,
        _document_id: &str,
        _job_id: &str,
        _error: &str,
        _now: &str,
    ) -> Result<FailedJob> {
        pending("fail_ingest")
    }
}

impl PipelineStore for PgStore {
    fn extract_source(&self, _memory_id: &str) -> Result<Option<ExtractSource>> {
        pending("extract_source")
    }
    fn apply_extraction(&self, _w: &ExtractWrite) -> Result<Applied> {
        pending("apply_extraction")
    }
    fn fail_extraction(&self, _job_id: &str, _error: &str, _now: &str) -> Result<FailedJob> {
        pending("fail_extraction")
    }
    fn release_job(&self, _id: &str, _attempt: i64, _now: &str) -> Result<bool> {
        pending("release_job")
    }
    fn job(&self, _id: &str) -> Result<Option<JobRecord>> {
        pending("job")
    }
    fn jobs(&self, _q: &JobQuery) -> Result<JobPage> {
        pending("jobs")
    }
    fn job_counts(&self) -> Result<Vec<JobCount>> {
        pending("job_counts")
    }
    fn lease_summary(&self, _now: &str) -> Result<Option<LeasedSummary>> {
        pending("lease_summary")
    }
    fn recover_summaries(&self) -> Result<usize> {
        pending("recover_summaries")
    }
    fn apply_summary(&self, _w: &SummaryWrite) -> Result<Summarised> {
        pending("apply_summary")
    }
    fn fail_summary(&self, _job_id: &str, _error: &str, _now: &str) -> Result<FailedJob> {
        pending("fail_summary")
    }
    fn graph_memories(&self, _tokens: &[String], _limit: usize) -> Result<Vec<String>> {
        pending("graph_memories")
    }
    fn graph_counts(&self) -> Result<GraphCounts> {
        pending("graph_counts")
    }
    fn record_llm_call(&self, _call: &LlmCall) -> Result<()> {
        pending("record_llm_call")
    }
    fn llm_totals(&self, _since: Option<&str>) -> Result<LlmTotals> {
        pending("llm_totals")
    }
    fn llm_totals_by_provider(&self, _since: Option<&str>) -> Result<Vec<ProviderTotals>> {
        pending("llm_totals_by_provider")
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
