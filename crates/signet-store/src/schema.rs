//! Schema migrations: brings `memories.db` to the schema this build expects.
//!
//! Owns the version bookkeeping (`schema_migrations`, `schema_migrations_audit`), the numbered
//! migrations embedded from `migrations/*.sql`, the pre-migration backup, the upstream repairs
//! ("bogus version", "phantom migration") and the start-up self-heal of the full-text index.
//!
//! The schema is upstream Signet's v30 schema (TypeScript daemon 0.58.1), byte for byte in
//! `sqlite_master`, plus what our own migrations add (1001: the nullable column
//! `memories.scope_user` and its partial index; 1002: the LLM call ledger `llm_calls` and its
//! index; 1003: `memories_au` fires only when `content` changes; 1004: the trigram index
//! `memories_cjk` of Chinese, Japanese and Korean memories, its term list and triggers; 1005:
//! a remember's actor on its row instead of a `created` history row, and the CJK triggers
//! skip plain-ASCII text; 1006: `idx_memories_created` ascending, appended at its right edge
//! instead of split half-empty at its left). That keeps the file interchangeable in both directions: a database written by
//! upstream 0.58.1 opens here after a backup and exactly our own migrations (1001-1006), with
//! every upstream row untouched, and a database created here is one upstream opens as already
//! migrated (it ignores the extra column, table and versions). Versions 1..=30 therefore carry
//! upstream's names and checksums. Each is written as an idempotent convergence step rather than a
//! replay of upstream's history: tables are created with their *final* v30 text, columns that
//! upstream added later are added with `ALTER TABLE … ADD COLUMN` when missing (SQLite then
//! rewrites the stored text exactly as it did for upstream), and the few data fix-ups (v3, v8,
//! v27, v30) run as upstream describes. A fresh file runs all thirty in order.
//!
//! Versions from 1001 on are this project's own ([`OWN_FIRST_VERSION`]): a range of their own,
//! because upstream keeps numbering 31, 32, … and skips any version it finds recorded — sharing
//! numbers would make either daemon skip the other's migration. Gaps are fine on both sides
//! (a migration runs when its version is not recorded). One SQL file each, applied as is. To
//! add one, write `migrations/NNNN_<name>.sql` and add the line
//! `own(NNNN, "<name>", &[sql!("NNNN_<name>")]),` at the end of the `MIGRATIONS` table,
//! declaring the columns it adds in `artifact_columns` (as 1001 does) and the tables it creates in
//! `tables` (as 1002 does) so that a recorded version whose artifact is missing runs again. Released files are never edited.
//!
//! Every version runs in its own `BEGIN IMMEDIATE` transaction together with its
//! `schema_migrations` and audit rows, so a failure leaves no trace of that version.
//! `PRAGMA foreign_keys` is switched off on the writer, as upstream leaves it (the bundled
//! SQLite defaults it to on). The sqlite-vec table `vec_embeddings` (a `vec0` virtual table
//! upstream creates) is never created, dropped or queried here: its module is not loaded in
//! this build.
//!
//! Called once, on the writer connection, from [`crate::Pool::open`]; it blocks.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use rusqlite::{Connection, OptionalExtension, TransactionBehavior};

use crate::error::{Result, StoreError};

/// What `migrate` did (the backend-neutral report of [`signet_model::Lifecycle::migration`]).
pub use signet_model::MigrationReport;

/// The newest schema version this build knows.
pub const LATEST_VERSION: i64 = MIGRATIONS[MIGRATIONS.len() - 1].version;

/// The last version defined by upstream Signet; versions above it are this project's own.
pub const UPSTREAM_VERSION: i64 = 30;

/// How many `<db>.bak-v*` files are kept next to the database.
const BACKUPS_KEPT: usize = 5;

const META: &str = include_str!("../migrations/meta.sql");
const MEMORIES_FTS: &str = include_str!("../migrations/memories_fts.sql");
const MEMORY_JOBS_REBUILD: &str = include_str!("../migrations/memory_jobs_rebuild.sql");
const FTS_OBJECTS: [&str; 4] = ["memories_fts", "memories_ai", "memories_ad", "memories_au"];

