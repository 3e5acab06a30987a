//! `signet export` / `signet import` and `POST /api/export` / `POST /api/import`: a lossless
//! round trip between two workspaces (rows, history, tombstones, vectors found by recall), no
//! duplicates on a second import, an interrupted import finished by a re-run, vectors of
//! another model refused and re-embedded, bad files named by line, and the export route's
//! admin guard and streaming through the client.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use rusqlite::{Connection, OpenFlags};
use serde_json::{Value, json};

use crate::support::{TestEnv, all_embedded, http_json, parse_pid, poll, remember_body, signal};

/// A daemon started with the hash test embedder (`SIGNET_EMBEDDER=hash:<dims>`), stopped on
/// drop.
struct Embedded {
    pid: u32,
}

impl Drop for Embedded {
    fn drop(&mut self) {
        signal(self.pid, "TERM");
    }
}

fn start_embedded(env: &TestEnv, dims: usize) -> Embedded {
    let out = env.home.path().join(format!("start-{dims}.out"));
    let status = env
        .command(&["daemon", "start"])
        .env("SIGNET_EMBEDDER", format!("hash:{dims}"))
        .stdout(File::create(&out).unwrap())
        .stderr(Stdio::inherit())
        .status()
        .unwrap();
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(status.success(), "daemon start failed: {text}");
    Embedded {
        pid: parse_pid(&text),
    }
}

fn db(env: &TestEnv) -> Connection {
    let path = env.workspace.join("memory/memories.db");
    Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap()
}

/// Every row of `sql` as JSON text, sorted.
fn rows(c: &Connection, sql: &str) -> Vec<String> {
    let mut stmt = c.prepare(sql).unwrap();
    let names: Vec<String> = stmt.column_names().map(|s| s.to_string()).collect();
    let mut out: Vec<String> = stmt
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
    out.sort();
    out
}

fn count(c: &Connection, sql: &str) -> i64 {
    c.query_row(sql, [], |r| r.get(0)).unwrap()
}

fn file(env: &TestEnv, name: &str) -> PathBuf {
    env.home.path().join(name)
}

fn path_str(p: &Path) -> &str {
    p.to_str().unwrap()
}

const MEMORIES: &str = "SELECT * FROM memories WHERE is_deleted = 0";
/// A tombstone comes without its vector (a recover re-embeds it), so without its model.
const TOMBSTONES: &str = "SELECT id, type, content, content_hash, normalized_content, tags, \
    who, project, pinned, importance, version, created_at, updated_at, deleted_at, source_type \
    FROM memories WHERE is_deleted = 1";
const HISTORY: &str = "SELECT * FROM memory_history";
const VECTORS: &str = "SELECT e.content_hash, e.vector, e.dimensions, e.source_type, e.source_id, \
    e.chunk_text FROM embeddings e JOIN memories m ON m.id = e.source_id WHERE m.is_deleted = 0";

