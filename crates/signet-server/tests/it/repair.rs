//! `/api/repair/*`: each repair fixes a known bad state, writes its audit row, and the score
//! recovers; the limiter, malformed bodies and the retention worker's `tick()`.

use std::sync::Arc;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::TestServer;
use crate::diagnostics::{ago, db, domain};

fn insert_job(
    c: &rusqlite::Connection,
    id: &str,
    status: &str,
    created: &str,
    leased_at: Option<&str>,
) {
    c.execute(
        "INSERT INTO memory_jobs (id, memory_id, job_type, status, attempts, leased_at, created_at, updated_at, failed_at) \
         VALUES (?1, NULL, 'extract', ?2, 3, ?3, ?4, ?5, ?5)",
        rusqlite::params![id, status, leased_at, created, signet_store::time::now_iso()],
    )
    .unwrap();
}

/// The audit rows of `action`, newest first.
pub(crate) fn audits(
    s: &TestServer,
    action: &str,
) -> Vec<(String, String, String, Option<String>, Value)> {
    let c = db(s);
    let mut stmt = c
        .prepare(
            "SELECT changed_by, actor_type, reason, request_id, metadata FROM memory_history \
             WHERE memory_id = 'system' AND event = 'none' ORDER BY created_at DESC",
        )
        .unwrap();
    stmt.query_map([], |r| {
        let meta: String = r.get(4)?;
        Ok((
            r.get(0)?,
            r.get(1)?,
            r.get(2)?,
            r.get(3)?,
            serde_json::from_str::<Value>(&meta).unwrap(),
        ))
    })
    .unwrap()
    .map(Result::unwrap)
    .filter(|a| a.4["repairAction"] == action)
    .collect()
}

#[tokio::test]
async fn dead_jobs_and_stale_leases_are_repaired_and_audited() {
    let s = TestServer::start_keyword_only().await;
    let c = db(&s);
    for i in 0..3 {
        insert_job(&c, &format!("dead{i}"), "dead", &ago(1), None);
    }
    insert_job(&c, "leased", "leased", &ago(20), Some(&ago(20)));
    let q = domain(&s, "queue").await;
    assert_eq!(
        (q["dead"].clone(), q["deadRate"].clone()),
        (json!(3), json!(1.0)),
        "{q}"
    );
    assert_eq!(q["leaseAnomalies"], 1);
    assert_eq!(q["staleLeases"], 1);
    assert_eq!(q["score"], 0.5);
    assert_eq!(q["status"], "degraded");

    let headers = [
        ("x-signet-actor", "ops-bot"),
        ("x-signet-reason", "queue stuck"),
        ("x-signet-request-id", "req-requeue-1"),
    ];
    let (st, v) = s
        .call_with(Method::POST, "/api/repair/requeue-dead", None, &headers)
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(
        v,
        json!({"action": "requeueDeadJobs", "success": true, "affected": 3,
        "message": "requeued 3 dead memory job(s) and 0 dead summary job(s) to pending"})
    );
    let a = audits(&s, "requeueDeadJobs");
    assert_eq!(a.len(), 1);
    assert_eq!(
        (a[0].0.as_str(), a[0].1.as_str(), a[0].2.as_str()),
        ("ops-bot", "operator", "queue stuck")
    );
    assert_eq!(a[0].3.as_deref(), Some("req-requeue-1"));
    assert_eq!(a[0].4["affected"], 3);

    let (st, v) = s.post("/api/repair/release-leases", json!({})).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["affected"], 1);
    assert_eq!(audits(&s, "releaseStaleLeases").len(), 1);
    let q = domain(&s, "queue").await;
    assert_eq!(
        (q["dead"].clone(), q["leased"].clone(), q["depth"].clone()),
        (json!(0), json!(0), json!(4)),
        "{q}"
    );
    assert_eq!(q["status"], "healthy", "{q}");

    // The seed's name is an alias.
    let (st, v) = s.post("/api/repair/requeue-dead-jobs", json!({})).await;
    assert_eq!((st, v["affected"].clone()), (StatusCode::OK, json!(0)));
}

