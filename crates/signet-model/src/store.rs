//! [`MemoryStore`], the interface the daemon's memory services use. The trait is synchronous:
//! callers run it on blocking threads. Each backend (SQLite in signet-store, PostgreSQL later)
//! implements it with its own client and its own SQL, so nothing above the store changes when
//! one is added. The doc comments below are the contract; `crate::conformance` checks it.
//!
//! Rules every method shares: a soft-deleted memory ("tombstone") is never returned by a read
//! that says "live"; timestamps are the [`crate::time`] strings the caller passes (the store
//! never reads the clock for what it records); ids and content hashes are opaque strings.

use crate::documents::DocumentStore;
use crate::error::Result;
use crate::export::ExportStore;
use crate::keyword::KeywordQuery;
use crate::lifecycle::Lifecycle;
use crate::maintenance::MaintenanceStore;
use crate::memories::{
    Actor, CandidateQuery, ChunkGroup, EmbeddingJob, EmbeddingRow, EmbeddingStats, ForgetCandidate,
    HistoryEvent, KeywordHit, LegacyQuery, ListedMemoryItem, MemoryListStats, MemoryScope,
    Mutation, MutationOutcome, MutationSignals, NewMemory, OpsCounts, RecallFilters, RecallRow,
    RememberOutcome, RowKey, ScopeFilter, StoredVector, WriteOptions,
};
use crate::pipeline::PipelineStore;
use crate::sessions::{Checkpoint, CheckpointQuery, SessionMemory, SummaryJob};

/// A JSON object of raw column values.
pub type JsonRow = serde_json::Map<String, serde_json::Value>;

