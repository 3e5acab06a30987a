//! `GET /api/diagnostics*`: scores of databases put into known bad states directly.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{TestServer, eventually};

/// A second connection to the daemon's database file, as an outside writer would have.
pub fn db(s: &TestServer) -> rusqlite::Connection {
    let c = rusqlite::Connection::open(s.workspace.join("memory/memories.db")).unwrap();
    c.busy_timeout(std::time::Duration::from_secs(5)).unwrap();
    c.execute_batch("PRAGMA foreign_keys = OFF").unwrap();
    c
}

pub fn ago(minutes: i64) -> String {
    signet_store::time::format_iso(chrono::Utc::now() - chrono::Duration::minutes(minutes))
}

pub async fn domain(s: &TestServer, d: &str) -> Value {
    let (st, v) = s.get(&format!("/api/diagnostics/{d}")).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    v
}

#[tokio::test]
async fn a_fresh_daemon_is_healthy_and_serves_each_domain() {
    let s = TestServer::start().await;
    s.remember("the staging database lives on port 5433").await;
    let (st, r) = s.get("/api/diagnostics").await;
    assert_eq!(st, StatusCode::OK, "{r}");
    assert_eq!(r["composite"]["status"], "healthy", "{r}");
    assert!(r["timestamp"].is_string());
    assert_eq!(r["storage"]["integrity"], "ok");
    assert!(r["storage"]["dbSizeBytes"].as_i64().unwrap() > 0);
    assert_eq!(r["predictor"]["status"], "disabled");
    // Advice names exactly the domains that need attention (none, once the memory's vector
    // is stored; the index may still wait for it here).
    let advised: Vec<&Value> = r["advice"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| &a["domain"])
        .collect();
    let attention: Vec<Value> = [
        "queue",
        "memory",
        "storage",
        "index",
        "provider",
        "mutation",
        "duplicate",
        "connector",
    ]
    .into_iter()
    .filter(|d| matches!(r[*d]["status"].as_str(), Some("degraded" | "unhealthy")))
    .map(Value::from)
    .collect();
    assert_eq!(advised, attention.iter().collect::<Vec<_>>(), "{r}");
    assert!(
        r.get("update").is_none(),
        "no auto-updater, no update domain"
    );
    for d in [
        "queue",
        "storage",
        "index",
        "provider",
        "mutation",
        "duplicate",
        "connector",
    ] {
        assert!(r[d]["score"].is_number(), "{d}: {r}");
        assert_eq!(domain(&s, d).await["status"], r[d]["status"]);
    }
    for bad in ["timestamp", "update", "nope"] {
        let (st, v) = s.get(&format!("/api/diagnostics/{bad}")).await;
        assert_eq!(st, StatusCode::BAD_REQUEST);
        assert_eq!(v, json!({"error": format!("Unknown domain: {bad}")}));
    }
}

#[tokio::test]
async fn the_provider_domain_counts_real_outcomes_or_says_there_is_none() {
    let s = TestServer::start().await;
    s.remember("ducks migrate south in winter").await;
    let (st, _) = s.recall(json!({"query": "ducks"})).await;
    assert_eq!(st, StatusCode::OK);
    let p = domain(&s, "provider").await;
    assert!(p["recentSuccesses"].as_u64().unwrap() >= 1, "{p}");
    assert_eq!(p["availabilityRate"], 1.0);
    assert_eq!(p["status"], "healthy");

    let k = TestServer::start_keyword_only().await;
    let p = domain(&k, "provider").await;
    assert_eq!(p["configured"], false, "{p}");
    assert_eq!(p["status"], "disabled");
    assert!(p["reason"].is_string());
}

#[tokio::test]
async fn missing_embeddings_degrade_the_index_until_a_reembed() {
    let yaml = "memory:\n  pipelineV2:\n    embeddingTracker:\n      pollMs: 60000\n";
    let s = TestServer::start_with_yaml(Some(yaml)).await;
    for i in 0..5 {
        s.remember(&format!("fact number {i} about the build farm"))
            .await;
    }
    assert!(
        eventually(|| async { s.get("/api/repair/embedding-gaps").await.1["unembedded"] == 0 })
            .await
    );
    // The embedding worker may still hold a wake-up from the remembers and re-embed once more
    // right after the rows lose their vectors: drop them until a fresh report sees the gap
    // (with pollMs 60000 nothing re-embeds after that).
    let degraded = eventually(|| async {
        db(&s)
            .execute_batch("UPDATE memories SET embedding_model = NULL; DELETE FROM embeddings;")
            .unwrap();
        domain(&s, "index").await["status"] == "degraded"
    })
    .await;
    assert!(degraded, "the index never showed the missing embeddings");
    let ix = domain(&s, "index").await;
    assert_eq!(ix["embeddingCoverage"], 0.0, "{ix}");
    assert_eq!(ix["unembedded"], 5);
    assert_eq!(ix["score"], 0.7);
    assert_eq!(ix["status"], "degraded");

    let (st, v) = s.post("/api/repair/re-embed", json!({})).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["action"], "re-embed");
    assert!(eventually(|| async { domain(&s, "index").await["status"] == "healthy" }).await);
}

#[tokio::test]
async fn tombstones_and_recoveries_are_scored() {
    let s = TestServer::start_keyword_only().await;
    for i in 0..10 {
        s.remember(&format!("note {i} on the quarterly plan")).await;
    }
    db(&s)
        .execute(
            "UPDATE memories SET is_deleted = 1, deleted_at = ?1 WHERE rowid IN (SELECT rowid FROM memories LIMIT 5)",
            [ago(40 * 24 * 60)],
        )
        .unwrap();
    let st = domain(&s, "storage").await;
    assert_eq!(st["deletedTombstones"], 5, "{st}");
    assert_eq!(st["expiredTombstones"], 5);
    assert_eq!(st["score"], 0.7);
    assert_eq!(st["status"], "degraded");
    // The report advises the degraded domain with `signet doctor`'s texts.
    let (_, r) = s.get("/api/diagnostics").await;
    let advice = r["advice"].as_array().unwrap();
    let storage = advice.iter().find(|a| a["domain"] == "storage");
    let actions = &storage.expect("storage advice")["actions"];
    assert!(
        actions[0]
            .as_str()
            .unwrap()
            .contains("POST /api/repair/retention-sweep"),
        "{r}"
    );
    let c = db(&s);
    for i in 0..6 {
        c.execute(
            "INSERT INTO memory_history (id, memory_id, event, changed_by, created_at) VALUES (?1, 'm', 'recovered', 'x', ?2)",
            rusqlite::params![format!("h{i}"), ago(60)],
        )
        .unwrap();
    }
    // The report is cached for 2 s: wait for the next one.
    assert!(eventually(|| async { domain(&s, "mutation").await["recentRecovers"] == 6 }).await);
    let m = domain(&s, "mutation").await;
    assert_eq!(m["status"], "degraded");
}
