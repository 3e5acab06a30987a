//! `signet migrate` between SQLite and PostgreSQL, and backups of a PostgreSQL workspace: a
//! workspace with every kind of row (live, edited and deleted memories with history, vectors
//! from the hash embedder, entities, relations, mentions, a document, jobs, the LLM ledger,
//! session rows) moves to PostgreSQL and back into a new SQLite file table for table, the
//! verification passes both ways and catches a difference; a non-empty target is refused
//! unless `--force`; bad flags are named; a daemon on the migrated database recalls the
//! memories; `signet backup` / `signet restore` and the scheduled worker on PostgreSQL.
//!
//! The PostgreSQL tests use the server `SIGNET_TEST_PG_URL` names, a fresh schema each (dropped
//! at the end); without it they fail when `SIGNET_REQUIRE_ALL=1` and are skipped, saying so.

use std::path::{Path, PathBuf};

use rusqlite::Connection;
use serde_json::{Value, json};

use crate::postgres_nodes::Db;
use crate::support::{
    Out, TestEnv, all_embedded, http_json, is_alive, parse_pid, poll, remember_body, signal,
};

/// A daemon started with the hash test embedder; [`Daemon::stop`] stops it and waits, drop
/// only signals it.
struct Daemon {
    pid: u32,
}

impl Daemon {
    fn start(env: &TestEnv) -> Self {
        let out = env
            .command(&["daemon", "start"])
            .env("SIGNET_EMBEDDER", "hash:64")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "daemon start failed: {text} {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Self {
            pid: parse_pid(&text),
        }
    }
}

impl Daemon {
    fn stop(self, env: &TestEnv) {
        env.run(&["daemon", "stop"]).ok();
        poll("the daemon to stop", || (!is_alive(self.pid)).then_some(()));
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        signal(self.pid, "TERM");
    }
}

fn db_path(env: &TestEnv) -> PathBuf {
    env.workspace.join("memory/memories.db")
}

const T: &str = "2026-03-02T12:00:00.000Z";

/// A workspace with every kind of row; returns the id of a live memory and its content.
fn fill(env: &TestEnv) -> (String, &'static str) {
    let d = Daemon::start(env);
    let content = "The deploy key rotates every Friday";
    let kept = remember_body(
        env.port,
        json!({"content": content, "tags": "ops,security", "pinned": true,
               "importance": 0.9, "project": "acme"}),
    );
    let changed = remember_body(env.port, json!({"content": "Staging runs on port 8443"}));
    let gone = remember_body(env.port, json!({"content": "The old VPN is retired"}));
    let patch = json!({"content": "Staging runs on port 9443", "reason": "moved"}).to_string();
    let v = http_json(
        env.port,
        "PATCH",
        &format!("/api/memory/{changed}"),
        &[],
        &patch,
    );
    assert_eq!(v["status"], "updated", "{v}");
    let reason = json!({"reason": "retired"}).to_string();
    let v = http_json(
        env.port,
        "DELETE",
        &format!("/api/memory/{gone}"),
        &[],
        &reason,
    );
    assert_eq!(v["status"], "deleted", "{v}");
    all_embedded(env.port);
    d.stop(env);

    // The graph, a document, jobs, the ledger and a session: the tables the export shape
    // does not carry.
    let c = Connection::open(db_path(env)).unwrap();
    c.execute_batch(&format!(
        "INSERT INTO entities (id, name, entity_type, created_at, updated_at, mentions) \
           VALUES ('e1', 'Friday', 'time', '{T}', '{T}', 2), ('e2', 'deploy key', 'thing', '{T}', '{T}', 1);
         INSERT INTO relations (id, source_entity_id, target_entity_id, relation_type, strength, created_at) \
           VALUES ('r1', 'e2', 'e1', 'rotates_on', 0.75, '{T}');
         INSERT INTO memory_entity_mentions (memory_id, entity_id, mention_text, confidence, created_at) \
           VALUES ('{kept}', 'e1', 'Friday', 0.5, '{T}');
         INSERT INTO documents (id, source_type, title, raw_content, status, created_at, updated_at, chunk_count) \
           VALUES ('d1', 'text', 'Runbook', 'Rotate the deploy key.', 'done', '{T}', '{T}', 1);
         INSERT INTO document_memories (document_id, memory_id, chunk_index) VALUES ('d1', '{kept}', 0);
         INSERT INTO memory_jobs (id, memory_id, job_type, status, attempts, created_at, updated_at) \
           VALUES ('j1', '{kept}', 'extract', 'dead', 3, '{T}', '{T}');
         INSERT INTO llm_calls (created_at, provider, model, purpose, input_tokens, output_tokens, outcome) \
           VALUES ('{T}', 'ollama', 'qwen3:4b', 'extract', 120, 30, 'ok');
         INSERT INTO session_memories (id, session_key, memory_id, source, final_score, rank, was_injected, created_at) \
           VALUES ('sm1', 's1', '{kept}', 'recall', 0.5, 0, 1, '{T}');"
    ))
    .unwrap();
    (kept, content)
}