/// Everything the memory services need from storage. Each method is one transaction.
pub trait MemoryStore: Send + Sync + 'static {
    /// Inserts `m` unless a live memory already holds it: first a live memory with the same
    /// `(source_type, source_id)` (when `m.source_id` is set), then one with the same
    /// `content_hash`. Such a memory is returned as `Deduped` and nothing is written; deleted
    /// memories never dedup. An insert starts at version 1 with no vector, records a `created`
    /// history row (`actor`, at `m.created_at`, `new_content` = the content) and, with
    /// `opts.enqueue_extraction`, one pending `extract` job with `opts.extraction_attempts`
    /// attempts (`max_attempts`).
    fn remember(&self, m: &NewMemory, opts: WriteOptions, actor: &Actor)
    -> Result<RememberOutcome>;
    /// Inserts the chunks of one long remember, named by `g.group_id`, each as `remember`
    /// would insert it, except that a chunk whose content hash a live memory (or an earlier
    /// chunk) already holds is skipped (sources are not consulted). Returns the ids inserted,
    /// in chunk order.
    fn remember_chunks(
        &self,
        g: &ChunkGroup,
        opts: WriteOptions,
        actor: &Actor,
        now: &str,
    ) -> Result<Vec<String>>;
    /// A live memory as upstream's detail object: the keys `id content type importance tags
    /// pinned who source_id source_type project session_id confidence access_count
    /// last_accessed is_deleted deleted_at extraction_status embedding_model version
    /// created_at updated_at updated_by` with the stored values (`pinned` and `is_deleted` as
    /// 0/1 integers, `session_id` always null), and nothing else. `None` for a deleted or
    /// unknown id.
    fn live_detail(&self, id: &str) -> Result<Option<JsonRow>>;
    /// Up to `limit` history entries of a memory, oldest first (by their time, then by the
    /// order they were written). Events: `created` (new content), `updated` (old and new
    /// content, metadata `changedFields`), `deleted` (old content), `recovered` (new content),
    /// each with the actor's `changed_by`, `actor_type`, `session_id` and `request_id` and the
    /// mutation's reason. `None` when no row with this id exists (deleted rows still have
    /// history; purged ones do not).
    fn history(&self, id: &str, limit: i64) -> Result<Option<Vec<HistoryEvent>>>;
    /// Live memories inside `scope` (see [`ScopeFilter`]) and, when `memory_type` is set, of
    /// that type, newest `created_at` first, `limit` of them from `offset`, with the
    /// [`MemoryListStats`] of the scope (every type).
    fn list(
        &self,
        limit: i64,
        offset: i64,
        scope: &ScopeFilter,
        memory_type: Option<&str>,
    ) -> Result<(Vec<ListedMemoryItem>, MemoryListStats)>;
    /// Counts over all live memories: all, those with a stored vector (any model), and the
    /// critical ones (importance ≥ 0.9).
    fn stats(&self) -> Result<MemoryListStats>;
    /// One single-memory mutation (modify, forget or recover) behind the shared guard.
    ///
    /// An unknown id is `NotFound`. Then the guard, in this order: the row must be in the state
    /// the operation needs (modify a deleted row: `IsDeleted`; forget one: `AlreadyDeleted`;
    /// recover a live one: `NotDeleted`); `if_version`, when set, must be the current version
    /// (`VersionConflict`); a pinned row is forgotten only with `force`
    /// (`PinnedRequiresForce`), and never by an actor whose `actor_type` is `pipeline`
    /// (`AutonomousForceDenied`). Pinning never blocks a modify. Refusals change nothing.
    ///
    /// Then the operation's own rules. Modify changes only the fields the patch sets to a
    /// different value (none: `NoChanges`, nothing written, version unchanged); new content
    /// another live memory holds is `DuplicateContentHash` (a deleted one's is free); new
    /// content drops the memory's vector (it needs embedding again) and is searchable at
    /// once. Forget is a soft delete (`deleted_at = now`). Recover succeeds while
    /// `now - deleted_at <= RECOVER_WINDOW_MS` (`RetentionExpired` after), unless a live
    /// memory now holds the same content (`DuplicateContentHash`); a recovered memory keeps
    /// its vector and is found again. Every change that runs writes one history row (at
    /// `now`, by `actor`, with `reason`), bumps the version by one (`new = current + 1`) and
    /// sets `updated_at = now`.
    fn mutate(&self, m: Mutation) -> Result<MutationOutcome>;
    /// Live memories matching the keyword query (see [`crate::keyword`] for what a query
    /// matches) and the filters, best first (BM25: more of the query's terms, and rarer ones,
    /// rank higher), at most `limit`. An empty query finds nothing. A hit's `bm25` is negative
    /// with a magnitude that does not grow down the list.
    fn keyword_search(
        &self,
        query: &KeywordQuery,
        filters: &RecallFilters,
        limit: usize,
    ) -> Result<Vec<KeywordHit>>;
    /// The rows of these memories, in the order given; deleted and unknown ids are left out.
    /// A key's position is a hint ([`RowKey`]): the answer is the same without it.
    fn recall_rows(&self, keys: &[RowKey]) -> Result<Vec<RecallRow>>;
    /// Records `n` accesses of each `(id, n)` at `now` (`access_count + n`, `last_accessed =
    /// now`); an id listed twice gets both counts; unknown ids are ignored. Not a mutation: no
    /// version, no history row.
    fn touch_accessed(&self, counts: &[(String, u32)], now: &str) -> Result<()>;
    /// Candidates for batch forget: live memories matching `q.filters`, at most `q.limit`.
    /// With `q.ids`: those of the first `limit` ids that qualify, in request order, score 0.
    /// Else with a non-empty `q.keywords`: the matches best first, score `1 / (1 + |bm25|)`.
    /// Else all that match the filters: pinned first, then by importance, then most recently
    /// updated, score 0.
    fn forget_candidates(&self, q: &CandidateQuery) -> Result<Vec<ForgetCandidate>>;
    /// `GET /memory/search` rows (keys `id content created_at who importance tags type pinned
    /// score`) of live memories matching `q.filters`, at most `q.limit`: with non-empty
    /// keywords, the matches best first (`score` the raw bm25); else by score descending, a
    /// pinned memory 1.0 and any other its importance decayed by 5% a day since creation
    /// (floor 10%).
    fn legacy_search(&self, q: &LegacyQuery) -> Result<Vec<serde_json::Value>>;
    /// The distinct `who` values of live memories, sorted.
    fn distinct_who(&self) -> Result<Vec<String>>;
    /// Ids of live memories matching `filters`, in no particular order.
    fn filter_ids(&self, filters: &RecallFilters) -> Result<Vec<String>>;
    /// Current vectors (made by `model` with `dims` dimensions for the memory's current
    /// content) of all live memories, blobs exactly as saved.
    fn load_vectors(&self, model: &str, dims: usize) -> Result<Vec<StoredVector>>;
    /// One memory's current vector. A tombstone keeps its vector until it is purged or its
    /// orphan vector cleaned, so a recover needs no re-embedding.
    fn vector_of(&self, id: &str, model: &str, dims: usize) -> Result<Option<Vec<u8>>>;
    /// Up to `limit` live memories with no vector for their current content, most recently
    /// updated first (`include_stale`: also those whose vector is another model's or of other
    /// dimensions, for a re-embed).
    fn embedding_gaps(
        &self,
        model: &str,
        dims: usize,
        include_stale: bool,
        limit: usize,
    ) -> Result<Vec<EmbeddingJob>>;
    /// The next batch of a pass over the gaps: like [`Self::embedding_gaps`], but continuing
    /// after the memory `after` (the last job of the previous batch) when the backend can do so
    /// cheaply, newest first by insertion position (SQLite's rowid, PostgreSQL's `seq`), and
    /// only among memories whose position is above `above` when given (those inserted after
    /// [`Self::newest_position`] said `above`). A pass ends with a short batch; the caller
    /// then starts again with `after = None`. The default ignores `after` and `above`
    /// (correct, as the gaps already filled drop out, but each batch starts over).
    fn embedding_gaps_after(
        &self,
        model: &str,
        dims: usize,
        include_stale: bool,
        limit: usize,
        after: Option<&str>,
        above: Option<i64>,
    ) -> Result<Vec<EmbeddingJob>> {
        let _ = (after, above);
        self.embedding_gaps(model, dims, include_stale, limit)
    }
    /// The insertion position of the newest memory (any state): what a later
    /// [`Self::embedding_gaps_after`] takes as `above` to look only at memories inserted
    /// since. `None`: no memory, or the backend has no such order (then every pass is whole).
    fn newest_position(&self) -> Result<Option<i64>> {
        Ok(None)
    }
    /// Stores each vector as its memory's current one (replacing older vectors) if the memory
    /// is still live with the job's content hash; returns, per item, whether it was stored.
    fn save_embeddings(
        &self,
        items: &[(EmbeddingJob, Vec<u8>)],
        dims: usize,
        model: &str,
        now: &str,
    ) -> Result<Vec<bool>>;
    /// Vector coverage of live memories for `model` / `dims` (see [`EmbeddingStats`]).
    fn embedding_stats(&self, model: &str, dims: usize) -> Result<EmbeddingStats>;
    /// Deletes the vectors whose memory is deleted or gone; returns how many.
    fn clean_orphan_embeddings(&self) -> Result<usize>;
    /// One page of the vectors of live memories, newest first (see [`EmbeddingRow`]; the
    /// floats only with `with_vectors`), with the total count.
    fn list_embeddings(
        &self,
        limit: usize,
        offset: usize,
        with_vectors: bool,
    ) -> Result<(Vec<EmbeddingRow>, i64)>;
    /// The database answers a trivial query.
    fn ping(&self) -> Result<()>;
    /// Memories by state and jobs by status (analytics, `/metrics`).
    fn ops_counts(&self) -> Result<OpsCounts>;
    /// Deletes and recovers recorded in history since `since` (ISO, inclusive).
    fn mutation_signals(&self, since: &str) -> Result<MutationSignals>;
    /// Type, project, who, user and version of a memory, deleted or not (live events).
    fn memory_scope(&self, id: &str) -> Result<Option<MemoryScope>>;
    /// An agent's ratings of the memories a session was given (`POST /api/memory/feedback`):
    /// for each `(memory_id, rating)` the `session_memories` row of `(session_key,
    /// memory_id)` takes the running mean, `agent_relevance_score = (old * count + rating) /
    /// (count + 1)` (the rating itself when it had none) and `agent_feedback_count + 1`.
    /// Ratings are stored as given (the caller clamps them). A memory the session has no row
    /// for records nothing. Returns how many rows took a rating. Not a mutation of the
    /// memory: no version, no history row.
    fn record_feedback(&self, session_key: &str, ratings: &[(String, f64)]) -> Result<usize>;
    /// Records the memories a hook gave sessions: one `session_memories` row per item, none
    /// for a `(session_key, memory_id)` pair already recorded (the first record wins, its
    /// rating kept). Returns how many rows were written. Not a mutation of the memory.
    fn record_session_memories(&self, rows: &[SessionMemory]) -> Result<usize>;
    /// Queues a transcript for the summary pipeline: a `summary_jobs` row with status
    /// `pending`, no attempts and no result. An id already queued is a `Conflict`. While the
    /// same session key already has a pending job, that job takes the new transcript (and
    /// harness and project) instead — a harness that reports the end of every turn (Codex's
    /// `Stop`) queues its session once, with its latest transcript. Returns the id of the job
    /// holding the transcript.
    fn enqueue_summary(&self, job: &SummaryJob) -> Result<String>;
    /// Continuity checkpoints, newest `created_at` first, at most the query's limit.
    fn checkpoints(&self, q: &CheckpointQuery) -> Result<Vec<Checkpoint>>;
    /// The change sequence of a database several daemons share ([`ChangeFeed`]), or `None`
    /// when this backend serves one daemon (SQLite). An optional capability: the default.
    fn change_feed(&self) -> Option<&dyn ChangeFeed> {
        None
    }
    /// Nearest-vector search inside the database ([`VectorSearch`]), or `None` when the
    /// caller keeps its own index over [`MemoryStore::load_vectors`] (SQLite, or PostgreSQL
    /// without pgvector). An optional capability: the default.
    fn vector_search(&self) -> Option<&dyn VectorSearch> {
        None
    }
}

