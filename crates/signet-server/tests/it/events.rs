//! `GET /sse`: live memory events.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::common::TestServer;

#[tokio::test]
async fn sse_announces_created_updated_deleted_and_recovered_memories() {
    let s = TestServer::start().await;
    let mut stream = s.sse("/sse").await;
    let first = stream.next().await.unwrap();
    assert_eq!(first.event, "connected");
    assert_eq!(first.json()["type"], "connected");

    let (st, v) = s
        .call_with(
            Method::POST,
            "/api/memory/remember",
            Some(json!({"content": "secret plans for the launch", "project": "apollo", "who": "claude"})),
            &[],
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let id = v["id"].as_str().unwrap().to_owned();
    let created = stream
        .until("memory.created", |d| d["id"] == id.as_str())
        .await;
    assert_eq!(created["project"], "apollo");
    assert_eq!(created["who"], "claude");
    assert!(created["type"].is_string());
    assert!(
        !created.to_string().contains("secret plans"),
        "no content: {created}"
    );

    let (st, _) = s
        .patch_memory(&id, json!({"importance": 0.9, "reason": "more important"}))
        .await;
    assert_eq!(st, StatusCode::OK);
    let updated = stream
        .until("memory.updated", |d| d["id"] == id.as_str())
        .await;
    assert_eq!(updated["version"], 2);
    assert_eq!(updated["contentChanged"], false);
    assert_eq!(updated["project"], "apollo");

    let (st, _) = s.delete(&format!("/api/memory/{id}?reason=done")).await;
    assert_eq!(st, StatusCode::OK);
    let deleted = stream
        .until("memory.deleted", |d| d["id"] == id.as_str())
        .await;
    assert_eq!(deleted["who"], "claude");

    let (st, _) = s
        .post(
            &format!("/api/memory/{id}/recover"),
            json!({"reason": "oops"}),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    stream
        .until("memory.recovered", |d| d["id"] == id.as_str())
        .await;
    s.shutdown().await;
}

#[tokio::test]
async fn no_extraction_job_is_queued_when_nothing_would_process_it() {
    let yaml = "memory:\n  pipelineV2:\n    enabled: true\n    extraction:\n      provider: none\n";
    let s = TestServer::start_with_yaml(Some(yaml)).await;
    let mut stream = s.sse("/sse").await;
    stream.next().await.unwrap();
    let id = s.remember("the pipeline would extract this").await;
    let created = stream
        .until("memory.created", |d| d["id"] == id.as_str())
        .await;
    assert_eq!(created["id"], id.as_str());
    let (_, status) = s.get("/api/status").await;
    let extraction = &status["pipelineV2"]["extraction"];
    assert_eq!(extraction["enqueuing"], false, "{status}");
    assert_eq!(
        extraction["reason"],
        "memory.pipelineV2.extraction.provider is none"
    );
    let (_, queue) = s.get("/api/diagnostics/queue").await;
    assert_eq!(queue["depth"], 0, "{queue}");
    assert_eq!(queue["processing"], false);
}
