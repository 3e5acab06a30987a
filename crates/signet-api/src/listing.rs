//! The read routes: one memory (`GET /api/memory/{id}`), its past
//! (`GET /api/memory/{id}/history`), the listing (`GET /api/memories`) and the legacy search
//! (`GET /memory/search`).

use serde::{Deserialize, Serialize};
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{AdditionalProperties, ObjectBuilder, Schema, SchemaType, Type};

use crate::Extra;

/// A raw database row as upstream sends it: column name → value as stored (0/1 integers stay
/// integers, a blob becomes `{"blobBytes": n}`). Free-form because upstream's contract is
/// "every column", whatever a database written by another version holds.
pub type RawRow = serde_json::Map<String, serde_json::Value>;

/// Answer of `GET /api/memory/{id}`: the live memory's row, every column upstream selects,
/// plus `sessionId` (the `session_id` column, else `source_id` when `source_type` starts with
/// `session`; absent when neither applies). Keys are sent in alphabetical order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MemoryDetail {
    /// The columns (see [`MemoryDetail::COLUMNS`]) and `sessionId`.
    #[serde(flatten)]
    pub row: RawRow,
}

impl MemoryDetail {
    /// The keys of the detail: the columns upstream selects (`session_id` is always null, as
    /// the table has no such column; `is_deleted` is always 0) and `sessionId`, each with its
    /// usual JSON type and whether it may be null. A database written by another version may
    /// hold other types; the row is sent as stored.
    pub const COLUMNS: &'static [(&'static str, Type, bool)] = &[
        ("id", Type::String, false),
        ("content", Type::String, false),
        ("type", Type::String, false),
        ("importance", Type::Number, false),
        ("tags", Type::String, true),
        ("pinned", Type::Integer, false),
        ("who", Type::String, true),
        ("source_id", Type::String, true),
        ("source_type", Type::String, true),
        ("project", Type::String, true),
        ("session_id", Type::Null, true),
        ("sessionId", Type::String, false),
        ("confidence", Type::Number, true),
        ("access_count", Type::Integer, false),
        ("last_accessed", Type::String, true),
        ("is_deleted", Type::Integer, false),
        ("deleted_at", Type::String, true),
        ("extraction_status", Type::String, true),
        ("embedding_model", Type::String, true),
        ("version", Type::Integer, false),
        ("created_at", Type::String, false),
        ("updated_at", Type::String, true),
        ("updated_by", Type::String, true),
    ];
}

impl utoipa::PartialSchema for MemoryDetail {
    fn schema() -> RefOr<Schema> {
        let mut object = ObjectBuilder::new()
            .description(Some(
                "The memory's raw row (every column upstream selects, as stored) plus \
                 `sessionId` (absent when the memory has no session).",
            ))
            .additional_properties(Some(AdditionalProperties::<Schema>::FreeForm(true)));
        for (name, ty, nullable) in Self::COLUMNS {
            let ty = match (ty, nullable) {
                (Type::Null, _) | (_, false) => SchemaType::Type(ty.clone()),
                (ty, true) => SchemaType::Array(vec![ty.clone(), Type::Null]),
            };
            object = object.property(*name, ObjectBuilder::new().schema_type(ty));
        }
        object.into()
    }
}

impl utoipa::ToSchema for MemoryDetail {}

/// Answer of the legacy `GET /memory/search`: the agents (`distinct=who`) or the rows found.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum LegacySearchResponse {
    /// `distinct=who`: every agent that wrote a live memory, sorted.
    Values { values: Vec<String> },
    /// The rows found, best first: `id, content, created_at, who, importance, tags, type,
    /// pinned` as stored, and `score` (raw BM25 for keywords, so lower is better; decayed
    /// importance for filters alone).
    Results {
        #[schema(value_type = Vec<Object>)]
        results: Vec<RawRow>,
    },
}

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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
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
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
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
