//! The repairs (`/api/repair/*`): the one answer shape every action sends, the read-only
//! counts (`dedup-stats`, `embedding-gaps`, `cold-stats`) and the request bodies.
//!
//! Fields are declared in the order the daemon has always sent them (alphabetical), so a
//! struct encodes to the same bytes as before it was typed.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::Extra;
use crate::embeddings::ReembedProgress;

/// Answer of a repair: upstream's `{action, success, affected, message}` plus the fields of
/// particular actions. Refusals (the policy gate, the limiter, a sweep already running) and the
/// 501 placeholders have the same shape with `success: false`.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RepairResponse {
    /// The action's name (`requeueDeadJobs`, `checkFtsConsistency`, `re-embed`, ...).
    pub action: String,
    /// Rows (or memories, or jobs) the action changed, or would change in a dry run.
    pub affected: i64,
    /// `deduplicateMemories`: clusters merged (or found, in a dry run).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clusters: Option<usize>,
    /// Set on a dry run (`deduplicateMemories`, the entity prunes, `backfillSkippedSessions`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dry_run: Option<bool>,
    /// The 501 placeholders: the same text as `message`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub message: String,
    /// `re-embed`: the background run it started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progress: Option<ReembedProgress>,
    /// `triggerRetentionSweep`: what the sweep removed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub removed: Option<SweepRemoved>,
    /// `checkFtsConsistency` on drift: whether the index was rebuilt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repaired: Option<bool>,
    pub success: bool,
    #[serde(flatten)]
    #[schema(ignore)]
    pub extra: Extra,
}

impl RepairResponse {
    /// A plain answer with none of the per-action fields.
    pub fn new(action: impl Into<String>, success: bool, affected: i64, message: String) -> Self {
        Self {
            action: action.into(),
            affected,
            clusters: None,
            dry_run: None,
            error: None,
            message,
            progress: None,
            removed: None,
            repaired: None,
            success,
            extra: Extra::new(),
        }
    }
}

/// Rows a retention sweep removed, by kind.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SweepRemoved {
    pub completed_jobs: usize,
    pub dead_jobs: usize,
    /// Vectors of the purged tombstones.
    pub embeddings: usize,
    pub entities: usize,
    pub history: usize,
    pub mentions: usize,
    pub predictor_pairs: usize,
    /// Soft-deleted memories past the recovery window, archived and purged.
    pub tombstones: usize,
    #[serde(flatten)]
    #[schema(ignore)]
    pub extra: Extra,
}

/// Answer of `GET /api/repair/dedup-stats`.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DedupStats {
    /// Groups of live memories with the same content.
    pub exact_clusters: i64,
    /// Memories beyond the first of each group (what a deduplicate would remove).
    pub exact_excess: i64,
    /// Live memories.
    pub total_active: i64,
    #[serde(flatten)]
    #[schema(ignore)]
    pub extra: Extra,
}

/// Answer of `GET /api/repair/embedding-gaps`.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EmbeddingGaps {
    /// Share of live memories with a current vector, as `"NN.N%"`.
    pub coverage: String,
    /// Live memories with no vector for their current content.
    pub missing: i64,
    /// Live memories whose vector is another model's or of other dimensions.
    pub stale_model: i64,
    /// Live memories.
    pub total: i64,
    /// Live memories without a current vector.
    pub unembedded: i64,
    #[serde(flatten)]
    #[schema(ignore)]
    pub extra: Extra,
}

/// Answer of `GET /api/repair/cold-stats`: the cold archive (`memories_cold`), where retention
/// and the pipeline's updates and deletes keep a copy of every memory they remove or replace.
/// Upstream's fields (`{count, oldest, newest, totalBytes, byReason}`), sent in alphabetical
/// order like every answer of the daemon.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ColdStats {
    /// Rows per `archived_reason` (`retention_decay`, `superseded`, `pipeline_delete`, ...;
    /// `unknown` when unset).
    pub by_reason: BTreeMap<String, i64>,
    /// Archived rows.
    pub count: i64,
    /// Set only when the database has no archive table yet (the counts are then 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The last `archived_at`.
    pub newest: Option<String>,
    /// The first `archived_at` (null when the archive is empty).
    pub oldest: Option<String>,
    /// UTF-8 bytes of every row's `content` plus its `original_row_json` (the whole archived
    /// row, which repeats the content), as upstream counts them.
    pub total_bytes: i64,
    #[serde(flatten)]
    #[schema(ignore)]
    pub extra: Extra,
}

/// Body of `POST /api/repair/prune-chunk-groups` (optional).
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PruneChunkGroupsRequest {
    /// Chunk-group entities deleted at most (default 500, up to 10000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_size: Option<usize>,
    /// Only count what would be deleted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dry_run: Option<bool>,
}

/// Body of `POST /api/repair/prune-singleton-entities` (optional).
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PruneSingletonsRequest {
    /// Entities deleted at most (default 200, up to 10000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_size: Option<usize>,
    /// Only count what would be deleted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dry_run: Option<bool>,
    /// Entities with at most this many mentions are singletons (default 1, 0 or more).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_mentions: Option<i64>,
}

/// Body of `POST /api/repair/backfill-skipped` (optional).
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BackfillSkippedRequest {
    /// Summary jobs requeued at most (default 50, up to 1000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<usize>,
    /// Only count what would be requeued.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dry_run: Option<bool>,
}

/// Body of `POST /api/repair/check-fts` (optional). The daemon also accepts `1`/`0` and
/// `"true"`/`"false"` for booleans.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CheckFtsRequest {
    /// Rebuild the keyword index when it has drifted (default false: only report).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repair: Option<bool>,
}

/// Body of `POST /api/repair/re-embed` (optional).
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReembedRequest {
    /// Only count what would be re-embedded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dry_run: Option<bool>,
}

/// Body of `POST /api/repair/deduplicate` (optional; defaults from
/// `memory.pipelineV2.repair`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeduplicateRequest {
    /// Clusters (and semantic candidates) examined at most (up to 1000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_size: Option<usize>,
    /// Only count what would be merged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dry_run: Option<bool>,
    /// Cosine similarity from 0 to 1 at which the semantic pass merges.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub semantic_threshold: Option<f64>,
    /// Also merge near-duplicates by vector similarity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub semantic_enabled: Option<bool>,
}
