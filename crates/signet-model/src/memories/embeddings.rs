//! Vectors: one per memory, keyed by the memory's content hash, as little-endian f32 blobs
//! (upstream's format); a memory records which model made its current vector.

/// A live memory that needs a (new) vector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmbeddingJob {
    pub memory_id: String,
    pub content: String,
    pub content_hash: String,
}

/// A stored vector of a live memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredVector {
    pub memory_id: String,
    pub blob: Vec<u8>,
}

/// Counts describing vector coverage.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EmbeddingStats {
    /// Live memories.
    pub live: i64,
    /// Live memories whose vector is current (this model, this content, these dimensions).
    pub current: i64,
    /// Live memories with a vector from another model or of other dimensions.
    pub stale_model: i64,
    /// Live memories with no vector for their current content.
    pub missing: i64,
    /// Vectors whose memory is gone or deleted.
    pub orphans: i64,
    /// Distinct `embeddings.dimensions` values.
    pub dimensions: Vec<i64>,
}

/// One row of the vector listing: a stored vector of a live memory with the memory's fields.
/// Serialises with the listing's camelCase keys (what the conformance suite checks).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EmbeddingRow {
    /// The vector's id (`embeddings.id`).
    pub id: String,
    pub memory_id: String,
    /// The memory's content now.
    pub content: String,
    /// The text that was embedded.
    pub text: String,
    /// The memory's author, `"unknown"` when it has none.
    pub who: String,
    /// The memory's importance, 0.5 when it has none.
    pub importance: f64,
    #[serde(rename = "type")]
    pub memory_type: Option<String>,
    /// The memory's tags, split on commas, trimmed, empty ones dropped.
    pub tags: Vec<String>,
    pub source_type: Option<String>,
    pub source_id: Option<String>,
    /// When the vector was stored.
    pub created_at: String,
    /// The floats, when the listing was asked for them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vector: Option<Vec<f32>>,
}
