//! [`PgStore`]'s job queue, document, pipeline and export traits: each method one transaction (or one
//! statement) on a pooled connection, over the repositories in `documents` and `pipeline`.

use signet_model::documents::{
    CreatedDocument, DeletedDocument, Document, DocumentChunk, DocumentQuery, FailedJob,
    IngestWrite, Ingested, LeasePolicy, LeasedJob, NewDocument,
};
use signet_model::export::{ExportPage, ImportItem, ImportedItem};
use signet_model::memories::Actor;
use signet_model::pipeline::{
    Applied, ExtractSource, ExtractWrite, GraphCounts, JobCount, JobPage, JobQuery, JobRecord,
    LeasedSummary, LlmCall, LlmTotals, ProviderTotals, Summarised, SummaryWrite,
};
use signet_model::{DocumentStore, ExportStore, JobQueue, PipelineStore, Result};

use crate::PgStore;
use crate::documents::{self, jobs};
use crate::error::PgResultExt;
use crate::export;
use crate::pipeline::{extract, graph, ledger, summary};

impl JobQueue for PgStore {
    fn lease_job(&self, kind: &str, now: &str, policy: &LeasePolicy) -> Result<Option<LeasedJob>> {
        self.pool()
            .tx(|tx| jobs::lease(tx, kind, now, policy, self.node()))
    }
    fn complete_job(&self, id: &str, result: Option<&str>, now: &str) -> Result<bool> {
        self.pool().tx(|tx| jobs::complete(tx, id, result, now))
    }
    fn fail_job(&self, id: &str, error: &str, now: &str) -> Result<FailedJob> {
        self.pool().tx(|tx| jobs::fail(tx, id, error, now))
    }
    fn recover_leases(&self, kind: &str, leased_before: &str, now: &str) -> Result<usize> {
        self.pool()
            .tx(|tx| jobs::recover(tx, kind, leased_before, now))
    }
    fn release_orphans(&self, kind: &str, now: &str) -> Result<usize> {
        self.pool()
            .tx(|tx| jobs::release_orphans(tx, kind, now, self.node()))
    }
}

impl DocumentStore for PgStore {
    fn create_document(&self, d: &NewDocument) -> Result<CreatedDocument> {
        self.pool().tx(|tx| documents::create(tx, d))
    }
    fn document(&self, id: &str) -> Result<Option<Document>> {
        self.pool().with(|c| documents::get(c, id))
    }
    fn documents(&self, q: &DocumentQuery) -> Result<(Vec<Document>, i64)> {
        self.pool().tx(|tx| documents::list(tx, q))
    }
    fn document_chunks(&self, id: &str) -> Result<Option<Vec<DocumentChunk>>> {
        self.pool().tx(|tx| documents::chunks(tx, id))
    }
    fn delete_document(
        &self,
        id: &str,
        reason: &str,
        actor: &Actor,
        now: &str,
    ) -> Result<Option<DeletedDocument>> {
        self.pool()
            .tx(|tx| documents::delete(tx, id, reason, actor, now))
    }
    fn write_ingest(&self, w: &IngestWrite) -> Result<Ingested> {
        self.pool().tx(|tx| documents::ingest(tx, w))
    }
    fn fail_ingest(
        &self,
        document_id: &str,
        job_id: &str,
        error: &str,
        now: &str,
    ) -> Result<FailedJob> {
        self.pool()
            .tx(|tx| documents::fail(tx, document_id, job_id, error, now))
    }
}

impl PipelineStore for PgStore {
    fn extract_source(&self, memory_id: &str) -> Result<Option<ExtractSource>> {
        self.pool().with(|c| extract::source(c, memory_id))
    }
    fn apply_extraction(&self, w: &ExtractWrite) -> Result<Applied> {
        self.pool().tx(|tx| extract::apply(tx, w))
    }
    fn fail_extraction(&self, job_id: &str, error: &str, now: &str) -> Result<FailedJob> {
        self.pool().tx(|tx| extract::fail(tx, job_id, error, now))
    }
    fn release_job(&self, id: &str, attempt: i64, now: &str) -> Result<bool> {
        self.pool().tx(|tx| extract::release(tx, id, attempt, now))
    }
    fn job(&self, id: &str) -> Result<Option<JobRecord>> {
        self.pool().with(|c| extract::job(c, id))
    }
    fn jobs(&self, q: &JobQuery) -> Result<JobPage> {
        self.pool().tx(|tx| extract::list_jobs(tx, q))
    }
    fn job_counts(&self) -> Result<Vec<JobCount>> {
        self.pool().with(extract::job_counts)
    }
    fn lease_summary(&self, now: &str) -> Result<Option<LeasedSummary>> {
        self.pool().tx(|tx| summary::lease(tx, now, self.node()))
    }
    fn recover_summaries(&self) -> Result<usize> {
        self.pool().tx(|tx| summary::recover(tx, self.node()))
    }
    fn apply_summary(&self, w: &SummaryWrite) -> Result<Summarised> {
        self.pool().tx(|tx| summary::apply(tx, w))
    }
    fn fail_summary(&self, job_id: &str, error: &str, now: &str) -> Result<FailedJob> {
        self.pool().tx(|tx| summary::fail(tx, job_id, error, now))
    }
    fn graph_memories(&self, tokens: &[String], limit: usize) -> Result<Vec<String>> {
        self.pool().with(|c| graph::memories(c, tokens, limit))
    }
    fn graph_counts(&self) -> Result<GraphCounts> {
        self.pool().with(graph::counts)
    }
    fn graph_has_mentions(&self) -> Result<bool> {
        self.pool().with(graph::has_mentions)
    }
    fn record_llm_call(&self, call: &LlmCall) -> Result<()> {
        self.pool().with(|c| ledger::record(c, call))
    }
    fn llm_totals(&self, since: Option<&str>) -> Result<LlmTotals> {
        self.pool().with(|c| ledger::totals(c, since))
    }
    fn llm_totals_by_provider(&self, since: Option<&str>) -> Result<Vec<ProviderTotals>> {
        self.pool().with(|c| ledger::by_provider(c, since))
    }
}

impl ExportStore for PgStore {
    /// One repeatable-read transaction: a page's memories, history and vectors agree.
    fn export_page(
        &self,
        after: i64,
        limit: usize,
        include_deleted: bool,
        with_vectors: bool,
    ) -> Result<ExportPage> {
        self.pool().tx(|tx| {
            tx.batch_execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
                .pg()?;
            export::export_page(tx, after, limit, include_deleted, with_vectors)
        })
    }
    fn import_batch(
        &self,
        items: Vec<ImportItem>,
        now: &str,
        dry_run: bool,
    ) -> Result<Vec<ImportedItem>> {
        self.pool().with(|c| {
            let mut tx = c.transaction().pg()?;
            let out = export::import_items(&mut tx, &items, now)?;
            match dry_run {
                true => tx.rollback().pg()?,
                false => tx.commit().pg()?,
            }
            Ok(out)
        })
    }
}