/// Every row of every table both backends model, as sorted JSON text, keyed by table.
fn tables(db: &Path) -> Vec<(String, Vec<String>)> {
    let c = Connection::open(db).unwrap();
    let mut out = Vec::new();
    for table in signet_model::tables::MODEL_TABLES {
        let mut stmt = c.prepare(&format!("SELECT * FROM {table}")).unwrap();
        let names: Vec<String> = stmt.column_names().map(|s| s.to_string()).collect();
        let mut rows: Vec<String> = stmt
            .query_map([], |r| {
                let mut o = serde_json::Map::new();
                for (i, n) in names.iter().enumerate() {
                    let v = match r.get_ref(i)? {
                        rusqlite::types::ValueRef::Null => Value::Null,
                        rusqlite::types::ValueRef::Integer(n) => json!(n),
                        rusqlite::types::ValueRef::Real(f) => json!(f),
                        rusqlite::types::ValueRef::Text(t) => json!(String::from_utf8_lossy(t)),
                        rusqlite::types::ValueRef::Blob(b) => json!(b),
                    };
                    o.insert(n.clone(), v);
                }
                Ok(Value::Object(o).to_string())
            })
            .unwrap()
            .map(Result::unwrap)
            .collect();
        rows.sort();
        out.push((table.to_owned(), rows));
    }
    out
}

fn sqlite_arg(p: &Path) -> String {
    format!("sqlite:{}", p.display())
}

/// `signet --json migrate ARGS`, successful; its summary.
fn migrate_ok(env: &TestEnv, args: &[&str]) -> Value {
    let mut all = vec!["--json", "migrate"];
    all.extend_from_slice(args);
    let out = env.run(&all);
    assert!(out.status.success(), "migrate {args:?} failed: {out:?}");
    let v: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v["verified"], true, "{v}");
    v
}

fn table_of<'a>(summary: &'a Value, table: &str) -> &'a Value {
    summary["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["table"] == table)
        .unwrap_or_else(|| panic!("no {table} in {summary}"))
}

/// `signet export --include-deleted --with-vectors` of a workspace whose daemon is down,
/// without the header line (it names the time of the export).
fn export_body(env: &TestEnv) -> Vec<String> {
    let out = env.run(&["export", "--include-deleted", "--with-vectors"]);
    assert!(out.status.success(), "{out:?}");
    out.stdout
        .lines()
        .filter(|l| !l.contains("\"signet-export\""))
        .map(str::to_owned)
        .collect()
}

fn failed(out: &Out) -> &str {
    assert!(!out.status.success(), "expected a failure: {out:?}");
    &out.stderr
}

