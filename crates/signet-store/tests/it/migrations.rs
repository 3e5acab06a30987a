//! Migrations on databases that are not already current: a fresh file, an up-to-date one, one
//! left behind by older upstream versions, the "bogus version" and "phantom migration" repairs,
//! a failing migration, the FTS self-heal and backup retention.

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use rusqlite::{Connection, params};
use signet_store::StoreError;
use signet_store::schema::{LATEST_VERSION, checksum};
use tempfile::TempDir;

use crate::{
    LATEST, OURS, assert_same_schema, backups_in, expected, fixture_dir, migrate_once, open_store,
    our_schema, own_checksums, plain, scalar, schema_of, upstream_sql, version_rows,
};

fn temp_db() -> (TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("memories.db");
    (dir, db)
}

/// A database this build created and fully migrated.
fn fresh_db() -> (TempDir, PathBuf) {
    let (dir, db) = temp_db();
    migrate_once(&db);
    (dir, db)
}

fn count(conn: &Connection, sql: &str) -> i64 {
    scalar(conn, sql, [])
}

fn upstream_checksums() -> Vec<(i64, String)> {
    let rows = expected()["schema_migrations"].as_array().unwrap();
    rows.iter()
        .map(|r| {
            (
                r["version"].as_i64().unwrap(),
                r["checksum"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn insert_memory(conn: &Connection, id: &str, content: &str) {
    conn.execute(
        "INSERT INTO memories (id, content, created_at, updated_at)
         VALUES (?1, ?2, '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z')",
        params![id, content],
    )
    .unwrap();
}

/// Upstream's checksums of 1..=30 followed by ours (1001-1006).
fn all_checksums() -> Vec<(i64, String)> {
    let mut sums = upstream_checksums();
    sums.extend(own_checksums());
    sums
}

#[test]
fn fresh_and_upstream_databases_both_end_at_our_latest_version() {
    assert_eq!(LATEST_VERSION, LATEST);
    let (_dir, db) = temp_db();
    assert_eq!(migrate_once(&db).to_version, LATEST);
    let (_dir, copy) = temp_db();
    std::fs::copy(fixture_dir().join("memories.db"), &copy).unwrap();
    let report = migrate_once(&copy);
    assert_eq!((report.from_version, report.to_version), (30, LATEST));
    let max = count(&plain(&copy), "SELECT MAX(version) FROM schema_migrations");
    assert_eq!(max, LATEST);
}

#[test]
fn fresh_database_gets_upstreams_v30_schema_plus_ours() {
    let (dir, db) = temp_db();
    let report = migrate_once(&db);
    assert_eq!((report.from_version, report.to_version), (0, LATEST));
    assert_eq!(report.applied, with_ours(1..=30));
    assert!(
        report.backup.is_none() && backups_in(dir.path()).is_empty(),
        "no backup of a new file"
    );

    let conn = plain(&db);
    assert_same_schema(&schema_of(&conn), &our_schema(false));
    let (versions, audit) = version_rows(&conn);
    let got: Vec<(i64, String)> = versions.iter().map(|(v, _, c)| (*v, c.clone())).collect();
    assert_eq!(got, all_checksums());
    for (version, applied_at, _) in &versions {
        let t = applied_at.as_bytes();
        assert!(
            t.len() == 24 && t[10] == b'T' && t[19] == b'.' && t[23] == b'Z',
            "v{version}: {applied_at}"
        );
    }
    let audited: Vec<(i64, String)> = audit.iter().map(|a| (a.1, a.4.clone().unwrap())).collect();
    assert_eq!(audited, all_checksums());
    assert!(audit.iter().all(|a| a.3.is_some_and(|ms| ms >= 0)));
}

#[test]
fn the_writer_does_not_enforce_foreign_keys() {
    // Upstream never enables them; the bundled SQLite would. Hard-deleting a memory that has
    // history rows must keep working as it does upstream.
    let (_dir, db) = temp_db();
    let (pool, _) = open_store(&db).unwrap();
    let enforced: i64 = pool
        .with_writer(|c| Ok(c.query_row("PRAGMA foreign_keys", [], |r| r.get(0))?))
        .unwrap();
    assert_eq!(enforced, 0);
    pool.write(|tx| {
        tx.execute_batch(
            "INSERT INTO memories (id, content, created_at, updated_at) VALUES ('m', 'x', 't', 't');
             INSERT INTO memory_history (id, memory_id, event, changed_by, created_at)
               VALUES ('h', 'm', 'created', 'x', 't');
             DELETE FROM memories WHERE id = 'm';",
        )?;
        Ok(())
    })
    .unwrap();
}

#[test]
fn reopening_a_current_database_applies_nothing() {
    let (dir, db) = fresh_db();
    let before = version_rows(&plain(&db));
    let report = migrate_once(&db);
    assert!(
        report.applied.is_empty() && report.backup.is_none(),
        "{report:?}"
    );
    assert_eq!((report.from_version, report.to_version), (LATEST, LATEST));
    assert_eq!(version_rows(&plain(&db)), before);
    assert!(backups_in(dir.path()).is_empty());
}

#[test]
fn older_database_converges_and_is_backed_up_first() {
    let (dir, db) = fresh_db();
    {
        let conn = plain(&db);
        insert_memory(&conn, "m1", "kept across the upgrade");
        conn.execute_batch(
            "DELETE FROM schema_migrations WHERE version > 20;
             DROP INDEX idx_memories_scope_user;
             ALTER TABLE memories DROP COLUMN scope_user;
             ALTER TABLE memories DROP COLUMN created_by;
             ALTER TABLE memories DROP COLUMN created_actor_type;
             ALTER TABLE memories DROP COLUMN created_session_id;
             ALTER TABLE memories DROP COLUMN created_request_id;
             DROP TABLE predictor_training_pairs;
             DROP TABLE memories_cold;
             DROP INDEX idx_memories_idempotency_key;
             DROP TABLE llm_calls;",
        )
        .unwrap();
    }
    let report = migrate_once(&db);
    assert_eq!(report.applied, with_ours(21..=30));
    assert_eq!((report.from_version, report.to_version), (20, LATEST));
    let backup = report.backup.expect("a backup before migrating");
    let name = backup.file_name().unwrap().to_string_lossy().into_owned();
    assert!(name.starts_with("memories.db.bak-v20-"), "{name}");
    assert_eq!(backups_in(dir.path()), vec![backup.clone()]);
    assert_eq!(
        count(
            &plain(&backup),
            "SELECT MAX(version) FROM schema_migrations"
        ),
        20
    );
    assert_eq!(count(&plain(&backup), "SELECT COUNT(*) FROM memories"), 1);

    let conn = plain(&db);
    // v6 ran long ago and is not re-run just for a missing index: only declared artifacts count.
    let mut want = our_schema(false);
    want.remove("idx_memories_idempotency_key");
    assert_same_schema(&schema_of(&conn), &want);
    assert_eq!(
        count(&conn, "SELECT COUNT(*) FROM memories WHERE id = 'm1'"),
        1
    );
    assert_eq!(
        count(&conn, "SELECT COUNT(*) FROM schema_migrations_audit"),
        52
    );
}

#[test]
fn phantom_migration_reruns() {
    let (dir, db) = fresh_db();
    plain(&db)
        .execute_batch("DROP TABLE predictor_training_pairs;")
        .unwrap();
    let report = migrate_once(&db);
    assert_eq!(report.phantom_versions, vec![26]);
    assert_eq!(report.applied, vec![26]);
    assert!(!report.bogus_version_repaired);
    let backup = report.backup.expect("backup");
    assert!(
        backup.to_string_lossy().contains(".bak-v1006-"),
        "{}",
        backup.display()
    );
    assert_eq!(backups_in(dir.path()).len(), 1);
    let conn = plain(&db);
    assert_same_schema(&schema_of(&conn), &our_schema(false));
    let (versions, audit) = version_rows(&conn);
    assert_eq!(versions.len(), 36);
    assert_eq!(
        (audit.len(), audit[36].1),
        (37, 26),
        "the audit keeps history and gains a row"
    );
}

#[test]
fn a_recorded_v1001_whose_column_is_missing_reruns() {
    let (_dir, db) = fresh_db();
    plain(&db)
        .execute_batch(
            "DROP INDEX idx_memories_scope_user;
             ALTER TABLE memories DROP COLUMN scope_user;
             ALTER TABLE memories DROP COLUMN created_by;
             ALTER TABLE memories DROP COLUMN created_actor_type;
             ALTER TABLE memories DROP COLUMN created_session_id;
             ALTER TABLE memories DROP COLUMN created_request_id;",
        )
        .unwrap();
    // (1005's columns go too, so that the columns come back in their order: 1005 reruns.)
    let report = migrate_once(&db);
    assert_eq!(report.phantom_versions, vec![1001, 1005]);
    assert_eq!(report.applied, vec![1001, 1005]);
    assert_same_schema(&schema_of(&plain(&db)), &our_schema(false));
}

#[test]
fn a_recorded_v1002_whose_table_is_missing_reruns_and_keeps_nothing_else() {
    let (_dir, db) = fresh_db();
    plain(&db).execute_batch("DROP TABLE llm_calls;").unwrap();
    let report = migrate_once(&db);
    assert_eq!(report.phantom_versions, vec![1002]);
    assert_eq!(report.applied, vec![1002]);
    assert_same_schema(&schema_of(&plain(&db)), &our_schema(false));
}

/// Builds the database upstream 0.58.1 would have left after version 1 (`through_v2 = false`)
/// or version 2, with upstream's original table texts (derived from the final texts by
/// removing what later `ALTER TABLE … ADD COLUMN`s appended). Records no versions.
fn build_upstream_db(conn: &Connection, through_v2: bool) {
    let memories = upstream_sql("memories");
    let (v1_memories, _) = memories.split_once("\n\t\t, content_hash").unwrap();
    let mut sql = vec![
        upstream_sql("schema_migrations"),
        upstream_sql("schema_migrations_audit"),
        upstream_sql("conversations"),
        format!("{v1_memories}\n\t\t)"),
        upstream_sql("embeddings"),
        "CREATE INDEX idx_embeddings_hash\n\t\t\tON embeddings(content_hash)".to_owned(),
    ];
    for name in [
        "idx_conversations_session",
        "idx_conversations_harness",
        "idx_memories_type",
        "idx_memories_category",
        "idx_memories_pinned",
        "idx_memories_importance",
        "idx_memories_created",
        "idx_embeddings_source",
        "memories_fts",
        "memories_ai",
        "memories_ad",
        "memories_au",
    ] {
        sql.push(upstream_sql(name));
    }
    if through_v2 {
        sql.extend(upstream_v2_sql());
    }
    for statement in sql {
        conn.execute_batch(&statement)
            .unwrap_or_else(|e| panic!("{e}: {statement}"));
    }
}

fn upstream_v2_sql() -> Vec<String> {
    let cut = |name: &str, appended: &str| {
        let text = upstream_sql(name);
        assert!(text.contains(appended), "{name}");
        text.replacen(appended, "", 1)
    };
    let entities = upstream_sql("entities");
    let jobs = upstream_sql("memory_jobs")
        .replacen("\"memory_jobs\"", "memory_jobs", 1)
        .replacen("memory_id TEXT,", "memory_id TEXT NOT NULL,", 1)
        .replacen("\n\t\t\tdocument_id TEXT,", "", 1);
    let mut sql: Vec<String> = [
        "content_hash TEXT",
        "normalized_content TEXT",
        "is_deleted INTEGER DEFAULT 0",
        "deleted_at TEXT",
        "extraction_status TEXT DEFAULT 'none'",
        "embedding_model TEXT",
        "extraction_model TEXT",
        "update_count INTEGER DEFAULT 0",
    ]
    .iter()
    .map(|column| format!("ALTER TABLE memories ADD COLUMN {column}"))
    .collect();
    sql.extend([
        cut(
            "memory_history",
            ", actor_type TEXT, session_id TEXT, request_id TEXT",
        ),
        jobs,
        format!(
            "{}\n\t\t)",
            entities.split_once("\n\t\t, canonical_name").unwrap().0
        ),
        cut(
            "relations",
            ", mentions INTEGER DEFAULT 1, confidence REAL DEFAULT 0.5, updated_at TEXT",
        ),
        cut(
            "memory_entity_mentions",
            ", mention_text TEXT, confidence REAL, created_at TEXT",
        ),
        "CREATE INDEX idx_memories_content_hash\n\t\t\tON memories(content_hash)".to_owned(),
    ]);
    for name in [
        "idx_memories_is_deleted",
        "idx_memories_extraction_status",
        "idx_memory_history_memory_id",
        "idx_memory_jobs_status",
        "idx_memory_jobs_memory_id",
        "idx_relations_source",
        "idx_relations_target",
        "idx_memory_entity_mentions_entity",
    ] {
        sql.push(upstream_sql(name));
    }
    sql
}

/// Records `versions` the way upstream does, with upstream's checksums.
fn record_versions(conn: &Connection, versions: std::ops::RangeInclusive<i64>) {
    for (version, sum) in upstream_checksums()
        .into_iter()
        .filter(|(v, _)| versions.contains(v))
    {
        conn.execute(
            "INSERT INTO schema_migrations (version, applied_at, checksum)
             VALUES (?1, '2026-01-01T00:00:00.000Z', ?2)",
            params![version, sum],
        )
        .unwrap();
    }
}

/// Adds a `vec0` virtual table the way upstream's file has one. The module is not loadable
/// here, exactly as when this build opens a real upstream file.
fn add_unloadable_vec_table(conn: &Connection) {
    conn.execute_batch(
        "PRAGMA writable_schema = ON;
         INSERT INTO sqlite_master (type, name, tbl_name, rootpage, sql)
           VALUES ('table', 'vec_embeddings', 'vec_embeddings', 0,
                   'CREATE VIRTUAL TABLE vec_embeddings USING vec0(embedding FLOAT[768])');
         PRAGMA writable_schema = OFF;",
    )
    .unwrap();
}

fn seed_v2_rows(conn: &Connection) {
    let rows = [
        ("older-live", "h1", 0, "2026-01-01T00:00:00.000Z"),
        ("newest-live", "h1", 0, "2026-01-02T00:00:00.000Z"),
        ("newer-deleted", "h1", 1, "2026-01-03T00:00:00.000Z"),
        ("other", "h2", 0, "2026-01-01T00:00:00.000Z"),
    ];
    for (id, hash, deleted, at) in rows {
        conn.execute(
            "INSERT INTO memories (id, content, created_at, updated_at, content_hash, is_deleted)
             VALUES (?1, ?1, ?2, ?2, ?3, ?4)",
            params![id, at, hash, deleted],
        )
        .unwrap();
    }
    conn.execute_batch(
        "INSERT INTO memory_jobs (id, memory_id, job_type, created_at, updated_at)
           VALUES ('job1', 'other', 'extract', 'a', 'b');
         INSERT INTO entities (id, name, entity_type, created_at, updated_at)
           VALUES ('e1', ' Alice  Smith ', 'person', 'a', 'b');
         INSERT INTO memory_history (id, memory_id, event, changed_by, created_at)
           VALUES ('h1', 'other', 'created', 'x', 'a');",
    )
    .unwrap();
}

#[test]
fn upstream_v2_database_converges_to_the_identical_schema() {
    let (dir, db) = temp_db();
    {
        let conn = plain(&db);
        build_upstream_db(&conn, true);
        record_versions(&conn, 1..=2);
        seed_v2_rows(&conn);
        add_unloadable_vec_table(&conn);
    }
    let report = migrate_once(&db);
    assert_eq!(report.applied, with_ours(3..=30));
    assert!(
        report
            .backup
            .is_some_and(|b| b.to_string_lossy().contains(".bak-v2-"))
    );
    assert_eq!(backups_in(dir.path()).len(), 1);

    let conn = plain(&db);
    // Tables grown by ALTER TABLE end up with upstream's exact text; the vec0 table is untouched.
    let mut schema = schema_of(&conn);
    let vec = schema.remove("vec_embeddings").expect("vec0 table kept");
    assert!(vec.2.contains("USING vec0"));
    assert_same_schema(&schema, &our_schema(false));

    let hash = |id: &str| -> Option<String> {
        scalar(
            &conn,
            "SELECT content_hash FROM memories WHERE id = ?1",
            [id],
        )
    };
    assert_eq!(
        hash("older-live"),
        None,
        "v3 keeps only the newest live duplicate's hash"
    );
    assert_eq!(hash("newest-live").as_deref(), Some("h1"));
    assert_eq!(
        hash("newer-deleted").as_deref(),
        Some("h1"),
        "tombstones are left alone"
    );
    assert_eq!(hash("other").as_deref(), Some("h2"));
    let job: (Option<String>, Option<String>) = conn
        .query_row(
            "SELECT memory_id, document_id FROM memory_jobs WHERE id = 'job1'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(
        job,
        (Some("other".to_owned()), None),
        "v30 rebuild keeps the rows"
    );
    let canonical: String = scalar(
        &conn,
        "SELECT canonical_name FROM entities WHERE id = 'e1'",
        [],
    );
    assert_eq!(canonical, "alice smith", "v27 backfill");
    conn.execute(
        "INSERT INTO memories_fts(memories_fts) VALUES('integrity-check')",
        [],
    )
    .unwrap();
}

#[test]
fn bogus_version_is_repaired_by_rerunning_everything() {
    let (_dir, db) = temp_db();
    {
        let conn = plain(&db);
        build_upstream_db(&conn, false);
        record_versions(&conn, 1..=30); // stamped, but memories has no content_hash
    }
    let report = migrate_once(&db);
    assert!(report.bogus_version_repaired);
    assert!(report.phantom_versions.is_empty());
    assert_eq!(report.applied, with_ours(1..=30));
    assert!(
        report
            .backup
            .is_some_and(|b| b.to_string_lossy().contains(".bak-v30-"))
    );
    let conn = plain(&db);
    assert_same_schema(&schema_of(&conn), &our_schema(false));
    assert_eq!(count(&conn, "SELECT COUNT(*) FROM schema_migrations"), 36);
}

#[test]
fn failing_migration_rolls_back_only_that_version() {
    let (_dir, db) = fresh_db();
    {
        let conn = plain(&db);
        conn.execute_batch(
            "DELETE FROM schema_migrations WHERE version = 29;
             DROP INDEX idx_summaries_kind;
             DROP INDEX idx_summaries_session_depth;
             INSERT INTO session_summaries
               (id, kind, content, earliest_at, latest_at, session_key, depth, created_at)
             VALUES ('a', 'session', 'x', 't', 't', 's1', 0, 't'),
                    ('b', 'session', 'y', 't', 't', 's1', 0, 't');",
        )
        .unwrap();
    }
    let err = match open_store(&db) {
        Ok(_) => panic!("v29 must fail on duplicate (session_key, depth) rows"),
        Err(e) => e,
    };
    let StoreError::Schema(message) = &err else {
        panic!("not a schema error: {err:?}")
    };
    assert!(
        message.starts_with("migration 29 (session-summary-dag) failed: "),
        "{message}"
    );

    let conn = plain(&db);
    let index = |name: &str| {
        count(
            &conn,
            &format!("SELECT COUNT(*) FROM sqlite_master WHERE name = '{name}'"),
        )
    };
    assert_eq!(
        index("idx_summaries_kind"),
        0,
        "created earlier in v29, rolled back"
    );
    assert_eq!(index("idx_summaries_session_depth"), 0);
    assert_eq!(
        count(
            &conn,
            "SELECT COUNT(*) FROM schema_migrations WHERE version = 29"
        ),
        0
    );
    assert_eq!(
        count(&conn, "SELECT COUNT(*) FROM schema_migrations_audit"),
        36
    );
}

#[test]
fn missing_full_text_index_is_recreated_and_rebuilt() {
    let (_dir, db) = fresh_db();
    {
        let conn = plain(&db);
        insert_memory(&conn, "m1", "the kettle is in the attic");
        conn.execute_batch(
            "DROP TRIGGER memories_ai; DROP TRIGGER memories_ad; DROP TRIGGER memories_au;
             DROP TABLE memories_fts;",
        )
        .unwrap();
        insert_memory(&conn, "m2", "the kettle whistles");
    }
    let report = migrate_once(&db);
    assert!(
        report.fts_rebuilt && report.applied.is_empty() && report.backup.is_none(),
        "{report:?}"
    );
    let conn = plain(&db);
    assert_same_schema(&schema_of(&conn), &our_schema(false));
    assert_eq!(
        count(
            &conn,
            "SELECT COUNT(*) FROM memories_fts WHERE memories_fts MATCH 'kettle'"
        ),
        2
    );
    conn.execute(
        "INSERT INTO memories_fts(memories_fts) VALUES('integrity-check')",
        [],
    )
    .unwrap();
    assert!(
        !migrate_once(&db).fts_rebuilt,
        "a healthy index is left alone"
    );
}

#[test]
fn backups_are_pruned_to_the_newest_five() {
    let (dir, db) = fresh_db();
    let old = SystemTime::now() - Duration::from_secs(3600);
    for i in 0..6u64 {
        let path = dir.path().join(format!("memories.db.bak-v29-{}", 1000 + i));
        std::fs::write(&path, b"old").unwrap();
        let file = std::fs::File::options().write(true).open(&path).unwrap();
        file.set_modified(old + Duration::from_secs(i)).unwrap();
    }
    let unrelated = dir.path().join("other.db.bak-v1-1");
    std::fs::write(&unrelated, b"not ours").unwrap();
    plain(&db).execute_batch("DROP TABLE umap_cache;").unwrap();

    let report = migrate_once(&db);
    let newest = report.backup.expect("backup");
    let kept = backups_in(dir.path());
    assert_eq!(kept.len(), 5, "{kept:?}");
    assert!(kept.contains(&newest));
    for gone in [1000, 1001] {
        assert!(
            !kept.contains(&dir.path().join(format!("memories.db.bak-v29-{gone}"))),
            "oldest {gone} kept"
        );
    }
    assert!(unrelated.exists(), "another database's backup was removed");
}

#[test]
fn versions_newer_than_this_build_are_tolerated() {
    // A newer upstream numbers its own migrations 31, 32, ...; ours live at 1001+, so they
    // never collide and both sets apply.
    let (_dir, db) = fresh_db();
    plain(&db)
        .execute(
            "INSERT INTO schema_migrations (version, applied_at, checksum) VALUES (31, 'x', ?1)",
            [checksum(31, "dependency-reason")],
        )
        .unwrap();
    let report = migrate_once(&db);
    assert!(report.applied.is_empty());
    assert_eq!((report.from_version, report.to_version), (LATEST, LATEST));
}

#[test]
fn a_v1001_recorded_by_another_program_is_refused() {
    // Same number, another migration: running on would skip ours.
    let (_dir, db) = fresh_db();
    plain(&db)
        .execute(
            "UPDATE schema_migrations SET checksum = ?1 WHERE version = 1001",
            [checksum(1001, "someone-elses-migration")],
        )
        .unwrap();
    let err = match open_store(&db) {
        Ok(_) => panic!("a foreign v1001 must be refused"),
        Err(e) => e,
    };
    assert!(
        matches!(&err, StoreError::Schema(m) if m.contains("memory-scope-user")),
        "{err:?}"
    );
}

#[test]
fn checksum_is_upstreams_java_string_hash() {
    assert_eq!(checksum(1, "baseline"), "-d014c92");
    assert_eq!(checksum(3, "unique-content-hash"), "635f2097");
    assert_eq!(checksum(30, "nullable-memory-job-memory-id"), "-6135fde6");
}

/// Upstream's versions in `upstream`, then ours.
fn with_ours(upstream: std::ops::RangeInclusive<i64>) -> Vec<i64> {
    upstream.chain(OURS.map(|(v, _)| v)).collect()
}
