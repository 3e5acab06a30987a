//! The core's error type: what went wrong in terms a caller can act on.

use signet_model::StoreError;

/// Errors of the domain services, in domain terms; the server maps each variant to one
/// transport status, in one place (`signet_server::error`).
#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    /// The request is malformed or a value is out of range.
    #[error("{0}")]
    Invalid(String),
    /// Like `Invalid`, with extra fields merged into the error body.
    #[error("{0}")]
    InvalidWith(String, serde_json::Value),
    /// The thing asked for does not exist; the message is the client-facing text.
    #[error("{0}")]
    NotFound(String),
    /// The caller's token scope excludes the memory or value asked for.
    #[error("{0}")]
    Forbidden(String),
    /// The change collides with the stored state: a version guard, a uniqueness rule.
    #[error("{0}")]
    Conflict(String),
    /// `memory.pipelineV2.mutationsFrozen` is set: not available now.
    #[error("Mutations are frozen (kill switch active)")]
    Frozen,
    /// The store is busy past its timeout: not available now.
    #[error("database busy, retry")]
    Busy,
    /// Anything else; details go to the log, never to the client.
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<StoreError> for CoreError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => CoreError::NotFound("not found".into()),
            StoreError::Invalid(m) => CoreError::Invalid(m),
            StoreError::Busy => CoreError::Busy,
            StoreError::Conflict(detail) => {
                tracing::debug!(target: "store", %detail, "conflict");
                CoreError::Conflict(
                    "conflict: the change collides with stored data (a duplicate or a \
                     concurrent edit); re-read and retry"
                        .into(),
                )
            }
            other => CoreError::Internal(other.to_string()),
        }
    }
}

/// Result alias of the core.
pub type Result<T, E = CoreError> = std::result::Result<T, E>;
