//! Daemons on a PostgreSQL database with pgvector (`storage.pgvector`): vector search runs in
//! the database, no node holds vectors in memory, and a second node recalls the first node's
//! vectors at once; `on` against a server without the extension stops start-up.
//!
//! The server is the one `SIGNET_TEST_PGVECTOR_URL` names (scripts/test.sh starts one from
//! scripts/fetch-pgvector-server.sh); "without" is `SIGNET_TEST_PG_URL`'s. Each test works in
//! a scratch schema. Without the variable a test fails when `SIGNET_REQUIRE_ALL=1` and is
//! skipped, saying so, otherwise.

use std::process::Stdio;

use serde_json::{Value, json};

use crate::postgres_nodes::Db;
use crate::support::{TestEnv, http_json, parse_pid, pg_server_url, pgvector_url, poll, remember};

/// A workspace on `db` with `storage.pgvector` set.
fn node(db: &Db, pgvector: &str) -> TestEnv {
    let env = TestEnv::new();
    env.write_config(&format!("{}  pgvector: '{pgvector}'\n", db.storage_yaml()));
    env
}

/// `signet daemon start` with the 384-dimension hash embedder: the pid (the env kills it on
/// drop), or what a start that failed printed.
fn start(env: &TestEnv) -> Result<u32, String> {
    let out = env
        .command(&["daemon", "start"])
        .env("SIGNET_EMBEDDER", "hash:384")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    if out.status.success() {
        Ok(parse_pid(&stdout))
    } else {
        Err(format!("{stdout}\n{stderr}"))
    }
}

fn recall(port: u16, query: &str, mode: &str) -> Vec<Value> {
    let body = json!({"query": query, "mode": mode, "limit": 5}).to_string();
    let v = http_json(port, "POST", "/api/memory/recall", &[], &body);
    v["results"]
        .as_array()
        .unwrap_or_else(|| panic!("recall answered {v}"))
        .clone()
}

fn ids(results: &[Value]) -> Vec<String> {
    results
        .iter()
        .filter_map(|r| r["id"].as_str().map(str::to_owned))
        .collect()
}

fn embeddings(port: u16) -> Value {
    http_json(port, "GET", "/api/embeddings/status", &[], "")
}

#[test]
fn daemons_on_pgvector_search_in_the_database_and_hold_no_vectors() {
    let Some(url) = pgvector_url() else { return };
    let db = Db::at(url);
    let a = node(&db, "on");
    start(&a).expect("a starts on pgvector");
    let status = http_json(a.port, "GET", "/api/status", &[], "");
    let storage = &status["storage"];
    assert_eq!(storage["vectorIndex"], "pgvector", "{storage}");
    assert_eq!(storage["pgvector"]["used"], true, "{storage}");
    let reason = storage["pgvector"]["reason"].as_str().unwrap_or_default();
    assert!(reason.contains("HNSW"), "{reason}");

    let id = remember(
        a.port,
        "The billing database fails over to the Frankfurt replica",
    );
    poll("a's memory to get its vector", || {
        (embeddings(a.port)["coverage"]["current"] == 1).then_some(())
    });
    // Hybrid recall: the vector leg (in the database) found it as well as the keywords.
    let hits = recall(a.port, "billing database failover", "hybrid");
    assert_eq!(ids(&hits), vec![id.clone()], "{hits:?}");
    assert_eq!(hits[0]["source"], "hybrid", "{hits:?}");
    assert_eq!(
        ids(&recall(a.port, "billing database fails", "vector")),
        vec![id.clone()]
    );
    let index = &embeddings(a.port)["index"];
    assert_eq!(index["state"], "ready", "{index}");
    assert_eq!(index["servedBy"], "pgvector", "{index}");
    assert_eq!(index["vectors"], 0, "no vectors in the daemon: {index}");
    assert_eq!(index["memoryBytes"], 0, "{index}");

    // A second node (auto) finds a's vector at once: there is no index of its own to fill.
    let b = node(&db, "auto");
    start(&b).expect("b starts");
    let status = http_json(b.port, "GET", "/api/status", &[], "");
    assert_eq!(status["storage"]["vectorIndex"], "pgvector", "{status}");
    assert_eq!(
        ids(&recall(b.port, "billing database fails", "vector")),
        vec![id.clone()]
    );
    assert_eq!(embeddings(b.port)["index"]["vectors"], 0);

    // b's writes are a's too; a forget on a hides the memory from b's vector recall.
    let from_b = remember(b.port, "Grace rotates the on-call schedule every Monday");
    poll("b's memory to be found by vector on a", || {
        ids(&recall(
            a.port,
            "Grace rotates the on-call schedule",
            "vector",
        ))
        .contains(&from_b)
        .then_some(())
    });
    let v = http_json(
        a.port,
        "DELETE",
        &format!("/api/memory/{id}"),
        &[],
        r#"{"reason": "x"}"#,
    );
    assert_eq!(v["status"], "deleted", "{v}");
    let after = ids(&recall(b.port, "billing database fails", "vector"));
    assert!(!after.contains(&id), "{after:?}");
}

#[test]
fn pgvector_on_without_the_extension_stops_start_up_and_off_keeps_the_in_process_index() {
    let Some(url) = pg_server_url() else { return };
    let db = Db::at(url);
    let on = node(&db, "on");
    let err = start(&on).expect_err("pgvector: on needs the extension");
    assert!(err.contains("storage.pgvector"), "{err}");
    let Some(url) = pgvector_url() else { return };
    let db = Db::at(url);
    let off = node(&db, "off");
    start(&off).expect("off starts");
    let status = http_json(off.port, "GET", "/api/status", &[], "");
    assert_eq!(status["storage"]["vectorIndex"], "in-process", "{status}");
    assert_eq!(status["storage"]["pgvector"]["used"], false, "{status}");
    assert_eq!(status["storage"]["pgvector"]["available"], true, "{status}");
    let id = remember(off.port, "The staging cluster runs in Dublin");
    poll("the vector in off's own index", || {
        (embeddings(off.port)["index"]["vectors"] == 1).then_some(())
    });
    assert_eq!(
        ids(&recall(off.port, "staging cluster Dublin", "vector")),
        vec![id]
    );
}
