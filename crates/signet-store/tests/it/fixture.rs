//! The losslessness proof: a workspace database written by upstream Signet 0.58.1 opens through
//! the normal store start-up with exactly our own migrations, 1001 (the nullable column
//! `memories.scope_user` and its partial index) and 1002 (the empty `llm_calls` ledger), after a
//! backup byte-identical to the original
//! file; no repair runs, and every upstream schema object, row, storage class, vector and
//! full-text entry reads back as upstream left it. A second open applies and writes nothing.
//!
//! Follows "What a test should assert" in `shared/fixtures/upstream-v0.58.1/README.md`, items
//! 1–6. The KNN query of item 5 needs the sqlite-vec extension, which this build does not load;
//! the vector blobs and `vec_embeddings_rowids` membership are checked instead.

use std::collections::BTreeMap;
use std::path::PathBuf;

use rusqlite::Connection;
use rusqlite::types::Value as Sql;
use serde_json::Value;
use tempfile::TempDir;

use crate::{
    LATEST, OURS, assert_same_schema, backups_in, expected, first_column, fixture_dir,
    migrate_once, our_schema, own_checksums, plain, scalar, schema_of, sha256_file, sha256_hex,
    version_rows,
};

/// The fixture's documented sha256 (README and `expected.fixture.sha256`).
const FIXTURE_SHA256: &str = "1814b713fae9cafe168ca78ab94e0091795568e88987381cb5e8aa352f8b744a";

/// Columns our own migrations added to upstream tables: absent from `expected.json`, NULL in
/// every upstream row.
const OWN_COLUMNS: &[(&str, &str)] = &[
    ("memories", "scope_user"),
    ("memories", "created_by"),
    ("memories", "created_actor_type"),
    ("memories", "created_session_id"),
    ("memories", "created_request_id"),
];

/// A private copy of the fixture, opened once through the store. The checked-in file is never
/// opened in place: WAL mode creates `-wal`/`-shm` beside it.
struct Opened {
    dir: TempDir,
    db: PathBuf,
    /// The pre-migration backup the first open wrote.
    backup: PathBuf,
}

fn open_fixture_copy() -> Opened {
    let source = fixture_dir().join("memories.db");
    assert_eq!(sha256_file(&source), FIXTURE_SHA256, "fixture file changed");
    assert_eq!(expected()["fixture"]["sha256"], FIXTURE_SHA256);
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("memories.db");
    std::fs::copy(&source, &db).unwrap();
    let report = migrate_once(&db);
    assert_eq!((report.from_version, report.to_version), (30, LATEST));
    let ours: Vec<i64> = OURS.iter().map(|&(v, _)| v).collect();
    assert_eq!(report.applied, ours, "exactly our own migrations run");
    assert_no_repair(&report);
    let backup = report
        .backup
        .expect("a backup is taken before our migrations");
    Opened { dir, db, backup }
}

fn assert_no_repair(report: &signet_store::schema::MigrationReport) {
    assert!(!report.bogus_version_repaired, "bogus-version repair ran");
    assert!(
        report.phantom_versions.is_empty(),
        "phantoms {:?}",
        report.phantom_versions
    );
    assert!(!report.fts_rebuilt, "memories_fts was rebuilt");
}

#[test]
fn opening_backs_up_first_then_applies_only_31_and_reopening_writes_nothing() {
    let opened = open_fixture_copy();
    let name = opened.backup.file_name().unwrap().to_string_lossy();
    assert!(name.starts_with("memories.db.bak-v30-"), "{name}");
    assert_eq!(backups_in(opened.dir.path()), vec![opened.backup.clone()]);
    assert_eq!(
        sha256_file(&opened.backup),
        FIXTURE_SHA256,
        "the backup is the untouched upstream file"
    );
    let migrated = checkpointed_sha256(&opened.db);
    assert_ne!(migrated, FIXTURE_SHA256, "our migrations changed the file");

    let second = migrate_once(&opened.db);
    assert_eq!((second.from_version, second.to_version), (LATEST, LATEST));
    assert!(second.applied.is_empty(), "applied {:?}", second.applied);
    assert!(second.backup.is_none(), "backup {:?}", second.backup);
    assert_no_repair(&second);
    assert_eq!(
        checkpointed_sha256(&opened.db),
        migrated,
        "second open wrote to the database"
    );
    assert_eq!(backups_in(opened.dir.path()).len(), 1);
}