#[test]
fn round_trip_keeps_rows_history_tombstones_and_vectors_and_a_second_import_adds_nothing() {
    let a = TestEnv::new();
    let _da = start_embedded(&a, 64);
    let kept = remember_body(
        a.port,
        json!({"content": "The deploy key rotates every Friday", "tags": "ops,security",
               "pinned": true, "importance": 0.9, "project": "acme", "who": "claude-code"}),
    );
    let changed = remember_body(
        a.port,
        json!({"content": "Staging runs on port 8443", "tags": "ops", "project": "acme"}),
    );
    let gone = remember_body(a.port, json!({"content": "The old VPN is retired"}));
    let patch = json!({"content": "Staging runs on port 9443", "reason": "moved"}).to_string();
    let v = http_json(
        a.port,
        "PATCH",
        &format!("/api/memory/{changed}"),
        &[],
        &patch,
    );
    assert_eq!(v["status"], "updated", "{v}");
    let reason = json!({"reason": "retired"}).to_string();
    let v = http_json(
        a.port,
        "DELETE",
        &format!("/api/memory/{gone}"),
        &[],
        &reason,
    );
    assert_eq!(v["status"], "deleted", "{v}");
    all_embedded(a.port);

    let full = file(&a, "full.jsonl");
    a.run(&[
        "export",
        "--with-vectors",
        "--include-deleted",
        "--to",
        path_str(&full),
    ])
    .ok();
    let live_only = a.run(&["export"]).ok().stdout.clone();
    assert!(
        !live_only.contains(&gone),
        "a tombstone without --include-deleted"
    );
    assert!(live_only.contains(&kept));
    let text = std::fs::read_to_string(&full).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines[0]["format"], "signet-export");
    assert_eq!(lines[0]["version"], 1);
    assert_eq!(lines[0]["embedding"]["model"], "test-hash");
    assert_eq!(lines[0]["embedding"]["dimensions"], 64);
    let end = lines.last().unwrap();
    assert_eq!(end["kind"], "end");
    assert_eq!(
        end["counts"],
        json!({"memories": 3, "history": 2, "vectors": 2})
    );

    let b = TestEnv::new();
    let _db = start_embedded(&b, 64);
    let report = b.run(&["import", path_str(&full), "--json"]).json();
    assert_eq!(
        report["memories"],
        json!({"imported": 3, "duplicates": 0, "skipped": 0})
    );
    // The update and the delete: a remember's `created` event lives on its row (migration 1005).
    assert_eq!(report["history"], 2);
    assert_eq!(
        report["vectors"],
        json!({"imported": 2, "refused": 0, "queued": 0})
    );
    assert_eq!(report["complete"], true);

    // Lossless: every column of every row, the history and the vectors are the same.
    let (ca, cb) = (db(&a), db(&b));
    assert_eq!(rows(&ca, MEMORIES), rows(&cb, MEMORIES));
    assert_eq!(rows(&ca, TOMBSTONES), rows(&cb, TOMBSTONES));
    assert_eq!(rows(&ca, HISTORY), rows(&cb, HISTORY));
    assert_eq!(rows(&ca, VECTORS), rows(&cb, VECTORS));
    let history = |port| {
        let path = format!("/api/memory/{changed}/history");
        http_json(port, "GET", &path, &[], "")["history"].clone()
    };
    let events = history(b.port);
    assert_eq!(
        events,
        history(a.port),
        "the created event came with the row"
    );
    assert_eq!(events[0]["event"], "created");
    assert_eq!(events[0]["newContent"], "Staging runs on port 8443");
    assert_eq!(events[1]["event"], "updated");
    assert_eq!(
        count(&cb, "SELECT COUNT(*) FROM memories WHERE is_deleted = 1"),
        1
    );

    // The imported vectors serve recall on the target at once.
    let q = json!({"query": "deploy key rotates Friday", "explain": true}).to_string();
    let found = http_json(b.port, "POST", "/api/memory/recall", &[], &q);
    let hit = found["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == kept.as_str())
        .unwrap_or_else(|| panic!("{found}"));
    assert!(
        hit["explain"]["vector"].as_f64().unwrap() > 0.0,
        "found by vector: {hit}"
    );
    assert_eq!(hit["pinned"], true);
    assert_eq!(hit["tags"], "ops,security");

    // A second import finds everything already there.
    let again = b.run(&["import", path_str(&full), "--json"]).json();
    assert_eq!(
        again["memories"],
        json!({"imported": 0, "duplicates": 3, "skipped": 0})
    );
    assert_eq!(again["history"], 0);
    assert_eq!(again["vectors"]["imported"], 0);
    assert_eq!(count(&cb, "SELECT COUNT(*) FROM memories"), 3);
    assert_eq!(count(&cb, "SELECT COUNT(*) FROM memory_history"), 2);
    // `-` reads stdin, streamed to the daemon as it is read.
    let piped = b
        .command(&["import", "-", "--json"])
        .stdin(File::open(&full).unwrap())
        .output()
        .unwrap();
    assert!(piped.status.success(), "{piped:?}");
    let piped: Value = serde_json::from_slice(&piped.stdout).unwrap();
    assert_eq!(piped["memories"]["duplicates"], 3);
    let human = b.run(&["import", path_str(&full)]).ok().stdout.clone();
    assert!(
        human.contains("imported 0 memories (3 duplicates, 0 skipped)"),
        "{human}"
    );
}

