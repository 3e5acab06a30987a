//! The schema: numbered SQL migrations embedded in the binary, recorded in
//! `schema_migrations`, each applied in its own transaction under a transaction-scoped
//! advisory lock, so two daemons starting together on an empty database do not both migrate:
//! the second waits for the first's transaction, then finds the version recorded and skips it.
//! A released migration is never edited; a change is a new number.

use postgres::Client;
use signet_model::{MigrationReport, Result, StoreError};

use crate::error::PgResultExt;

/// The advisory lock every migration holds (`pg_advisory_xact_lock`): one constant for all
/// Signet schemas of a database ("SIGNET" in ASCII), released by the transaction's end.
pub const MIGRATION_LOCK: i64 = 0x5349_474E_4554;

/// The migrations, in order: `(version, name, sql)`.
pub const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "core", include_str!("../migrations/0001_core.sql")),
    (2, "nodes", include_str!("../migrations/0002_nodes.sql")),
    (3, "changes", include_str!("../migrations/0003_changes.sql")),
    (
        4,
        "pgvector",
        include_str!("../migrations/0004_pgvector.sql"),
    ),
];

/// The newest schema version this build knows.
pub fn latest() -> i64 {
    MIGRATIONS.last().map_or(0, |m| m.0)
}

/// Brings the schema of the connection's `search_path` to [`latest`]; reports what it did. A
/// database whose recorded version is newer than this build's is refused (`Schema`).
pub fn migrate(client: &mut Client) -> Result<MigrationReport> {
    let from_version = recorded(client)?;
    if from_version > latest() {
        return Err(StoreError::Schema(format!(
            "the database is at schema version {from_version}, newer than this build's {}; \
             upgrade signet",
            latest()
        )));
    }
    let mut applied = Vec::new();
    for (version, name, sql) in MIGRATIONS {
        if apply(client, *version, name, sql)? {
            applied.push(*version);
        }
    }
    Ok(MigrationReport {
        from_version,
        to_version: recorded(client)?,
        applied,
        ..MigrationReport::default()
    })
}

/// Applies one migration unless it is recorded; true when this call applied it.
fn apply(client: &mut Client, version: i64, name: &str, sql: &str) -> Result<bool> {
    let mut tx = client.transaction().pg()?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .pg()?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ( \
           version bigint PRIMARY KEY, \
           name text NOT NULL, \
           applied_at timestamptz NOT NULL DEFAULT now())",
    )
    .pg()?;
    let done = tx
        .query_opt(
            "SELECT 1 FROM schema_migrations WHERE version = $1",
            &[&version],
        )
        .pg()?
        .is_some();
    if done {
        tx.commit().pg()?;
        return Ok(false);
    }
    tx.batch_execute(sql)
        .map_err(|e| StoreError::Schema(format!("migration {version} ({name}): {e}")))?;
    tx.execute(
        "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
        &[&version, &name],
    )
    .pg()?;
    tx.commit().pg()?;
    tracing::info!(version, name, "applied PostgreSQL migration");
    Ok(true)
}

/// The highest recorded version (0 when the schema is empty).
pub(crate) fn recorded(client: &mut Client) -> Result<i64> {
    let exists: bool = client
        .query_one("SELECT to_regclass('schema_migrations') IS NOT NULL", &[])
        .pg()?
        .get(0);
    if !exists {
        return Ok(0);
    }
    let row = client
        .query_one(
            "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
            &[],
        )
        .pg()?;
    Ok(row.get(0))
}
