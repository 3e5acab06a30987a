//! PATCH, DELETE, recover, batch forget and batch modify, with their guards.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::common::{TestServer, column};

#[tokio::test]
async fn patch_updates_with_version_guard_and_history() {
    let s = TestServer::start().await;
    let id = s
        .remember("Project Atlas targets a public beta in September.")
        .await;
    let path = format!("/api/memory/{id}");
    let hdrs = [
        ("x-signet-actor", "fixture-operator"),
        ("x-signet-session-id", "sess-1"),
        ("x-signet-request-id", "req-1"),
    ];
    let body = json!({"content": "Project Atlas targets a public beta in October.", "reason": "slipped", "if_version": 1, "tags": ["roadmap", "atlas"]});
    let (st, v) = s.call_with(Method::PATCH, &path, Some(body), &hdrs).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(
        v,
        json!({"id": id, "status": "updated", "currentVersion": 1, "newVersion": 2, "contentChanged": true})
    );

    let (st, v) = s
        .patch(
            &path,
            json!({"importance": 0.9, "reason": "r", "if_version": 1}),
        )
        .await;
    assert_eq!(st, StatusCode::CONFLICT);
    assert_eq!(v["status"], "version_conflict");
    assert_eq!(v["currentVersion"], 2);

    let (st, v) = s
        .patch(&path, json!({"tags": "roadmap,atlas", "reason": "same"}))
        .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(v["status"], "no_changes");

    let (_, m) = s.get(&path).await;
    assert_eq!(m["version"], 2);
    assert_eq!(m["tags"], "roadmap,atlas");
    assert_eq!(m["updated_by"], "fixture-operator");
    assert_eq!(m["extraction_status"], "none");

    let (_, h) = s.get(&format!("{path}/history")).await;
    let upd = &h["history"][1];
    assert_eq!(upd["event"], "updated");
    assert_eq!(
        upd["oldContent"],
        "Project Atlas targets a public beta in September."
    );
    assert_eq!(upd["changedBy"], "fixture-operator");
    assert_eq!(upd["actorType"], "operator");
    assert_eq!(upd["sessionId"], "sess-1");
    assert_eq!(upd["requestId"], "req-1");
    assert_eq!(
        upd["metadata"],
        json!({"changedFields": ["content", "tags"], "ifVersion": 1, "contentChanged": true})
    );
}

#[tokio::test]
async fn patch_refuses_duplicates_deleted_and_bad_input() {
    let s = TestServer::start().await;
    let a = s.remember("alpha memory").await;
    let b = s.remember("beta memory").await;
    let (st, v) = s
        .patch_memory(&b, json!({"content": "Alpha memory.", "reason": "x"}))
        .await;
    assert_eq!(st, StatusCode::CONFLICT);
    assert_eq!(v["status"], "duplicate_content_hash");
    assert_eq!(v["duplicateMemoryId"], a.as_str());

    let bad = [
        (
            json!({"reason": "x"}),
            "at least one of content, type, tags, importance, pinned is required",
        ),
        (json!({"importance": 0.5}), "reason is required"),
        (
            json!({"importance": 0.5, "reason": "x", "if_version": 0}),
            "if_version must be a positive integer",
        ),
        (
            json!({"importance": 2, "reason": "x"}),
            "importance must be a number between 0 and 1",
        ),
        (
            json!({"type": "", "reason": "x"}),
            "type must be a non-empty string",
        ),
        (
            json!({"content": " ", "reason": "x"}),
            "content must not be empty",
        ),
    ];
    for (body, msg) in bad {
        let (st, v) = s.patch_memory(&a, body.clone()).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(v["error"], msg, "{body}");
    }
    let (st, v) = s
        .patch_memory("missing", json!({"importance": 0.5, "reason": "x"}))
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    assert_eq!(v["status"], "not_found");

    s.delete(&format!("/api/memory/{a}?reason=gone")).await;
    let (st, v) = s
        .patch_memory(&a, json!({"importance": 0.5, "reason": "x"}))
        .await;
    assert_eq!(st, StatusCode::CONFLICT);
    assert_eq!(v["error"], "Cannot modify deleted memory");
}

