//! `/mcp` at the protocol level (the real SDK clients run in `crates/signet/tests/it/mcp.rs`):
//! the transport's rules, the tools and their schemas, errors as `isError`, and team mode —
//! 401 before any tool, each tool's own permission, the token's scope — plus the session
//! routes and feedback over HTTP.

use reqwest::StatusCode;
use serde_json::{Value, json};
use signet_core::auth::{Role, Scope};
use signet_core::sessions::RuntimePath;

use crate::auth::{TEAM, get_as, post_as, project, token};
use crate::common::TestServer;

const ACCEPT: &str = "application/json, text/event-stream";

/// One JSON-RPC POST to `/mcp` (with the headers a client sends); status, headers, body.
async fn rpc(
    s: &TestServer,
    body: Value,
    bearer: Option<&str>,
) -> (StatusCode, reqwest::header::HeaderMap, Value) {
    let mut req = reqwest::Client::new()
        .post(format!("{}/mcp", s.base))
        .header("accept", ACCEPT)
        .json(&body);
    if let Some(t) = bearer {
        req = req.bearer_auth(t);
    }
    let res = req.send().await.unwrap();
    let (status, headers) = (res.status(), res.headers().clone());
    let text = res.text().await.unwrap();
    let v = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, headers, v)
}

/// `tools/call` of `name`; the result object (its `isError` and its one text item).
async fn call(s: &TestServer, bearer: Option<&str>, name: &str, args: Value) -> (bool, String) {
    let body = json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call",
        "params": {"name": name, "arguments": args}});
    let (st, _, v) = rpc(s, body, bearer).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let result = &v["result"];
    assert!(result.is_object(), "{name}: {v}");
    let content = result["content"].as_array().unwrap();
    assert_eq!(content.len(), 1, "{v}");
    let text = content[0]["text"].as_str().unwrap().to_owned();
    (result["isError"] == json!(true), text)
}

/// A tool call that must succeed; its answer parsed.
async fn ok(s: &TestServer, bearer: Option<&str>, name: &str, args: Value) -> Value {
    let (error, text) = call(s, bearer, name, args).await;
    assert!(!error, "{name}: {text}");
    serde_json::from_str(&text).unwrap()
}

/// A tool call that must fail; its message.
async fn refused(s: &TestServer, bearer: Option<&str>, name: &str, args: Value) -> String {
    let (error, text) = call(s, bearer, name, args).await;
    assert!(error, "{name} should fail: {text}");
    text
}

fn initialize() -> Value {
    json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {},
        "clientInfo": {"name": "it", "version": "0"}}})
}

#[tokio::test]
async fn the_transport_is_stateless_json_with_the_sdks_rules() {
    let s = TestServer::start().await;
    let (st, headers, v) = rpc(&s, initialize(), None).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    assert!(headers.get("mcp-session-id").is_none(), "stateless");
    assert_eq!(v["result"]["serverInfo"]["name"], "signet");
    assert!(v["result"]["capabilities"]["tools"].is_object(), "{v}");

    let note = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    let (st, _, _) = rpc(&s, note, None).await;
    assert_eq!(st, StatusCode::ACCEPTED);

    let c = reqwest::Client::new();
    let url = format!("{}/mcp", s.base);
    let plain = c
        .post(&url)
        .header("accept", "application/json")
        .json(&initialize());
    assert_eq!(
        plain.send().await.unwrap().status(),
        StatusCode::NOT_ACCEPTABLE
    );
    let text = c
        .post(&url)
        .header("accept", ACCEPT)
        .body(initialize().to_string());
    let text = text.header("content-type", "text/plain");
    assert_eq!(
        text.send().await.unwrap().status(),
        StatusCode::UNSUPPORTED_MEDIA_TYPE
    );
    let get = c.get(&url).header("accept", "text/event-stream");
    assert_eq!(
        get.send().await.unwrap().status(),
        StatusCode::METHOD_NOT_ALLOWED
    );
}