#[tokio::test]
async fn agents_are_rate_limited_operators_are_not() {
    let s = TestServer::start_keyword_only().await;
    let agent = [("x-signet-actor-type", "agent")];
    let (st, _) = s
        .call_with(Method::POST, "/api/repair/requeue-dead", None, &agent)
        .await;
    assert_eq!(st, StatusCode::OK);
    let (st, v) = s
        .call_with(Method::POST, "/api/repair/requeue-dead", None, &agent)
        .await;
    assert_eq!(st, StatusCode::TOO_MANY_REQUESTS, "{v}");
    assert_eq!(v["success"], false);
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .starts_with("cooldown active"),
        "{v}"
    );
    let (st, _) = s.post("/api/repair/requeue-dead", json!({})).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(
        audits(&s, "requeueDeadJobs").len(),
        2,
        "a refused run writes no audit row"
    );
}

#[tokio::test]
async fn fts_drift_is_found_and_rebuilt() {
    let s = TestServer::start_keyword_only().await;
    for i in 0..5 {
        s.remember(&format!("kernel upgrade step {i}")).await;
    }
    db(&s)
        .execute_batch(
            "INSERT INTO memories_fts(memories_fts, rowid, content) \
               SELECT 'delete', rowid, content FROM memories ORDER BY rowid LIMIT 2; \
             INSERT INTO memories_fts(rowid, content) VALUES (999999, 'junk words');",
        )
        .unwrap();
    let ix = domain(&s, "index").await;
    assert_eq!(
        (ix["ftsMissing"].clone(), ix["ftsOrphans"].clone()),
        (json!(2), json!(1)),
        "{ix}"
    );
    assert_eq!(ix["ftsMismatch"], true);
    assert_eq!(ix["status"], "degraded");

    let (st, v) = s.post("/api/repair/check-fts", json!({})).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["affected"], 1);
    assert!(
        v["message"].as_str().unwrap().starts_with("FTS mismatch"),
        "{v}"
    );
    assert!(!v["message"].as_str().unwrap().contains("rebuilt"));
    let (st, v) = s
        .post("/api/repair/check-fts", json!({"repair": true}))
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert!(v["message"].as_str().unwrap().contains("rebuilt"), "{v}");
    let ix = domain(&s, "index").await;
    assert_eq!(
        (ix["ftsMissing"].clone(), ix["ftsOrphans"].clone()),
        (json!(0), json!(0)),
        "{ix}"
    );
    assert_eq!(ix["status"], "healthy");
    let (_, v) = s
        .post("/api/repair/check-fts", json!({"repair": true}))
        .await;
    assert!(
        v["message"].as_str().unwrap().starts_with("FTS consistent"),
        "{v}"
    );
    assert_eq!(audits(&s, "checkFtsConsistency").len(), 3);
}

