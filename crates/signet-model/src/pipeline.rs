//! The memory pipeline's storage: what the extraction and summary workers read, the one
//! transaction each job's result is written in, the knowledge graph, and the LLM call ledger.
//!
//! The rule that makes the pipeline safe under crashes: **a job's effects and its completion
//! are one transaction, and that transaction only runs while the job is still leased by the
//! attempt that computed it** (`job_id` + `attempt`). A worker killed before the commit leaves
//! the job leased; the lease goes stale, the job is leased again (the next attempt), and the
//! old attempt's write — should it ever arrive — finds the job no longer held by it and writes
//! nothing ([`Applied::Stale`]). A job is therefore applied at most once, and, with the
//! recovery of stale leases, at least once until its attempts are used up.

use serde::{Deserialize, Serialize};

use crate::documents::FailedJob;
use crate::error::Result;
use crate::memories::{Actor, NewMemory};

/// The job kind of memory extraction in `memory_jobs.job_type`.
pub const EXTRACT: &str = "extract";

/// The memory an extract job reads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExtractSource {
    pub memory_id: String,
    pub content: String,
    pub is_deleted: bool,
    pub project: Option<String>,
    /// `scope_user` of the source: derived facts inherit it.
    pub scope_user: Option<String>,
}

/// One planned effect of an extract job, decided by the worker.
// `Add` carries a whole memory; a job plans a few dozen writes at most, so boxing it would
// buy nothing but noise at every construction site.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum PlannedWrite {
    /// Record only: a history row on the *source* memory, event `none`, with this reason and
    /// metadata (shadow proposals, `none` decisions, skipped and blocked proposals).
    Audit {
        reason: String,
        metadata: serde_json::Value,
    },
    /// A new memory derived from the source (`source_type` `pipeline-v2`, `source_id` the
    /// source memory). When a live memory already holds its content hash nothing is inserted
    /// ([`WriteOutcome::Deduped`]). Otherwise it is inserted as `remember` would (version 1,
    /// a `created` history row by the write's actor with `reason` and `metadata`, no extract
    /// job). Either way the source gets an audit row (event `none`) whose metadata is
    /// `metadata` plus `createdMemoryId` (the new id, or null) and `dedupedExistingId`.
    Add {
        memory: NewMemory,
        reason: String,
        metadata: serde_json::Value,
    },
    /// New content for `target_id`, through the shared mutation guard (a modify by the
    /// write's actor: version + 1, an `updated` history row holding the old content). Before
    /// the change the target's row is archived to `memories_cold` (reason `superseded`). The
    /// source gets an audit row with `updatedMemoryId`, or `skippedReason`
    /// (`update_<code>`, e.g. `update_is_deleted`) when the guard refused: then nothing else
    /// changes.
    Update {
        target_id: String,
        content: String,
        normalized_content: String,
        content_hash: String,
        reason: String,
        metadata: serde_json::Value,
    },
    /// A soft delete of `target_id` through the shared guard (force false: a pinned target
    /// is refused, as any pipeline actor is), archived first to `memories_cold` (reason
    /// `pipeline_delete`). The source gets an audit row with `deletedMemoryId` or
    /// `skippedReason` (`delete_<code>`).
    Delete {
        target_id: String,
        reason: String,
        metadata: serde_json::Value,
    },
}

/// What one [`PlannedWrite`] did, in the order planned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "camelCase")]
pub enum WriteOutcome {
    /// The audit row was written.
    Audited,
    /// A new memory was inserted.
    Added { id: String },
    /// A live memory already held the content; nothing was inserted.
    Deduped { existing_id: String },
    /// The target took the new content.
    Updated { id: String },
    /// The target was soft-deleted.
    Deleted { id: String },
    /// The mutation guard refused (`code`: the mutation error's code, e.g.
    /// `pinned_requires_force`, `not_found`, `is_deleted`, `duplicate_content_hash`).
    Refused { target_id: String, code: String },
}

/// One relation the extraction found: `source --relationship--> target`.
#[derive(Debug, Clone, PartialEq)]
pub struct GraphTriple {
    pub source: String,
    pub source_type: Option<String>,
    pub relationship: String,
    pub target: String,
    pub target_type: Option<String>,
    pub confidence: f64,
}

