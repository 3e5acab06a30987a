//! Integration tests for signet-store: one binary, one module per area.
//!
//! - `conformance`: signet-model's conformance suite (the store contract) against [`Store`].
//! - `export`: whole rows out and back in (dedup, ids, history, vectors, dry runs).
//! - `fixture`: a database written by upstream Signet 0.58.1 opens losslessly.
//! - `migrations`: fresh, current, older, broken and failing databases.
//! - `pipeline`: what a pipeline write leaves in SQLite (the cold archive; the ledger kept).
//!
//! [`Store`]: signet_store::Store

// Test code may unwrap (the workspace denies `unwrap_used` elsewhere).
#![allow(clippy::unwrap_used)]

mod conformance;
mod export;
mod fixture;
mod migrations;
mod pipeline;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use rusqlite::Connection;
use serde_json::Value;
use sha2::{Digest, Sha256};
use signet_store::Pool;
use signet_store::schema::{MigrationReport, migrate};

/// The upstream fixture directory: `shared/` sits beside the repository checkout.
pub fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/upstream-v0.58.1")
}

/// `expected.json` of the fixture, parsed once.
pub fn expected() -> &'static Value {
    static EXPECTED: OnceLock<Value> = OnceLock::new();
    EXPECTED.get_or_init(|| {
        let path = fixture_dir().join("expected.json");
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
        serde_json::from_str(&text).expect("expected.json parses")
    })
}

/// Opens `path` the way the daemon does (writer + readers, `migrate` on the writer) and returns
/// the pool together with what `migrate` reported.
pub fn open_store(path: &Path) -> signet_store::Result<(Pool, MigrationReport)> {
    let mut report = None;
    let pool = Pool::open(path, 2, |conn| {
        report = Some(migrate(conn, path)?);
        Ok(())
    })?;
    Ok((pool, report.expect("migrate ran")))
}

/// Like [`open_store`], for tests that only need the report; the pool is closed again.
pub fn migrate_once(path: &Path) -> MigrationReport {
    match open_store(path) {
        Ok((_pool, report)) => report,
        Err(e) => panic!("opening {} failed: {e}", path.display()),
    }
}

/// A `sqlite_master` entry: `(type, tbl_name, sql)`, keyed by name elsewhere.
pub type SchemaEntry = (String, String, String);

/// Every schema object that has SQL text (autoindexes have none), by name.
pub fn schema_of(conn: &Connection) -> BTreeMap<String, SchemaEntry> {
    let mut stmt = conn
        .prepare("SELECT name, type, tbl_name, sql FROM sqlite_master WHERE sql IS NOT NULL")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, (r.get(1)?, r.get(2)?, r.get(3)?))))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
}

/// `expected.sqlite_master`, by name; `with_vec` keeps the sqlite-vec table and its shadows.
pub fn expected_schema(with_vec: bool) -> BTreeMap<String, SchemaEntry> {
    let rows = expected()["sqlite_master"].as_array().unwrap();
    rows.iter()
        .map(|e| {
            let s = |k: &str| e[k].as_str().unwrap().to_owned();
            (s("name"), (s("type"), s("tbl_name"), s("sql")))
        })
        .filter(|(name, _)| with_vec || !name.starts_with("vec_embeddings"))
        .collect()
}

/// The schema this build ends at: upstream's v30 [`expected_schema`] plus exactly what our
/// own migrations add: 1001 the column `memories.scope_user` (SQLite appends it to the stored
/// `CREATE TABLE` text) and its partial index, 1002 the table `llm_calls` and its index, 1003
/// the trigger `memories_au` recreated to fire only when `content` changes, 1004 the trigram
/// index of CJK memories, 1005 the four `created_*` columns and the CJK triggers recreated,
/// 1006 `idx_memories_created` ascending.
pub fn our_schema(with_vec: bool) -> BTreeMap<String, SchemaEntry> {
    let mut schema = expected_schema(with_vec);
    let memories = schema.get_mut("memories").expect("memories in the fixture");
    let end = memories
        .2
        .rfind(')')
        .expect("CREATE TABLE text ends with ')'");
    memories.2.insert_str(
        end,
        ", scope_user TEXT, created_by TEXT, created_actor_type TEXT, created_session_id TEXT, \
         created_request_id TEXT",
    );
    let entry =
        |kind: &str, table: &str, sql: &str| (kind.to_owned(), table.to_owned(), sql.to_owned());
    let ours = [
        (
            "idx_memories_scope_user",
            entry(
                "index",
                "memories",
                "CREATE INDEX idx_memories_scope_user ON memories(scope_user) WHERE scope_user IS NOT NULL",
            ),
        ),
        ("llm_calls", entry("table", "llm_calls", LLM_CALLS_SQL)),
        (
            "idx_llm_calls_created_at",
            entry(
                "index",
                "llm_calls",
                "CREATE INDEX idx_llm_calls_created_at ON llm_calls(created_at)",
            ),
        ),
    ];
    for (name, e) in ours {
        assert!(
            schema.insert(name.to_owned(), e).is_none(),
            "{name} is ours"
        );
    }
    let au = schema
        .get_mut("memories_au")
        .expect("memories_au in the fixture");
    au.2 = fts_update_of_content_sql();
    let created = schema
        .get_mut("idx_memories_created")
        .expect("idx_memories_created in the fixture");
    created.2 = "CREATE INDEX idx_memories_created ON memories(created_at)".to_owned();
    for (name, e) in cjk_trigram_objects() {
        assert!(schema.insert(name.clone(), e).is_none(), "{name} is ours");
    }
    schema
}

