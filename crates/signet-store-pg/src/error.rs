//! PostgreSQL's errors as the model's [`StoreError`], mapped explicitly (signet-model has no
//! `From<postgres::Error>`; see its crate documentation). Messages are for logs: the server's
//! error text and SQLSTATE, never a password (the client never puts one in an error).

use postgres::error::SqlState;
use signet_model::StoreError;

/// Maps one client error onto the model's small set of variants.
pub(crate) fn map(e: postgres::Error) -> StoreError {
    let Some(db) = e.as_db_error() else {
        // No server answer: the connection failed or was lost. The client's text ("error
        // connecting to server") says nothing of why; the cause (refused, timed out, a TLS or
        // authentication failure) is its source.
        let mut text = format!("postgres: {e}");
        let mut cause = std::error::Error::source(&e);
        while let Some(c) = cause {
            text.push_str(&format!(": {c}"));
            cause = c.source();
        }
        return StoreError::Backend(text);
    };
    let code = db.code();
    let text = format!("postgres {}: {}", code.code(), db.message());
    if *code == SqlState::CHARACTER_NOT_IN_REPERTOIRE || *code == SqlState::UNTRANSLATABLE_CHARACTER
    {
        // PostgreSQL text cannot hold a NUL character (SQLite's can): the caller's input.
        StoreError::Invalid(format!(
            "text PostgreSQL cannot store (a NUL character?): {}",
            db.message()
        ))
    } else if *code == SqlState::UNIQUE_VIOLATION || *code == SqlState::EXCLUSION_VIOLATION {
        StoreError::Conflict(text)
    } else if *code == SqlState::T_R_SERIALIZATION_FAILURE
        || *code == SqlState::T_R_DEADLOCK_DETECTED
        || *code == SqlState::LOCK_NOT_AVAILABLE
        || *code == SqlState::QUERY_CANCELED
        || *code == SqlState::TOO_MANY_CONNECTIONS
    {
        StoreError::Busy
    } else {
        StoreError::Backend(text)
    }
}

/// `?` on client results inside this crate.
pub(crate) trait PgResultExt<T> {
    fn pg(self) -> Result<T, StoreError>;
}

impl<T> PgResultExt<T> for Result<T, postgres::Error> {
    fn pg(self) -> Result<T, StoreError> {
        self.map_err(map)
    }
}
