//! `POST /api/export` and `POST /api/import` on a running daemon: an import puts the imported
//! vectors into the in-memory index before it answers, announces each new memory on `/sse`,
//! and a bad body is a 400 naming the line while the client is still sending.

use serde_json::Value;
use signet_api::ExportRequest;

use crate::common::{TestServer, eventually};

async fn export(s: &TestServer, with_vectors: bool) -> Vec<u8> {
    let client = signet_client::Client::new(s.base.clone()).unwrap();
    let req = ExportRequest {
        with_vectors,
        include_deleted: false,
    };
    let mut stream = client.export(&req).await.unwrap();
    let mut body = Vec::new();
    while let Some(chunk) = stream.chunk().await.unwrap() {
        body.extend(chunk);
    }
    body
}

#[tokio::test]
async fn an_import_indexes_its_vectors_before_answering_and_announces_each_memory() {
    let a = TestServer::start().await;
    let mut ids = Vec::new();
    for c in [
        "the lighthouse keeper logs the tide",
        "the ferry leaves at dawn",
        "gulls nest on the north cliff",
    ] {
        ids.push(a.remember(c).await);
    }
    let embedded =
        eventually(|| async { a.get("/api/repair/embedding-gaps").await.1["unembedded"] == 0 })
            .await;
    assert!(embedded);
    let file = export(&a, true).await;

    let b = TestServer::start().await;
    let mut events = b.sse("/sse").await;
    let client = signet_client::Client::new(b.base.clone()).unwrap();
    let report = client.import(file, false).await.unwrap();
    assert_eq!(report.memories.imported, 3);
    assert_eq!(report.vectors.imported, 3);
    assert_eq!(b.state.memories().semantic().indexed(), 3);
    for id in &ids {
        let created = events
            .until("memory.created", |d| d["id"] == id.as_str())
            .await;
        assert_eq!(created["id"], Value::from(id.as_str()));
    }
    // Found by vector at once (the leg's share of the score is reported with `explain`).
    let (_, found) = b
        .recall(serde_json::json!({"query": "lighthouse keeper tide", "explain": true}))
        .await;
    let top = &found["results"][0];
    assert_eq!(top["id"], Value::from(ids[0].as_str()), "{found}");
    assert!(top["explain"]["vector"].as_f64().unwrap() > 0.0, "{top}");
}

#[tokio::test]
async fn a_bad_line_in_a_large_body_is_a_400_naming_it() {
    let a = TestServer::start_keyword_only().await;
    for i in 0..5 {
        a.remember(&format!("note number {i}")).await;
    }
    let good = String::from_utf8(export(&a, false).await).unwrap();
    let mut lines: Vec<&str> = good.lines().collect();
    lines.insert(2, "not json at all");
    // Several megabytes after the bad line, still being sent when the daemon answers.
    let filler = "{\"kind\":\"future-kind\",\"pad\":\"".to_owned() + &"x".repeat(1000) + "\"}";
    let mut body = lines.join("\n") + "\n";
    for _ in 0..5000 {
        body.push_str(&filler);
        body.push('\n');
    }
    let client = signet_client::Client::new(a.base.clone()).unwrap();
    let err = client.import(body.into_bytes(), false).await.unwrap_err();
    let text = err.to_string();
    assert!(text.contains("400"), "{text}");
    assert!(text.contains("line 3: not valid JSON"), "{text}");
}
