//! The memory domain: what the services hand a store and what it answers. Plain data, no
//! backend: every [`crate::MemoryStore`] speaks exactly these types.

mod embeddings;
mod ops;
mod search;

use serde::{Deserialize, Serialize};

pub use embeddings::{EmbeddingJob, EmbeddingRow, EmbeddingStats, StoredVector};
pub use ops::{MemoryScope, MutationSignals, OpsCounts};
pub use search::{CandidateQuery, ForgetCandidate, KeywordHit, LegacyQuery, RecallFilters, RowKey};
/// What the listing and the history read answer, as the routes send them: a store fills the
/// wire types field for field (`extra` empty), so no copy of them lives here.
pub use signet_api::{HistoryEvent, ListedMemoryItem, MemoryListStats};

/// Who is making a change, as recorded in `memory_history` and `memories.updated_by`.
#[derive(Debug, Clone, Default)]
pub struct Actor {
    /// `changed_by` / `updated_by`: the token subject, `x-signet-actor`, or "daemon".
    pub changed_by: String,
    /// `actor_type`: the token role, or operator / pipeline / harness / sdk / daemon.
    pub actor_type: Option<String>,
    /// `x-signet-session-id`, kept in history.
    pub session_id: Option<String>,
    /// The request id, kept in history.
    pub request_id: Option<String>,
}

/// A memory ready to insert: content already normalised and hashed by the caller.
#[derive(Debug, Clone)]
pub struct NewMemory {
    pub id: String,
    pub content: String,
    /// The normalised text the hash was taken of (exact-duplicate repairs group by it).
    pub normalized_content: String,
    /// Opaque to the store: two live memories never share one (remember dedups by it).
    pub content_hash: String,
    pub memory_type: String,
    pub tags: Option<String>,
    pub who: String,
    pub why: String,
    pub project: Option<String>,
    pub importance: f64,
    pub pinned: bool,
    pub source_type: String,
    pub source_id: Option<String>,
    /// `pending` when the pipeline will pick it up, `none` otherwise.
    pub extraction_status: String,
    pub created_at: String,
    /// `scope_user` (migration 1001): the user of the user-scoped token that wrote it; `None`
    /// for every other writer, as for upstream's rows.
    pub scope_user: Option<String>,
}

/// What remember did: a fresh row, or the live row that already held this content.
#[derive(Debug, Clone, PartialEq)]
pub enum RememberOutcome {
    Inserted,
    Deduped(DedupHit),
}

/// The existing memory a remember collapsed into.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DedupHit {
    pub id: String,
    #[serde(rename = "type")]
    pub memory_type: String,
    pub tags: Option<String>,
    pub pinned: bool,
    pub importance: f64,
    pub content: String,
}

/// Options of a write that the pipeline configuration decides.
#[derive(Debug, Clone, Copy)]
pub struct WriteOptions {
    /// Enqueue an `extract` job in `memory_jobs` in the same transaction.
    pub enqueue_extraction: bool,
    /// The job's `max_attempts` (`memory.pipelineV2.worker.maxRetries`, default 3).
    pub extraction_attempts: u32,
}

impl Default for WriteOptions {
    /// No extraction job; 3 attempts when one is queued.
    fn default() -> Self {
        Self {
            enqueue_extraction: false,
            extraction_attempts: 3,
        }
    }
}

/// A group of chunks cut from one long remember.
#[derive(Debug, Clone)]
pub struct ChunkGroup {
    pub group_id: String,
    pub chunks: Vec<NewMemory>,
}

/// The fields a PATCH may change; `None` leaves a field alone.
#[derive(Debug, Clone, Default)]
pub struct MemoryPatch {
    /// New content with its normalised form and hash.
    pub content: Option<(String, String, String)>,
    pub memory_type: Option<String>,
    /// `Some(None)` clears the tags.
    pub tags: Option<Option<String>>,
    pub importance: Option<f64>,
    pub pinned: Option<bool>,
}