/// The sha256 of the main file once everything in the WAL has been checkpointed into it, so
/// that two states compare by content whatever the WAL held.
fn checkpointed_sha256(db: &std::path::Path) -> String {
    let conn = plain(db);
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .unwrap();
    drop(conn);
    sha256_file(db)
}

#[test]
fn version_rows_are_untouched() {
    let opened = open_fixture_copy();
    let (versions, audit) = version_rows(&plain(&opened.db));
    let exp = expected();
    let want: Vec<(i64, String, String)> = rows(&exp["schema_migrations"])
        .map(|r| {
            (
                int(&r["version"]),
                text(&r["applied_at"]),
                text(&r["checksum"]),
            )
        })
        .collect();
    let (upstream, ours) = versions.split_at(versions.len() - OURS.len());
    assert_eq!(upstream, want, "upstream's version rows are untouched");
    let recorded: Vec<(i64, String)> = ours.iter().map(|(v, _, c)| (*v, c.clone())).collect();
    assert_eq!(recorded, own_checksums());
    let (audit, audit_ours) = audit.split_at(audit.len() - OURS.len());
    for (row, version) in audit_ours.iter().zip(ours) {
        assert_eq!(
            (row.1, &row.2, row.4.as_ref()),
            (version.0, &version.1, Some(&version.2))
        );
    }
    let want_audit: Vec<_> = rows(&exp["schema_migrations_audit"])
        .map(|r| {
            let duration = r["duration_ms"].as_i64();
            (
                int(&r["id"]),
                int(&r["version"]),
                text(&r["applied_at"]),
                duration,
                Some(text(&r["checksum"])),
            )
        })
        .collect();
    assert_eq!(audit, want_audit);
}

#[test]
fn schema_is_upstreams_plus_exactly_our_column_and_index() {
    let opened = open_fixture_copy();
    assert_same_schema(&schema_of(&plain(&opened.db)), &our_schema(true));
}

