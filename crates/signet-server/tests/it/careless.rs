//! Careless input a new user sends (issue 9): control characters, malformed filters, unknown
//! fields, lower-case schemes, store conflicts (oversized bodies: errors.rs). Each is a clear
//! 4xx or a warning, never a 5xx, and nothing is lost.

use reqwest::{Method, StatusCode};
use serde_json::json;
use signet_core::auth::{Role, Scope};

use crate::auth::{TEAM, token};
use crate::common::TestServer;

#[tokio::test]
async fn a_nul_byte_in_a_query_is_not_a_500() {
    let s = TestServer::start().await;
    s.remember("vim keybindings are preferred").await;
    let (st, v) = s.recall(json!({"query": "vim\u{0}keybindings"})).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["results"].as_array().unwrap().len(), 1, "{v}");
    for path in [
        "/api/memory/search?q=vim%00keys",
        "/memory/search?q=%00",
        "/api/memories?q=%00%01",
    ] {
        let (st, v) = s.get(path).await;
        assert!(st.is_success() || st.is_client_error(), "{path}: {st} {v}");
    }
    let (st, v) = s
        .forget_json(json!({"mode": "preview", "query": "\u{0}vim\u{7}"}))
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
}

#[tokio::test]
async fn malformed_since_and_until_are_400s_naming_the_format() {
    let s = TestServer::start().await;
    s.remember("deploys happen on tuesdays").await;
    for body in [
        json!({"query": "deploys", "since": "yesterday"}),
        json!({"query": "deploys", "until": "2026-13-45"}),
    ] {
        let (st, v) = s.recall(body.clone()).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{body}: {v}");
        let e = v["error"].as_str().unwrap();
        assert!(e.contains("ISO-8601") && e.contains("2026-01-31"), "{e}");
    }
    let (st, _) = s
        .get("/api/memory/search?q=deploys&since=last%20week")
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    let (st, _) = s
        .forget_json(json!({"mode": "preview", "since": "soon"}))
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    // Dates and full timestamps work; a date-only `until` covers that whole day.
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    let (st, v) = s
        .recall(json!({"query": "deploys", "since": "2020-01-01", "until": today}))
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["results"].as_array().unwrap().len(), 1, "{v}");
    let (st, v) = s
        .recall(json!({"query": "deploys", "since": "2999-01-01T00:00:00Z"}))
        .await;
    assert_eq!(st, StatusCode::OK);
    assert!(v["results"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn unknown_fields_come_back_as_warnings() {
    let s = TestServer::start().await;
    let (st, v) = s
        .remember_json(json!({"content": "the staging db is on port 5433", "tgas": "db"}))
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["warnings"], json!(["unknown field \"tgas\" ignored"]));
    let id = v["id"].as_str().unwrap().to_owned();
    let (_, v) = s.recall(json!({"query": "staging", "limt": 1})).await;
    assert_eq!(v["warnings"], json!(["unknown field \"limt\" ignored"]));
    let (st, v) = s
        .patch_memory(
            &id,
            json!({"importance": 0.9, "reason": "x", "ifVersion": 1}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(
        v["warnings"],
        json!(["unknown field \"ifVersion\" ignored"])
    );
    // A clean body has no warnings key at all.
    let (_, v) = s.recall(json!({"query": "staging"})).await;
    assert!(v.get("warnings").is_none(), "{v}");
}

#[tokio::test]
async fn long_content_is_chunked_between_words() {
    let s = TestServer::start().await;
    let words: Vec<String> = (0..200).map(|i| format!("word{i}")).collect();
    let content = words.join(" ");
    let (st, v) = s.remember_json(json!({"content": content})).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["chunked"], true, "{v}");
    let mut rebuilt = Vec::new();
    for id in v["ids"].as_array().unwrap() {
        let (_, m) = s
            .get(&format!("/api/memory/{}", id.as_str().unwrap()))
            .await;
        let text = m["content"].as_str().unwrap().to_owned();
        for w in text.split(' ') {
            assert!(words.contains(&w.to_owned()), "chunk cut a word: {w:?}");
        }
        rebuilt.push(text);
    }
    assert_eq!(rebuilt.join(" "), content);
}

#[tokio::test]
async fn status_reports_the_auth_mode_in_force() {
    for mode in ["team", "hybrid"] {
        let s = TestServer::start_with_yaml(Some(&format!("auth:\n  mode: {mode}\n"))).await;
        let admin = token(&s, Role::Admin, "ops", Scope::default());
        let h = format!("Bearer {admin}");
        let (st, v) = s
            .call_with(Method::GET, "/api/status", None, &[("authorization", &h)])
            .await;
        assert_eq!(st, StatusCode::OK, "{v}");
        assert_eq!(v["auth"]["mode"], mode, "{v}");
    }
    let s = TestServer::start().await;
    assert_eq!(s.get("/api/status").await.1["auth"]["mode"], "local");
}

#[tokio::test]
async fn the_bearer_scheme_is_case_insensitive() {
    let s = TestServer::start_with_yaml(Some(TEAM)).await;
    let agent = token(&s, Role::Agent, "ci", Scope::default());
    for scheme in ["bearer", "BEARER", "Bearer"] {
        let h = format!("{scheme} {agent}");
        let (st, v) = s
            .call_with(
                Method::POST,
                "/api/memory/remember",
                Some(json!({"content": format!("written with {scheme}")})),
                &[("authorization", &h)],
            )
            .await;
        assert_eq!(st, StatusCode::OK, "{scheme}: {v}");
    }
}

/// A constraint the store reports (here a trigger standing in for any uniqueness rule) is a
/// 409 with a message, not a 500, and the memory is unchanged.
#[tokio::test]
async fn store_conflicts_are_409s() {
    let s = TestServer::start().await;
    let id = s.remember("the conflict test memory").await;
    let db = rusqlite::Connection::open(s.workspace.join("memory/memories.db")).unwrap();
    db.execute_batch(
        "CREATE TRIGGER test_conflict BEFORE UPDATE OF importance ON memories \
         BEGIN SELECT RAISE(ABORT, 'simulated uniqueness conflict'); END;",
    )
    .unwrap();
    let (st, v) = s
        .patch_memory(&id, json!({"importance": 0.2, "reason": "x"}))
        .await;
    assert_eq!(st, StatusCode::CONFLICT, "{v}");
    assert!(v["error"].as_str().unwrap().contains("conflict"), "{v}");
    assert!(
        !v.to_string().contains("simulated"),
        "store detail leaked: {v}"
    );
    let (_, m) = s.get(&format!("/api/memory/{id}")).await;
    assert_eq!(m["version"], 1);
    let (st, v) = s
        .post(
            "/api/memory/modify",
            json!({"patches": [{"id": id, "importance": 0.3, "reason": "x"}]}),
        )
        .await;
    assert!(
        st == StatusCode::CONFLICT || st == StatusCode::OK,
        "{st} {v}"
    );
    assert!(!st.is_server_error());
}
