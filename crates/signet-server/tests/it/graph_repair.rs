//! The graph and archive repairs over HTTP: `cold-stats` reads the archive, the entity prunes
//! and `backfill-skipped` count on a dry run (no audit row) and change rows on a real one (an
//! audit row), bad bodies are 400 naming the field, and agents meet upstream's limits.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::TestServer;
use crate::diagnostics::{ago, db};
use crate::repair::audits;

/// Entities (`id`, type, mentions, pinned) with a mention from the memory `m1` each, two
/// relations, an aspect on `aspected` and a stub attribute on the memory `m2` (which mentions
/// `stubbed`).
fn seed_graph(c: &rusqlite::Connection) {
    let now = ago(10);
    for (id, kind, mentions, pinned) in [
        ("group", "chunk_group", 0, 0),
        ("lonely", "extracted", 1, 0),
        ("other", "person", 1, 0),
        ("busy", "project", 3, 0),
        ("pinned", "extracted", 1, 1),
        ("aspected", "extracted", 1, 0),
        ("stubbed", "extracted", 1, 0),
    ] {
        c.execute(
            "INSERT INTO entities (id, name, canonical_name, entity_type, mentions, pinned, \
               created_at, updated_at) VALUES (?1, ?1, ?1, ?2, ?3, ?4, ?5, ?5)",
            rusqlite::params![id, kind, mentions, pinned, now],
        )
        .unwrap();
        let memory = if id == "stubbed" { "m2" } else { "m1" };
        c.execute(
            "INSERT INTO memory_entity_mentions (memory_id, entity_id, created_at) \
             VALUES (?1, ?2, ?3)",
            rusqlite::params![memory, id, now],
        )
        .unwrap();
    }
    for (id, from, to) in [("r1", "lonely", "busy"), ("r2", "busy", "other")] {
        c.execute(
            "INSERT INTO relations (id, source_entity_id, target_entity_id, relation_type, \
               created_at) VALUES (?1, ?2, ?3, 'knows', ?4)",
            rusqlite::params![id, from, to, now],
        )
        .unwrap();
    }
    c.execute_batch(
        "INSERT INTO entity_aspects (id, entity_id, name, canonical_name) \
           VALUES ('asp', 'aspected', 'Role', 'role'); \
         INSERT INTO entity_attributes (id, aspect_id, memory_id, kind, content, \
           normalized_content) VALUES ('stub', NULL, 'm2', 'attribute', 'x', 'x');",
    )
    .unwrap();
}

fn seed_cold(c: &rusqlite::Connection) {
    for (id, reason, minutes, content) in [
        ("a", Some("retention_decay"), 30, "alpha"),
        ("b", Some("superseded"), 20, "beta"),
        ("c", Some("retention_decay"), 10, "gamma"),
        ("d", None, 5, "delta"),
    ] {
        c.execute(
            "INSERT INTO memories_cold (archive_id, memory_id, content, original_created_at, \
               archived_at, archived_reason, original_row_json) \
             VALUES (?1, ?1, ?2, ?3, ?3, ?4, json_object('id', ?1, 'content', ?2))",
            rusqlite::params![format!("cold-{id}"), content, ago(minutes), reason],
        )
        .unwrap();
    }
}

fn seed_summaries(c: &rusqlite::Connection) {
    for (id, session, status) in [
        ("done", "sess-done", "completed"),
        ("skipped-1", "sess-skip-1", "completed"),
        ("skipped-2", "sess-skip-2", "completed"),
        ("waiting", "sess-wait", "pending"),
    ] {
        c.execute(
            "INSERT INTO summary_jobs (id, session_key, harness, transcript, status, result, \
               attempts, created_at, completed_at) \
             VALUES (?1, ?2, 'claude-code', 'User: hi', ?3, 'ok', 1, ?4, ?4)",
            rusqlite::params![id, session, status, ago(60)],
        )
        .unwrap();
    }
    c.execute(
        "INSERT INTO session_summaries (id, depth, kind, content, earliest_at, latest_at, \
           session_key, created_at) VALUES ('sum', 0, 'session', '# notes', ?1, ?1, \
           'sess-done', ?1)",
        [ago(50)],
    )
    .unwrap();
}