#[test]
fn every_row_keeps_its_values_and_storage_classes() {
    let opened = open_fixture_copy();
    let conn = plain(&opened.db);
    let exp = expected();
    let memories: Vec<&Value> = rows(&exp["memories"]).collect();
    let columns = columns_of(&conn, "memories");
    assert_eq!(columns.len(), 38);
    assert_eq!(
        columns[33..],
        [
            "scope_user",
            "created_by",
            "created_actor_type",
            "created_session_id",
            "created_request_id"
        ],
        "migrations 1001 and 1005 append their columns"
    );
    assert_rows(&conn, "memories", &["id"], &memories, true);
    let stamped: i64 = scalar(
        &conn,
        "SELECT COUNT(*) FROM memories WHERE scope_user IS NOT NULL",
        [],
    );
    assert_eq!(stamped, 0, "upstream rows belong to no user");
    let history: Vec<&Value> = exp["memory_history"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(rows)
        .collect();
    assert_eq!(history.len(), 23);
    assert_rows(&conn, "memory_history", &["id"], &history, false);
    for (table, key) in [
        ("documents", &["id"][..]),
        ("document_memories", &["document_id", "memory_id"][..]),
        ("entities", &["id"][..]),
        ("relations", &["id"][..]),
        ("memory_entity_mentions", &["memory_id", "entity_id"][..]),
        ("memory_jobs", &["id"][..]),
    ] {
        let want: Vec<&Value> = rows(&exp[table]).collect();
        assert_rows(&conn, table, key, &want, false);
    }
}

#[test]
fn awkward_rows_survive() {
    let opened = open_fixture_copy();
    let conn = plain(&opened.db);
    let exp = expected();
    let one = |sql: &str| -> i64 { scalar(&conn, sql, []) };
    let deleted =
        one("SELECT COUNT(*) FROM memories WHERE is_deleted = 1 AND deleted_at IS NOT NULL");
    assert_eq!(deleted, exp["deleted_memory_count"].as_i64().unwrap());
    let hook_id = exp["named_ids"]["hook_note"].as_str().unwrap();
    let (hash, content): (Option<String>, String) = conn
        .query_row(
            "SELECT content_hash, content FROM memories WHERE id = ?1",
            [hook_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert!(
        hash.is_none() && content.contains('\n'),
        "hook row: {hash:?} {content:?}"
    );
    for tags in ["roadmap,Q3", "Mixed,Case , Tags"] {
        let n: i64 = scalar(
            &conn,
            "SELECT COUNT(*) FROM memories WHERE tags = ?1",
            [tags],
        );
        assert_eq!(n, 1, "tags {tags:?}");
    }
    for kind in ["learning", "issue", "rule", "procedural", "document_chunk"] {
        let n: i64 = scalar(
            &conn,
            "SELECT COUNT(*) FROM memories WHERE type = ?1",
            [kind],
        );
        assert!(n > 0, "type {kind}");
    }
    // Mixed timestamp formats: recall writes `YYYY-MM-DD HH:MM:SS`, the rest is ISO.
    assert!(
        one("SELECT COUNT(*) FROM memories WHERE last_accessed LIKE '____-__-__ __:__:__'") > 0
    );
    assert!(
        one("SELECT COUNT(*) FROM memories WHERE created_at LIKE '____-__-__T__:__:__.___Z'") > 0
    );
}

#[test]
fn table_counts_match() {
    let opened = open_fixture_copy();
    let conn = plain(&opened.db);
    for (table, count) in expected()["table_counts"].as_object().unwrap() {
        if table == "vec_embeddings" {
            continue; // the vec0 table itself needs the extension; its shadow tables are plain
        }
        // Each of our migrations records itself: one version row and one audit row more
        // than upstream. The LLM ledger (1002) starts empty.
        let own = match table.starts_with("schema_migrations") {
            true => OURS.len() as i64,
            false => 0,
        };
        let n: i64 = scalar(&conn, &format!("SELECT COUNT(*) FROM \"{table}\""), []);
        assert_eq!(n, count.as_i64().unwrap() + own, "row count of {table}");
    }
}

#[test]
fn vectors_survive() {
    let opened = open_fixture_copy();
    let conn = plain(&opened.db);
    let mut checked = 0;
    for memory in rows(&expected()["memories"]) {
        for emb in rows(&memory["embeddings"]) {
            assert_embedding(&conn, emb);
            checked += 1;
        }
    }
    assert_eq!(checked, 62);
    let orphans: i64 = scalar(
        &conn,
        "SELECT COUNT(*) FROM embeddings
             WHERE id NOT IN (SELECT id FROM vec_embeddings_rowids)",
        [],
    );
    assert_eq!(orphans, 0, "embedding ids missing from vec_embeddings");
}

fn assert_embedding(conn: &Connection, emb: &Value) {
    let id = emb["id"].as_str().unwrap();
    let (hash, dims, created, blob): (String, i64, String, Vec<u8>) = conn
        .query_row(
            "SELECT content_hash, dimensions, created_at, vector FROM embeddings WHERE id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .unwrap();
    assert_eq!(
        (hash.as_str(), dims, created.as_str()),
        (
            text_ref(&emb["content_hash"]),
            int(&emb["dimensions"]),
            text_ref(&emb["created_at"])
        )
    );
    assert_eq!(blob.len() as i64, int(&emb["vector_bytes"]), "{id}");
    assert_eq!(
        sha256_hex(&blob),
        text(&emb["vector_sha256"]),
        "vector of {id}"
    );
    for (i, want) in rows(&emb["vector_head"]).enumerate() {
        let got = f32::from_le_bytes(blob[i * 4..i * 4 + 4].try_into().unwrap());
        assert!(
            (f64::from(got) - want.as_f64().unwrap()).abs() < 1e-6,
            "{id}[{i}]"
        );
    }
    let in_vec: bool = scalar(
        conn,
        "SELECT EXISTS(SELECT 1 FROM vec_embeddings_rowids WHERE id = ?1)",
        [id],
    );
    assert_eq!(
        in_vec,
        emb["in_vec_embeddings"].as_bool().unwrap(),
        "{id} in vec_embeddings"
    );
}

#[test]
fn full_text_index_still_answers() {
    let opened = open_fixture_copy();
    let conn = plain(&opened.db);
    conn.execute(
        "INSERT INTO memories_fts(memories_fts) VALUES('integrity-check')",
        [],
    )
    .unwrap();
    assert_eq!(
        fts_rowids(&conn, "Brewster"),
        vec![44, 54],
        "the tombstone and its live twin"
    );
    let tokyo_id = expected()["named_ids"]["tokyo"].as_str().unwrap();
    let tokyo_rowid: i64 = scalar(
        &conn,
        "SELECT rowid FROM memories WHERE id = ?1",
        [tokyo_id],
    );
    assert_eq!(
        fts_rowids(&conn, "東京オフィスの会議室は3階にあります"),
        vec![tokyo_rowid]
    );
}

fn fts_rowids(conn: &Connection, query: &str) -> Vec<i64> {
    let sql = "SELECT rowid FROM memories_fts WHERE memories_fts MATCH ?1 ORDER BY rowid";
    first_column(conn, sql, query)
}

/// Asserts `table` holds exactly the `want` rows: same count, and for every row (found by its
/// `key` columns) every upstream column equal in value and storage class ([`OWN_COLUMNS`] are
/// left out); `with_rowid` compares the rowid too.
fn assert_rows(conn: &Connection, table: &str, key: &[&str], want: &[&Value], with_rowid: bool) {
    let mut columns = columns_of(conn, table);
    columns.retain(|c| !OWN_COLUMNS.contains(&(table, c.as_str())));
    if with_rowid {
        columns.push("rowid".to_owned());
    }
    let actual = load_rows(conn, table, &columns, key);
    assert_eq!(actual.len(), want.len(), "row count of {table}");
    for row in want {
        let id: Vec<String> = key.iter().map(|k| text(&row[*k])).collect();
        let got = actual
            .get(&id)
            .unwrap_or_else(|| panic!("{table} row {id:?} is missing"));
        for (column, value) in columns.iter().zip(got) {
            let want_value = row
                .get(column)
                .unwrap_or_else(|| panic!("expected {table} lacks {column}"));
            assert_same_value(value, want_value, &format!("{table} {id:?} {column}"));
        }
    }
}

/// Every row of `table` as its `columns` values, keyed by the text of its `key` columns.
fn load_rows(
    conn: &Connection,
    table: &str,
    columns: &[String],
    keys: &[&str],
) -> BTreeMap<Vec<String>, Vec<Sql>> {
    let list = columns
        .iter()
        .map(|c| format!("\"{c}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let mut stmt = conn
        .prepare(&format!("SELECT {list} FROM \"{table}\""))
        .unwrap();
    let mut out = BTreeMap::new();
    let mut result = stmt.query([]).unwrap();
    while let Some(row) = result.next().unwrap() {
        let values: Vec<Sql> = (0..columns.len()).map(|i| row.get(i).unwrap()).collect();
        let id = keys
            .iter()
            .map(
                |k| match &values[columns.iter().position(|c| c == k).unwrap()] {
                    Sql::Text(s) => s.clone(),
                    other => panic!("{table}.{k} key is not text: {other:?}"),
                },
            )
            .collect();
        assert!(out.insert(id, values).is_none(), "duplicate key in {table}");
    }
    out
}

/// Same value and same storage class. JSON `1.0` is REAL, `1` is INTEGER (the manifest was
/// written from Python's sqlite3, which keeps that distinction).
fn assert_same_value(got: &Sql, want: &Value, what: &str) {
    let same = match (got, want) {
        (Sql::Null, Value::Null) => true,
        (Sql::Integer(i), Value::Number(n)) => !n.is_f64() && n.as_i64() == Some(*i),
        (Sql::Real(f), Value::Number(n)) => {
            n.is_f64() && n.as_f64().is_some_and(|w| same_f64(*f, w))
        }
        (Sql::Text(s), Value::String(w)) => s == w,
        _ => false,
    };
    assert!(same, "{what}: got {got:?}, want {want}");
}

/// Equal, or one unit in the last place apart (JSON decimal parsing is not always exact).
fn same_f64(a: f64, b: f64) -> bool {
    a == b || (a.to_bits() as i64 - b.to_bits() as i64).abs() <= 1
}

fn columns_of(conn: &Connection, table: &str) -> Vec<String> {
    first_column(conn, "SELECT name FROM pragma_table_info(?1)", table)
}

fn rows(v: &Value) -> impl Iterator<Item = &Value> {
    v.as_array()
        .unwrap_or_else(|| panic!("not an array: {v}"))
        .iter()
}

fn int(v: &Value) -> i64 {
    v.as_i64().unwrap_or_else(|| panic!("not an integer: {v}"))
}

fn text(v: &Value) -> String {
    text_ref(v).to_owned()
}

fn text_ref(v: &Value) -> &str {
    v.as_str().unwrap_or_else(|| panic!("not a string: {v}"))
}
