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
