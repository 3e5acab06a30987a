//! What repairs exchange with a store: the audit row every repair writes, the full-text index
//! counts, and the exact-duplicate clusters and merges.

use serde::{Deserialize, Serialize};

/// Who ran a repair and why, as recorded in `memory_history`.
#[derive(Debug, Clone, Default)]
pub struct RepairAudit {
    /// The action's name (`requeueDeadJobs`, `deduplicate`, ...).
    pub action: String,
    pub changed_by: String,
    pub actor_type: String,
    pub reason: String,
    pub request_id: Option<String>,
    pub affected: i64,
    pub message: String,
    pub now: String,
}

/// The full-text index against the memories table.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FtsCounts {
    /// All rows of `memories` (the index covers tombstones too: they stay searchable for
    /// recovery and are filtered at query time).
    pub memories: i64,
    pub live: i64,
    pub fts_rows: i64,
    pub missing: i64,
    pub orphans: i64,
}

/// The fields the keeper formula reads (a backend may decode it by field name).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct DedupRow {
    pub id: String,
    pub importance: f64,
    pub access_count: i64,
    pub update_count: i64,
    pub updated_at: String,
    pub pinned: bool,
    pub manual_override: bool,
    pub tags: Option<String>,
}

/// Live memories with the same normalised content.
#[derive(Debug, Clone, Default)]
pub struct DedupCluster {
    pub key: String,
    pub rows: Vec<DedupRow>,
}

/// One decided merge: `losers` are deleted into `keeper`, whose tags become `tags`.
#[derive(Debug, Clone, Default)]
pub struct DedupMerge {
    pub keeper: String,
    pub losers: Vec<String>,
    pub tags: Option<String>,
    /// `exact` or `semantic`, recorded in the history metadata.
    pub pass: String,
}