/// Vector search served by the store itself (pgvector on PostgreSQL), over the same vectors
/// [`MemoryStore::load_vectors`] returns: a store offering it keeps its index in step with
/// every write, so the caller holds no copy.
pub trait VectorSearch: Send + Sync {
    /// The `k` live memories whose current vector (made by `model`, with `dims` dimensions,
    /// for their current content) is nearest to `query` by cosine, best first, with the
    /// cosine similarity (`1 -` the cosine distance). With `allowed`, only those ids (an exact
    /// search among them); without, the answer may be approximate.
    fn search(
        &self,
        model: &str,
        dims: usize,
        query: &[f32],
        k: usize,
        allowed: Option<&std::collections::HashSet<String>>,
    ) -> Result<Vec<(String, f32)>>;
    /// Readies the search of `dims`-dimensional vectors (builds their index if missing):
    /// called at start-up with the configured dimensions, so the first recall does not wait.
    fn prepare(&self, dims: usize) -> Result<()>;
    /// A name for status (`pgvector`).
    fn name(&self) -> &'static str;
}

/// A complete storage backend: the memory, maintenance, document and pipeline data traits and
/// the lifecycle. The daemon holds its store as `Arc<dyn Backend>` and hands out the narrower
/// traits.
pub trait Backend:
    MemoryStore + MaintenanceStore + DocumentStore + PipelineStore + ExportStore + Lifecycle
{
}

