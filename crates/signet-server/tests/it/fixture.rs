//! The upstream fixture database served over HTTP: captured responses match field by field.

use std::path::PathBuf;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::TestServer;

fn fixture_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/upstream-v0.58.1")
}

fn expected() -> Value {
    serde_json::from_slice(&std::fs::read(fixture_dir().join("expected.json")).unwrap()).unwrap()
}

/// JSON equality where numbers compare by value (1 == 1.0).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(v, w)| same(v, w))
        }
        _ => a == b,
    }
}

async fn serve_fixture() -> (TestServer, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("memory")).unwrap();
    std::fs::copy(
        fixture_dir().join("memories.db"),
        dir.path().join("memory/memories.db"),
    )
    .unwrap();
    // Keyword-only: the fixture's vectors come from upstream's provider, and a test embedder
    // would rewrite `embedding_model` under the captured reads.
    let s = TestServer::start_full(dir.path(), false, true).await;
    (s, dir)
}

#[tokio::test]
async fn captured_reads_match_upstream() {
    let exp = expected();
    let (s, _dir) = serve_fixture().await;
    for (label, cap) in exp["api_captures"].as_object().unwrap() {
        if !label.starts_with("GET ") {
            continue;
        }
        let id = cap["id"].as_str().unwrap();
        let path = if label.contains("/history") {
            format!("/api/memory/{id}/history")
        } else {
            format!("/api/memory/{id}")
        };
        let (st, body) = s.get(&path).await;
        assert_eq!(
            st.as_u16() as u64,
            cap["status"].as_u64().unwrap(),
            "{label}"
        );
        let want = &cap["response"];
        if label.contains("/history") {
            // Upstream writes no "created" row on remember; the fixture's rows are its own.
            assert!(same(&body, want), "{label}\n got: {body}\nwant: {want}");
        } else {
            assert!(same(&body, want), "{label}\n got: {body}\nwant: {want}");
        }
    }
}

#[tokio::test]
async fn fixture_recall_and_listing_skip_tombstones() {
    let exp = expected();
    let (s, _dir) = serve_fixture().await;
    let (_, list) = s.get("/api/memories?limit=1000").await;
    assert_eq!(list["stats"]["total"], exp["live_memory_count"]);
    assert_eq!(
        list["memories"].as_array().unwrap().len() as u64,
        exp["live_memory_count"].as_u64().unwrap()
    );
    let coffee = exp["named_ids"]["coffee"].as_str().unwrap();
    let again = exp["named_ids"]["coffee_again"].as_str().unwrap();
    let (st, v) = s
        .recall(json!({"query": "coffee machine Brewster", "limit": 5}))
        .await;
    assert_eq!(st, StatusCode::OK);
    let ids: Vec<_> = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&again), "{v}");
    assert!(!ids.contains(&coffee), "tombstone recalled: {v}");
    let (_, v) = s
        .recall(json!({"query": "wiki", "who": "tmp-import"}))
        .await;
    assert_eq!(
        v["results"],
        json!([]),
        "only deleted rows match this filter"
    );
    let (_, v) = s
        .recall(json!({"query": "東京オフィスの会議室は3階にあります"}))
        .await;
    assert_eq!(v["results"].as_array().unwrap().len(), 1, "{v}");
}

#[tokio::test]
async fn fixture_accepts_new_writes_and_edits() {
    let exp = expected();
    let (s, _dir) = serve_fixture().await;
    let atlas = exp["named_ids"]["atlas"].as_str().unwrap();
    let body = json!({"importance": 0.5, "reason": "compat edit", "if_version": 3});
    let (st, v) = s
        .call(
            reqwest::Method::PATCH,
            &format!("/api/memory/{atlas}"),
            Some(body),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["newVersion"], 4);
    let id = s
        .remember("A brand new memory in an upstream database")
        .await;
    assert_eq!(s.get(&format!("/api/memory/{id}")).await.0, StatusCode::OK);
}
