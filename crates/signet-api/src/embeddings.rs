//! The semantic side: similar memories (`GET /memory/similar`), the vector listing
//! (`GET /api/embeddings`), provider status and health (`/api/embeddings/status`,
//! `/api/embeddings/health`), the dashboard's 2-D projection (`/api/embeddings/projection`),
//! the query strings of those routes, and the mutation signals of
//! `/api/analytics/memory-safety`.
//!
//! Fields are declared in the order the daemon has always sent them (alphabetical, as a JSON
//! map without insertion order writes them), so a struct encodes to the same bytes. Floats
//! that the daemon computes in `f32` (vectors, projection coordinates) are carried as `f64`
//! widened from the `f32`, which is how they have always been written.

use serde::{Deserialize, Serialize};

use crate::{Extra, QueryMap};

/// Query of `GET /memory/similar`. Like the memory routes' queries (`crate::query`), every
/// field is a raw string read from the query map (unknown keys ignored, a repeated key's last
/// value kept), so a bad value is the daemon's 400 naming the key, never the HTTP layer's.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[serde(from = "QueryMap")]
#[into_params(parameter_in = Query)]
pub struct SimilarQuery {
    /// The memory whose neighbours are wanted (required).
    pub id: Option<String>,
    /// How many neighbours (default 10, at most 100).
    pub k: Option<String>,
    /// Only neighbours of this memory type.
    #[serde(rename = "type")]
    pub type_: Option<String>,
}

impl From<QueryMap> for SimilarQuery {
    fn from(mut m: QueryMap) -> Self {
        Self {
            id: m.remove("id"),
            k: m.remove("k"),
            type_: m.remove("type"),
        }
    }
}

/// Answer of `GET /memory/similar`: the nearest live memories, best first.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SimilarResponse {
    pub results: Vec<SimilarMemory>,
    #[serde(flatten)]
    #[schema(ignore)]
    pub extra: Extra,
}

/// One neighbour.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SimilarMemory {
    pub content: String,
    pub created_at: String,
    pub id: String,
    /// Cosine similarity, two decimals.
    pub score: f64,
    pub tags: Vec<String>,
    #[serde(rename = "type")]
    pub type_: String,
    #[serde(flatten)]
    #[schema(ignore)]
    pub extra: Extra,
}

/// Query of `GET /api/embeddings` (raw strings, validated by the daemon).
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[serde(from = "QueryMap")]
#[into_params(parameter_in = Query)]
pub struct EmbeddingsQuery {
    /// Rows per page (default 600, at most 5000).
    pub limit: Option<String>,
    /// Rows to skip (a non-negative integer, default 0).
    pub offset: Option<String>,
    /// `true` or `1` to include each vector's floats.
    pub vectors: Option<String>,
}

impl From<QueryMap> for EmbeddingsQuery {
    fn from(mut m: QueryMap) -> Self {
        Self {
            limit: m.remove("limit"),
            offset: m.remove("offset"),
            vectors: m.remove("vectors"),
        }
    }
}

/// Answer of `GET /api/embeddings`: one page of the vectors of live memories, newest first.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EmbeddingList {
    /// Rows on this page.
    pub count: usize,
    pub embeddings: Vec<EmbeddingItem>,
    /// More rows follow this page.
    pub has_more: bool,
    pub limit: usize,
    pub offset: usize,
    /// Vectors of live memories in all.
    pub total: i64,
    #[serde(flatten)]
    #[schema(ignore)]
    pub extra: Extra,
}

/// One stored vector with its memory's fields.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EmbeddingItem {
    /// The memory's content now.
    pub content: String,
    pub created_at: String,
    /// The vector's id.
    pub id: String,
    pub importance: f64,
    pub memory_id: String,
    pub source_id: Option<String>,
    pub source_type: Option<String>,
    pub tags: Vec<String>,
    /// The text that was embedded.
    pub text: String,
    #[serde(rename = "type")]
    pub type_: Option<String>,
    /// The floats, when the query asked for them (`vectors=true`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vector: Option<Vec<f64>>,
    pub who: String,
    #[serde(flatten)]
    #[schema(ignore)]
    pub extra: Extra,
}

/// The provider and index status: the `embedding` section of `/api/status`, and with
/// `coverage` the answer of `GET /api/embeddings/status`.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EmbeddingStatus {
    /// The provider answers and a model is loaded.
    pub available: bool,
    /// Vector coverage of live memories (only in `/api/embeddings/status`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coverage: Option<EmbeddingCoverage>,
    pub dimensions: usize,
    /// Memories embedded since start.
    pub embedded: u64,
    /// The provider's last error.
    pub error: Option<String>,
    /// Provider failures since start.
    pub failed: u64,
    /// The in-memory vector index: loading or ready, and how it searches.
    #[serde(default)]
    pub index: VectorIndexStatus,
    /// Vectors in the in-memory index.
    pub indexed: usize,
    /// Why recall is keyword-only (no provider, model not installed), if it is.
    pub keyword_only_reason: Option<String>,
    pub last_error_at: Option<String>,
    pub last_success_at: Option<String>,
    /// A native model is loading in the background.
    pub loading: bool,
    pub model: String,
    pub provider: String,
    pub reembed: ReembedProgress,
    #[serde(flatten)]
    #[schema(ignore)]
    pub extra: Extra,
}