#[test]
fn an_interrupted_import_is_finished_by_a_rerun_without_duplicates() {
    let mut a = TestEnv::new();
    a.write_config("embedding:\n  provider: none\n");
    a.start_daemon();
    let n = 450;
    for i in 0..n {
        remember_body(
            a.port,
            json!({"content": format!("fact number {i} about the system"), "tags": "bulk"}),
        );
    }
    let full = file(&a, "full.jsonl");
    a.run(&["export", "--to", path_str(&full)]).ok();
    let bytes = std::fs::read(&full).unwrap();
    // Cut mid-line, about two thirds in: past the first batch, short of the end record.
    let cut = file(&a, "cut.jsonl");
    std::fs::write(&cut, &bytes[..bytes.len() * 2 / 3 + 7]).unwrap();

    // The target's daemon is down: the import writes the database directly.
    let b = TestEnv::new();
    let first = b.run(&["import", path_str(&cut)]);
    assert!(!first.status.success(), "a truncated file is an error");
    assert!(first.stderr.contains("truncated"), "{}", first.stderr);
    let partial = count(&db(&b), "SELECT COUNT(*) FROM memories");
    assert!(
        partial >= 200 && partial < n,
        "whole batches kept: {partial}"
    );
    assert!(
        first
            .stderr
            .contains(&format!("kept: {partial} memories imported")),
        "{}",
        first.stderr
    );

    let second = b.run(&["import", path_str(&full), "--json"]).json();
    assert_eq!(second["memories"]["imported"], n - partial);
    assert_eq!(second["memories"]["duplicates"], partial);
    assert_eq!(second["complete"], true);
    let c = db(&b);
    assert_eq!(count(&c, "SELECT COUNT(*) FROM memories"), n);
    assert_eq!(
        count(&c, "SELECT COUNT(DISTINCT content_hash) FROM memories"),
        n
    );
    assert_eq!(rows(&db(&a), HISTORY), rows(&c, HISTORY));
    assert_eq!(rows(&db(&a), MEMORIES), rows(&c, MEMORIES));

    // With its daemon down, the export reads the database itself.
    let again = file(&b, "again.jsonl");
    b.run(&["export", "--to", path_str(&again)]).ok();
    let text = std::fs::read_to_string(&again).unwrap();
    // Header, one line per memory (a remember's created event lives on its row), end.
    assert_eq!(text.lines().count() as i64, 1 + n + 1);
    assert!(!file(&b, "again.jsonl.partial").exists());
}

#[test]
fn vectors_of_another_model_are_refused_and_the_memories_embedded_anew() {
    let a = TestEnv::new();
    let _da = start_embedded(&a, 64);
    for s in ["alpha beta", "gamma delta", "epsilon zeta"] {
        remember_body(a.port, json!({ "content": s }));
    }
    all_embedded(a.port);
    let full = file(&a, "vectors.jsonl");
    a.run(&["export", "--with-vectors", "--to", path_str(&full)])
        .ok();

    let b = TestEnv::new();
    let _db = start_embedded(&b, 32);
    let report = b.run(&["import", path_str(&full), "--json"]).json();
    assert_eq!(report["memories"]["imported"], 3);
    assert_eq!(
        report["vectors"],
        json!({"imported": 0, "refused": 3, "queued": 3})
    );
    all_embedded(b.port);
    let c = db(&b);
    assert_eq!(
        count(&c, "SELECT COUNT(*) FROM embeddings WHERE dimensions = 32"),
        3
    );
    assert_eq!(
        count(&c, "SELECT COUNT(*) FROM embeddings WHERE dimensions <> 32"),
        0
    );
}