#[tokio::test]
async fn eight_tools_with_schemas_and_every_one_answers() {
    let s = TestServer::start().await;
    let list = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"});
    let (_, _, v) = rpc(&s, list, None).await;
    let tools = v["result"]["tools"].as_array().unwrap();
    let names: Vec<&str> = tools.iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, signet_server::mcp::TOOLS);
    for t in tools {
        assert!(t["description"].as_str().unwrap().len() > 20, "{t}");
        assert_eq!(t["inputSchema"]["type"], "object", "{t}");
    }
    let search = tools.iter().find(|t| t["name"] == "memory_search").unwrap();
    let props = &search["inputSchema"]["properties"];
    for arg in ["query", "limit", "type", "min_score"] {
        assert!(props[arg]["description"].is_string(), "{arg}: {search}");
    }
    assert_eq!(search["inputSchema"]["required"], json!(["query"]));

    let stored = ok(
        &s,
        None,
        "memory_store",
        json!({"content": "the deploy key rotates monthly",
        "type": "decision", "importance": 0.6, "tags": "ops,keys"}),
    )
    .await;
    let id = stored["id"].as_str().unwrap().to_owned();
    let detail = ok(&s, None, "memory_get", json!({"id": id})).await;
    assert_eq!(detail["type"], "decision", "type is honoured");
    assert_eq!(detail["tags"], "ops,keys");
    ok(
        &s,
        None,
        "memory_store",
        json!({"content": "tea is preferred over coffee"}),
    )
    .await;

    let found = ok(&s, None, "memory_search", json!({"query": "deploy key"})).await;
    assert_eq!(found["results"][0]["id"], id.as_str());
    let none = ok(
        &s,
        None,
        "memory_search",
        json!({"query": "deploy key", "min_score": 1.01}),
    )
    .await;
    assert_eq!(none["results"], json!([]), "min_score is a score threshold");
    let typed = ok(
        &s,
        None,
        "memory_search",
        json!({"query": "deploy key tea", "type": "fact"}),
    )
    .await;
    assert!(
        typed["results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["type"] == "fact")
    );

    let listed = ok(&s, None, "memory_list", json!({"type": "decision"})).await;
    assert_eq!(
        listed["memories"].as_array().unwrap().len(),
        1,
        "type is honoured"
    );
    let page = ok(&s, None, "memory_list", json!({"limit": 1, "offset": 1})).await;
    assert_eq!(page["memories"][0]["id"], id.as_str(), "newest first");

    let modified = ok(
        &s,
        None,
        "memory_modify",
        json!({"id": id, "importance": 0.9,
        "reason": "it matters"}),
    )
    .await;
    assert_eq!(modified["status"], "updated");
    let detail = ok(&s, None, "memory_get", json!({"id": id})).await;
    assert_eq!(
        detail["updated_by"], "mcp-server",
        "the actor of a tokenless call"
    );
    let url = format!("{}/mcp?harness=claude%20code", s.base);
    let body = json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {
        "name": "memory_modify", "arguments": {"id": id, "importance": 0.5, "reason": "r"}}});
    let res = reqwest::Client::new()
        .post(url)
        .header("accept", ACCEPT)
        .json(&body);
    assert_eq!(res.send().await.unwrap().status(), StatusCode::OK);
    let detail = ok(&s, None, "memory_get", json!({"id": id})).await;
    assert_eq!(
        detail["updated_by"], "claude code",
        "?harness= names the actor"
    );
    let feedback = ok(
        &s,
        None,
        "memory_feedback",
        json!({"session_key": "s1",
        "ratings": {id.as_str(): 1}}),
    )
    .await;
    assert_eq!(feedback, json!({"ok": true, "recorded": 0}));
    let forgotten = ok(
        &s,
        None,
        "memory_forget",
        json!({"id": id, "reason": "done"}),
    )
    .await;
    assert_eq!(forgotten["status"], "deleted");

    s.state
        .sessions()
        .claim("s1", RuntimePath::Plugin, chrono::Utc::now())
        .unwrap();
    let bypass = ok(
        &s,
        None,
        "session_bypass",
        json!({"session_key": "s1", "enabled": true}),
    )
    .await;
    assert_eq!(bypass, json!({"key": "s1", "bypassed": true}));
}

#[tokio::test]
async fn errors_are_tool_results_naming_the_reason() {
    let s = TestServer::start().await;
    let text = refused(&s, None, "memory_get", json!({"id": "no-such-id"})).await;
    assert!(text.contains("404") && text.contains("not found"), "{text}");
    let text = refused(&s, None, "memory_store", json!({"content": 5})).await;
    assert!(text.contains("content"), "bad arguments: {text}");
    let text = refused(
        &s,
        None,
        "memory_store",
        json!({"content": "x", "importance": 7}),
    )
    .await;
    assert!(
        text.contains("400") && text.contains("importance"),
        "{text}"
    );
    let text = refused(
        &s,
        None,
        "memory_forget",
        json!({"id": "no-such-id", "reason": "r"}),
    )
    .await;
    assert!(text.contains("404"), "{text}");
    let text = refused(&s, None, "memory_modify", json!({"id": "x", "reason": "r"})).await;
    assert!(text.contains("at least one of"), "{text}");
    let text = refused(
        &s,
        None,
        "session_bypass",
        json!({"session_key": "nope", "enabled": true}),
    )
    .await;
    assert!(text.contains("Session not found"), "{text}");
    let text = refused(
        &s,
        None,
        "memory_feedback",
        json!({"session_key": "s", "ratings": {}}),
    )
    .await;
    assert!(text.contains("Invalid feedback format"), "{text}");
    let unknown = json!({"jsonrpc": "2.0", "id": 9, "method": "tools/call",
        "params": {"name": "no_such_tool", "arguments": {}}});
    let (_, _, v) = rpc(&s, unknown, None).await;
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("tool not found"),
        "{v}"
    );
}

