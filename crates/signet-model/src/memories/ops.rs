//! Operational signals for analytics and `/metrics`: memory counts by state, job queue depth
//! by status, recent deletes/recovers from the history, and the scope (type, project, who,
//! scope_user) of one memory for live events.

use serde::{Deserialize, Serialize};

/// Memory rows by state, and `memory_jobs` rows by status.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct OpsCounts {
    pub live: i64,
    pub deleted: i64,
    /// `(status, count)` for every status present, sorted by status.
    pub jobs: Vec<(String, i64)>,
}

/// Mutation signals over `memory_history` since a timestamp.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MutationSignals {
    pub recent_recovers: i64,
    pub recent_deletes: i64,
}

/// What a live event says about a memory (never its content).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct MemoryScope {
    pub memory_type: String,
    pub project: Option<String>,
    pub who: Option<String>,
    /// `scope_user` (migration 1001), so a user-scoped subscriber hears only its memories.
    pub scope_user: Option<String>,
    pub version: i64,
}