/// The result of one extract job, written in one transaction.
#[derive(Debug, Clone)]
pub struct ExtractWrite {
    /// The leased job this write completes...
    pub job_id: String,
    /// ... while it is leased by this attempt (its `attempts` when leased).
    pub attempt: i64,
    pub source_memory_id: String,
    pub writes: Vec<PlannedWrite>,
    /// Relations to persist in the graph (empty when `graph.enabled` is off). Entities are
    /// upserted by canonical name (trimmed, lowercased, inner whitespace collapsed; names
    /// under 4 chars are skipped): a known one gets `mentions + 1` (and a real type instead
    /// of `extracted`), a new one mentions 1 and its type or `extracted`. Relations upsert on
    /// (source, target, relation_type): `mentions + 1` and confidence the running mean, or
    /// new with strength 1.0 and mentions 1. The source memory mentions both entities
    /// (`memory_entity_mentions`, first mention kept).
    pub entities: Vec<GraphTriple>,
    /// Recorded on the source memory (`extraction_model`), which becomes
    /// `extraction_status = 'completed'`.
    pub extraction_model: String,
    /// The job's `result` (JSON text).
    pub result: String,
    /// Who writes: `pipeline-v2` (controlled writes) or `pipeline-shadow`, actor type
    /// `pipeline`.
    pub actor: Actor,
    pub now: String,
}

/// What an extract write did.
#[derive(Debug, Clone, PartialEq)]
pub enum Applied {
    /// Everything was written and the job completed; one outcome per planned write.
    Written(Vec<WriteOutcome>),
    /// The job is not leased by this attempt (completed, dead, re-leased, or gone): nothing
    /// was written.
    Stale,
}

/// A `memory_jobs` row as `GET /api/memory/jobs/:id` shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobRecord {
    pub id: String,
    pub memory_id: Option<String>,
    pub document_id: Option<String>,
    pub job_type: String,
    pub status: String,
    pub attempts: i64,
    pub max_attempts: i64,
    pub error: Option<String>,
    pub result: Option<String>,
    pub leased_at: Option<String>,
    pub completed_at: Option<String>,
    pub failed_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

/// Which `memory_jobs` rows [`PipelineStore::jobs`] lists: the filters that are `Some`, and a
/// page of the matches.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JobQuery {
    /// Only jobs of this status (`pending`, `leased`, `completed`, `dead`).
    pub status: Option<String>,
    /// Only jobs of this `job_type`.
    pub job_type: Option<String>,
    pub limit: usize,
    pub offset: usize,
}

/// A page of [`PipelineStore::jobs`].
#[derive(Debug, Clone, PartialEq)]
pub struct JobPage {
    /// Newest first (`updated_at`, then `id`, both descending).
    pub jobs: Vec<JobRecord>,
    /// How many rows match the filters, whatever the page.
    pub total: i64,
}

/// Jobs of one queue by kind and status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobCount {
    /// `memory` (`memory_jobs`) or `summary` (`summary_jobs`).
    pub queue: String,
    /// `memory_jobs.job_type` (`extract`, `document_ingest`, ...); `summary` for summaries.
    pub job_type: String,
    pub status: String,
    pub count: i64,
}

/// A transcript the summary worker now holds (`summary_jobs` row, status `processing`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LeasedSummary {
    pub id: String,
    pub session_key: Option<String>,
    pub harness: String,
    pub project: Option<String>,
    pub transcript: String,
    /// Attempts including this one.
    pub attempts: i64,
    pub max_attempts: i64,
    pub created_at: String,
}

/// The result of one summary job, written in one transaction.
#[derive(Debug, Clone)]
pub struct SummaryWrite {
    pub job_id: String,
    /// Applied only while the job is `processing` with this many attempts.
    pub attempt: i64,
    /// The `session_summary` memory, then the facts: each inserted as `remember` would
    /// (version 1, `created` history by `actor`, no extract job) unless a live memory holds
    /// its content hash (then skipped).
    pub memories: Vec<NewMemory>,
    /// The session's depth-0 `session_summaries` row (upserted on `(session_key, depth 0)`,
    /// kind `session`), linked in `session_summary_memories` to the memories inserted.
    pub session: Option<SessionSummaryRow>,
    /// The job's `result` text.
    pub result: String,
    pub actor: Actor,
    pub now: String,
}

/// A depth-0 `session_summaries` row.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionSummaryRow {
    pub id: String,
    pub session_key: String,
    pub project: Option<String>,
    pub harness: String,
    /// The summary's markdown.
    pub content: String,
    pub earliest_at: String,
    pub latest_at: String,
}

/// What a summary write did.
#[derive(Debug, Clone, PartialEq)]
pub enum Summarised {
    /// The job completed; the ids of the memories inserted, in order.
    Written(Vec<String>),
    /// The job is not held by this attempt: nothing written.
    Stale,
}

/// One LLM call, as the append-only ledger (`llm_calls`, migration 1002) records it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LlmCall {
    pub provider: String,
    pub model: String,
    /// `extraction`, `decision`, `contradiction` or `summary`.
    pub purpose: String,
    pub input_tokens: i64,
    pub output_tokens: i64,
    pub duration_ms: i64,
    /// `ok`, or the failure's kind (`timeout`, `connect`, `status`, `malformed`, `process`,
    /// `circuit_open`).
    pub outcome: String,
    /// The error message (never a key: providers' messages do not carry them).
    pub error: Option<String>,
    pub job_id: Option<String>,
    pub created_at: String,
}