#[tokio::test]
async fn team_mode_needs_a_token_and_each_tool_its_permission_and_scope() {
    let s = TestServer::start_with_yaml(Some(TEAM)).await;
    let (st, headers, _) = rpc(&s, initialize(), None).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED, "no tool runs without a token");
    assert_eq!(headers["www-authenticate"], "Bearer");

    let admin = token(&s, Role::Admin, "admin", Scope::default());
    let reader = token(&s, Role::Readonly, "reader", Scope::default());
    let acme = token(&s, Role::Agent, "acme-agent", project("acme"));
    let (st, _, _) = rpc(&s, initialize(), Some(&reader)).await;
    assert_eq!(st, StatusCode::OK);

    let text = refused(&s, Some(&reader), "memory_store", json!({"content": "no"})).await;
    assert!(
        text.contains("403") && text.contains("lacks 'remember'"),
        "{text}"
    );
    ok(&s, Some(&reader), "memory_list", json!({})).await;

    let theirs = ok(
        &s,
        Some(&admin),
        "memory_store",
        json!({"content": "globex launches in may"}),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, v) = post_as(
        &s,
        "/api/memory/remember",
        json!({"content": "globex ships the rocket", "project": "globex"}),
        &admin,
    )
    .await;
    let globex = v["id"].as_str().unwrap().to_owned();
    let mine = ok(
        &s,
        Some(&acme),
        "memory_store",
        json!({"content": "acme prefers rust"}),
    )
    .await;
    let mine = mine["id"].as_str().unwrap().to_owned();
    let args = json!({"id": mine, "importance": 0.7, "reason": "r"});
    ok(&s, Some(&acme), "memory_modify", args).await;
    let detail = ok(&s, Some(&acme), "memory_get", json!({"id": mine})).await;
    assert_eq!(
        (detail["project"].as_str(), detail["updated_by"].as_str()),
        (Some("acme"), Some("acme-agent")),
        "the scope pins the project, the sub names the actor"
    );

    for id in [&theirs, &globex] {
        let text = refused(&s, Some(&acme), "memory_get", json!({"id": id})).await;
        assert!(text.contains("403") && text.contains("acme"), "{text}");
        let args = json!({"id": id, "content": "hijacked", "reason": "r"});
        refused(&s, Some(&acme), "memory_modify", args).await;
        refused(
            &s,
            Some(&acme),
            "memory_forget",
            json!({"id": id, "reason": "r"}),
        )
        .await;
    }
    let listed = ok(&s, Some(&acme), "memory_list", json!({})).await;
    let ids: Vec<&str> = listed["memories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [mine.as_str()]);
    let found = ok(
        &s,
        Some(&acme),
        "memory_search",
        json!({"query": "globex rocket"}),
    )
    .await;
    assert_eq!(found["results"], json!([]));
    let (_, globex_now) = get_as(&s, &format!("/api/memory/{globex}"), &admin).await;
    assert_eq!(
        globex_now["content"], "globex ships the rocket",
        "unchanged"
    );
}

#[tokio::test]
async fn sessions_and_feedback_over_http() {
    let s = TestServer::start().await;
    let (st, v) = s.get("/api/sessions").await;
    assert_eq!(
        (st, v),
        (StatusCode::OK, json!({"sessions": [], "count": 0}))
    );
    let (st, v) = s.get("/api/sessions/k1").await;
    assert_eq!(
        (st, v["error"].as_str()),
        (StatusCode::NOT_FOUND, Some("Session not found"))
    );
    s.state
        .sessions()
        .claim("k1", RuntimePath::Legacy, chrono::Utc::now())
        .unwrap();
    let (st, v) = s.get("/api/sessions").await;
    assert_eq!((st, v["count"].as_u64()), (StatusCode::OK, Some(1)));
    assert_eq!(v["sessions"][0]["runtimePath"], "legacy");
    let (st, v) = s
        .post("/api/sessions/k1/bypass", json!({"enabled": "yes"}))
        .await;
    assert_eq!(
        (st, v["error"].as_str()),
        (
            StatusCode::BAD_REQUEST,
            Some("enabled (boolean) is required")
        )
    );
    let (st, v) = s
        .post("/api/sessions/k1/bypass", json!({"enabled": true}))
        .await;
    assert_eq!(
        (st, v),
        (StatusCode::OK, json!({"key": "k1", "bypassed": true}))
    );
    assert!(s.state.sessions().is_bypassed("k1", chrono::Utc::now()));
    let (_, v) = s.get("/api/sessions/k1").await;
    assert_eq!(v["bypassed"], true);
    let (st, _) = s
        .post("/api/sessions/gone/bypass", json!({"enabled": true}))
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);

    let (st, v) = s
        .post("/api/memory/feedback", json!({"sessionKey": "k1"}))
        .await;
    assert_eq!(
        (st, v["error"].as_str()),
        (
            StatusCode::BAD_REQUEST,
            Some("sessionKey and feedback required")
        )
    );
    let (st, v) = s
        .post(
            "/api/memory/feedback",
            json!({"sessionKey": "k1", "feedback": {"m": 2}}),
        )
        .await;
    assert_eq!(
        (st, v),
        (StatusCode::OK, json!({"ok": true, "recorded": 0}))
    );
}