/// A guarded column addition: `(table, column, definition)`. The definition text is upstream's,
/// because SQLite splices it verbatim into the table's stored `CREATE TABLE` text.
type AddColumn = (&'static str, &'static str, &'static str);

/// Work that SQL alone cannot express; runs after the column additions, before the SQL.
type Hook = fn(&Connection) -> Result<()>;

/// One numbered migration.
#[derive(Clone, Copy)]
struct Migration {
    version: i64,
    /// Upstream's name for 1..=30; the checksum is derived from `"<version>:<name>"`.
    name: &'static str,
    /// Columns added when missing, in order, before anything else.
    columns: &'static [AddColumn],
    hook: Option<Hook>,
    /// SQL batches, run in order.
    sql: &'static [&'static str],
    /// Declared artifacts: drive the phantom detection and the post-run verification.
    tables: &'static [&'static str],
    artifact_columns: &'static [(&'static str, &'static str)],
}

const BASE: Migration = Migration {
    version: 0,
    name: "",
    columns: &[],
    hook: None,
    sql: &[],
    tables: &[],
    artifact_columns: &[],
};

/// The first version number of this project's own migrations.
pub const OWN_FIRST_VERSION: i64 = 1001;

/// One of this project's own migrations (1001+): a single SQL file.
const fn own(version: i64, name: &'static str, sql: &'static [&'static str]) -> Migration {
    Migration {
        version,
        name,
        sql,
        ..BASE
    }
}

macro_rules! sql {
    ($file:literal) => {
        include_str!(concat!("../migrations/", $file, ".sql"))
    };
}

/// Every migration, in order. Versions are contiguous (checked by a unit test). Laid out by
/// hand as a table: one entry per version, columns before artifacts.
#[rustfmt::skip]
const MIGRATIONS: &[Migration] = &[
    Migration { version: 1, name: "baseline", sql: &[sql!("0001_baseline"), MEMORIES_FTS],
        tables: &["memories", "conversations", "embeddings"], ..BASE },
    Migration { version: 2, name: "pipeline-v2", columns: V2_COLUMNS,
        sql: &[sql!("0002_pipeline-v2")],
        tables: &["memory_history", "memory_jobs", "entities", "relations",
                  "memory_entity_mentions"], ..BASE },
    Migration { version: 3, name: "unique-content-hash",
        columns: &[("memories", "why", "TEXT"), ("memories", "project", "TEXT")],
        sql: &[sql!("0003_unique-content-hash")], ..BASE },
    Migration { version: 4, name: "history-actor-and-retention", columns: V4_COLUMNS,
        sql: &[sql!("0004_history-actor-and-retention")],
        artifact_columns: &[("memory_history", "actor_type")], ..BASE },
    Migration { version: 5, name: "graph-extended", columns: V5_COLUMNS,
        sql: &[sql!("0005_graph-extended")],
        artifact_columns: &[("entities", "canonical_name")], ..BASE },
    Migration { version: 6, name: "idempotency-key",
        columns: &[("memories", "idempotency_key", "TEXT"), ("memories", "runtime_path", "TEXT")],
        sql: &[sql!("0006_idempotency-key")],
        artifact_columns: &[("memories", "idempotency_key")], ..BASE },
    Migration { version: 7, name: "documents-and-connectors",
        columns: &[("memory_jobs", "document_id", "TEXT")],
        sql: &[sql!("0007_documents-and-connectors")],
        tables: &["documents", "document_memories", "connectors"], ..BASE },
    Migration { version: 8, name: "embeddings-unique-hash",
        sql: &[sql!("0008_embeddings-unique-hash")], ..BASE },
    Migration { version: 9, name: "summary-jobs", sql: &[sql!("0009_summary-jobs")],
        tables: &["summary_jobs"], ..BASE },
    Migration { version: 10, name: "umap-cache", sql: &[sql!("0010_umap-cache")],
        tables: &["umap_cache"], ..BASE },
    Migration { version: 11, name: "session-scores", sql: &[sql!("0011_session-scores")],
        tables: &["session_scores"], ..BASE },
    Migration { version: 12, name: "scheduled-tasks", sql: &[sql!("0012_scheduled-tasks")],
        tables: &["scheduled_tasks", "task_runs"], ..BASE },
    Migration { version: 13, name: "ingestion-tracking",
        columns: &[("memories", "source_path", "TEXT"), ("memories", "source_section", "TEXT")],
        sql: &[sql!("0013_ingestion-tracking")], tables: &["ingestion_jobs"],
        artifact_columns: &[("memories", "source_path"), ("memories", "source_section")], ..BASE },
    Migration { version: 14, name: "telemetry", sql: &[sql!("0014_telemetry")],
        tables: &["telemetry_events"], ..BASE },
    Migration { version: 15, name: "session-memories",
        columns: &[("session_scores", "confidence", "REAL"),
                   ("session_scores", "continuity_reasoning", "TEXT")],
        sql: &[sql!("0015_session-memories")], tables: &["session_memories"],
        artifact_columns: &[("session_scores", "confidence"),
                            ("session_scores", "continuity_reasoning")], ..BASE },
    Migration { version: 16, name: "session-checkpoints", sql: &[sql!("0016_session-checkpoints")],
        tables: &["session_checkpoints"], ..BASE },
    Migration { version: 17, name: "task-skills", columns: V17_COLUMNS,
        artifact_columns: &[("scheduled_tasks", "skill_name")], ..BASE },
    Migration { version: 18, name: "skill-meta", sql: &[sql!("0018_skill-meta")],
        tables: &["skill_meta"], ..BASE },
    Migration { version: 19, name: "knowledge-structure",
        columns: &[("entities", "agent_id", "TEXT NOT NULL DEFAULT 'default'")],
        sql: &[sql!("0019_knowledge-structure")],
        tables: &["entity_aspects", "entity_attributes", "entity_dependencies", "task_meta"],
        artifact_columns: &[("entities", "agent_id")], ..BASE },
    Migration { version: 20, name: "predictor-comparisons", columns: V20_COLUMNS,
        sql: &[sql!("0020_predictor-comparisons")],
        tables: &["predictor_comparisons", "predictor_training_log"],
        artifact_columns: &[("session_memories", "entity_slot"),
            ("session_memories", "aspect_slot"), ("session_memories", "is_constraint"),
            ("session_memories", "structural_density")], ..BASE },
    Migration { version: 21, name: "checkpoint-structural", columns: V21_COLUMNS,
        artifact_columns: &[("session_checkpoints", "focal_entity_ids")], ..BASE },
    Migration { version: 22, name: "entity-pinning",
        columns: &[("entities", "pinned", "INTEGER NOT NULL DEFAULT 0"),
                   ("entities", "pinned_at", "TEXT")],
        sql: &[sql!("0022_entity-pinning")],
        artifact_columns: &[("entities", "pinned"), ("entities", "pinned_at")], ..BASE },
    Migration { version: 23, name: "predictor-columns",
        columns: &[("session_memories", "predictor_rank", "INTEGER")],
        artifact_columns: &[("session_memories", "predictor_rank")], ..BASE },
    Migration { version: 24, name: "predictor-comparison-columns", columns: V24_COLUMNS,
        artifact_columns: &[("predictor_comparisons", "scorer_confidence"),
            ("predictor_comparisons", "success_rate"),
            ("predictor_comparisons", "predictor_top_ids"),
            ("predictor_comparisons", "baseline_top_ids"),
            ("predictor_comparisons", "relevance_scores"),
            ("predictor_comparisons", "fts_overlap_score")], ..BASE },
    Migration { version: 25, name: "agent-feedback",
        columns: &[("session_memories", "agent_relevance_score", "REAL"),
                   ("session_memories", "agent_feedback_count", "INTEGER DEFAULT 0")],
        artifact_columns: &[("session_memories", "agent_relevance_score")], ..BASE },
    Migration { version: 26, name: "predictor-training-pairs",
        sql: &[sql!("0026_predictor-training-pairs")],
        tables: &["predictor_training_pairs"], ..BASE },
    Migration { version: 27, name: "backfill-canonical-names",
        sql: &[sql!("0027_backfill-canonical-names")], ..BASE },
    Migration { version: 28, name: "lossless-retention",
        sql: &[sql!("0028_lossless-retention")], ..BASE },
    Migration { version: 29, name: "session-summary-dag",
        sql: &[sql!("0029_session-summary-dag")], ..BASE },
    Migration { version: 30, name: "nullable-memory-job-memory-id",
        hook: Some(nullable_job_memory_id),
        sql: &[sql!("0030_nullable-memory-job-memory-id")], ..BASE },
    // This project's own migrations continue here, one line each:
    Migration { artifact_columns: &[("memories", "scope_user")],
        ..own(1001, "memory-scope-user", &[sql!("1001_memory-scope-user")]) },
    Migration { tables: &["llm_calls"], ..own(1002, "llm-calls", &[sql!("1002_llm-calls")]) },
    own(1003, "fts-update-of-content", &[FTS_UPDATE_OF_CONTENT]),
    Migration { tables: &["memories_cjk"], ..own(1004, "cjk-trigram", &[sql!("1004_cjk-trigram")]) },
    Migration { columns: V1005_COLUMNS, artifact_columns: &[("memories", "created_by")],
        ..own(1005, "lean-remember", &[sql!("1005_lean-remember")]) },
    own(1006, "lean-created-index", &[sql!("1006_lean-created-index")]),
];

/// A remember's actor, on its row (migration 1005): its `created` event is made from them.
#[rustfmt::skip]
const V1005_COLUMNS: &[AddColumn] = &[
    ("memories", "created_by", "TEXT"),
    ("memories", "created_actor_type", "TEXT"),
    ("memories", "created_session_id", "TEXT"),
    ("memories", "created_request_id", "TEXT"),
];

#[rustfmt::skip]
const V2_COLUMNS: &[AddColumn] = &[
    ("memories", "content_hash", "TEXT"),
    ("memories", "normalized_content", "TEXT"),
    ("memories", "is_deleted", "INTEGER DEFAULT 0"),
    ("memories", "deleted_at", "TEXT"),
    ("memories", "extraction_status", "TEXT DEFAULT 'none'"),
    ("memories", "embedding_model", "TEXT"),
    ("memories", "extraction_model", "TEXT"),
    ("memories", "update_count", "INTEGER DEFAULT 0"),
    // Part of the v1 baseline already; upstream re-checks them for pre-baseline files.
    ("memories", "who", "TEXT"),
    ("memories", "why", "TEXT"),
    ("memories", "project", "TEXT"),
    ("memories", "pinned", "INTEGER DEFAULT 0"),
    ("memories", "importance", "REAL DEFAULT 0.5"),
    ("memories", "last_accessed", "TEXT"),
    ("memories", "access_count", "INTEGER DEFAULT 0"),
];

#[rustfmt::skip]
const V4_COLUMNS: &[AddColumn] = &[
    ("memory_history", "actor_type", "TEXT"),
    ("memory_history", "session_id", "TEXT"),
    ("memory_history", "request_id", "TEXT"),
];

#[rustfmt::skip]
const V5_COLUMNS: &[AddColumn] = &[
    ("entities", "canonical_name", "TEXT"),
    ("entities", "mentions", "INTEGER DEFAULT 0"),
    ("entities", "embedding", "BLOB"),
    ("relations", "mentions", "INTEGER DEFAULT 1"),
    ("relations", "confidence", "REAL DEFAULT 0.5"),
    ("relations", "updated_at", "TEXT"),
    ("memory_entity_mentions", "mention_text", "TEXT"),
    ("memory_entity_mentions", "confidence", "REAL"),
    ("memory_entity_mentions", "created_at", "TEXT"),
];

#[rustfmt::skip]
const V17_COLUMNS: &[AddColumn] = &[
    ("scheduled_tasks", "skill_name", "TEXT"),
    ("scheduled_tasks", "skill_mode",
        "TEXT\n\t\t\t CHECK (skill_mode IN ('inject', 'slash') OR skill_mode IS NULL)"),
];

#[rustfmt::skip]
const V20_COLUMNS: &[AddColumn] = &[
    ("session_memories", "entity_slot", "INTEGER"),
    ("session_memories", "aspect_slot", "INTEGER"),
    ("session_memories", "is_constraint", "INTEGER NOT NULL DEFAULT 0"),
    ("session_memories", "structural_density", "INTEGER"),
];

#[rustfmt::skip]
const V21_COLUMNS: &[AddColumn] = &[
    ("session_checkpoints", "focal_entity_ids", "TEXT"),
    ("session_checkpoints", "focal_entity_names", "TEXT"),
    ("session_checkpoints", "active_aspect_ids", "TEXT"),
    ("session_checkpoints", "surfaced_constraint_count", "INTEGER"),
    ("session_checkpoints", "traversal_memory_count", "INTEGER"),
];

#[rustfmt::skip]
const V24_COLUMNS: &[AddColumn] = &[
    ("predictor_comparisons", "scorer_confidence", "REAL NOT NULL DEFAULT 0"),
    ("predictor_comparisons", "success_rate", "REAL NOT NULL DEFAULT 0.5"),
    ("predictor_comparisons", "predictor_top_ids", "TEXT NOT NULL DEFAULT '[]'"),
    ("predictor_comparisons", "baseline_top_ids", "TEXT NOT NULL DEFAULT '[]'"),
    ("predictor_comparisons", "relevance_scores", "TEXT NOT NULL DEFAULT '{}'"),
    ("predictor_comparisons", "fts_overlap_score", "REAL"),
];

/// Upstream's checksum of a migration: a Java-style 32-bit string hash of `"<version>:<name>"`
/// (`h = 31*h + code unit`, wrapping), printed like JavaScript's `toString(16)`, so negative
/// values carry a leading `-`.
pub fn checksum(version: i64, name: &str) -> String {
    let text = format!("{version}:{name}");
    let h = text.encode_utf16().fold(0i32, |h, unit| {
        h.wrapping_mul(31).wrapping_add(i32::from(unit))
    });
    if h < 0 {
        format!("-{:x}", h.unsigned_abs())
    } else {
        format!("{h:x}")
    }
}

/// Our `memories_au` (1003): the FTS entry is rewritten only when `content` changes.
const FTS_UPDATE_OF_CONTENT: &str = sql!("1003_fts-update-of-content");

/// Brings the database at `db_path` (open as `conn`, the writer) to the latest schema.
///
/// On a database already at the latest version this reads a few rows and writes nothing.
pub fn migrate(conn: &mut Connection, db_path: &Path) -> Result<MigrationReport> {
    // Upstream never enforces foreign keys, and its data relies on that (history rows outlive
    // hard-deleted memories). The bundled SQLite turns enforcement on by default, so turn it
    // off on this (the writer) connection before anything runs.
    conn.execute_batch("PRAGMA foreign_keys = OFF;")?;
    let brand_new = object_count(conn)? == 0;
    ensure_meta(conn)?;
    let recorded = recorded_versions(conn)?;
    check_recorded(&recorded)?;
    let plan = Plan::make(conn, &recorded)?;
    let mut report = MigrationReport {
        from_version: recorded.keys().next_back().copied().unwrap_or(0),
        bogus_version_repaired: plan.bogus,
        phantom_versions: plan.phantoms.clone(),
        ..MigrationReport::default()
    };
    if !plan.pending.is_empty() && !brand_new {
        report.backup = backup(conn, db_path, report.from_version)?;
    }
    plan.repair(conn)?;
    for migration in &plan.pending {
        apply(conn, migration)?;
        report.applied.push(migration.version);
    }
    report.fts_rebuilt = ensure_fts(conn)?;
    report.to_version = max_version(conn)?;
    Ok(report)
}

/// What has to happen on this open, decided before anything is written.
struct Plan {
    bogus: bool,
    phantoms: Vec<i64>,
    pending: Vec<Migration>,
}

impl Plan {
    fn make(conn: &Connection, recorded: &BTreeMap<i64, String>) -> Result<Self> {
        let max = recorded.keys().next_back().copied().unwrap_or(0);
        let bogus = max >= 2 && !has_column(conn, "memories", "content_hash")?;
        let mut phantoms = Vec::new();
        if !bogus {
            for m in MIGRATIONS
                .iter()
                .filter(|m| recorded.contains_key(&m.version))
            {
                if m.version >= 2 && !artifacts_present(conn, m)? {
                    phantoms.push(m.version);
                }
            }
        }
        let pending = MIGRATIONS
            .iter()
            .filter(|m| {
                bogus || !recorded.contains_key(&m.version) || phantoms.contains(&m.version)
            })
            .copied()
            .collect();
        Ok(Self {
            bogus,
            phantoms,
            pending,
        })
    }

    /// Forgets the recorded versions that must run again. Audit rows are kept as history.
    fn repair(&self, conn: &mut Connection) -> Result<()> {
        if !self.bogus && self.phantoms.is_empty() {
            return Ok(());
        }
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        if self.bogus {
            tracing::warn!(
                "versions recorded but memories.content_hash missing: rerunning every migration"
            );
            tx.execute("DELETE FROM schema_migrations WHERE version > 0", [])?;
        }
        for version in &self.phantoms {
            tracing::warn!(
                version,
                "phantom migration: a declared table or column is missing; rerunning it"
            );
            tx.execute(
                "DELETE FROM schema_migrations WHERE version = ?1",
                [version],
            )?;
        }
        tx.commit()?;
        Ok(())
    }
}

/// Runs one migration and records it, all in one transaction.
fn apply(conn: &mut Connection, m: &Migration) -> Result<()> {
    let started = Instant::now();
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let outcome = run_steps(&tx, m)
        .and_then(|()| verify_artifacts(&tx, m))
        .and_then(|()| record(&tx, m, started));
    // On error the transaction is dropped without committing, which rolls it back.
    let outcome = outcome.and_then(|()| tx.commit().map_err(StoreError::from));
    outcome.map_err(|e| {
        StoreError::Schema(format!("migration {} ({}) failed: {e}", m.version, m.name))
    })?;
    tracing::info!(
        version = m.version,
        name = m.name,
        "applied schema migration"
    );
    Ok(())
}

fn run_steps(conn: &Connection, m: &Migration) -> Result<()> {
    for &(table, column, definition) in m.columns {
        add_column_if_missing(conn, table, column, definition)?;
    }
    if let Some(hook) = m.hook {
        hook(conn)?;
    }
    for batch in m.sql {
        conn.execute_batch(batch)?;
    }
    Ok(())
}

/// `ALTER TABLE … ADD COLUMN` unless the column exists. Names and definitions come only from
/// the static tables above, never from input.
fn add_column_if_missing(conn: &Connection, table: &str, column: &str, def: &str) -> Result<()> {
    if !has_column(conn, table, column)? {
        conn.execute_batch(&format!("ALTER TABLE {table} ADD COLUMN {column} {def}"))?;
    }
    Ok(())
}

fn verify_artifacts(conn: &Connection, m: &Migration) -> Result<()> {
    for table in m.tables {
        if !table_exists(conn, table)? {
            return Err(StoreError::Schema(format!(
                "declared table {table} was not created"
            )));
        }
    }
    for (table, column) in m.artifact_columns {
        if !has_column(conn, table, column)? {
            return Err(StoreError::Schema(format!(
                "declared column {table}.{column} was not created"
            )));
        }
    }
    Ok(())
}

fn artifacts_present(conn: &Connection, m: &Migration) -> Result<bool> {
    for table in m.tables {
        if !table_exists(conn, table)? {
            return Ok(false);
        }
    }
    for (table, column) in m.artifact_columns {
        if !has_column(conn, table, column)? {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Writes the version row (replacing a phantom's) and an audit row, as upstream does.
fn record(conn: &Connection, m: &Migration, started: Instant) -> Result<()> {
    let applied_at = iso_now();
    let sum = checksum(m.version, m.name);
    let duration_ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
    conn.execute(
        "INSERT OR REPLACE INTO schema_migrations (version, applied_at, checksum)
         VALUES (?1, ?2, ?3)",
        rusqlite::params![m.version, applied_at, sum],
    )?;
    conn.execute(
        "INSERT INTO schema_migrations_audit (version, applied_at, duration_ms, checksum)
         VALUES (?1, ?2, ?3, ?4)",
        rusqlite::params![m.version, applied_at, duration_ms, sum],
    )?;
    Ok(())
}

/// v30's Rust part: rebuild `memory_jobs` if `memory_id` is still NOT NULL, and drop the
/// partial v4 indexes so the v30 SQL can create the plain ones.
fn nullable_job_memory_id(conn: &Connection) -> Result<()> {
    let not_null: Option<bool> = conn
        .query_row(
            "SELECT \"notnull\" FROM pragma_table_info('memory_jobs') WHERE name = 'memory_id'",
            [],
            |row| row.get(0),
        )
        .optional()?;
    if not_null == Some(true) {
        conn.execute_batch(MEMORY_JOBS_REBUILD)?;
    }
    for index in ["idx_memory_jobs_completed_at", "idx_memory_jobs_failed_at"] {
        let sql: Option<Option<String>> = conn
            .query_row(
                "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?1",
                [index],
                |row| row.get(0),
            )
            .optional()?;
        if sql
            .flatten()
            .is_some_and(|s| s.to_ascii_uppercase().contains("WHERE"))
        {
            conn.execute_batch(&format!("DROP INDEX {index}"))?;
        }
    }
    Ok(())
}

/// Upstream's start-up self-heal: recreate `memories_fts` and its triggers when any is
/// missing, then rebuild the index from `memories`. Writes nothing when all exist.
fn ensure_fts(conn: &mut Connection) -> Result<bool> {
    let mut missing = false;
    for name in FTS_OBJECTS {
        missing |= !object_exists(conn, name)?;
    }
    if !missing {
        return Ok(false);
    }
    tracing::warn!("memories_fts or one of its triggers is missing: recreating and rebuilding it");
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    tx.execute_batch(MEMORIES_FTS)?;
    if recorded_versions(&tx)?.contains_key(&1003) {
        tx.execute_batch(FTS_UPDATE_OF_CONTENT)?;
    }
    tx.execute_batch("INSERT INTO memories_fts(memories_fts) VALUES('rebuild');")?;
    tx.commit()?;
    Ok(true)
}

/// Creates the two bookkeeping tables when missing (and only then, so that opening an
/// up-to-date database issues no write at all).
fn ensure_meta(conn: &Connection) -> Result<()> {
    if !table_exists(conn, "schema_migrations")? || !table_exists(conn, "schema_migrations_audit")?
    {
        conn.execute_batch(META)?;
    }
    Ok(())
}

/// `version -> checksum` of every recorded migration.
fn recorded_versions(conn: &Connection) -> Result<BTreeMap<i64, String>> {
    let mut stmt = conn.prepare("SELECT version, CAST(checksum AS TEXT) FROM schema_migrations")?;
    let rows = stmt.query_map([], |row| {
        Ok((
            row.get::<_, i64>(0)?,
            row.get::<_, Option<String>>(1)?.unwrap_or_default(),
        ))
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Refuses a database whose record of one of *our own* versions (1001+) was written by another
/// program (same number, different migration): running on would skip our migration. Older
/// upstream versions with an unexpected checksum and versions newer than this build are only
/// logged, as upstream does not check either.
fn check_recorded(recorded: &BTreeMap<i64, String>) -> Result<()> {
    for (&version, recorded_sum) in recorded {
        let Some(m) = MIGRATIONS.iter().find(|m| m.version == version) else {
            tracing::warn!(
                version,
                latest = LATEST_VERSION,
                "database records a schema version this build does not know"
            );
            continue;
        };
        let expected = checksum(m.version, m.name);
        if *recorded_sum == expected {
            continue;
        }
        if version > UPSTREAM_VERSION {
            return Err(StoreError::Schema(format!(
                "schema version {version} is recorded with checksum {recorded_sum}, but this \
                 build's migration {version} is \"{}\" ({expected}); the database was migrated \
                 by a different program",
                m.name
            )));
        }
        tracing::warn!(
            version,
            recorded = %recorded_sum,
            %expected,
            "unexpected migration checksum"
        );
    }
    Ok(())
}

/// Checkpoints the WAL, copies the file to `<db>.bak-v<version>-<epochMs>` and prunes old
/// copies. Skipped (returns `None`) when there is no file on disk, e.g. an in-memory database.
fn backup(conn: &Connection, db_path: &Path, version: i64) -> Result<Option<PathBuf>> {
    let (Some(name), true) = (db_path.file_name(), db_path.is_file()) else {
        return Ok(None);
    };
    let busy: i64 = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |row| row.get(0))?;
    if busy != 0 {
        tracing::warn!(
            "WAL checkpoint before the backup was incomplete (another connection is reading); \
             the backup holds the last checkpointed state"
        );
    }
    let millis = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    let mut backup_name = name.to_os_string();
    backup_name.push(format!(".bak-v{version}-{millis}"));
    let target = db_path.with_file_name(backup_name);
    std::fs::copy(db_path, &target)?;
    tracing::info!(path = %target.display(), "wrote pre-migration backup");
    prune_backups(db_path, name.to_os_string());
    Ok(Some(target))
}

/// Keeps the newest [`BACKUPS_KEPT`] `<db name>.bak-v*` files (by mtime) beside the database.
/// Only this database's own backups are considered. Failures are logged, not fatal.
fn prune_backups(db_path: &Path, db_name: OsString) {
    let mut prefix = db_name;
    prefix.push(".bak-v");
    let prefix = prefix.to_string_lossy().into_owned();
    let dir = match db_path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut backups: Vec<(SystemTime, PathBuf)> = entries
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
        .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
        .collect();
    backups.sort_by(|a, b| b.cmp(a));
    for (_, path) in backups.into_iter().skip(BACKUPS_KEPT) {
        if let Err(e) = std::fs::remove_file(&path) {
            tracing::warn!(path = %path.display(), error = %e, "could not remove an old backup");
        }
    }
}

fn iso_now() -> String {
    chrono::Utc::now()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

fn object_count(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row("SELECT COUNT(*) FROM sqlite_master", [], |row| row.get(0))?)
}

fn max_version(conn: &Connection) -> Result<i64> {
    let max: Option<i64> =
        conn.query_row("SELECT MAX(version) FROM schema_migrations", [], |row| {
            row.get(0)
        })?;
    Ok(max.unwrap_or(0))
}

/// Whether `table` exists in the main schema.
pub(crate) fn table_exists(conn: &Connection, table: &str) -> Result<bool> {
    Ok(conn.query_row(
        "SELECT EXISTS(SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1)",
        [table],
        |row| row.get(0),
    )?)
}

fn object_exists(conn: &Connection, name: &str) -> Result<bool> {
    Ok(conn.query_row(
        "SELECT EXISTS(SELECT 1 FROM sqlite_master WHERE name = ?1)",
        [name],
        |row| row.get(0),
    )?)
}

/// Whether `table` has `column`. False when the table does not exist.
fn has_column(conn: &Connection, table: &str, column: &str) -> Result<bool> {
    Ok(conn.query_row(
        "SELECT EXISTS(SELECT 1 FROM pragma_table_info(?1) WHERE name = ?2)",
        [table, column],
        |row| row.get(0),
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksums_match_upstreams_for_both_signs() {
        assert_eq!(checksum(1, "baseline"), "-d014c92");
        assert_eq!(checksum(3, "unique-content-hash"), "635f2097");
        assert_eq!(checksum(30, "nullable-memory-job-memory-id"), "-6135fde6");
        assert_eq!(MIGRATIONS[29].name, "nullable-memory-job-memory-id");
        assert_eq!(MIGRATIONS[29].version, UPSTREAM_VERSION);
    }

    #[test]
    fn upstream_versions_are_contiguous_and_ours_start_at_1001() {
        for (i, m) in MIGRATIONS.iter().enumerate() {
            let want = if i < 30 {
                i64::try_from(i).unwrap() + 1
            } else {
                OWN_FIRST_VERSION + i64::try_from(i - 30).unwrap()
            };
            assert_eq!(m.version, want, "{}", m.name);
        }
        assert_eq!(LATEST_VERSION, MIGRATIONS.last().unwrap().version);
    }

    #[test]
    fn own_migrations_build_from_one_sql_file() {
        let m = own(1002, "example", &["SELECT 1;"]);
        assert_eq!((m.version, m.name, m.sql.len()), (1002, "example", 1));
        assert!(m.columns.is_empty() && m.hook.is_none() && m.tables.is_empty());
        let v31 = MIGRATIONS[30];
        assert_eq!((v31.version, v31.name), (1001, "memory-scope-user"));
        assert_eq!(v31.artifact_columns, &[("memories", "scope_user")]);
        let v1002 = MIGRATIONS[31];
        assert_eq!((v1002.version, v1002.name), (1002, "llm-calls"));
        assert_eq!(v1002.tables, &["llm_calls"]);
    }

    #[test]
    fn applied_at_is_iso_millis_utc() {
        let s = iso_now();
        assert_eq!(s.len(), 24, "{s}");
        assert_eq!(
            (&s[4..5], &s[10..11], &s[19..20], &s[23..]),
            ("-", "T", ".", "Z")
        );
    }
}