/// Sums over ledger rows (the wire type: calls, errors — outcome not `ok` —, tokens, duration).
pub use signet_api::LlmTotals;

/// Ledger sums of one provider and model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProviderTotals {
    pub provider: String,
    pub model: String,
    pub totals: LlmTotals,
}

/// The pipeline's storage. Each method is one transaction; times are the caller's
/// [`crate::time`] strings.
pub trait PipelineStore: crate::documents::JobQueue {
    /// The memory an extract job names, deleted or not; `None` when the row is gone.
    fn extract_source(&self, memory_id: &str) -> Result<Option<ExtractSource>>;
    /// Applies `w` all or nothing (see [`PlannedWrite`] for each write's rules) when the job
    /// `w.job_id` is `leased` with `attempts = w.attempt`: the writes in order, the graph,
    /// the source memory's `extraction_status = 'completed'` and `extraction_model`, and the
    /// job `completed` with `w.result`. Otherwise nothing at all ([`Applied::Stale`]).
    fn apply_extraction(&self, w: &ExtractWrite) -> Result<Applied>;
    /// Records a failed attempt of an extract job (as [`crate::JobQueue::fail_job`]); when the
    /// job is dead its memory becomes `extraction_status = 'failed'`.
    fn fail_extraction(&self, job_id: &str, error: &str, now: &str) -> Result<FailedJob>;
    /// Gives a job back without counting the attempt: when `id` is a `memory_jobs` row
    /// `leased` with `attempts = attempt`, or a `summary_jobs` row `processing` with
    /// `attempts = attempt`, it becomes `pending` with `attempts = attempt - 1` (and, for
    /// memory jobs, `updated_at = now`); returns whether it did. The workers call it when they stop a job
    /// through no fault of the job (the budget ran out mid-job, the daemon is pausing).
    fn release_job(&self, id: &str, attempt: i64, now: &str) -> Result<bool>;
    /// One `memory_jobs` row, any type and status.
    fn job(&self, id: &str) -> Result<Option<JobRecord>>;
    /// The `memory_jobs` rows matching `q`'s filters (any type and status when `None`),
    /// newest first by `updated_at` (ties: `id` descending), `q.limit` of them from
    /// `q.offset`, with the number of all matches.
    fn jobs(&self, q: &JobQuery) -> Result<JobPage>;
    /// Counts of both queues by job type and status, sorted by queue, type, status.
    fn job_counts(&self) -> Result<Vec<JobCount>>;

    /// Leases the oldest (`created_at`) `pending` summary job with attempts left: it becomes
    /// `processing` with one more attempt.
    fn lease_summary(&self, now: &str) -> Result<Option<LeasedSummary>>;
    /// Every `processing` summary job becomes `pending` again with its interrupted attempt
    /// given back (`attempts - 1`, at least 0: a crash is not the job's failure). The table
    /// has no lease time: the daemon, the only worker of its database, calls this at
    /// start-up. Returns how many.
    fn recover_summaries(&self) -> Result<usize>;
    /// Applies `w` all or nothing when the job is `processing` with `attempts = w.attempt`:
    /// the memories, the session row, the job `completed` (`completed_at`, `result`).
    fn apply_summary(&self, w: &SummaryWrite) -> Result<Summarised>;
    /// A failed attempt: `dead` once the job has used `max_attempts`, else `pending`, with
    /// `error`.
    fn fail_summary(&self, job_id: &str, error: &str, now: &str) -> Result<FailedJob>;

    /// Live memories linked through the graph to the entities whose canonical name contains
    /// one of `tokens`: those entities (most mentioned first, at most 20), their one-hop
    /// neighbours (relations either way, at most 50), and the live memories mentioning any of
    /// them (at most `limit`). Empty tokens: nothing.
    fn graph_memories(&self, tokens: &[String], limit: usize) -> Result<Vec<String>>;
    /// Entity, relation and mention counts (status, diagnostics).
    fn graph_counts(&self) -> Result<GraphCounts>;
    /// Whether any memory mentions an entity (recall's boost asks this, so it must be
    /// cheap; backends override the counting default with an existence probe).
    fn graph_has_mentions(&self) -> Result<bool> {
        Ok(self.graph_counts()?.mentions > 0)
    }

    /// Appends one call to the ledger.
    fn record_llm_call(&self, call: &LlmCall) -> Result<()>;
    /// Sums of the calls recorded at or after `since` (all of them when `None`).
    fn llm_totals(&self, since: Option<&str>) -> Result<LlmTotals>;
    /// The same per provider and model, sorted by provider then model.
    fn llm_totals_by_provider(&self, since: Option<&str>) -> Result<Vec<ProviderTotals>>;
}

/// How big the knowledge graph is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GraphCounts {
    pub entities: i64,
    pub relations: i64,
    pub mentions: i64,
}
