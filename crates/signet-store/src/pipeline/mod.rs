//! The memory pipeline's storage over SQLite ([`PipelineStore`]): the extract and summary
//! jobs' one-transaction writes ([`extract`], [`summary`]), the knowledge graph ([`graph`]) and
//! the append-only LLM call ledger ([`ledger`]).
//!
//! Each function of the submodules runs inside a transaction the caller opened; each trait
//! method below is one such transaction (writes through the group-commit writer, reads on the
//! read pool). A job's write first checks that the job is still held by the attempt that
//! computed it and writes nothing otherwise, so a late write of a re-leased job is harmless.

mod extract;
mod graph;
mod ledger;
mod summary;

use signet_model::documents::FailedJob;
use signet_model::pipeline::{
    Applied, ExtractSource, ExtractWrite, GraphCounts, JobCount, JobPage, JobQuery, JobRecord,
    LeasedSummary, LlmCall, LlmTotals, PipelineStore, ProviderTotals, Summarised, SummaryWrite,
};

use crate::Store;
use crate::error::Result;

impl PipelineStore for Store {
    fn extract_source(&self, memory_id: &str) -> Result<Option<ExtractSource>> {
        self.pool().read(|c| extract::source(c, memory_id))
    }
    fn apply_extraction(&self, w: &ExtractWrite) -> Result<Applied> {
        let w = w.clone();
        self.pool().write(move |tx| extract::apply(tx, &w))
    }
    fn fail_extraction(&self, job_id: &str, error: &str, now: &str) -> Result<FailedJob> {
        let (id, error, now) = (job_id.to_owned(), error.to_owned(), now.to_owned());
        self.pool()
            .write(move |tx| extract::fail(tx, &id, &error, &now))
    }
    fn release_job(&self, id: &str, attempt: i64, now: &str) -> Result<bool> {
        let (id, now) = (id.to_owned(), now.to_owned());
        self.pool()
            .write(move |tx| extract::release(tx, &id, attempt, &now))
    }
    fn job(&self, id: &str) -> Result<Option<JobRecord>> {
        self.pool().read(|c| extract::job(c, id))
    }
    fn jobs(&self, q: &JobQuery) -> Result<JobPage> {
        self.pool().read(|c| extract::list_jobs(c, q))
    }
    fn job_counts(&self) -> Result<Vec<JobCount>> {
        self.pool().read(extract::job_counts)
    }

    fn lease_summary(&self, now: &str) -> Result<Option<LeasedSummary>> {
        // An idle worker's poll finds nothing: asked on a reader, it takes no write lock.
        if self.pool().read(|c| summary::candidate(c, now))?.is_none() {
            return Ok(None);
        }
        let now = now.to_owned();
        self.pool().write(move |tx| summary::lease(tx, &now))
    }
    fn recover_summaries(&self) -> Result<usize> {
        self.pool().write(summary::recover)
    }
    fn apply_summary(&self, w: &SummaryWrite) -> Result<Summarised> {
        let w = w.clone();
        self.pool().write(move |tx| summary::apply(tx, &w))
    }
    fn fail_summary(&self, job_id: &str, error: &str, now: &str) -> Result<FailedJob> {
        let (id, error, now) = (job_id.to_owned(), error.to_owned(), now.to_owned());
        self.pool()
            .write(move |tx| summary::fail(tx, &id, &error, &now))
    }

    fn graph_memories(&self, tokens: &[String], limit: usize) -> Result<Vec<String>> {
        self.pool().read(|c| graph::memories(c, tokens, limit))
    }
    fn graph_counts(&self) -> Result<GraphCounts> {
        self.pool().read(graph::counts)
    }

    fn graph_has_mentions(&self) -> Result<bool> {
        self.pool().read(graph::has_mentions)
    }

    fn record_llm_call(&self, call: &LlmCall) -> Result<()> {
        let call = call.clone();
        self.pool().write(move |tx| ledger::record(tx, &call))
    }
    fn llm_totals(&self, since: Option<&str>) -> Result<LlmTotals> {
        self.pool().read(|c| ledger::totals(c, since))
    }
    fn llm_totals_by_provider(&self, since: Option<&str>) -> Result<Vec<ProviderTotals>> {
        self.pool().read(|c| ledger::by_provider(c, since))
    }
}
