//! Token scopes as an attacker would probe them: a scoped token must not see, change or hear
//! anything outside its scope, on any memory route. Every refusal is checked to leave the
//! database unchanged.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use signet_core::auth::{Role, Scope};

use crate::auth::{TEAM, as_bearer, project, snapshot, token};
use crate::common::{TestServer, column};

/// Every route that names one memory refuses `other` with a 403 naming the scope.
async fn refuses_every_single_memory_route(s: &TestServer, tok: &str, other: &str, scope: &str) {
    let patch = json!({"content": "pwned", "reason": "x"});
    let delete = json!({"reason": "x", "force": true});
    let calls = [
        (Method::GET, format!("/api/memory/{other}"), None),
        (Method::GET, format!("/api/memory/{other}/history"), None),
        (Method::GET, format!("/memory/similar?id={other}"), None),
        (Method::PATCH, format!("/api/memory/{other}"), Some(patch)),
        (Method::DELETE, format!("/api/memory/{other}"), Some(delete)),
        (
            Method::POST,
            format!("/api/memory/{other}/recover"),
            Some(json!({"reason": "x"})),
        ),
    ];
    for (method, path, body) in calls {
        let (st, v) = as_bearer(s, method, &path, body, tok).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{path}: {v}");
        assert!(v["error"].as_str().unwrap().contains(scope), "{path}: {v}");
    }
}

/// Beyond the single-memory routes on `theirs` and `loose` (both outside the scope): a batch
/// forget of both deletes nothing, a forget preview counts only the one memory in scope, and
/// a batch modify of `theirs` is denied.
async fn refuses_everything_outside_the_scope(
    s: &TestServer,
    tok: &str,
    theirs: &str,
    loose: &str,
    scope: &str,
) {
    for other in [theirs, loose] {
        refuses_every_single_memory_route(s, tok, other, scope).await;
    }
    let post = |path: &'static str, body: Value| as_bearer(s, Method::POST, path, Some(body), tok);
    let execute = json!({"mode": "execute", "ids": [theirs, loose], "reason": "x"});
    let (st, v) = post("/api/memory/forget", execute).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["deleted"].as_i64().unwrap_or(0), 0, "{v}");
    let preview = json!({"mode": "preview", "query": "fridays"});
    let (_, v) = post("/api/memory/forget", preview).await;
    assert_eq!(v["count"], 1, "{v}");
    let patches = json!({"patches": [{"id": theirs, "content": "pwned", "reason": "x"}]});
    let (_, v) = post("/api/memory/modify", patches).await;
    assert_eq!(v["results"][0]["status"], "scope_denied", "{v}");
}

/// Remembering `content`, which a memory outside the scope holds, is refused rather than
/// answered with that memory as the dedup hit.
async fn refuses_a_dedup_hit_outside_the_scope(s: &TestServer, tok: &str, content: &str) {
    let body = json!({ "content": content });
    let (st, _) = as_bearer(s, Method::POST, "/api/memory/remember", Some(body), tok).await;
    assert_eq!(
        st,
        StatusCode::FORBIDDEN,
        "a dedup hit outside the scope is not handed out"
    );
}

/// Remembers `body` with the bearer `tok`, asserting it is stored; returns the new id.
async fn remember_as(s: &TestServer, tok: &str, body: Value) -> String {
    let (st, v) = as_bearer(s, Method::POST, "/api/memory/remember", Some(body), tok).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    v["id"].as_str().unwrap().to_owned()
}

/// The body of `GET /api/memory/{id}` with the bearer `tok`, whatever the status.
async fn detail_as(s: &TestServer, tok: &str, id: &str) -> Value {
    as_bearer(s, Method::GET, &format!("/api/memory/{id}"), None, tok)
        .await
        .1
}

/// The ids of the rows under `key` (`memories` or `results`), in order.
fn ids(v: &Value, key: &str) -> Vec<String> {
    column(&v[key], "id")
}

/// For `tok`, the listing (and its stats) holds only `mine`, and a keyword and a vector recall
/// find nothing else; returns the ids each recall found.
async fn lists_and_recalls_only(s: &TestServer, tok: &str, mine: &str) -> Vec<Vec<String>> {
    let (st, v) = as_bearer(s, Method::GET, "/api/memories", None, tok).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(ids(&v, "memories"), [mine]);
    assert_eq!(v["stats"]["total"], 1, "stats are scoped too");
    let mut recalled = Vec::new();
    for body in [
        json!({"query": "fridays pipeline"}),
        json!({"query": "fridays pipeline", "mode": "vector"}),
    ] {
        let (st, v) = as_bearer(s, Method::POST, "/api/memory/recall", Some(body), tok).await;
        assert_eq!(st, StatusCode::OK, "{v}");
        let got = ids(&v, "results");
        assert!(got.iter().all(|id| *id == mine), "{got:?}");
        recalled.push(got);
    }
    recalled
}