#[tokio::test]
async fn the_retention_sweep_runs_and_purges_expired_tombstones() {
    let s = TestServer::start().await;
    for i in 0..10 {
        s.remember(&format!("release note {i} for version two"))
            .await;
    }
    let c = db(&s);
    c.execute(
        "UPDATE memories SET is_deleted = 1, deleted_at = ?1 WHERE rowid IN (SELECT rowid FROM memories ORDER BY rowid LIMIT 5)",
        [ago(40 * 24 * 60)],
    )
    .unwrap();
    c.execute(
        "INSERT INTO memory_history (id, memory_id, event, changed_by, created_at) VALUES ('old', 'x', 'updated', 'x', ?1)",
        [ago(200 * 24 * 60)],
    )
    .unwrap();
    insert_job(&c, "done", "completed", &ago(20 * 24 * 60), None);
    c.execute(
        "UPDATE memory_jobs SET completed_at = ?1 WHERE id = 'done'",
        [ago(20 * 24 * 60)],
    )
    .unwrap();
    assert_eq!(domain(&s, "storage").await["status"], "degraded");

    let (st, v) = s.post("/api/repair/retention-sweep", json!({})).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["action"], "triggerRetentionSweep");
    assert_eq!(v["removed"]["tombstones"], 5, "{v}");
    assert_eq!(v["removed"]["history"], 1);
    assert_eq!(v["removed"]["completedJobs"], 1);
    let count = |sql: &str| -> i64 { c.query_row(sql, [], |r| r.get(0)).unwrap() };
    assert_eq!(count("SELECT COUNT(*) FROM memories"), 5);
    assert_eq!(
        count(
            "SELECT COUNT(*) FROM memories_cold WHERE archived_reason = 'retention_decay' AND original_row_json LIKE '%release note%'"
        ),
        5
    );
    assert_eq!(
        count(
            "SELECT COUNT(*) FROM embeddings e WHERE NOT EXISTS (SELECT 1 FROM memories m WHERE m.id = e.source_id)"
        ),
        0
    );
    let st = domain(&s, "storage").await;
    assert_eq!(
        (st["deletedTombstones"].clone(), st["status"].clone()),
        (json!(0), json!("healthy")),
        "{st}"
    );
    assert_eq!(audits(&s, "triggerRetentionSweep").len(), 1);
}

