//! Semantic recall: background embedding, hybrid ranking, filters on both legs, a provider
//! that goes down and comes back (a real Ollama-protocol server on loopback), and the
//! embedding endpoints and repairs.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode as AxumStatus;
use reqwest::StatusCode;
use serde_json::{Value, json};
use signet_core::semantic::HashEmbedder;

use crate::common::{TestServer, eventually, result_ids};

async fn embedded(s: &TestServer, n: u64) -> bool {
    eventually(|| async { s.get("/api/embeddings/status").await.1["coverage"]["current"] == n })
        .await
}

#[tokio::test]
async fn recall_finds_meaning_not_just_words() {
    let s = TestServer::start().await;
    let vim = s.remember("User prefers vim keybindings").await;
    s.remember("The build server runs on Fridays").await;
    assert!(embedded(&s, 2).await, "worker never embedded");
    let (st, v) = s
        .recall(json!({"query": "what editor does the user like"}))
        .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(v["method"], "hybrid");
    assert_eq!(v["results"][0]["id"], vim.as_str(), "{v}");
    let (_, v) = s
        .recall(json!({"query": "what editor does the user like", "mode": "vector"}))
        .await;
    assert_eq!(v["method"], "vector");
    assert_eq!(v["results"][0]["id"], vim.as_str(), "{v}");
    assert_eq!(v["results"][0]["source"], "vector");
    let (_, v) = s.recall(json!({"query": "vim", "mode": "keyword"})).await;
    assert_eq!(v["method"], "keyword");
    let (st, _) = s.recall(json!({"query": "vim", "mode": "psychic"})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    let (_, v) = s.recall(json!({"query": "vim keybindings user"})).await;
    assert_eq!(v["results"][0]["source"], "hybrid");
    assert!(v["results"][0]["score"].as_f64().unwrap() <= 1.0);
}

#[tokio::test]
async fn filters_and_deletes_apply_to_the_vector_leg() {
    let s = TestServer::start().await;
    let a = s
        .remember_json(json!({"content": "user likes dark themes", "who": "alice"}))
        .await
        .1;
    let b = s
        .remember_json(json!({"content": "user likes light themes", "who": "bob"}))
        .await
        .1;
    assert!(embedded(&s, 2).await);
    let (_, v) = s
        .recall(json!({"query": "which colours does the user enjoy", "who": "bob"}))
        .await;
    assert_eq!(result_ids(&v), [b["id"].as_str().unwrap()]);
    s.delete(&format!(
        "/api/memory/{}?reason=x",
        b["id"].as_str().unwrap()
    ))
    .await;
    let (_, v) = s
        .recall(json!({"query": "which colours does the user enjoy"}))
        .await;
    assert_eq!(
        result_ids(&v),
        [a["id"].as_str().unwrap()],
        "deleted memory left the index"
    );
    s.post(
        &format!(
            "/api/memory/{}/recover?reason=undo",
            b["id"].as_str().unwrap()
        ),
        json!({}),
    )
    .await;
    let back = eventually(|| async {
        result_ids(
            &s.recall(json!({"query": "which colours does the user enjoy"}))
                .await
                .1,
        )
        .len()
            == 2
    })
    .await;
    assert!(back, "recovered memory returned to the index");
}

#[tokio::test]
async fn content_edits_are_re_embedded() {
    let s = TestServer::start().await;
    let id = s.remember("the cat sleeps on the sofa").await;
    assert!(embedded(&s, 1).await);
    let body = json!({"content": "quarterly revenue grew strongly", "reason": "fix"});
    s.patch_memory(&id, body).await;
    let found = eventually(|| async {
        let v = s
            .recall(json!({"query": "how did revenue develop"}))
            .await
            .1;
        v["results"][0]["id"] == id.as_str()
    })
    .await;
    assert!(found);
    let (_, v) = s.recall(json!({"query": "where does the cat sleep"})).await;
    assert!(
        v["results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["source"] != "vector"),
        "stale vector served: {v}"
    );
}

#[tokio::test]
async fn similar_listing_health_projection_and_repairs() {
    let s = TestServer::start().await;
    let a = s.remember("rust async runtimes like tokio").await;
    let b = s.remember("tokio is an async runtime for rust").await;
    s.remember("banana bread recipe with walnuts").await;
    assert!(embedded(&s, 3).await);
    let (st, v) = s.get(&format!("/memory/similar?id={a}&k=1")).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["results"][0]["id"], b.as_str());
    assert_eq!(s.get("/memory/similar").await.0, StatusCode::BAD_REQUEST);
    assert_eq!(
        s.get("/memory/similar?id=nope").await.0,
        StatusCode::NOT_FOUND
    );
    let (_, v) = s.get("/api/embeddings?vectors=true&limit=2").await;
    assert_eq!(v["count"], 2);
    assert_eq!(v["total"], 3);
    assert_eq!(v["hasMore"], true);
    assert_eq!(v["embeddings"][0]["vector"].as_array().unwrap().len(), 64);
    let (_, h) = s.get("/api/embeddings/health").await;
    assert_eq!(h["status"], "healthy", "{h}");
    let (_, p) = s.get("/api/embeddings/projection").await;
    assert_eq!(p["count"], 3);
    s.delete(&format!("/api/memory/{b}?reason=gone")).await;
    let (_, p2) = s.get("/api/embeddings/projection").await;
    assert_eq!(p2["count"], 2, "the cached projection follows the index");
    s.post(&format!("/api/memory/{b}/recover?reason=back"), json!({}))
        .await;
    assert!(p["nodes"][0]["x"].is_number());
    assert_eq!(
        s.get("/api/embeddings/projection?dimensions=3").await.0,
        StatusCode::BAD_REQUEST
    );
    let (_, g) = s.get("/api/repair/embedding-gaps").await;
    assert_eq!(g["unembedded"], 0);
    assert_eq!(g["coverage"], "100.0%");
    let (_, c) = s.post("/api/repair/clean-orphans", json!({})).await;
    assert_eq!(c["success"], true);
    let (_, r) = s
        .post("/api/repair/re-embed", json!({"dryRun": true}))
        .await;
    assert_eq!(r["affected"], 0);
}

/// A fake Ollama: `/api/embed` answers with hash vectors while `up` is set, 503 otherwise.
struct FakeOllama {
    up: AtomicBool,
    calls: AtomicUsize,
    embedder: HashEmbedder,
}

async fn fake_embed(
    State(f): State<Arc<FakeOllama>>,
    Json(body): Json<Value>,
) -> (AxumStatus, Json<Value>) {
    f.calls.fetch_add(1, Ordering::SeqCst);
    if !f.up.load(Ordering::SeqCst) {
        return (
            AxumStatus::SERVICE_UNAVAILABLE,
            Json(json!({"error": "down"})),
        );
    }
    let input: Vec<String> = body["input"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap().to_owned())
        .collect();
    let vectors: Vec<Vec<f32>> = input.iter().map(|t| f.embedder.vector(t)).collect();
    (
        AxumStatus::OK,
        Json(json!({"model": body["model"], "embeddings": vectors})),
    )
}

async fn start_fake_ollama(up: bool) -> (Arc<FakeOllama>, String) {
    let fake = Arc::new(FakeOllama {
        up: AtomicBool::new(up),
        calls: AtomicUsize::new(0),
        embedder: HashEmbedder { dims: 64 },
    });
    let app = axum::Router::new()
        .route("/api/embed", axum::routing::post(fake_embed))
        .with_state(fake.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (fake, url)
}

#[tokio::test]
async fn a_dead_provider_never_fails_a_write_and_recovers_later() {
    let (fake, url) = start_fake_ollama(false).await;
    let dir = tempfile::tempdir().unwrap();
    let yaml = format!(
        "embedding:\n  provider: ollama\n  model: fake-embed\n  dimensions: 64\n  base_url: {url}\n"
    );
    std::fs::write(dir.path().join("agent.yaml"), yaml).unwrap();
    let s = TestServer::start_full(dir.path(), false, true).await;
    let id = s.remember("User prefers vim keybindings").await;
    let (st, v) = s.recall(json!({"query": "vim"})).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(v["method"], "keyword", "degrades to keywords: {v}");
    assert_eq!(v["results"][0]["id"], id.as_str());
    let (_, status) = s.get("/api/embeddings/status").await;
    assert_eq!(status["provider"], "ollama");
    assert_eq!(status["available"], false);
    assert!(
        status["error"].as_str().unwrap().contains("503"),
        "{status}"
    );
    fake.up.store(true, Ordering::SeqCst);
    assert!(
        embedded(&s, 1).await,
        "worker retried after the provider came back"
    );
    let (_, v) = s
        .recall(json!({"query": "what editor does the user like"}))
        .await;
    assert_eq!(v["method"], "hybrid");
    assert_eq!(v["results"][0]["id"], id.as_str());
    assert!(fake.calls.load(Ordering::SeqCst) >= 2);
}

#[tokio::test]
async fn projection_nodes_carry_their_memorys_fields() {
    let s = TestServer::start().await;
    let long = format!("the deploy checklist {}", "step ".repeat(80));
    let body = json!({"content": long, "who": "claude", "project": "/p", "type": "decision",
                      "importance": 0.9});
    let (st, v) = s.remember_json(body).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let id = v["id"].as_str().unwrap().to_owned();
    let plain = s.remember("a memory with no project").await;
    assert!(embedded(&s, 2).await);
    let (_, p) = s.get("/api/embeddings/projection").await;
    let node = |id: &str| {
        let nodes = p["nodes"].as_array().unwrap();
        nodes.iter().find(|n| n["id"] == id).unwrap().clone()
    };
    let n = node(&id);
    assert_eq!(
        (&n["who"], &n["type"], &n["importance"], &n["project"]),
        (
            &json!("claude"),
            &json!("decision"),
            &json!(0.9),
            &json!("/p")
        ),
        "{n}"
    );
    let content = n["content"].as_str().unwrap();
    assert_eq!(content.chars().count(), 200, "cut to 200 characters");
    assert!(long.starts_with(content));
    assert!(n["x"].is_number() && n["y"].is_number());
    let n = node(&plain);
    assert_eq!(
        (&n["project"], &n["content"]),
        (&Value::Null, &json!("a memory with no project")),
        "{n}"
    );
    s.shutdown().await;
}