/// `tok` deletes `id`, a memory inside its scope.
async fn deletes_inside_the_scope(s: &TestServer, tok: &str, id: &str, reason: &str) {
    let path = format!("/api/memory/{id}");
    let body = json!({ "reason": reason });
    let (st, _) = as_bearer(s, Method::DELETE, &path, Some(body), tok).await;
    assert_eq!(st, StatusCode::OK, "inside the scope everything works");
}

/// The admin's snapshot still equals `before`.
async fn assert_unchanged(s: &TestServer, admin: &str, before: &[(String, String, i64)]) {
    assert_eq!(
        snapshot(s, admin).await,
        before,
        "nothing outside the scope changed"
    );
}

#[tokio::test]
async fn a_project_scoped_token_cannot_see_or_touch_other_projects() {
    let s = TestServer::start_with_yaml(Some(TEAM)).await;
    let admin = token(&s, Role::Admin, "root", Scope::default());
    let remember = |content: &str, project: Option<&str>| {
        remember_as(&s, &admin, json!({"content": content, "project": project}))
    };
    let mine = remember(
        "acme deploys on fridays with the blue pipeline",
        Some("acme"),
    )
    .await;
    let theirs = remember(
        "globex deploys on fridays with the red pipeline",
        Some("globex"),
    )
    .await;
    let loose = remember("nobody owns this pipeline note about fridays", None).await;
    let before = snapshot(&s, &admin).await;
    let acme = token(&s, Role::Agent, "claude-code:acme", project("acme"));
    let call = |m: Method, p: String, b: Option<Value>| {
        let acme = acme.clone();
        let s = &s;
        async move { as_bearer(s, m, &p, b, &acme).await }
    };

    lists_and_recalls_only(&s, &acme, &mine).await;
    for path in ["/api/memory/search?q=fridays", "/memory/search?q=fridays"] {
        let (_, v) = call(Method::GET, path.into(), None).await;
        assert!(
            v["results"]
                .as_array()
                .unwrap()
                .iter()
                .all(|r| r["id"] == mine.as_str()),
            "{v}"
        );
    }

    refuses_everything_outside_the_scope(&s, &acme, &theirs, &loose, "project 'acme'").await;
    for path in [
        "/api/embeddings",
        "/api/embeddings/projection",
        "/memory/search?distinct=who",
    ] {
        let (st, v) = call(Method::GET, path.into(), None).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{path}: {v}");
    }
    // A body naming another project is refused, for reads and writes alike.
    for (path, body) in [
        (
            "/api/memory/recall",
            json!({"query": "fridays", "project": "globex"}),
        ),
        (
            "/api/memory/remember",
            json!({"content": "sneaky", "project": "globex"}),
        ),
    ] {
        let (st, _) = call(Method::POST, path.into(), Some(body)).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{path}");
    }
    refuses_a_dedup_hit_outside_the_scope(
        &s,
        &acme,
        "globex deploys on fridays with the red pipeline",
    )
    .await;

    assert_unchanged(&s, &admin, &before).await;

    let stamped = remember_as(&s, &acme, json!({"content": "acme rotates keys monthly"})).await;
    let d = detail_as(&s, &admin, &stamped).await;
    assert_eq!(
        d["project"], "acme",
        "new memories are stamped with the scope"
    );
    deletes_inside_the_scope(&s, &acme, &mine, "done").await;
    let (_, v) = as_bearer(
        &s,
        Method::GET,
        "/api/analytics/errors?stage=mutation",
        None,
        &admin,
    )
    .await;
    assert!(
        v["summary"]["MUTATION_SCOPE_DENIED"].as_u64().unwrap_or(0) >= 6,
        "{v}"
    );
    assert_eq!(v["errors"][0]["actor"], "claude-code:acme", "{v}");
}

/// `scope_user` of every memory row, straight from the database (the API never shows it).
fn scope_users(s: &TestServer) -> std::collections::BTreeMap<String, Option<String>> {
    let c = rusqlite::Connection::open(s.workspace.join("memory/memories.db")).unwrap();
    let mut stmt = c.prepare("SELECT id, scope_user FROM memories").unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
}

fn user(u: &str) -> Scope {
    Scope {
        user: Some(u.into()),
        ..Scope::default()
    }
}