#[tokio::test]
async fn exact_duplicates_are_merged_with_history_and_a_dry_run_changes_nothing() {
    let s = TestServer::start().await;
    let keep = s
        .remember("[infra]: the backup bucket is s3://acme-backups")
        .await;
    let c = db(&s);
    for (id, tags) in [("dup-1", "storage"), ("dup-2", "ops")] {
        c.execute(
            "INSERT INTO memories (id, content, normalized_content, content_hash, type, tags, importance, created_at, updated_at) \
             SELECT ?2, content, normalized_content, NULL, type, ?3, 0.1, created_at, updated_at FROM memories WHERE id = ?1",
            rusqlite::params![keep, id, tags],
        )
        .unwrap();
    }
    let d = domain(&s, "duplicate").await;
    assert_eq!(
        (d["exactDuplicates"].clone(), d["exactClusters"].clone()),
        (json!(2), json!(1)),
        "{d}"
    );
    assert_eq!(
        (d["score"].clone(), d["status"].clone()),
        (json!(0.5), json!("degraded"))
    );
    let (_, stats) = s.get("/api/repair/dedup-stats").await;
    assert_eq!(
        stats,
        json!({"exactClusters": 1, "exactExcess": 2, "totalActive": 3})
    );

    let (st, v) = s
        .post("/api/repair/deduplicate", json!({"dryRun": true}))
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(
        (v["affected"].clone(), v["clusters"].clone()),
        (json!(2), json!(1)),
        "{v}"
    );
    assert_eq!(
        s.get("/api/repair/dedup-stats").await.1["exactExcess"],
        2,
        "a dry run writes nothing"
    );
    assert!(audits(&s, "deduplicateMemories").is_empty());

    let (st, v) = s.post("/api/repair/deduplicate", json!({})).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(
        v["message"],
        "deduplicated 2 memory/memories across 1 cluster(s)"
    );
    let tags: String = c
        .query_row("SELECT tags FROM memories WHERE id = ?1", [&keep], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(tags, "infra,storage,ops");
    let events: i64 = c
        .query_row(
            "SELECT COUNT(*) FROM memory_history WHERE (memory_id = ?1 AND event = 'merged') \
               OR (memory_id IN ('dup-1','dup-2') AND event = 'deleted' AND reason = 'dedup: duplicate of ' || ?1)",
            [&keep],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(events, 3);
    assert_eq!(audits(&s, "deduplicateMemories").len(), 1);
    assert_eq!(domain(&s, "duplicate").await["status"], "healthy");
}

#[tokio::test]
async fn malformed_repair_bodies_are_400_json() {
    let s = TestServer::start_keyword_only().await;
    for path in [
        "/api/repair/check-fts",
        "/api/repair/deduplicate",
        "/api/repair/re-embed",
    ] {
        let (st, v) = s.raw(Method::POST, path, b"{not json".to_vec()).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{path}: {v}");
        assert!(v["error"].is_string());
    }
    for body in [
        json!({"batchSize": "many"}),
        json!({"semanticThreshold": 2}),
        json!({"dryRun": "perhaps"}),
        json!([1]),
    ] {
        let (st, v) = s.post("/api/repair/deduplicate", body.clone()).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{body}: {v}");
    }
    let (st, _) = s
        .post("/api/repair/check-fts", json!({"repair": "sure"}))
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn the_retention_worker_tick_sweeps_a_store() {
    use signet_core::retention::{Retention, RetentionWorker};
    use signet_store::{MemoryStore, Store};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("memories.db");
    let store = Arc::new(Store::open(&path, 1).unwrap());
    let c = rusqlite::Connection::open(&path).unwrap();
    for i in 0..3 {
        c.execute(
            "INSERT INTO memories (id, content, type, created_at, updated_at, is_deleted, deleted_at) \
             VALUES (?1, 'gone', 'fact', ?2, ?2, 1, ?2)",
            rusqlite::params![format!("t{i}"), ago(31 * 24 * 60)],
        )
        .unwrap();
    }
    c.execute(
        "INSERT INTO memories (id, content, type, created_at, updated_at, is_deleted, deleted_at) VALUES ('young', 'x', 'fact', ?1, ?1, 1, ?1)",
        [ago(60)],
    )
    .unwrap();
    let dyn_store: Arc<dyn MemoryStore> = store.clone();
    let semantic = signet_core::semantic::Semantic::disabled(dyn_store, "test".into());
    let worker = RetentionWorker::new(Arc::new(Retention::new(store.clone(), semantic)));
    let report = worker.tick().await.unwrap().unwrap();
    assert_eq!(report.tombstones, 3);
    let left: Vec<String> = c
        .prepare("SELECT id FROM memories")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(left, ["young"], "the recovery window is kept");
    assert_eq!(worker.tick().await.unwrap().unwrap().total(), 0);
}

#[tokio::test]
async fn repairs_of_subsystems_we_lack_answer_501_and_say_why() {
    let s = crate::common::TestServer::start().await;
    for path in [
        "/api/repair/resync-vec",
        "/api/repair/reclassify-entities",
        "/api/repair/structural-backfill",
    ] {
        let (st, v) = s.post(path, serde_json::json!({})).await;
        assert_eq!(st.as_u16(), 501, "{path}: {v}");
        assert_eq!(v["success"], false);
        assert!(v["message"].as_str().unwrap().starts_with("not "), "{v}");
    }
}

#[tokio::test]
async fn the_autonomous_switches_gate_repairs() {
    use reqwest::Method;
    let frozen = "memory:\n  pipelineV2:\n    autonomous:\n      frozen: true\n";
    let s = crate::common::TestServer::start_with_yaml(Some(frozen)).await;
    let (st, v) = s
        .post("/api/repair/requeue-dead", serde_json::json!({}))
        .await;
    assert_eq!(st.as_u16(), 429, "{v}");
    assert!(
        v["message"].as_str().unwrap().contains("autonomous.frozen"),
        "{v}"
    );

    let off = "memory:\n  pipelineV2:\n    autonomousEnabled: false\n";
    let s = crate::common::TestServer::start_with_yaml(Some(off)).await;
    let agent = [("x-signet-actor-type", "agent"), ("x-signet-actor", "bot")];
    let (st, v) = s
        .call_with(Method::POST, "/api/repair/requeue-dead", None, &agent)
        .await;
    assert_eq!(st.as_u16(), 429, "{v}");
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("agents cannot trigger repairs"),
        "{v}"
    );
    let (st, _) = s
        .post("/api/repair/requeue-dead", serde_json::json!({}))
        .await;
    assert_eq!(st.as_u16(), 200, "operators still may");
}
