//! The store's error type: a small set of meaningful variants, not a mirror of any backend's
//! errors. Every backend reports these; signet-core turns them into its own errors.

/// Errors a store reports to its callers.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The row asked for does not exist.
    #[error("not found")]
    NotFound,
    /// A uniqueness rule was violated (content hash, idempotency key, ...).
    #[error("conflict: {0}")]
    Conflict(String),
    /// The caller passed something the store cannot use (bad keyword query, bad argument).
    #[error("invalid: {0}")]
    Invalid(String),
    /// The database schema is not one this build can open or migrate.
    #[error("schema: {0}")]
    Schema(String),
    /// The database is busy past the busy timeout.
    #[error("database busy")]
    Busy,
    /// Any other failure of the database (SQLite, PostgreSQL); the message is for logs, never
    /// for HTTP bodies.
    #[error("database: {0}")]
    Backend(String),
    /// File-system failures around the database (directories, backups).
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
}

/// SQLite's errors, for signet-store's `?` (feature `sqlite`; see the crate documentation).
#[cfg(feature = "sqlite")]
impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        use rusqlite::ffi::ErrorCode;
        match &e {
            rusqlite::Error::QueryReturnedNoRows => StoreError::NotFound,
            rusqlite::Error::SqliteFailure(f, msg) => match f.code {
                ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => StoreError::Busy,
                ErrorCode::ConstraintViolation => {
                    StoreError::Conflict(msg.clone().unwrap_or_else(|| e.to_string()))
                }
                _ => StoreError::Backend(e.to_string()),
            },
            _ => StoreError::Backend(e.to_string()),
        }
    }
}

/// Result alias used by the store traits and their backends.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;
