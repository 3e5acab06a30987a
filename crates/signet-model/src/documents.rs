//! Documents and the job queue: what `POST /api/documents` records (a `documents` row and its
//! `document_ingest` job), what the document worker leases, writes and fails, and the
//! interfaces [`JobQueue`] (the durable queue over `memory_jobs`, for any job kind) and
//! [`DocumentStore`] (documents, their chunks, the one-transaction ingest write).
//!
//! The queue's states: `pending` → `leased` → `completed`, or back to `pending` after a failed
//! attempt, or `dead` once a job has used its attempts. A lease is a claim with a time: a
//! lease older than the caller's lease timeout is stale and the job may be leased again
//! (`recover_leases` turns stale leases back into pending jobs, as the daemon does at
//! start-up). Failed attempts wait a backoff before the next lease.

use crate::error::Result;
use crate::memories::{Actor, NewMemory};

/// The job kind of document ingestion in `memory_jobs.job_type`.
pub const DOCUMENT_INGEST: &str = "document_ingest";

/// How leases and retries behave for one kind of job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeasePolicy {
    /// A lease older than this (ms) is stale: the job may be leased again.
    pub lease_ms: i64,
    /// The wait after the first failed attempt (ms); it doubles with each attempt...
    pub backoff_base_ms: i64,
    /// ... up to this (ms).
    pub backoff_max_ms: i64,
}

impl Default for LeasePolicy {
    /// Upstream's: a 5 min lease timeout, 5 s × 2^attempts capped at 120 s.
    fn default() -> Self {
        Self {
            lease_ms: 300_000,
            backoff_base_ms: 5_000,
            backoff_max_ms: 120_000,
        }
    }
}

/// A job the caller now holds.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
pub struct LeasedJob {
    pub id: String,
    pub job_type: String,
    pub memory_id: Option<String>,
    pub document_id: Option<String>,
    /// The job's free-form payload (JSON text) as enqueued.
    pub payload: Option<String>,
    /// Attempts including this one.
    pub attempts: i64,
    pub max_attempts: i64,
}

/// A job's status after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailedJob {
    /// Back in the queue; leased again after its backoff.
    Retrying,
    /// Its attempts are used up: it stays `dead` until a repair requeues it.
    Dead,
    /// No such job (or it is not leased): nothing changed.
    Unknown,
}

/// The durable job queue over `memory_jobs`. Each method is one transaction; times are the
/// caller's [`crate::time`] strings.
pub trait JobQueue: Send + Sync + 'static {
    /// Leases the oldest (`created_at`) job of `kind` that is `pending` with attempts left and
    /// past its backoff (`failed_at` + min(base × 2^(attempts − 1), max), none before the
    /// first failure), or `leased` longer than `policy.lease_ms` ago with attempts left. The job becomes `leased`
    /// at `now` with one more attempt. `None` when no job qualifies.
    fn lease_job(&self, kind: &str, now: &str, policy: &LeasePolicy) -> Result<Option<LeasedJob>>;
    /// Marks a job `completed` at `now` with `result` (JSON text). Returns whether a job was
    /// completed (an unknown or already completed job: `false`, nothing changes).
    fn complete_job(&self, id: &str, result: Option<&str>, now: &str) -> Result<bool>;
    /// Records a failed attempt at `now` (`error`, `failed_at`): `dead` when the job has used
    /// `max_attempts`, else `pending` again.
    fn fail_job(&self, id: &str, error: &str, now: &str) -> Result<FailedJob>;
    /// Jobs of `kind` leased before `leased_before` become `pending` again (attempts unchanged:
    /// the interrupted attempt counts), or `dead` (`error`, `failed_at`) when that attempt was
    /// their last — then, as after a failed last attempt, an `extract` job's memory gets
    /// `extraction_status = 'failed'` and a `document_ingest` job's document (unless done or
    /// deleted) becomes `failed`. A job leased with no attempts left is never leased again.
    /// Returns how many jobs changed.
    fn recover_leases(&self, kind: &str, leased_before: &str, now: &str) -> Result<usize>;
    /// Every `leased` job of `kind` becomes `pending` with its interrupted attempt given back
    /// (`attempts - 1`, at least 0; `updated_at = now`). For a worker's start-up, when every
    /// lease belongs to a process that died — a `kill -9` is not the job's failure, so
    /// crashes never use up a job's attempts. The attempt number is then leased again, which
    /// is safe only because its holder is gone: never call it while a worker may hold a lease.
    /// Returns how many.
    fn release_orphans(&self, kind: &str, now: &str) -> Result<usize>;
}

/// What a new document is (the `documents` row as `POST /api/documents` creates it).
#[derive(Debug, Clone, PartialEq)]
pub struct NewDocument {
    pub id: String,
    /// `text`, `url` or `file`.
    pub source_type: String,
    /// The URL (`url`) or the workspace-relative path (`file`); `None` for text.
    pub source_url: Option<String>,
    pub content_type: Option<String>,
    /// Opaque hash of the content when it is known at creation (text).
    pub content_hash: Option<String>,
    pub title: Option<String>,
    /// The text itself (`text`); fetched or read later otherwise.
    pub raw_content: Option<String>,
    pub connector_id: Option<String>,
    /// Caller metadata as JSON text.
    pub metadata_json: Option<String>,
    /// The id of the `document_ingest` job enqueued with it.
    pub job_id: String,
    pub created_at: String,
}

