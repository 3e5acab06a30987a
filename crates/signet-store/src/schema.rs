//! Schema migrations (owned by the schema work; placeholder signature).

use std::path::Path;

use rusqlite::Connection;

use crate::error::Result;

/// What `migrate` did, for logs and `/api/status`.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct MigrationReport {
    /// Schema version found when the database was opened (0 for a new file).
    pub from_version: i64,
    /// Schema version after migrating.
    pub to_version: i64,
    /// Versions applied during this open.
    pub applied: Vec<i64>,
    /// Path of the backup written before migrating, if any.
    pub backup: Option<std::path::PathBuf>,
}

/// Brings the database at `db_path` (open as `conn`, the writer) to the latest schema.
pub fn migrate(conn: &mut Connection, db_path: &Path) -> Result<MigrationReport> {
    let _ = (conn, db_path);
    Ok(MigrationReport::default())
}
