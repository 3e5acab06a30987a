//! The read routes of one memory's past and of the listing: `GET /api/memory/{id}/history`
//! and `GET /api/memories`.

use serde::{Deserialize, Serialize};

use crate::Extra;

/// Answer of `GET /api/memory/{id}/history`: the memory's events, oldest first.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HistoryResponse {
    pub memory_id: String,
    /// Events returned (at most the `limit`).
    pub count: usize,
    pub history: Vec<HistoryEvent>,
    #[serde(flatten)]
    #[schema(ignore)]
    pub extra: Extra,
}

/// One `memory_history` row.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HistoryEvent {
    pub id: String,
    /// `created`, `updated`, `deleted`, `recovered`, ...
    pub event: String,
    pub old_content: Option<String>,
    pub new_content: Option<String>,
    pub changed_by: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor_type: Option<String>,
    pub reason: Option<String>,
    /// The event's metadata as stored (free-form).
    #[schema(value_type = Object)]
    pub metadata: serde_json::Value,
    pub created_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    #[serde(flatten)]
    #[schema(ignore)]
    pub extra: Extra,
}

/// Answer of `GET /api/memories`: live memories, newest first, with counts.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MemoryList {
    pub memories: Vec<ListedMemoryItem>,
    pub stats: MemoryListStats,
    #[serde(flatten)]
    #[schema(ignore)]
    pub extra: Extra,
}

/// One row of the listing.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ListedMemoryItem {
    pub id: String,
    pub content: String,
    pub created_at: String,
    pub who: Option<String>,
    pub importance: Option<f64>,
    pub tags: Option<String>,
    pub source_type: Option<String>,
    pub pinned: bool,
    #[serde(rename = "type")]
    pub type_: String,
    #[serde(flatten)]
    #[schema(ignore)]
    pub extra: Extra,
}

/// Counts shown beside the listing.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MemoryListStats {
    /// Live memories.
    pub total: i64,
    pub with_embeddings: i64,
    /// Memories of importance 0.9 or more.
    pub critical: i64,
    #[serde(flatten)]
    #[schema(ignore)]
    pub extra: Extra,
}