#[test]
fn a_workspace_moves_to_postgres_and_back_verified_and_a_daemon_there_recalls_it() {
    let Some(pg) = Db::new() else { return };
    let a = TestEnv::new();
    let (kept, content) = fill(&a);
    let original = tables(&db_path(&a));
    let sizes: Vec<(&str, usize)> = original
        .iter()
        .map(|(t, r)| (t.as_str(), r.len()))
        .collect();
    for (table, n) in [
        ("memories", 3),
        ("entities", 2),
        ("relations", 1),
        ("llm_calls", 1),
    ] {
        assert!(sizes.contains(&(table, n)), "{sizes:?}");
    }
    assert!(
        original
            .iter()
            .any(|(t, r)| t == "embeddings" && r.len() >= 2)
    );
    assert!(
        original
            .iter()
            .any(|(t, r)| t == "memory_history" && r.len() >= 2)
    );

    let to_pg = migrate_ok(
        &a,
        &[
            "--from",
            &sqlite_arg(&db_path(&a)),
            "--to",
            &pg.url,
            "--to-schema",
            &pg.schema,
        ],
    );
    assert_eq!(table_of(&to_pg, "memories")["targetRows"], 3, "{to_pg}");
    assert_eq!(table_of(&to_pg, "llm_calls")["copied"], 1, "{to_pg}");
    let again = migrate_ok(
        &a,
        &[
            "--verify-only",
            "--from",
            &sqlite_arg(&db_path(&a)),
            "--to",
            &pg.url,
            "--to-schema",
            &pg.schema,
        ],
    );
    assert_eq!(again["copied"], false);

    // Back into a new SQLite file, in a workspace of its own: the same rows, table for table,
    // and the same export.
    let b = TestEnv::new();
    let to_b = sqlite_arg(&db_path(&b));
    let back_args = [
        "--from",
        &pg.url,
        "--from-schema",
        &pg.schema,
        "--to",
        &to_b,
    ];
    let back = migrate_ok(&b, &back_args);
    assert_eq!(table_of(&back, "memory_history")["ok"], true);
    let returned = tables(&db_path(&b));
    for ((table, rows), (_, back_rows)) in original.iter().zip(&returned) {
        assert_eq!(
            rows, back_rows,
            "{table} differs after SQLite -> PostgreSQL -> SQLite"
        );
    }
    assert_eq!(export_body(&a), export_body(&b));

    // The human table, and a difference named by table with a failing status.
    let verify_back = || {
        let mut args = vec!["migrate", "--verify-only"];
        args.extend(back_args);
        b.run(&args)
    };
    let out = verify_back();
    assert!(out.status.success(), "{out:?}");
    assert!(
        out.stdout.contains("memory_history") && out.stdout.contains(" ok"),
        "{}",
        out.stdout
    );
    Connection::open(db_path(&b))
        .unwrap()
        .execute("UPDATE relations SET strength = 0.5", [])
        .unwrap();
    let out = verify_back();
    let err = failed(&out);
    assert!(
        err.contains("verification failed: relations differ"),
        "{err}"
    );
    assert!(out.stdout.contains("MISMATCH"), "{}", out.stdout);

    // The ledger's ids were copied as they were; the next call recorded there gets a new one.
    let next: i64 = pg
        .client()
        .query_one(
            &format!(
                "INSERT INTO {}.llm_calls (created_at, provider, model, purpose, outcome) \
                 VALUES ('{T}', 'p', 'm', 'extract', 'ok') RETURNING id",
                pg.schema
            ),
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(next, 2);

    // A daemon on the migrated database finds the memories (keyword and vector).
    let c = TestEnv::new();
    c.write_config(&pg.storage_yaml());
    let _d = Daemon::start(&c);
    let body = json!({"query": "deploy key rotates", "limit": 5}).to_string();
    let found = http_json(c.port, "POST", "/api/memory/recall", &[], &body);
    let ids: Vec<&str> = found["results"]
        .as_array()
        .unwrap_or_else(|| panic!("{found}"))
        .iter()
        .filter_map(|r| r["id"].as_str())
        .collect();
    assert!(ids.contains(&kept.as_str()), "{content}: {found}");
}

#[test]
fn a_non_empty_target_is_refused_unless_forced() {
    let Some(pg) = Db::new() else { return };
    let a = TestEnv::new();
    fill(&a);
    let from = sqlite_arg(&db_path(&a));
    let args = [
        "migrate",
        "--from",
        &from,
        "--to",
        &pg.url,
        "--to-schema",
        &pg.schema,
    ];
    migrate_ok(&a, &args[1..]);
    let err = failed(&a.run(&args)).to_owned();
    assert!(
        err.contains("--to:") && err.contains("pass --force"),
        "{err}"
    );
    assert!(err.contains("memories: 3"), "{err}");
    let mut forced = args[1..].to_vec();
    forced.push("--force");
    let v = migrate_ok(&a, &forced);
    assert_eq!(table_of(&v, "memories")["targetRows"], 3, "{v}");

    // A SQLite target that holds rows is refused too.
    let b = TestEnv::new();
    fill(&b);
    let err = failed(&b.run(&[
        "migrate",
        "--from",
        &pg.url,
        "--from-schema",
        &pg.schema,
        "--to",
        &sqlite_arg(&db_path(&b)),
    ]))
    .to_owned();
    assert!(err.contains("pass --force"), "{err}");
}

#[test]
fn bad_sources_and_targets_are_named_by_flag_and_a_running_daemon_is_refused() {
    let mut env = TestEnv::new();
    let missing = env.home.path().join("nope/memories.db");
    let out = env.run(&[
        "migrate",
        "--from",
        &sqlite_arg(&missing),
        "--to",
        "sqlite:/tmp/x.db",
    ]);
    assert!(
        failed(&out).contains("--from: no SQLite database at"),
        "{out:?}"
    );
    let out = env.run(&[
        "migrate",
        "--from",
        "mysql://u@h/db",
        "--to",
        "sqlite:/tmp/x.db",
    ]);
    assert!(
        failed(&out).contains("--from: unknown scheme mysql://"),
        "{out:?}"
    );
    let out = env.run(&["migrate", "--from", "sqlite:", "--to", "sqlite:/tmp/x.db"]);
    assert!(
        failed(&out).contains("--from: sqlite: names no file"),
        "{out:?}"
    );

    // A server that is not there: the error names the flag, never the password.
    env.start_daemon();
    let db = db_path(&env);
    let out = env.run(&[
        "migrate",
        "--from",
        &sqlite_arg(&db),
        "--to",
        "postgres://signet:hunter2@127.0.0.1:1/signet",
    ]);
    let err = failed(&out);
    assert!(err.contains("--from: the signet daemon (pid"), "{err}");
    let other = env.home.path().join("other.db");
    std::fs::copy(&db, &other).unwrap();
    let out = env.run(&[
        "migrate",
        "--from",
        &sqlite_arg(&other),
        "--to",
        "postgres://signet:hunter2@127.0.0.1:1/signet",
    ]);
    let err = failed(&out);
    assert!(err.contains("--to: opening postgres://signet:"), "{err}");
    assert!(
        !err.contains("hunter2") && !out.stdout.contains("hunter2"),
        "{err}"
    );
    let out = env.run(&[
        "migrate",
        "--from",
        &sqlite_arg(&other),
        "--to",
        "postgres://signet:$MIGRATE_TEST_NO_SUCH_VAR@127.0.0.1:1/signet",
    ]);
    assert!(failed(&out).contains("--to"), "{out:?}");
}

fn backup_json(env: &TestEnv, dir: &Path) -> Value {
    let out = env.run(&["--json", "backup", "--to", dir.to_str().unwrap()]);
    out.json()
}

#[test]
fn a_postgres_workspace_backs_up_to_a_verified_dump_and_restores_from_it() {
    let Some(pg) = Db::new() else { return };
    let env = TestEnv::new();
    env.write_config(&pg.storage_yaml());
    let d = Daemon::start(&env);
    let kept = remember_body(
        env.port,
        json!({"content": "The backup bucket lives in eu-west-2"}),
    );
    remember_body(env.port, json!({"content": "Nightly jobs start at 02:00"}));
    all_embedded(env.port);
    let dir = env.home.path().join("backups");
    let made = backup_json(&env, &dir);
    assert_eq!(made["database"]["backend"], "postgres", "{made}");
    assert_eq!(made["database"]["memories"], 2, "{made}");
    let folder = PathBuf::from(made["backup"].as_str().unwrap());
    assert!(folder.join("memory/memories.db").is_file());
    assert!(folder.join("agent.yaml").is_file());
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(folder.join("manifest.json")).unwrap())
            .unwrap();
    assert_eq!(manifest["dump"]["backend"], "postgres", "{manifest}");
    d.stop(&env);

    // The database is lost; the restore brings it back, and the daemon finds the memory.
    pg.drop_schema();
    let out = env.run(&["--json", "restore", folder.to_str().unwrap()]);
    let restored = out.json();
    assert_eq!(restored["database"]["memories"], 2, "{restored}");
    let err = failed(&env.run(&["restore", folder.to_str().unwrap()])).to_owned();
    assert!(err.contains("pass --force"), "{err}");
    env.run(&["restore", "--force", folder.to_str().unwrap()])
        .ok();
    let _d = Daemon::start(&env);
    let body = json!({"query": "backup bucket", "limit": 5}).to_string();
    let found = http_json(env.port, "POST", "/api/memory/recall", &[], &body);
    assert!(found.to_string().contains(&kept), "{found}");
}

#[test]
fn the_scheduled_backup_of_a_postgres_workspace_is_a_dump() {
    let Some(pg) = Db::new() else { return };
    let env = TestEnv::new();
    let dir = env.home.path().join("scheduled");
    env.write_config(&format!(
        "{}backup:\n  schedule: 1h\n  dir: {}\n  keep: 2\n",
        pg.storage_yaml(),
        dir.display()
    ));
    let _d = Daemon::start(&env);
    remember_body(
        env.port,
        json!({"content": "Scheduled backups cover PostgreSQL too"}),
    );
    let manifest = poll("a scheduled backup", || {
        let entry = std::fs::read_dir(&dir).ok()?.flatten().next()?;
        let text = std::fs::read_to_string(entry.path().join("manifest.json")).ok()?;
        serde_json::from_str::<Value>(&text).ok()
    });
    assert_eq!(manifest["dump"]["backend"], "postgres", "{manifest}");
    assert!(
        manifest["dump"]["tables"]
            .as_array()
            .is_some_and(|t| t.iter().any(|t| t["table"] == "memories")),
        "{manifest}"
    );
}