/// One single-memory mutation, the parameter object of [`MemoryStore::mutate`]: which memory,
/// under which guard, why, by whom and when, plus what to change. Every operation passes the
/// same guard (the row exists, is in the state the operation needs, has the version the
/// caller read, and a pinned row is deleted only with force by a non-pipeline actor) before
/// its own rules run.
///
/// [`MemoryStore::mutate`]: crate::MemoryStore::mutate
#[derive(Debug, Clone)]
pub struct Mutation {
    /// The memory to change.
    pub id: String,
    /// The version the caller last read; a different current version is a conflict.
    pub if_version: Option<i64>,
    /// Why, as recorded in the history row.
    pub reason: String,
    /// Who, as recorded in the history row and `updated_by`.
    pub actor: Actor,
    /// When (ISO-8601): `updated_at`, `deleted_at`, the history row, the recover window.
    pub now: String,
    /// What the operation does.
    pub change: Change,
}

/// The per-operation part of a [`Mutation`].
#[derive(Debug, Clone)]
pub enum Change {
    /// PATCH: apply the fields the patch sets (live rows only).
    Modify(MemoryPatch),
    /// Soft delete (live rows only); `force` is what a pinned row needs.
    Forget { force: bool },
    /// Undo a soft delete within [`RECOVER_WINDOW_MS`] (deleted rows only).
    Recover,
}

/// What a [`MutationOutcome`] means to the caller, in domain terms (the server alone turns
/// it into a transport status).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutcomeKind {
    /// The operation ran (or found nothing to change).
    Done,
    /// No memory has this id.
    NotFound,
    /// The stored state refuses the change: version, deleted state, duplicate content,
    /// pinned without force, recover window.
    Conflict,
    /// The actor may never do this (an autonomous agent force-deleting a pinned memory).
    Forbidden,
}

/// Outcome of a single-memory mutation; [`MutationOutcome::kind`] classifies it.
#[derive(Debug, Clone, PartialEq)]
pub enum MutationOutcome {
    Updated {
        current: i64,
        new: i64,
        content_changed: bool,
    },
    NoChanges {
        current: i64,
    },
    Deleted {
        current: i64,
        new: i64,
    },
    Recovered {
        current: i64,
        new: i64,
    },
    NotFound,
    IsDeleted {
        current: i64,
    },
    AlreadyDeleted {
        current: i64,
    },
    NotDeleted {
        current: i64,
    },
    VersionConflict {
        current: i64,
    },
    DuplicateContentHash {
        current: i64,
        duplicate_id: String,
    },
    PinnedRequiresForce {
        current: i64,
    },
    AutonomousForceDenied {
        current: i64,
    },
    RetentionExpired {
        current: i64,
    },
}

impl MutationOutcome {
    /// The outcome's meaning to the caller. Exhaustive, so a new outcome must be classified.
    pub fn kind(&self) -> OutcomeKind {
        use MutationOutcome as O;
        match self {
            O::Updated { .. } | O::NoChanges { .. } | O::Deleted { .. } | O::Recovered { .. } => {
                OutcomeKind::Done
            }
            O::NotFound => OutcomeKind::NotFound,
            O::AutonomousForceDenied { .. } => OutcomeKind::Forbidden,
            O::IsDeleted { .. }
            | O::AlreadyDeleted { .. }
            | O::NotDeleted { .. }
            | O::VersionConflict { .. }
            | O::DuplicateContentHash { .. }
            | O::PinnedRequiresForce { .. }
            | O::RetentionExpired { .. } => OutcomeKind::Conflict,
        }
    }
}

/// Fields recall returns for each hit.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct RecallRow {
    pub id: String,
    pub content: String,
    pub memory_type: String,
    pub tags: Option<String>,
    pub pinned: bool,
    pub importance: f64,
    pub who: Option<String>,
    pub project: Option<String>,
    pub created_at: String,
    pub access_count: i64,
    pub last_accessed: Option<String>,
}

/// How long a soft-deleted memory can be recovered.
pub const RECOVER_WINDOW_MS: i64 = 30 * 24 * 3600 * 1000;

/// The slice of memories a scoped token may touch: `project`, `who` (the writing agent) and
/// `scope_user` must equal the set values; a row whose column is NULL is outside a filter
/// that sets it. All `None`: every memory.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScopeFilter {
    pub project: Option<String>,
    pub who: Option<String>,
    /// Matched against `memories.scope_user` (migration 1001).
    pub user: Option<String>,
}

impl ScopeFilter {
    /// Whether nothing is filtered.
    pub fn is_empty(&self) -> bool {
        self.project.is_none() && self.who.is_none() && self.user.is_none()
    }
}