/// What creating a document did.
#[derive(Debug, Clone, PartialEq)]
pub enum CreatedDocument {
    /// A new `queued` document and its pending job.
    Queued { id: String, job_id: String },
    /// An existing document (not failed, not deleted) already holds this URL or content.
    Deduplicated { id: String, status: String },
}

/// A `documents` row, columns as stored.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Document {
    pub id: String,
    pub source_url: Option<String>,
    pub source_type: String,
    pub content_type: Option<String>,
    pub content_hash: Option<String>,
    pub title: Option<String>,
    pub raw_content: Option<String>,
    pub status: String,
    pub error: Option<String>,
    pub connector_id: Option<String>,
    pub chunk_count: i64,
    pub memory_count: i64,
    pub metadata_json: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub completed_at: Option<String>,
}

/// Which documents to list: newest `created_at` first.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DocumentQuery {
    /// Only this status.
    pub status: Option<String>,
    pub limit: usize,
    pub offset: usize,
}

/// One live chunk memory of a document.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DocumentChunk {
    pub id: String,
    pub content: String,
    #[serde(rename = "type")]
    pub memory_type: String,
    pub created_at: String,
    pub chunk_index: i64,
}

/// The result of one ingest job, written in one transaction.
#[derive(Debug, Clone)]
pub struct IngestWrite {
    pub document_id: String,
    /// The leased job this write completes.
    pub job_id: String,
    /// The chunk memories in chunk order (chunk index = position).
    pub chunks: Vec<NewMemory>,
    /// The fetched content's hash and type, when the document had none yet.
    pub content_hash: Option<String>,
    pub content_type: Option<String>,
    /// A title found in the content (an HTML `<title>`), kept if the document had none.
    pub title: Option<String>,
    /// Who wrote the chunks (their `created` history rows).
    pub actor: Actor,
    pub now: String,
}

/// What an ingest write did.
#[derive(Debug, Clone, PartialEq)]
pub enum Ingested {
    /// The chunks were written and the document is `done`: `memories` of the `chunks` were
    /// inserted (a chunk whose content hash a live memory holds is skipped).
    Written { chunks: usize, memories: usize },
    /// The document was already done, deleted or gone: nothing written, the job completed.
    AlreadySettled,
}

/// What deleting a document did.
#[derive(Debug, Clone, PartialEq)]
pub struct DeletedDocument {
    /// The chunk memories soft-deleted now (live ones only).
    pub memory_ids: Vec<String>,
}

/// Documents: creation with its job, reads, deletion, and the worker's writes. Each method is
/// one transaction.
pub trait DocumentStore: JobQueue {
    /// Inserts `d` as a `queued` document with a pending `document_ingest` job (`d.job_id`,
    /// `document_id` set, 3 attempts), unless a document whose status is neither `failed` nor
    /// `deleted` has the same `source_url` (when set) or the same `content_hash` (when set):
    /// then nothing is written and that document is returned.
    fn create_document(&self, d: &NewDocument) -> Result<CreatedDocument>;
    /// The document `id` (any status), `None` when unknown.
    fn document(&self, id: &str) -> Result<Option<Document>>;
    /// Documents of `q.status` (all when `None`), newest first, `q.limit` from `q.offset`,
    /// and how many match in all.
    fn documents(&self, q: &DocumentQuery) -> Result<(Vec<Document>, i64)>;
    /// The live chunk memories of a document, by chunk index; `None` for an unknown document.
    fn document_chunks(&self, id: &str) -> Result<Option<Vec<DocumentChunk>>>;
    /// Soft-deletes the document's live chunk memories (each: `deleted_at = now`, version + 1,
    /// a `deleted` history row by `actor` with the reason `Document deleted: <reason>`) and
    /// sets the document `deleted`. `None` for an unknown document. Deleting a deleted
    /// document removes nothing more.
    fn delete_document(
        &self,
        id: &str,
        reason: &str,
        actor: &Actor,
        now: &str,
    ) -> Result<Option<DeletedDocument>>;
    /// The worker's write, all or nothing: when the document is still to be ingested (not
    /// `done`, `deleted` or gone), inserts the chunk memories as `remember` would (version 1,
    /// a `created` history row, no extraction job; a chunk whose hash a live memory holds is
    /// skipped), links each inserted one in `document_memories` with its chunk index, and
    /// marks the document `done` (`chunk_count`, `memory_count`, `completed_at`, no error);
    /// in every case completes the job `w.job_id`. A write that finds the document settled
    /// writes nothing else, so running a job twice changes nothing twice.
    fn write_ingest(&self, w: &IngestWrite) -> Result<Ingested>;
    /// Records a failed attempt of the job (as [`JobQueue::fail_job`]) and the error on the
    /// document; when the job is dead the document becomes `failed`.
    fn fail_ingest(
        &self,
        document_id: &str,
        job_id: &str,
        error: &str,
        now: &str,
    ) -> Result<FailedJob>;
}
