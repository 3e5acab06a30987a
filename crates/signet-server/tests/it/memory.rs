//! Remember, read, list and history.

use reqwest::StatusCode;
use serde_json::json;

use crate::common::TestServer;

#[tokio::test]
async fn remember_parses_prefixes_infers_type_and_is_readable() {
    let s = TestServer::start().await;
    let (st, v) = s
        .remember_json(
            json!({"content": "critical: [Security, OPS ,]: We decided to rotate keys monthly"}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["type"], "decision");
    assert_eq!(v["tags"], "security,ops");
    assert_eq!(v["pinned"], true);
    assert_eq!(v["importance"], 1.0);
    assert_eq!(v["content"], "We decided to rotate keys monthly");
    assert_eq!(v["deduped"], false);
    let id = v["id"].as_str().unwrap();

    let (st, m) = s.get(&format!("/api/memory/{id}")).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(m["content"], "We decided to rotate keys monthly");
    assert_eq!(m["pinned"], 1);
    assert_eq!(
        m["why"],
        serde_json::Value::Null,
        "why is not part of the detail shape"
    );
    assert_eq!(m["who"], "daemon");
    assert_eq!(m["source_type"], "manual");
    assert_eq!(m["version"], 1);
    // The pipeline is on with its default provider (claude-code), whose CLI is not on this
    // daemon's (empty) PATH: the pipeline is idle, so nothing is queued.
    assert_eq!(m["extraction_status"], "none");
    assert_eq!(m["session_id"], serde_json::Value::Null);
}

#[tokio::test]
async fn body_fields_override_prefixes() {
    let s = TestServer::start().await;
    let body = json!({"content": "critical: the deploy key lives in vault", "pinned": false, "importance": 0.7,
        "tags": "Mixed,Case , Tags", "who": "alice", "project": "atlas", "sourceType": "slack", "sourceId": "C1/p1", "type": "procedural"});
    let (st, v) = s.remember_json(body).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["pinned"], false);
    assert_eq!(v["importance"], 0.7);
    assert_eq!(v["tags"], "Mixed,Case,Tags");
    assert_eq!(v["type"], "procedural");
    let (_, m) = s
        .get(&format!("/api/memory/{}", v["id"].as_str().unwrap()))
        .await;
    assert_eq!(m["who"], "alice");
    assert_eq!(m["project"], "atlas");
    assert_eq!(m["source_id"], "C1/p1");
    assert_eq!(m["updated_by"], "alice");
}

#[tokio::test]
async fn dedups_by_hash_and_by_source_id() {
    let s = TestServer::start().await;
    let id = s.remember("The coffee machine is named Brewster.").await;
    let (_, v) = s
        .remember_json(json!({"content": "  the COFFEE machine   is named brewster!! "}))
        .await;
    assert_eq!(v["deduped"], true);
    assert_eq!(v["id"], id.as_str());

    let (_, a) = s
        .remember_json(json!({"content": "first", "sourceType": "slack", "sourceId": "m-1"}))
        .await;
    let (_, b) = s
        .remember_json(json!({"content": "edited text", "sourceType": "slack", "sourceId": "m-1"}))
        .await;
    assert_eq!(b["deduped"], true);
    assert_eq!(a["id"], b["id"]);
    let (_, list) = s.get("/api/memories").await;
    assert_eq!(list["stats"]["total"], 2);
}

#[tokio::test]
async fn aliases_write_in_process() {
    let s = TestServer::start().await;
    for path in ["/api/memory/save", "/api/hook/remember"] {
        let (st, v) = s
            .post(path, json!({"content": format!("alias {path} works")}))
            .await;
        assert_eq!(st, StatusCode::OK, "{path}: {v}");
        assert!(v["id"].is_string());
    }
    let (_, list) = s.get("/api/memories").await;
    assert_eq!(list["memories"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn long_content_is_chunked_without_the_prefix() {
    let s = TestServer::start().await;
    let sentence = "The ingestion daemon batches writes every second and never blocks readers. ";
    let text = format!(
        "[architecture,design]: {}",
        sentence.repeat(4) + &"Readers use WAL snapshots. ".repeat(12)
    );
    let (st, v) = s.remember_json(json!({"content": text})).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["chunked"], true);
    let ids = v["ids"].as_array().unwrap();
    assert!(ids.len() >= 2, "{v}");
    assert_eq!(v["chunk_count"], ids.len());
    let (_, first) = s
        .get(&format!("/api/memory/{}", ids[0].as_str().unwrap()))
        .await;
    assert!(
        !first["content"].as_str().unwrap().starts_with('['),
        "prefix stripped: {first}"
    );
    assert_eq!(first["tags"], "architecture,design");
    assert_eq!(first["source_type"], "chunk");
    assert_eq!(first["source_id"], v["group_id"]);
}

#[tokio::test]
async fn remember_writes_a_created_history_row() {
    let s = TestServer::start().await;
    let id = s.remember("history starts at creation").await;
    let (st, h) = s.get(&format!("/api/memory/{id}/history")).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(h["memoryId"], id.as_str());
    assert_eq!(h["count"], 1);
    assert_eq!(h["history"][0]["event"], "created");
    assert_eq!(h["history"][0]["newContent"], "history starts at creation");
    assert_eq!(h["history"][0]["changedBy"], "daemon");
    let (st, e) = s.get("/api/memory/nope/history").await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    assert_eq!(e["memoryId"], "nope");
}

#[tokio::test]
async fn listing_pages_and_counts() {
    let s = TestServer::start().await;
    for i in 0..5 {
        s.remember_json(json!({"content": format!("note number {i}"), "importance": if i == 0 { 0.95 } else { 0.5 }})).await;
    }
    let (_, all) = s.get("/api/memories?limit=2&offset=1").await;
    assert_eq!(all["memories"].as_array().unwrap().len(), 2);
    assert_eq!(all["stats"]["total"], 5);
    assert_eq!(all["stats"]["critical"], 1);
    let (st, e) = s.get("/api/memories?offset=-3").await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{e}");
}

#[tokio::test]
async fn remember_validates_its_body() {
    let s = TestServer::start().await;
    let cases = [
        (json!({}), "content is required"),
        (json!({"content": "   "}), "content is required"),
        (json!({"content": 5}), "content must be a string"),
        (
            json!({"content": "x", "importance": 7}),
            "importance must be a number between 0 and 1",
        ),
        (
            json!({"content": "x", "importance": "high"}),
            "importance must be a number between 0 and 1",
        ),
        (
            json!({"content": "x", "pinned": "maybe"}),
            "pinned must be a boolean",
        ),
        (
            json!({"content": "x", "tags": {"a": 1}}),
            "tags must be a string or an array of strings",
        ),
        (json!(["content"]), "Invalid JSON body"),
    ];
    for (body, msg) in cases {
        let (st, v) = s.remember_json(body.clone()).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(v["error"], msg, "{body}");
    }
    let (_, list) = s.get("/api/memories").await;
    assert_eq!(list["stats"]["total"], 0, "nothing written by bad requests");
}
