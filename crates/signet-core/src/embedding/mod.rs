//! Embedding providers: turn text into vectors for semantic recall.
//!
//! [`Embedder`] is the interface every provider implements: `native` (in-process
//! all-MiniLM-L6-v2 via candle), `ollama`, `openai` (any OpenAI-compatible `/v1/embeddings`),
//! and none (keyword-only recall). Providers are called from the embedding worker and from
//! recall (for the query vector), never from the write path's critical section: a slow or dead
//! provider never slows or fails a remember.

pub mod models;
pub mod native;
pub mod remote;

use std::future::Future;
use std::pin::Pin;

/// A boxed future, so providers can be used as trait objects.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Why a provider could not embed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum EmbedError {
    /// The provider cannot be reached or answered with a server error (retry later).
    #[error("embedding provider unavailable: {0}")]
    Unavailable(String),
    /// The provider answered something unusable (wrong dimensions, bad JSON).
    #[error("embedding provider answered badly: {0}")]
    BadResponse(String),
    /// Local model files are missing or corrupt.
    #[error("embedding model: {0}")]
    Model(String),
}

impl EmbedError {
    /// Whether the failure was the provider taking too long.
    pub fn is_timeout(&self) -> bool {
        let msg = self.to_string().to_lowercase();
        msg.contains("timeout") || msg.contains("timed out") || msg.contains("took over")
    }
}

/// A source of text embeddings.
pub trait Embedder: Send + Sync + 'static {
    /// Provider name (`native`, `ollama`, `openai`).
    fn provider(&self) -> &str;
    /// Model name recorded with every vector.
    fn model(&self) -> &str;
    /// Length of every vector this provider returns.
    fn dimensions(&self) -> usize;
    /// Embeds `texts` (one vector per text, in order). L2-normalised vectors are expected.
    fn embed<'a>(&'a self, texts: &'a [String])
    -> BoxFuture<'a, Result<Vec<Vec<f32>>, EmbedError>>;
}