/// A summary job's id, status, attempts, result and completion time.
type JobRow = (String, String, i64, Option<String>, Option<String>);

fn ids(c: &rusqlite::Connection, sql: &str) -> Vec<String> {
    let mut stmt = c.prepare(sql).unwrap();
    let rows = stmt.query_map([], |r| r.get(0)).unwrap();
    rows.map(Result::unwrap).collect()
}

async fn repair(s: &TestServer, path: &str, body: Value) -> Value {
    let (st, v) = s.post(&format!("/api/repair/{path}"), body).await;
    assert_eq!(st, StatusCode::OK, "{path}: {v}");
    assert_eq!(v["success"], true, "{v}");
    v
}

#[tokio::test]
async fn cold_stats_count_the_archive_by_reason() {
    let s = TestServer::start_keyword_only().await;
    let (st, v) = s.get("/api/repair/cold-stats").await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(
        v,
        json!({"count": 0, "oldest": null, "newest": null, "totalBytes": 0, "byReason": {}})
    );
    let c = db(&s);
    seed_cold(&c);
    let (st, v) = s.get("/api/repair/cold-stats").await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(v["count"], 4);
    assert_eq!(
        v["byReason"],
        json!({"retention_decay": 2, "superseded": 1, "unknown": 1})
    );
    let oldest: String = c
        .query_row(
            "SELECT archived_at FROM memories_cold WHERE memory_id = 'cold-a'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(v["oldest"], oldest.as_str());
    let bytes: i64 = c
        .query_row(
            "SELECT SUM(length(content) + length(original_row_json)) FROM memories_cold",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(v["totalBytes"], bytes);
    assert!(
        audits(&s, "coldStats").is_empty(),
        "a read writes no audit row"
    );
}

#[tokio::test]
async fn chunk_groups_and_singletons_are_pruned_with_their_mentions_and_relations() {
    let s = TestServer::start_keyword_only().await;
    let c = db(&s);
    seed_graph(&c);

    let v = repair(&s, "prune-chunk-groups", json!({"dryRun": true})).await;
    assert_eq!(
        v,
        json!({"action": "pruneChunkGroupEntities", "affected": 1, "dryRun": true,
               "message": "dry run: would prune 1 chunk-group entity (1 in all)", "success": true})
    );
    assert!(
        audits(&s, "pruneChunkGroupEntities").is_empty(),
        "a dry run writes nothing"
    );
    let v = repair(&s, "prune-chunk-groups", json!({})).await;
    assert_eq!(v["affected"], 1);
    assert_eq!(
        v["message"],
        "pruned 1 chunk-group entity (1 mention and 0 relations removed with them)"
    );
    let a = audits(&s, "pruneChunkGroupEntities");
    assert_eq!((a.len(), a[0].4["affected"].clone()), (1, json!(1)));
    assert_eq!(a[0].4["message"], v["message"]);

    let v = repair(&s, "prune-singleton-entities", json!({"dryRun": true})).await;
    assert_eq!(v["affected"], 2, "lonely and other: {v}");
    assert_eq!(
        v["message"],
        "dry run: would prune 2 singleton entities (2 in all)"
    );
    let v = repair(
        &s,
        "prune-singleton-entities",
        json!({"dryRun": 1, "maxMentions": 3}),
    )
    .await;
    assert_eq!(v["affected"], 3, "busy too: {v}");
    let v = repair(&s, "prune-singleton-entities", json!({"batchSize": 1})).await;
    assert_eq!(
        v["message"],
        "pruned 1 singleton entity (1 mention and 1 relation removed with them)"
    );
    let v = repair(&s, "prune-singleton-entities", json!({})).await;
    assert_eq!(v["affected"], 1);
    let left = ids(&c, "SELECT id FROM entities ORDER BY id");
    assert_eq!(left, ["aspected", "busy", "pinned", "stubbed"]);
    assert!(ids(&c, "SELECT id FROM relations").is_empty());
    let mentioned = ids(
        &c,
        "SELECT entity_id FROM memory_entity_mentions ORDER BY entity_id",
    );
    assert_eq!(
        mentioned, left,
        "the pruned entities' mentions went with them"
    );
    assert_eq!(audits(&s, "pruneSingletonExtractedEntities").len(), 2);
}

#[tokio::test]
async fn skipped_summary_jobs_are_requeued() {
    let s = TestServer::start_keyword_only().await;
    let c = db(&s);
    seed_summaries(&c);
    let v = repair(&s, "backfill-skipped", json!({"dryRun": true})).await;
    assert_eq!(
        v,
        json!({"action": "backfillSkippedSessions", "affected": 2, "dryRun": true,
               "message": "dry run: would requeue 2 skipped summary jobs (2 in all)",
               "success": true})
    );
    let v = repair(&s, "backfill-skipped", json!({"limit": 1})).await;
    assert_eq!(v["message"], "requeued 1 skipped summary job to pending");
    let v = repair(&s, "backfill-skipped", json!({})).await;
    assert_eq!(v["affected"], 1);
    let rows: Vec<JobRow> = c
        .prepare("SELECT id, status, attempts, result, completed_at FROM summary_jobs ORDER BY id")
        .unwrap()
        .query_map([], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let by = |id: &str| rows.iter().find(|r| r.0 == id).unwrap().clone();
    for id in ["skipped-1", "skipped-2"] {
        assert_eq!(by(id), (id.to_owned(), "pending".to_owned(), 0, None, None));
    }
    assert_eq!(by("done").1, "completed", "a summarised session is kept");
    assert_eq!(by("waiting").2, 1, "a pending job is not touched");
    let v = repair(&s, "backfill-skipped", json!({})).await;
    assert_eq!(v["message"], "requeued 0 skipped summary jobs to pending");
    assert_eq!(audits(&s, "backfillSkippedSessions").len(), 3);
}

#[tokio::test]
async fn bad_bodies_are_400_naming_the_field() {
    let s = TestServer::start_keyword_only().await;
    for (path, body, field) in [
        ("prune-chunk-groups", json!({"batchSize": -1}), "batchSize"),
        ("prune-chunk-groups", json!({"dryRun": "perhaps"}), "dryRun"),
        (
            "prune-singleton-entities",
            json!({"maxMentions": -1}),
            "maxMentions",
        ),
        (
            "prune-singleton-entities",
            json!({"batchSize": "lots"}),
            "batchSize",
        ),
        ("backfill-skipped", json!({"limit": 0}), "limit"),
        ("backfill-skipped", json!([]), "Invalid JSON body"),
    ] {
        let (st, v) = s.post(&format!("/api/repair/{path}"), body.clone()).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{path} {body}: {v}");
        assert!(
            v["error"].as_str().unwrap().starts_with(field),
            "{path} {body}: {v}"
        );
    }
}

#[tokio::test]
async fn agents_meet_upstreams_limits() {
    let s = TestServer::start_keyword_only().await;
    let agent = [("x-signet-actor-type", "agent")];
    for path in [
        "/api/repair/prune-chunk-groups",
        "/api/repair/prune-singleton-entities",
        "/api/repair/backfill-skipped",
    ] {
        let (st, v) = s.call_with(Method::POST, path, None, &agent).await;
        assert_eq!(st, StatusCode::OK, "{path}: {v}");
        let (st, v) = s.call_with(Method::POST, path, None, &agent).await;
        assert_eq!(st, StatusCode::TOO_MANY_REQUESTS, "{path}: {v}");
        assert!(
            v["message"]
                .as_str()
                .unwrap()
                .starts_with("cooldown active"),
            "{v}"
        );
        let (st, _) = s.post(path, json!({})).await;
        assert_eq!(st, StatusCode::OK, "operators are not limited");
    }
}