#[test]
fn bad_files_are_refused_naming_the_line_and_a_dry_run_writes_nothing() {
    let mut a = TestEnv::new();
    a.write_config("embedding:\n  provider: none\n");
    a.start_daemon();
    for i in 0..3 {
        remember_body(a.port, json!({ "content": format!("note {i}") }));
    }
    let good = a.run(&["export"]).ok().stdout.clone();
    let lines: Vec<&str> = good.lines().collect();
    let b = TestEnv::new();
    let write = |name: &str, text: String| {
        let p = file(&b, name);
        std::fs::write(&p, text).unwrap();
        p
    };

    let mut garbage = lines.clone();
    garbage.insert(2, "{this is not json");
    let p = write("garbage.jsonl", garbage.join("\n") + "\n");
    let out = b.run(&["import", path_str(&p)]);
    assert!(!out.status.success());
    assert!(
        out.stderr.contains("line 3: not valid JSON"),
        "{}",
        out.stderr
    );

    let no_end = write("no-end.jsonl", lines[..lines.len() - 1].join("\n") + "\n");
    let out = b.run(&["import", path_str(&no_end)]);
    assert!(!out.status.success());
    assert!(
        out.stderr.contains("without its end record"),
        "{}",
        out.stderr
    );

    let future = lines[0].replace("\"version\":1", "\"version\":2");
    let mut newer = lines.clone();
    newer[0] = &future;
    let p = write("future.jsonl", newer.join("\n") + "\n");
    let out = b.run(&["import", path_str(&p)]);
    assert!(out.stderr.contains("format version 2"), "{}", out.stderr);

    let p = write("other.jsonl", "{\"hello\": 1}\n".into());
    let out = b.run(&["import", path_str(&p)]);
    assert!(
        out.stderr.contains("line 1: not a signet export"),
        "{}",
        out.stderr
    );

    // Through the daemon the same refusal is a 400 naming the line.
    let out = a.run(&["import", path_str(&file(&b, "garbage.jsonl"))]);
    assert!(out.stderr.contains("400"), "{}", out.stderr);
    assert!(out.stderr.contains("line 3"), "{}", out.stderr);

    let c = TestEnv::new();
    let good_file = write("good.jsonl", good.clone());
    let dry = c
        .run(&["import", path_str(&good_file), "--dry-run", "--json"])
        .json();
    assert_eq!(dry["dryRun"], true);
    assert_eq!(dry["memories"]["imported"], 3);
    assert_eq!(count(&db(&c), "SELECT COUNT(*) FROM memories"), 0);
}

#[test]
fn export_requires_admin_and_streams_through_the_client() {
    let mut env = TestEnv::new();
    env.write_config("auth:\n  mode: team\nembedding:\n  provider: none\n");
    let token = |role: &str| {
        env.run(&["token", "create", "--role", role, "--sub", role])
            .ok()
            .stdout
            .trim()
            .to_owned()
    };
    let (admin, agent) = (token("admin"), token("agent"));
    env.start_daemon();
    let bearer = format!("authorization: Bearer {admin}");
    for i in 0..250 {
        let body = json!({ "content": format!("team memory {i}") }).to_string();
        let v = http_json(env.port, "POST", "/api/memory/remember", &[&bearer], &body);
        assert!(v["id"].is_string(), "{v}");
    }
    let agent_bearer = format!("authorization: Bearer {agent}");
    let denied = http_json(env.port, "POST", "/api/export", &[&agent_bearer], "{}");
    assert!(
        denied["error"].as_str().unwrap().contains("admin"),
        "{denied}"
    );
    let anonymous = http_json(env.port, "POST", "/api/export", &[], "{}");
    assert!(anonymous["error"].is_string(), "{anonymous}");
    let bad = http_json(
        env.port,
        "POST",
        "/api/export",
        &[&bearer],
        r#"{"withVector": true}"#,
    );
    assert!(
        bad["error"].as_str().unwrap().contains("withVector"),
        "{bad}"
    );
    let refused = env.run(&["export", "--token", &agent]);
    assert!(!refused.status.success());

    let url = format!("http://127.0.0.1:{}", env.port);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (chunks, body) = rt.block_on(async {
        let client = signet_client::Client::new(url)
            .unwrap()
            .with_token(Some(admin.clone()));
        let mut stream = client
            .export(&signet_api::ExportRequest::default())
            .await
            .unwrap();
        let (mut chunks, mut body) = (0, Vec::new());
        while let Some(c) = stream.chunk().await.unwrap() {
            chunks += 1;
            body.extend(c);
        }
        let report = client.import(body.clone(), false).await.unwrap();
        assert_eq!(report.memories.duplicates, 250);
        (chunks, body)
    });
    assert!(chunks > 1, "the export arrives in more than one chunk");
    let text = String::from_utf8(body).unwrap();
    assert_eq!(text.lines().count(), 1 + 250 + 1);
    assert!(text.lines().last().unwrap().contains("\"memories\":250"));

    let cli = env.run(&["export", "--token", &admin]).ok().stdout.clone();
    assert_eq!(cli.lines().count(), 1 + 250 + 1);
}