impl<T: MemoryStore + MaintenanceStore + DocumentStore + PipelineStore + ExportStore + Lifecycle>
    Backend for T
{
}

/// What one committed change did to a memory, for the nodes that follow it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    /// Created, changed or recovered: its current vector (if any) belongs in the index.
    Upsert,
    /// Soft-deleted or purged: it leaves the index.
    Delete,
    /// A vector was stored for it.
    Vector,
}

impl ChangeKind {
    /// The stored name (`upsert`, `delete`, `vector`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Upsert => "upsert",
            Self::Delete => "delete",
            Self::Vector => "vector",
        }
    }

    /// The kind a stored name names.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "upsert" => Some(Self::Upsert),
            "delete" => Some(Self::Delete),
            "vector" => Some(Self::Vector),
            _ => None,
        }
    }
}

/// One entry of the change sequence.
#[derive(Debug, Clone, PartialEq)]
pub struct MemoryChange {
    /// Its place in the sequence: increasing in commit order (holes are rollbacks).
    pub seq: i64,
    pub memory_id: String,
    pub kind: ChangeKind,
    /// The live event it stands for: `created`, `updated`, `deleted`, `recovered`, or
    /// `None` (a vector stored, a purge).
    pub event: Option<String>,
    /// The memory's version after the change.
    pub version: Option<i64>,
    /// Updates: whether the content changed.
    pub content_changed: Option<bool>,
    /// The node that wrote it (`None`: a writer that is not a Signet node, e.g. `psql`).
    pub origin: Option<String>,
    /// When it was recorded ([`crate::time`] format).
    pub at: String,
}

/// One read of the change sequence.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ChangePage {
    /// The changes after the cursor, in sequence order.
    pub changes: Vec<MemoryChange>,
    /// The cursor to pass next: every change up to it has been returned (now or before).
    pub next: i64,
    /// Changes after the cursor given were pruned before this reader saw them: whatever it
    /// derives from the changes must be rebuilt from the data.
    pub gap: bool,
}

/// A dedicated connection listening for new changes.
pub trait ChangeListener: Send {
    /// Waits up to `timeout` for notifications; returns their payloads (the writing nodes'
    /// ids), empty when none came. An error means the connection is gone: make a new one.
    fn wait(&mut self, timeout: std::time::Duration) -> Result<Vec<String>>;
}

/// The change sequence of a shared database: every committed change to a memory, in order,
/// with the node that wrote it, so each node can follow the others' writes (its vector index,
/// its live events). Written by the database in the changing transaction itself.
pub trait ChangeFeed: Send + Sync {
    /// This node's id, as [`MemoryChange::origin`] names it.
    fn node(&self) -> &str;
    /// A cursor to follow from: every change up to it is already reflected in what a reader
    /// loads from the data now (read it before loading).
    fn head(&self) -> Result<i64>;
    /// Up to `limit` changes after `after`, in order (see [`ChangePage`]).
    fn changes_after(&self, after: i64, limit: usize) -> Result<ChangePage>;
    /// Deletes the changes recorded before `before`; returns how many.
    fn prune(&self, before: &str) -> Result<usize>;
    /// A new listening connection.
    fn listen(&self) -> Result<Box<dyn ChangeListener>>;
}
