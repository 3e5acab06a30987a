//! Runs store calls on tokio's blocking pool so SQLite never blocks the async runtime.

use crate::error::{CoreError, Result};

/// Runs `f` on a blocking thread and returns its result.
pub async fn run<T, F>(f: F) -> Result<T>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T> + Send + 'static,
{
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| CoreError::Internal(format!("blocking task failed: {e}")))?
}