/// A synthetic export of `n` memories, each with one history row.
fn synthetic(n: usize) -> String {
    let at = "2026-01-01T00:00:00.000Z";
    let mut out = format!(
        "{}\n",
        json!({"format": "signet-export", "version": 1, "createdAt": at,
               "source": {"software": "test"}, "embedding": null, "options": {}})
    );
    for i in 0..n {
        let (id, content) = (format!("mem-{i:06}"), format!("synthetic memory {i}"));
        let row = json!({"id": id, "content": content, "normalized_content": content,
            "content_hash": format!("hash-{i:06}"), "type": "fact", "tags": "synthetic",
            "pinned": i % 7 == 0, "importance": 0.5, "is_deleted": 0, "created_at": at,
            "updated_at": at, "updated_by": "test", "who": "test", "version": 1});
        out.push_str(&json!({"kind": "memory", "row": row}).to_string());
        out.push('\n');
        let h = json!({"id": format!("hist-{i:06}"), "memory_id": id, "event": "created",
            "new_content": content, "changed_by": "test", "created_at": at});
        out.push_str(&json!({"kind": "history", "row": h}).to_string());
        out.push('\n');
    }
    out.push_str(
        &json!({"kind": "end", "counts": {"memories": n, "history": n, "vectors": 0}}).to_string(),
    );
    out.push('\n');
    out
}

#[test]
fn an_import_killed_midway_is_finished_by_a_rerun_exactly() {
    let n = 8_000;
    let env = TestEnv::new();
    let path = file(&env, "big.jsonl");
    std::fs::write(&path, synthetic(n)).unwrap();
    let dbfile = env.workspace.join("memory/memories.db");
    let mut child = env
        .command(&["import", path_str(&path)])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Kill it once some batches are in (if it won the race and finished, the re-run below
    // still has to find everything exactly once).
    poll("the first batches committed", || {
        let c = Connection::open_with_flags(&dbfile, OpenFlags::SQLITE_OPEN_READ_ONLY).ok()?;
        let k: i64 = c
            .query_row("SELECT COUNT(*) FROM memories", [], |r| r.get(0))
            .ok()?;
        (k >= 400).then_some(())
    });
    child.kill().unwrap();
    child.wait().unwrap();
    let partial = count(&db(&env), "SELECT COUNT(*) FROM memories");
    assert_eq!(partial % 200, 0, "whole batches only: {partial}");
    assert_eq!(
        count(&db(&env), "SELECT COUNT(*) FROM memory_history"),
        partial,
        "each memory with its history"
    );

    let report = env.run(&["import", path_str(&path), "--json"]).json();
    assert_eq!(report["memories"]["imported"], n as i64 - partial);
    assert_eq!(report["memories"]["duplicates"], partial);
    assert_eq!(report["history"], n as i64 - partial);
    let c = db(&env);
    assert_eq!(count(&c, "SELECT COUNT(*) FROM memories"), n as i64);
    assert_eq!(count(&c, "SELECT COUNT(*) FROM memory_history"), n as i64);
    assert_eq!(
        count(
            &c,
            "SELECT COUNT(*) FROM memories WHERE id = 'mem-000007' AND pinned = 1"
        ),
        1
    );
}