#[tokio::test]
async fn a_user_scoped_token_sees_and_touches_only_its_users_memories() {
    let s = TestServer::start_with_yaml(Some(TEAM)).await;
    let admin = token(&s, Role::Admin, "root", Scope::default());
    let ann = token(&s, Role::Agent, "claude-code:ann", user("ann"));
    let bob = token(&s, Role::Agent, "claude-code:bob", user("bob"));
    let remember = |tok, body| remember_as(&s, tok, body);
    let mine = remember(
        &ann,
        json!({"content": "ann deploys on fridays with the blue pipeline"}),
    )
    .await;
    let theirs = remember(
        &bob,
        json!({"content": "bob deploys on fridays with the red pipeline"}),
    )
    .await;
    let loose = remember(
        &admin,
        json!({"content": "nobody owns this pipeline note about fridays"}),
    )
    .await;
    let stamped = scope_users(&s);
    assert_eq!(
        stamped[&mine].as_deref(),
        Some("ann"),
        "stamped from the token"
    );
    assert_eq!(stamped[&theirs].as_deref(), Some("bob"));
    assert_eq!(stamped[&loose], None, "unscoped writers stamp nothing");
    let d = detail_as(&s, &admin, &mine).await;
    assert!(d.get("scope_user").is_none(), "not part of the API: {d}");

    let before = snapshot(&s, &admin).await;
    let call = |m: Method, p: String, b: Option<Value>| {
        let ann = ann.clone();
        let s = &s;
        async move { as_bearer(s, m, &p, b, &ann).await }
    };

    for got in lists_and_recalls_only(&s, &ann, &mine).await {
        assert!(got.contains(&mine), "{got:?}");
    }
    for path in ["/api/memory/search?q=fridays", "/memory/search?q=fridays"] {
        let (st, v) = call(Method::GET, path.into(), None).await;
        assert_eq!(st, StatusCode::OK, "{path}: {v}");
        assert_eq!(ids(&v, "results"), [mine.as_str()], "{path}");
    }
    let (st, v) = call(Method::GET, format!("/api/memory/{mine}"), None).await;
    assert_eq!(
        (st, v["id"].as_str()),
        (StatusCode::OK, Some(mine.as_str()))
    );

    refuses_everything_outside_the_scope(&s, &ann, &theirs, &loose, "user 'ann'").await;
    refuses_a_dedup_hit_outside_the_scope(&s, &ann, "bob deploys on fridays with the red pipeline")
        .await;
    let body = json!({"content": "sneaky", "scope_user": "bob", "scopeUser": "bob"});
    let sneaky = remember_as(&s, &ann, body).await;
    assert_eq!(
        scope_users(&s)[&sneaky].as_deref(),
        Some("ann"),
        "the body cannot choose another user"
    );
    deletes_inside_the_scope(&s, &ann, &sneaky, "cleanup").await;

    assert_unchanged(&s, &admin, &before).await;
}

#[tokio::test]
async fn a_user_scoped_token_hears_only_its_users_events() {
    let s = TestServer::start_with_yaml(Some(TEAM)).await;
    let ann = token(&s, Role::Agent, "dash:ann", user("ann"));
    let bob = token(&s, Role::Agent, "dash:bob", user("bob"));
    let mut stream = s.sse_as("/sse", Some(&ann)).await;
    assert_eq!(stream.next().await.unwrap().event, "connected");
    for (content, tok) in [("bob secret plan", &bob), ("ann public plan", &ann)] {
        let body = json!({"content": content});
        let (st, _) = as_bearer(&s, Method::POST, "/api/memory/remember", Some(body), tok).await;
        assert_eq!(st, StatusCode::OK);
    }
    let first = stream.until("memory.created", |_| true).await;
    let d = detail_as(&s, &ann, first["id"].as_str().unwrap()).await;
    assert_eq!(
        d["content"], "ann public plan",
        "bob's event was filtered out: {first}"
    );
    assert!(
        first.get("scope_user").is_none() && first.get("scopeUser").is_none(),
        "{first}"
    );
}

#[tokio::test]
async fn a_scoped_token_hears_only_its_scope_on_the_event_stream() {
    let s = TestServer::start_with_yaml(Some(TEAM)).await;
    let admin = token(&s, Role::Admin, "root", Scope::default());
    let acme = token(&s, Role::Readonly, "dash:acme", project("acme"));
    let mut stream = s.sse_as("/sse", Some(&acme)).await;
    assert_eq!(stream.next().await.unwrap().event, "connected");
    for (content, project) in [
        ("globex secret plan", "globex"),
        ("acme public plan", "acme"),
    ] {
        let body = json!({"content": content, "project": project});
        let (st, _) = as_bearer(&s, Method::POST, "/api/memory/remember", Some(body), &admin).await;
        assert_eq!(st, StatusCode::OK);
    }
    let first = stream.until("memory.created", |_| true).await;
    assert_eq!(
        first["project"], "acme",
        "the globex event was filtered out: {first}"
    );
}