/// The in-memory vector index behind semantic recall.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VectorIndexStatus {
    /// The merged vectors are searched through the HNSW graph (else by exact scan).
    pub approximate: bool,
    /// Heap bytes held by the index.
    pub memory_bytes: usize,
    /// A background merge (or graph build) is running.
    pub merging: bool,
    /// Vectors added or replaced since the last merge, searched by exact scan until merged.
    pub pending: usize,
    /// `loading` while start-up reads the stored vectors (recall is keyword-only and says so
    /// in `warnings`), then `ready`.
    pub state: String,
    /// `pgvector` when the database searches the vectors: this process then holds none
    /// (`vectors` and `memoryBytes` are 0). Absent for the in-process index.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub served_by: Option<String>,
    /// Vectors searchable now.
    pub vectors: usize,
}

/// Vector coverage of live memories for the configured model and dimensions.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EmbeddingCoverage {
    /// Live memories whose vector is current (this model, this content, these dimensions).
    pub current: i64,
    /// Distinct stored vector dimensions.
    pub dimensions: Vec<i64>,
    /// Live memories.
    pub live: i64,
    /// Live memories with no vector for their current content.
    pub missing: i64,
    /// Vectors whose memory is gone or deleted.
    pub orphans: i64,
    /// Live memories with a vector from another model or of other dimensions.
    pub stale_model: i64,
    #[serde(flatten)]
    #[schema(ignore)]
    pub extra: Extra,
}

/// Progress of a background re-embed (`POST /api/repair/re-embed`, `signet reembed`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReembedProgress {
    /// Memories re-embedded so far.
    pub done: u64,
    pub finished_at: Option<String>,
    pub running: bool,
    pub started_at: Option<String>,
    /// Memories the run set out to re-embed.
    pub total: u64,
    #[serde(flatten)]
    #[schema(ignore)]
    pub extra: Extra,
}

/// Answer of `GET /api/embeddings/health`: weighted checks, upstream's shape.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EmbeddingHealth {
    pub checked_at: String,
    pub checks: Vec<HealthCheck>,
    pub config: EmbeddingConfig,
    /// The weighted score of the checks, three decimals.
    pub score: f64,
    /// `healthy`, `degraded` or `unhealthy`.
    pub status: String,
    #[serde(flatten)]
    #[schema(ignore)]
    pub extra: Extra,
}

/// One check of the embedding health.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct HealthCheck {
    /// What to do about a check that did not pass.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
    pub message: String,
    /// `provider-available`, `coverage`, `dimension-mismatch`, `model-drift`,
    /// `orphaned-embeddings`.
    pub name: String,
    pub status: CheckStatus,
    #[serde(flatten)]
    #[schema(ignore)]
    pub extra: Extra,
}

/// The verdict of one health check (scored 1, 0.5 and 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum CheckStatus {
    Ok,
    Warn,
    Fail,
}

/// The configured provider as the health report names it.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct EmbeddingConfig {
    pub dimensions: usize,
    pub model: String,
    pub provider: String,
    #[serde(flatten)]
    #[schema(ignore)]
    pub extra: Extra,
}

/// Query of `GET /api/embeddings/projection` (raw strings, validated by the daemon).
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[serde(from = "QueryMap")]
#[into_params(parameter_in = Query)]
pub struct ProjectionQuery {
    /// Must be 2 (the default).
    pub dimensions: Option<String>,
    /// Points at most (default 2000, at most 10000).
    pub limit: Option<String>,
}

impl From<QueryMap> for ProjectionQuery {
    fn from(mut m: QueryMap) -> Self {
        Self {
            dimensions: m.remove("dimensions"),
            limit: m.remove("limit"),
        }
    }
}

/// Answer of `GET /api/embeddings/projection`: a 2-D PCA layout of the indexed vectors.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Projection {
    /// When the layout was computed (it is cached until the index changes).
    pub cached_at: String,
    /// Points in the layout.
    pub count: usize,
    /// Always 2.
    pub dimensions: usize,
    /// Upstream's neighbour edges; this daemon sends none (free-form, always empty).
    #[schema(value_type = Vec<Object>)]
    pub edges: Vec<serde_json::Value>,
    pub nodes: Vec<ProjectionNode>,
    /// `ready`.
    pub status: String,
    /// Vectors in the index.
    pub total: usize,
    #[serde(flatten)]
    #[schema(ignore)]
    pub extra: Extra,
}

/// One memory's point in the projection, with the memory's fields the map colours, sizes and
/// labels points by (names as upstream's embedding rows; as of `cachedAt`). Keys in
/// alphabetical order, like the other answers of this file.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ProjectionNode {
    /// The content's first 200 characters.
    #[serde(default)]
    pub content: String,
    pub id: String,
    #[serde(default)]
    pub importance: f64,
    #[serde(default)]
    pub project: Option<String>,
    #[serde(rename = "type", default)]
    pub type_: String,
    /// The memory's author, `"unknown"` when it has none.
    #[serde(default)]
    pub who: String,
    pub x: f64,
    pub y: f64,
    #[serde(flatten)]
    #[schema(ignore)]
    pub extra: Extra,
}

/// Deletes and recovers over the last days (`mutation` of `/api/analytics/memory-safety`).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MutationSignals {
    pub recent_deletes: i64,
    pub recent_recovers: i64,
    /// Days of history looked at.
    pub window_days: i64,
    #[serde(flatten)]
    #[schema(ignore)]
    pub extra: Extra,
}