#[tokio::test]
async fn delete_and_recover_round_trip() {
    let s = TestServer::start().await;
    let id = s.remember("The login page is broken on Safari 16.").await;
    let path = format!("/api/memory/{id}");
    let (st, v) = s
        .call(
            Method::DELETE,
            &path,
            Some(json!({"reason": "fixed", "if_version": 1})),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(
        v,
        json!({"id": id, "status": "deleted", "currentVersion": 1, "newVersion": 2})
    );
    assert_eq!(s.get(&path).await.0, StatusCode::NOT_FOUND);
    let (st, v) = s.delete(&format!("{path}?reason=again")).await;
    assert_eq!(st, StatusCode::CONFLICT);
    assert_eq!(v["status"], "already_deleted");

    let (st, v) = s
        .post(
            &format!("{path}/recover"),
            json!({"reason": "regressed", "if_version": 2}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["status"], "recovered");
    assert_eq!(v["retentionDays"], 30);
    assert_eq!(v["newVersion"], 3);
    let (_, m) = s.get(&path).await;
    assert_eq!(m["version"], 3);
    let (st, v) = s.post(&format!("{path}/recover?reason=x"), json!({})).await;
    assert_eq!(st, StatusCode::CONFLICT);
    assert_eq!(v["status"], "not_deleted");
    let (_, h) = s.get(&format!("{path}/history")).await;
    let events = column(&h["history"], "event");
    assert_eq!(events, ["created", "deleted", "recovered"]);
    assert_eq!(
        h["history"][2]["metadata"]["retentionWindowMs"],
        2_592_000_000i64
    );

    let (st, v) = s.delete(&path).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert_eq!(v["error"], "reason is required");
    assert_eq!(
        s.post("/api/memory/none/recover?reason=x", json!({}))
            .await
            .0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn pinned_memories_need_force_and_autonomous_agents_cannot_force() {
    let s = TestServer::start().await;
    let id = s.remember("critical: the invoice account is 4711").await;
    let path = format!("/api/memory/{id}");
    let (st, v) = s
        .call(Method::DELETE, &path, Some(json!({"reason": "x"})))
        .await;
    assert_eq!(st, StatusCode::CONFLICT);
    assert_eq!(v["status"], "pinned_requires_force");
    let pipeline = [("x-signet-actor-type", "pipeline")];
    let (st, v) = s
        .call_with(
            Method::DELETE,
            &path,
            Some(json!({"reason": "x", "force": true})),
            &pipeline,
        )
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    assert_eq!(v["status"], "autonomous_force_denied");
    let (st, v) = s.delete(&format!("{path}?force=true&reason=closing")).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["status"], "deleted");
}

#[tokio::test]
async fn batch_forget_previews_confirms_and_executes() {
    let s = TestServer::start().await;
    for i in 0..3 {
        s.remember_json(json!({"content": format!("imported wiki note {i}"), "who": "tmp-import"}))
            .await;
    }
    let keep = s.remember("a wiki note written by hand").await;
    let (st, p) = s.forget_json(json!({"who": "tmp-import"})).await;
    assert_eq!(st, StatusCode::OK, "{p}");
    assert_eq!(p["mode"], "preview");
    assert_eq!(p["count"], 3);
    assert_eq!(p["requiresConfirm"], false);
    assert_eq!(p["confirmToken"].as_str().unwrap().len(), 32);

    let (st, e) = s
        .forget_json(json!({"who": "tmp-import", "mode": "execute"}))
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert_eq!(e["error"], "reason is required for execute mode");
    let (st, e) = s
        .forget_json(
            json!({"who": "tmp-import", "mode": "execute", "reason": "x", "if_version": 1}),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{e}");

    let hdrs = [
        ("x-signet-actor", "cleanup-bot"),
        ("x-signet-actor-type", "sdk"),
    ];
    let body = json!({"who": "tmp-import", "mode": "execute", "reason": "obsolete", "confirm_token": p["confirmToken"]});
    let (st, x) = s
        .call_with(Method::POST, "/api/memory/forget", Some(body), &hdrs)
        .await;
    assert_eq!(st, StatusCode::OK, "{x}");
    assert_eq!(x["requested"], 3);
    assert_eq!(x["deleted"], 3);
    assert_eq!(
        s.get(&format!("/api/memory/{keep}")).await.0,
        StatusCode::OK
    );
    let (_, list) = s.get("/api/memories").await;
    assert_eq!(list["stats"]["total"], 1);

    let (st, e) = s.forget_json(json!({})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(
        e["error"]
            .as_str()
            .unwrap()
            .starts_with("query, ids, or at least one filter")
    );
    let (st, _) = s.forget_json(json!({"who": "x", "mode": "nuke"})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn large_batch_forget_needs_the_confirm_token() {
    let s = TestServer::start().await;
    for i in 0..30 {
        s.remember_json(json!({"content": format!("bulk row {i}"), "who": "bulk"}))
            .await;
    }
    let (_, p) = s.forget_json(json!({"who": "bulk", "limit": 100})).await;
    assert_eq!(p["count"], 30);
    assert_eq!(p["requiresConfirm"], true);
    let (st, e) = s
        .forget_json(json!({"who": "bulk", "limit": 100, "mode": "execute", "reason": "x"}))
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert_eq!(e["requiresConfirm"], true);
    assert_eq!(e["confirmToken"], p["confirmToken"]);
    let (_, list) = s.get("/api/memories").await;
    assert_eq!(
        list["stats"]["total"], 30,
        "nothing deleted without the token"
    );
    let body = json!({"who": "bulk", "limit": 100, "mode": "execute", "reason": "x", "confirm_token": p["confirmToken"]});
    let (st, x) = s.forget_json(body).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(x["deleted"], 30);
}

#[tokio::test]
async fn batch_modify_reports_each_patch() {
    let s = TestServer::start().await;
    let a = s.remember("first batch target").await;
    let b = s.remember("second batch target").await;
    let body = json!({"reason": "bulk edit", "changed_by": "batch-bot", "patches": [
        {"id": a, "importance": 0.3},
        {"id": b, "content": "second batch target, edited", "if_version": 1},
        {"id": a, "importance": 7},
        {"id": "missing", "importance": 0.1},
        {"importance": 0.2},
    ]});
    let (st, v) = s.post("/api/memory/modify", body).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["total"], 5);
    assert_eq!(v["updated"], 2);
    let statuses = column(&v["results"], "status");
    assert_eq!(
        statuses,
        [
            "updated",
            "updated",
            "invalid_request",
            "not_found",
            "invalid_request"
        ]
    );
    let (_, m) = s.get(&format!("/api/memory/{a}")).await;
    assert_eq!(m["updated_by"], "batch-bot");
    let (st, _) = s.post("/api/memory/modify", json!({"patches": []})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    let many: Vec<_> = (0..201)
        .map(|_| json!({"id": a, "importance": 0.1}))
        .collect();
    let (st, e) = s
        .post(
            "/api/memory/modify",
            json!({"patches": many, "reason": "x"}),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert_eq!(e["error"], "patches[] exceeds maximum batch size (200)");
}

#[tokio::test]
async fn kill_switch_freezes_every_mutation() {
    let s =
        TestServer::start_with_yaml(Some("memory:\n  pipelineV2:\n    mutationsFrozen: true\n"))
            .await;
    let frozen = "Mutations are frozen (kill switch active)";
    let (st, v) = s.remember_json(json!({"content": "x"})).await;
    assert_eq!(
        (st, v["error"].as_str()),
        (StatusCode::SERVICE_UNAVAILABLE, Some(frozen))
    );
    let (st, _) = s
        .patch("/api/memory/x", json!({"importance": 0.1, "reason": "r"}))
        .await;
    assert_eq!(st, StatusCode::SERVICE_UNAVAILABLE);
    let (st, _) = s.delete("/api/memory/x?reason=r").await;
    assert_eq!(st, StatusCode::SERVICE_UNAVAILABLE);
    let (st, _) = s
        .post("/api/memory/modify", json!({"patches": [{"id": "x"}]}))
        .await;
    assert_eq!(st, StatusCode::SERVICE_UNAVAILABLE);
    let (st, v) = s.forget_json(json!({"who": "x"})).await;
    assert_eq!(st, StatusCode::OK, "preview is never blocked: {v}");
    // Validation runs before the switch on single mutations.
    let (st, _) = s.patch("/api/memory/x", json!({"reason": "r"})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn recover_refuses_when_a_live_twin_holds_the_content() {
    let s = TestServer::start().await;
    let old = s.remember("The coffee machine is named Brewster.").await;
    s.delete(&format!("/api/memory/{old}?reason=x")).await;
    let twin = s.remember("The coffee machine is named Brewster.").await;
    assert_ne!(old, twin);
    let (st, v) = s
        .post(&format!("/api/memory/{old}/recover?reason=undo"), json!({}))
        .await;
    assert_eq!(st, StatusCode::CONFLICT, "{v}");
    assert_eq!(v["status"], "duplicate_content_hash");
    assert_eq!(v["duplicateMemoryId"], twin.as_str());
}
