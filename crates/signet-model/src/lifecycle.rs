//! Running a backend, apart from its data: the schema migration done when it was opened, an
//! integrity check, background housekeeping and the flush at shutdown.

use std::path::PathBuf;

use crate::error::Result;

/// What opening the database did to its schema, for logs and `/api/status`.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct MigrationReport {
    /// Schema version found when the database was opened (0 for a new database).
    pub from_version: i64,
    /// Schema version after migrating.
    pub to_version: i64,
    /// Versions applied during this open.
    pub applied: Vec<i64>,
    /// Path of the backup written before migrating, if any.
    pub backup: Option<PathBuf>,
    /// The "bogus version" repair ran: versions were recorded but `memories.content_hash` was
    /// missing (an old upstream CLI bug), so every migration was run again.
    pub bogus_version_repaired: bool,
    /// Recorded versions whose declared tables or columns were missing, so they ran again.
    pub phantom_versions: Vec<i64>,
    /// The keyword index or one of its triggers was missing and has been recreated and rebuilt.
    pub fts_rebuilt: bool,
}

/// The answer of an integrity check.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct IntegrityReport {
    /// True when the check found nothing wrong.
    pub ok: bool,
    /// What the check found, one line per problem (empty when `ok`), as the backend words it.
    pub problems: Vec<String>,
}

/// What running a backend needs besides the data traits: what opening it did, an integrity
/// check, its background housekeeping and the flush at shutdown. The daemon drives these (a
/// worker calls [`Lifecycle::housekeep`] periodically); a backend whose server does its own
/// housekeeping (PostgreSQL) makes `housekeep` and `checkpoint` no-ops.
pub trait Lifecycle: Send + Sync + 'static {
    /// What the schema migration did when this store was opened (opening migrates; a backend
    /// that found its schema current reports `from_version == to_version` and nothing applied).
    fn migration(&self) -> &MigrationReport;
    /// Checks the stored data for corruption and reports what it found (SQLite: `PRAGMA
    /// quick_check`, O(database size)). An error means the check itself could not run.
    fn integrity(&self) -> Result<IntegrityReport>;
    /// One round of background housekeeping: for SQLite a passive WAL checkpoint, truncating
    /// the log once it is larger than `truncate_above` bytes. Never blocks writers for long.
    /// Returns how much was pending (SQLite: WAL frames), 0 for a backend with nothing to do.
    fn housekeep(&self, truncate_above: u64) -> Result<i64>;
    /// A count that moves whenever this process changes rows in the store (SQLite: rows the
    /// writer connection changed, committed or not, triggers' included), when the backend
    /// keeps one: a background task tells a store nothing wrote to from it alone, without a
    /// system call or a query. `None`: not counted.
    fn writes(&self) -> Option<u64> {
        None
    }
    /// Flushes what the database has buffered to its files (shutdown). Nothing written before
    /// it is lost when the process exits right after.
    fn checkpoint(&self) -> Result<()>;
}
