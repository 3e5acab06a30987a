//! The daemon on PostgreSQL: `storage:` in `agent.yaml` opens the server `SIGNET_TEST_PG_URL`
//! names (a scratch schema per test), and the whole memory path works on it: remember, recall
//! (keyword and vector with the test embedder), patch, forget, restart. Several daemons on one
//! database see each other's writes. Without that variable a test fails when
//! `SIGNET_REQUIRE_ALL=1` (scripts/test.sh) and is skipped, saying so, otherwise.

use std::path::Path;

use reqwest::{Method, StatusCode};
use serde_json::json;
use signet_core::config::{EnvVars, Settings};
use signet_server::daemon::{Daemon, DaemonConfig};

use crate::common::{TestServer, eventually, result_ids};

/// The test server's URL, or `None` (after saying why) when these tests cannot run here.
fn server_url() -> Option<String> {
    match std::env::var("SIGNET_TEST_PG_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            let why = "SIGNET_TEST_PG_URL is not set: run scripts/test.sh, or start a server \
                       with scripts/pg-temp.sh start DIR and export its URL";
            if std::env::var("SIGNET_REQUIRE_ALL").is_ok_and(|v| v == "1") {
                panic!("{why}");
            }
            eprintln!("SKIPPED (PostgreSQL test): {why}");
            None
        }
    }
}

/// The URL with a password added: the test server trusts loopback, so it is ignored there,
/// and the tests can check it never shows.
fn with_password(url: &str, password: &str) -> String {
    let (scheme, rest) = url.split_once("://").expect("a URL");
    let (user, host) = rest.split_once('@').expect("the test URL names its user");
    let user = user.split(':').next().unwrap_or(user);
    format!("{scheme}://{user}:{password}@{host}")
}

/// A fresh schema name for one test.
fn scratch_schema() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("d_{}_{nanos}", std::process::id())
}

/// `agent.yaml` naming `url`'s database and `schema`.
fn write_yaml(workspace: &Path, url: &str, schema: &str) {
    let yaml =
        format!("storage:\n  backend: postgres\n  url: '{url}'\n  pool: 4\n  schema: {schema}\n");
    std::fs::write(workspace.join("agent.yaml"), yaml).unwrap();
}

#[tokio::test]
async fn the_daemon_serves_memories_from_postgres_across_a_restart() {
    let Some(url) = server_url() else { return };
    let url = with_password(&url, "hunter2");
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path();
    write_yaml(ws, &url, &scratch_schema());
    let s = TestServer::start_in(ws, false).await;
    let (st, status) = s.get("/api/status").await;
    assert_eq!(st, StatusCode::OK, "{status}");
    assert_eq!(status["storage"]["backend"], "postgres", "{status}");
    assert!(
        status["storage"]["url"]
            .as_str()
            .is_some_and(|u| u.contains("[redacted]")),
        "{status}"
    );
    assert!(!status.to_string().contains("hunter2"), "{status}");
    // Debian's PostgreSQL has no pgvector: the in-process index serves vectors, and says so.
    assert_eq!(status["storage"]["vectorIndex"], "in-process", "{status}");
    assert_eq!(status["storage"]["pgvector"]["used"], false, "{status}");
    assert_eq!(
        status["storage"]["pgvector"]["available"], false,
        "{status}"
    );
    let ada = s
        .remember("Ada keeps the PostgreSQL runbook in the wiki")
        .await;
    let vim = s.remember("User prefers vim keybindings").await;
    let gone = s
        .remember("The staging cluster password rotates monthly")
        .await;
    let (_, v) = s
        .recall(json!({"query": "PostgreSQL runbook", "mode": "keyword"}))
        .await;
    assert_eq!(result_ids(&v), vec![ada.clone()], "{v}");
    let covered = eventually(|| async {
        s.get("/api/embeddings/status").await.1["coverage"]["current"] == 3
    });
    assert!(
        covered.await,
        "the embedding worker never embedded on PostgreSQL"
    );
    let (_, v) = s
        .recall(json!({"query": "what editor does the user like", "mode": "vector"}))
        .await;
    assert_eq!(v["results"][0]["id"], vim.as_str(), "{v}");
    let (st, v) = s
        .patch_memory(
            &ada,
            json!({"content": "Ada keeps the PostgreSQL runbook in git", "reason": "moved"}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let path = format!("/api/memory/{gone}");
    let body = json!({"reason": "obsolete", "if_version": 1});
    let (st, v) = s.call(Method::DELETE, &path, Some(body)).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    s.shutdown().await;
    assert!(
        !ws.join("memory/memories.db").exists(),
        "a PostgreSQL daemon created the SQLite file"
    );

    let s = TestServer::start_in(ws, false).await;
    let (st, v) = s.get(&format!("/api/memory/{ada}")).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(
        v["content"], "Ada keeps the PostgreSQL runbook in git",
        "{v}"
    );
    assert_eq!(s.get(&path).await.0, StatusCode::NOT_FOUND);
    let (_, v) = s
        .recall(json!({"query": "runbook git", "mode": "keyword"}))
        .await;
    assert_eq!(result_ids(&v), vec![ada.clone()], "{v}");
    let (_, v) = s.recall(json!({"query": "staging cluster password"})).await;
    assert!(
        !result_ids(&v).contains(&gone),
        "forgotten memory recalled: {v}"
    );
    let (_, v) = s.get("/api/memories?limit=10").await;
    assert_eq!(v["stats"]["total"], 2, "{v}");
    s.shutdown().await;
}

#[tokio::test]
async fn an_unreachable_database_stops_start_up_naming_storage_url_without_the_password() {
    // A closed port on loopback: nothing listens on a port just released.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("postgres://signet:hunter2@127.0.0.1:{port}/signet");
    write_yaml(dir.path(), &url, "unused");
    let env = EnvVars::default();
    let loaded = Settings::load(dir.path(), &env).expect("config");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let cfg = DaemonConfig {
        workspace: dir.path().to_path_buf(),
        loaded,
        env,
        watch_config: false,
        embedder: None,
        log_hub: None,
    };
    let error = match Daemon::start(cfg, &listener).await {
        Ok(_) => panic!("a daemon started on an unreachable database"),
        Err(e) => format!("{e:#}"),
    };
    assert!(error.contains("storage.url"), "{error}");
    assert!(error.contains("[redacted]"), "{error}");
    assert!(!error.contains("hunter2"), "{error}");
    assert!(
        !dir.path().join("memory/memories.db").exists(),
        "fell back to SQLite"
    );
}

#[tokio::test]
async fn two_daemons_on_one_database_recall_each_others_writes() {
    let Some(url) = server_url() else { return };
    let schema = scratch_schema();
    let (one, two) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    write_yaml(one.path(), &url, &schema);
    write_yaml(two.path(), &url, &schema);
    let a = TestServer::start_in(one.path(), false).await;
    let b = TestServer::start_in(two.path(), false).await;
    let id = a
        .remember("The deploy freeze starts on the first of December")
        .await;
    let (_, v) = b
        .recall(json!({"query": "deploy freeze", "mode": "keyword"}))
        .await;
    assert_eq!(result_ids(&v), vec![id.clone()], "{v}");
    let (st, v) = b.get(&format!("/api/memory/{id}")).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    a.shutdown().await;
    b.shutdown().await;
}
