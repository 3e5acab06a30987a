//! Keyword recall, the search aliases and the legacy search.

use reqwest::StatusCode;
use serde_json::json;

use crate::common::{TestServer, eventually, result_ids};

async fn seed(s: &TestServer) -> (String, String, String) {
    let vim = s.remember_json(json!({"content": "User prefers vim keybindings in every editor", "tags": "editor", "who": "alice"})).await.1;
    let pg = s.remember_json(json!({"content": "We decided to use PostgreSQL for billing", "project": "billing", "importance": 0.9})).await.1;
    let tea = s
        .remember_json(json!({"content": "The team drinks green tea on Fridays", "pinned": true}))
        .await
        .1;
    let id = |v: &serde_json::Value| v["id"].as_str().unwrap().to_owned();
    (id(&vim), id(&pg), id(&tea))
}

#[tokio::test]
async fn recall_finds_by_keywords_with_upstream_shape() {
    let s = TestServer::start_keyword_only().await;
    let (vim, _, _) = seed(&s).await;
    let (st, v) = s
        .recall(json!({"query": "vim keybindings", "limit": 5}))
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["query"], "vim keybindings");
    assert_eq!(v["method"], "keyword");
    let r = &v["results"][0];
    assert_eq!(r["id"], vim.as_str());
    assert_eq!(r["score"], 1.0);
    assert_eq!(r["source"], "keyword");
    assert_eq!(r["type"], "preference");
    assert_eq!(r["tags"], "editor");
    assert_eq!(r["pinned"], false);
    assert_eq!(r["who"], "alice");
    assert_eq!(r["truncated"], false);
    assert_eq!(r["content_length"], 44);
    for key in ["importance", "project", "created_at", "content"] {
        assert!(r.get(key).is_some(), "{key} missing");
    }
}

#[tokio::test]
async fn recall_applies_every_filter_and_never_returns_deleted() {
    let s = TestServer::start().await;
    let (vim, pg, tea) = seed(&s).await;
    let q = |extra: serde_json::Value| {
        let mut body = json!({"query": "vim OR PostgreSQL OR tea", "limit": 10});
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        body
    };
    assert_eq!(result_ids(&s.recall(q(json!({}))).await.1).len(), 3);
    for (filter, want) in [
        (json!({"who": "alice"}), &vim),
        (json!({"project": "billing"}), &pg),
        (json!({"pinned": true}), &tea),
        (json!({"type": "decision"}), &pg),
        (json!({"tags": "editor"}), &vim),
        (json!({"importance_min": 0.85}), &pg),
    ] {
        let v = s.recall(q(filter.clone())).await.1;
        assert_eq!(result_ids(&v), [want.as_str()], "{filter}");
    }
    s.delete(&format!("/api/memory/{vim}?reason=gone")).await;
    let v = s.recall(q(json!({}))).await.1;
    assert!(
        !result_ids(&v).contains(&vim),
        "soft-deleted memory recalled: {v}"
    );
}

#[tokio::test]
async fn recall_survives_hostile_query_text() {
    let s = TestServer::start().await;
    seed(&s).await;
    let nasty = [
        "\"unbalanced",
        "NEAR(vim editor)",
        "vim AND",
        "OR",
        "*",
        "col:vim",
        "(((",
        "vim\") OR (\"x",
        "'; DROP TABLE memories; --",
        "^vim",
        "vim -editor",
        "🦔🚀",
        "\u{0}",
        "a\\b",
    ];
    for q in nasty {
        let (st, v) = s.recall(json!({"query": q})).await;
        assert_eq!(st, StatusCode::OK, "{q:?}: {v}");
        assert!(v["results"].is_array());
    }
    let (_, list) = s.get("/api/memories").await;
    assert_eq!(list["stats"]["total"], 3);
}

#[tokio::test]
async fn recall_validates_and_truncates() {
    let s = TestServer::start_with_yaml(Some("memory:\n  pipelineV2:\n    guardrails:\n      recallTruncateChars: 50\n      maxContentChars: 5000\n")).await;
    let long = "Stellar navigation notes. ".repeat(10);
    s.remember_json(json!({"content": long})).await;
    let (_, v) = s.recall(json!({"query": "stellar"})).await;
    let r = &v["results"][0];
    assert_eq!(r["truncated"], true);
    assert!(r["content"].as_str().unwrap().ends_with(" [truncated]"));
    assert_eq!(r["content_length"], long.trim().chars().count());
    for (body, msg) in [
        (json!({}), "query is required"),
        (json!({"query": "  "}), "query is required"),
        (json!({"query": 3}), "query must be a string"),
        (
            json!({"query": "x", "limit": 0}),
            "limit must be a positive integer",
        ),
        (
            json!({"query": "x", "pinned": "perhaps"}),
            "pinned must be a boolean",
        ),
    ] {
        let (st, e) = s.recall(body.clone()).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(e["error"], msg);
    }
}

#[tokio::test]
async fn recall_records_access_counts() {
    let s = TestServer::start().await;
    let (vim, _, _) = seed(&s).await;
    s.recall(json!({"query": "vim"})).await;
    let counted =
        eventually(|| async { s.get(&format!("/api/memory/{vim}")).await.1["access_count"] == 1 })
            .await;
    assert!(counted, "access_count never reached 1");
    let (_, m) = s.get(&format!("/api/memory/{vim}")).await;
    assert!(m["last_accessed"].as_str().unwrap().ends_with('Z'));
}

#[tokio::test]
async fn search_alias_is_reachable() {
    let s = TestServer::start().await;
    let (vim, _, _) = seed(&s).await;
    let (st, v) = s.get("/api/memory/search?q=vim&limit=3").await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["results"][0]["id"], vim.as_str());
    let (st, e) = s.get("/api/memory/search").await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert_eq!(e["error"], "q is required");
}

#[tokio::test]
async fn legacy_search_by_text_filters_and_distinct_who() {
    let s = TestServer::start().await;
    let (vim, pg, _) = seed(&s).await;
    let (st, v) = s.get("/memory/search?q=vim").await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["results"][0]["id"], vim.as_str());
    assert!(
        v["results"][0]["score"].as_f64().unwrap() < 0.0,
        "raw bm25 is negative"
    );
    let (_, v) = s.get("/memory/search?type=decision").await;
    assert_eq!(v["results"][0]["id"], pg.as_str());
    assert!((v["results"][0]["score"].as_f64().unwrap() - 0.9).abs() < 1e-9);
    let (_, v) = s.get("/memory/search?distinct=who").await;
    assert_eq!(v["values"], json!(["alice", "daemon"]));
    let (_, v) = s.get("/memory/search").await;
    assert_eq!(v["results"], json!([]));
    let (st, _) = s.get("/memory/search?q=vim&limit=abc").await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    let (st, v) = s.get("/memory/search?q=%22(").await;
    assert_eq!(st, StatusCode::OK, "{v}");
}
