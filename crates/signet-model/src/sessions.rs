//! What the harness hooks keep about a session: the memories each session was given
//! (`session_memories`), the transcripts queued for the summary pipeline (`summary_jobs`) and
//! the continuity checkpoints (`session_checkpoints`, read-only here).

/// One memory a hook gave (or offered) a session, as `session_memories` records it.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionMemory {
    /// The row id (opaque to the store).
    pub id: String,
    pub session_key: String,
    pub memory_id: String,
    /// Where the candidate came from: `effective` (session start's importance × recency),
    /// `fts_only` or `hybrid` (a prompt's recall), as upstream names them.
    pub source: String,
    /// The candidate's own score before ranking (session start), if any.
    pub effective_score: Option<f64>,
    /// The score it was ranked by.
    pub final_score: f64,
    /// 0-based position among the candidates.
    pub rank: i64,
    /// Whether it made it into the injected text (the budget may leave it out).
    pub was_injected: bool,
    /// How many keyword hits found it (a prompt's recall: 1 when the keyword leg did).
    pub fts_hit_count: i64,
    pub created_at: String,
}

/// A transcript queued for the summary pipeline (a `summary_jobs` row, status `pending`,
/// no attempts yet).
#[derive(Debug, Clone, PartialEq)]
pub struct SummaryJob {
    /// The job id (opaque to the store).
    pub id: String,
    pub session_key: Option<String>,
    pub harness: String,
    /// The project the session ran in (the harness's working directory).
    pub project: Option<String>,
    /// The normalised transcript (`User: …` / `Assistant: …` lines, or raw text).
    pub transcript: String,
    pub created_at: String,
}

/// Which checkpoints to read: one session's, or one project's, newest first.
#[derive(Debug, Clone, PartialEq)]
pub enum CheckpointQuery {
    /// Every checkpoint of this session key.
    Session { session_key: String, limit: usize },
    /// Checkpoints whose `project_normalized` (else `project`) is this path.
    Project { project: String, limit: usize },
}

/// One continuity checkpoint (`session_checkpoints`), columns as stored: the wire type's
/// fields are the table's columns (`trigger` is `periodic`, `pre_compaction` or
/// `session_end`; `digest` is what a recovery injects; `memory_queries` and
/// `recent_remembers` are JSON arrays as stored). The store answers it unredacted; the hooks
/// service redacts it before it leaves the daemon.
pub use signet_api::CheckpointItem as Checkpoint;
