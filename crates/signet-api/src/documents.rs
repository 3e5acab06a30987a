//! `/api/documents*`: documents ingested as searchable chunk memories (text, a URL the daemon
//! fetches, or a file inside the workspace), their listing, their chunks and their deletion.

use serde::{Deserialize, Serialize};

use crate::Extra;
use crate::query::QueryMap;

/// Body of `POST /api/documents`: upstream's fields, or one of the shorthands `text`, `url`
/// or `file` in place of `source_type` with `content` / `url`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DocumentRequest {
    /// `text`, `url` or `file` (implied by a shorthand).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_type: Option<String>,
    /// The text of a `text` document, or the workspace-relative path of a `file` one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    /// The `http` or `https` URL of a `url` document.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Shorthand: a `text` document with this content.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Shorthand: a `file` document at this workspace-relative path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// Shown in listings and tagged on the chunks (`document:<title>`); for HTML the page's
    /// `<title>` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// `text/plain`, `text/markdown`, `text/html`, ... (a URL's answer says its own).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// The connector that found the document, if any (kept, not interpreted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connector_id: Option<String>,
    /// Free-form metadata, kept with the document.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<serde_json::Value>,
}

/// Answer of `POST /api/documents`: 201 `{id, status: "queued", jobId}` for a new document,
/// 200 `{id, status, deduplicated: true}` when one with the same URL or content exists.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DocumentCreated {
    pub id: String,
    /// `queued` for a new document; the existing document's status otherwise.
    pub status: String,
    /// The `document_ingest` job that will process it (new documents only).
    #[serde(rename = "jobId", default, skip_serializing_if = "Option::is_none")]
    pub job_id: Option<String>,
    /// `true` when the answer names an existing document.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deduplicated: Option<bool>,
    #[serde(flatten)]
    #[schema(ignore)]
    pub extra: Extra,
}

/// A document row, columns as stored (upstream's snake_case keys).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DocumentRow {
    pub id: String,
    pub source_url: Option<String>,
    /// `text`, `url` or `file`.
    pub source_type: String,
    pub content_type: Option<String>,
    pub content_hash: Option<String>,
    pub title: Option<String>,
    /// The text as sent (`text` documents); `None` for URLs and files, whose text the
    /// chunks hold.
    pub raw_content: Option<String>,
    /// `queued`, `done`, `failed` or `deleted`.
    pub status: String,
    /// The last failed attempt's error.
    pub error: Option<String>,
    pub connector_id: Option<String>,
    /// Chunks cut from the content.
    pub chunk_count: i64,
    /// Chunk memories written (a chunk whose content was already stored is not written).
    pub memory_count: i64,
    /// The metadata sent, as JSON text.
    pub metadata_json: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub completed_at: Option<String>,
    #[serde(flatten)]
    #[schema(ignore)]
    pub extra: Extra,
}

/// Answer of `GET /api/documents`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DocumentList {
    /// Newest first.
    pub documents: Vec<DocumentRow>,
    /// Documents matching the status filter in all.
    pub total: i64,
    pub limit: usize,
    pub offset: usize,
    #[serde(flatten)]
    #[schema(ignore)]
    pub extra: Extra,
}

/// One live chunk memory of a document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DocumentChunkItem {
    /// The memory's id.
    pub id: String,
    pub content: String,
    /// `document_chunk`.
    #[serde(rename = "type")]
    pub memory_type: String,
    pub created_at: String,
    /// 0-based position in the document.
    pub chunk_index: i64,
    #[serde(flatten)]
    #[schema(ignore)]
    pub extra: Extra,
}

/// Answer of `GET /api/documents/{id}/chunks`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DocumentChunks {
    /// By chunk index; deleted memories are left out.
    pub chunks: Vec<DocumentChunkItem>,
    pub count: usize,
    #[serde(flatten)]
    #[schema(ignore)]
    pub extra: Extra,
}

/// Answer of `DELETE /api/documents/{id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DocumentDeleted {
    pub deleted: bool,
    /// Chunk memories soft-deleted now.
    #[serde(rename = "memoriesRemoved")]
    pub memories_removed: usize,
    #[serde(flatten)]
    #[schema(ignore)]
    pub extra: Extra,
}

/// Query of `GET /api/documents`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[serde(from = "QueryMap")]
#[into_params(parameter_in = Query)]
pub struct DocumentListQuery {
    /// Only documents with this status (`queued`, `done`, `failed`, `deleted`).
    pub status: Option<String>,
    /// Most documents to return: 1 to 500, default 50.
    pub limit: Option<String>,
    /// Documents to skip: a non-negative integer, default 0.
    pub offset: Option<String>,
}

impl From<QueryMap> for DocumentListQuery {
    fn from(mut m: QueryMap) -> Self {
        Self {
            status: m.remove("status"),
            limit: m.remove("limit"),
            offset: m.remove("offset"),
        }
    }
}

/// Query of `DELETE /api/documents/{id}`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[serde(from = "QueryMap")]
#[into_params(parameter_in = Query)]
pub struct DocumentDeleteQuery {
    /// Why (required): kept in each chunk's history as `Document deleted: <reason>`.
    pub reason: Option<String>,
}

impl From<QueryMap> for DocumentDeleteQuery {
    fn from(mut m: QueryMap) -> Self {
        Self {
            reason: m.remove("reason"),
        }
    }
}
