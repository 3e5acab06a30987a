//! The store's error type: a small set of meaningful variants, not a mirror of rusqlite.

/// Errors the store reports to its callers.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The row asked for does not exist.
    #[error("not found")]
    NotFound,
    /// A uniqueness rule was violated (content hash, idempotency key, ...).
    #[error("conflict: {0}")]
    Conflict(String),
    /// The caller passed something the store cannot use (bad FTS query, bad argument).
    #[error("invalid: {0}")]
    Invalid(String),
    /// The database schema is not one this build can open or migrate.
    #[error("schema: {0}")]
    Schema(String),
    /// The database is busy past the busy timeout.
    #[error("database busy")]
    Busy,
    /// Any other SQLite failure; the message is for logs, never for HTTP bodies.
    #[error("sqlite: {0}")]
    Sqlite(String),
    /// File-system failures around the database (directories, backups).
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
}

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
                _ => StoreError::Sqlite(e.to_string()),
            },
            _ => StoreError::Sqlite(e.to_string()),
        }
    }
}

/// Result alias used across the store.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;