/// What migration 1004 creates (the trigram index `memories_cjk`, its shadow tables, its term
/// list and three triggers), as SQLite stores it: the file run on a scratch database.
fn cjk_trigram_objects() -> Vec<(String, SchemaEntry)> {
    let c = rusqlite::Connection::open_in_memory().unwrap();
    c.execute_batch("CREATE TABLE memories (content TEXT NOT NULL);")
        .unwrap();
    c.execute_batch(include_str!("../../migrations/1004_cjk-trigram.sql"))
        .unwrap();
    // 1005 recreates the three triggers (a plain-ASCII test before the GLOB).
    c.execute_batch(include_str!("../../migrations/1005_lean-remember.sql"))
        .unwrap();
    let mut stmt = c
        .prepare(
            "SELECT name, type, tbl_name, sql FROM sqlite_master WHERE name LIKE 'memories_cjk%'",
        )
        .unwrap();
    let rows = stmt
        .query_map([], |r| Ok((r.get(0)?, (r.get(1)?, r.get(2)?, r.get(3)?))))
        .unwrap();
    let objects: Vec<(String, SchemaEntry)> = rows.map(Result::unwrap).collect();
    assert!(objects.len() >= 8, "{objects:?}");
    objects
}

/// The stored text of migration 1003's trigger: its `CREATE TRIGGER … END`.
fn fts_update_of_content_sql() -> String {
    let file = include_str!("../../migrations/1003_fts-update-of-content.sql");
    let start = file.find("CREATE TRIGGER").expect("1003 creates a trigger");
    let end = file.rfind("END").expect("the trigger ends") + "END".len();
    file[start..end].to_owned()
}

/// The stored text of migration 1002's table (SQLite drops the `IF NOT EXISTS`).
const LLM_CALLS_SQL: &str = "CREATE TABLE llm_calls (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at TEXT NOT NULL,
    provider TEXT NOT NULL,
    model TEXT NOT NULL,
    purpose TEXT NOT NULL,
    input_tokens INTEGER NOT NULL DEFAULT 0,
    output_tokens INTEGER NOT NULL DEFAULT 0,
    duration_ms INTEGER NOT NULL DEFAULT 0,
    outcome TEXT NOT NULL,
    error TEXT,
    job_id TEXT
)";

/// This project's own migrations, in order: `(version, name)`.
pub const OURS: [(i64, &str); 6] = [
    (1001, "memory-scope-user"),
    (1002, "llm-calls"),
    (1003, "fts-update-of-content"),
    (1004, "cjk-trigram"),
    (1005, "lean-remember"),
    (1006, "lean-created-index"),
];

/// The newest version: our last migration.
pub const LATEST: i64 = OURS[OURS.len() - 1].0;

/// `(version, checksum)` of each of our own migrations, in order.
pub fn own_checksums() -> Vec<(i64, String)> {
    OURS.iter()
        .map(|&(v, name)| (v, signet_store::schema::checksum(v, name)))
        .collect()
}

/// Upstream's exact `sql` for one object of the fixture.
pub fn upstream_sql(name: &str) -> String {
    expected_schema(true)
        .remove(name)
        .unwrap_or_else(|| panic!("{name} is not in expected.sqlite_master"))
        .2
}

/// Asserts two schemas are identical, listing every missing, extra and differing object.
pub fn assert_same_schema(
    actual: &BTreeMap<String, SchemaEntry>,
    want: &BTreeMap<String, SchemaEntry>,
) {
    let missing: Vec<_> = want.keys().filter(|k| !actual.contains_key(*k)).collect();
    let extra: Vec<_> = actual.keys().filter(|k| !want.contains_key(*k)).collect();
    let differ: Vec<_> = want
        .iter()
        .filter_map(|(k, w)| actual.get(k).filter(|a| *a != w).map(|a| (k, w, a)))
        .collect();
    assert!(
        missing.is_empty() && extra.is_empty() && differ.is_empty(),
        "schema differs\nmissing: {missing:?}\nextra: {extra:?}\ndiffering (want, got): {differ:#?}"
    );
}

/// `(version, applied_at, checksum)` rows and `(id, version, applied_at, duration_ms,
/// checksum)` audit rows, in order.
pub type VersionRows = (
    Vec<(i64, String, String)>,
    Vec<(i64, i64, String, Option<i64>, Option<String>)>,
);

pub fn version_rows(conn: &Connection) -> VersionRows {
    let mut stmt = conn
        .prepare("SELECT version, applied_at, checksum FROM schema_migrations ORDER BY version")
        .unwrap();
    let versions = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    let mut stmt = conn
        .prepare(
            "SELECT id, version, applied_at, duration_ms, checksum
             FROM schema_migrations_audit ORDER BY id",
        )
        .unwrap();
    let audit = stmt
        .query_map([], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    (versions, audit)
}

/// The backups of `memories.db` in `dir` (`memories.db.bak-v*`), sorted by name.
pub fn backups_in(dir: &Path) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("memories.db.bak-v")
        })
        .collect();
    found.sort();
    found
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

pub fn sha256_file(path: &Path) -> String {
    sha256_hex(&std::fs::read(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display())))
}

/// A plain read-write connection for inspecting (or deliberately damaging) a test database.
pub fn plain(path: &Path) -> Connection {
    Connection::open(path).unwrap()
}

/// The one value `sql` selects with `params` bound.
pub fn scalar<T: rusqlite::types::FromSql>(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
) -> T {
    conn.query_row(sql, params, |r| r.get(0)).unwrap()
}

/// The first column of every row `sql` selects with `param` bound to `?1`.
pub fn first_column<T: rusqlite::types::FromSql>(
    conn: &Connection,
    sql: &str,
    param: &str,
) -> Vec<T> {
    let mut stmt = conn.prepare(sql).unwrap();
    stmt.query_map([param], |r| r.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
}
