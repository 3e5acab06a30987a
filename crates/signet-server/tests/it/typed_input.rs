//! Typed input: every body field of a wrong type is a 400 naming it, every bad query
//! parameter too, unknown query keys are still accepted, and the two raw-row answers (the
//! detail and the legacy search) decode into their wire types and encode back to the bytes
//! the daemon sent.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use signet_api::{LegacySearchResponse, MemoryDetail};

use crate::common::TestServer;

/// `base` with `field` set to `value`.
fn with(base: &Value, field: &str, value: Value) -> Value {
    let mut body = base.clone();
    body[field] = value;
    body
}

/// Sends `base` once per `(field, wrong value)` and expects a 400 whose `error` names the field.
async fn refuses_each(
    s: &TestServer,
    method: Method,
    path: &str,
    base: Value,
    fields: &[(&str, Value)],
) {
    for (field, value) in fields {
        let body = with(&base, field, value.clone());
        let (st, e) = s.call(method.clone(), path, Some(body.clone())).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{method} {path} {body}: {e}");
        let error = e["error"].as_str().unwrap_or_default();
        assert!(
            error.contains(field),
            "{method} {path}: the error for {field} = {value} does not name it: {error:?}"
        );
    }
}

#[tokio::test]
async fn a_wrong_type_in_any_body_field_is_a_400_naming_it() {
    let s = TestServer::start().await;
    let id = s.remember("the typed input memory").await;
    let one = format!("/api/memory/{id}");
    let recover = format!("{one}/recover");
    let (n, b) = (json!(5), json!("maybe"));
    let strings = |fields: &[&'static str]| -> Vec<(&'static str, Value)> {
        fields.iter().map(|f| (*f, json!(5))).collect()
    };

    let mut remember = strings(&[
        "content",
        "who",
        "project",
        "tags",
        "type",
        "sourceType",
        "sourceId",
        "createdAt",
        "changed_by",
    ]);
    remember.extend([("importance", b.clone()), ("pinned", b.clone())]);
    let base = json!({"content": "a memory never stored"});
    refuses_each(&s, Method::POST, "/api/memory/remember", base, &remember).await;

    let mut recall = strings(&[
        "query",
        "keywordQuery",
        "mode",
        "type",
        "tags",
        "who",
        "since",
        "until",
        "project",
    ]);
    recall.extend([
        ("limit", b.clone()),
        ("pinned", b.clone()),
        ("importance_min", b.clone()),
        ("explain", b.clone()),
        ("explain", json!([true])),
    ]);
    let base = json!({"query": "typed"});
    refuses_each(&s, Method::POST, "/api/memory/recall", base, &recall).await;

    let mut patch = strings(&["reason", "content", "type", "tags", "changed_by"]);
    patch.extend([
        ("if_version", b.clone()),
        ("importance", b.clone()),
        ("pinned", b.clone()),
    ]);
    let base = json!({"reason": "r", "importance": 0.5});
    refuses_each(&s, Method::PATCH, &one, base, &patch).await;

    let guard = [
        ("reason", n.clone()),
        ("force", b.clone()),
        ("if_version", b.clone()),
        ("changed_by", n.clone()),
    ];
    let base = json!({"reason": "r"});
    refuses_each(&s, Method::DELETE, &one, base.clone(), &guard).await;
    refuses_each(&s, Method::POST, &recover, base, &guard).await;

    let modify = [
        ("patches", b.clone()),
        ("reason", n.clone()),
        ("changed_by", n.clone()),
    ];
    let base = json!({"patches": [{"id": id, "importance": 0.5}], "reason": "r"});
    refuses_each(&s, Method::POST, "/api/memory/modify", base, &modify).await;

    let mut forget = strings(&[
        "mode",
        "query",
        "type",
        "tags",
        "who",
        "source_type",
        "since",
        "until",
        "reason",
        "confirm_token",
        "changed_by",
    ]);
    forget.extend([
        ("limit", b.clone()),
        ("ids", b.clone()),
        ("force", b.clone()),
        ("if_version", json!(1)),
    ]);
    let base = json!({"mode": "execute", "reason": "r", "ids": [id]});
    refuses_each(&s, Method::POST, "/api/memory/forget", base, &forget).await;

    // Nothing was written or forgotten on the way.
    let (st, m) = s.get(&one).await;
    assert_eq!(st, StatusCode::OK, "{m}");
    assert_eq!(m["version"], 1);
}

#[tokio::test]
async fn a_wrong_type_in_a_batch_patch_is_answered_in_its_place() {
    let s = TestServer::start().await;
    let id = s.remember("the batch typed memory").await;
    let b = json!("maybe");
    let fields = [
        ("reason", json!(5)),
        ("if_version", b.clone()),
        ("content", json!(5)),
        ("type", json!(5)),
        ("tags", json!(5)),
        ("importance", b.clone()),
        ("pinned", b.clone()),
    ];
    for (field, value) in fields {
        let mut patch = json!({"id": id, "importance": 0.5, "reason": "r"});
        patch[field] = value;
        let (st, v) = s
            .post("/api/memory/modify", json!({"patches": [patch]}))
            .await;
        assert_eq!(st, StatusCode::OK, "{field}: {v}");
        let r = &v["results"][0];
        assert_eq!(r["status"], "invalid_request", "{field}: {v}");
        let error = r["error"].as_str().unwrap_or_default();
        assert!(error.contains(field), "{field}: {error:?}");
        assert_eq!(v["updated"], 0);
    }
}

#[tokio::test]
async fn bad_query_parameters_are_400s_naming_them_and_unknown_keys_pass() {
    let s = TestServer::start().await;
    let id = s.remember("vim keys for the typed query").await;
    s.remember("a second memory for the listing").await;
    let bad = [
        ("/api/memories?limit=many", "limit"),
        ("/api/memories?offset=-1", "offset"),
        ("/api/memory/search?q=vim&limit=0", "limit"),
        ("/api/memory/search?q=vim&mode=fuzzy", "mode"),
        ("/api/memory/search?q=vim&pinned=maybe", "pinned"),
        (
            "/api/memory/search?q=vim&importance_min=high",
            "importance_min",
        ),
        ("/api/memory/search?q=vim&since=yesterday", "since"),
        ("/api/memory/search?q=vim&until=tomorrow", "until"),
        ("/memory/search?q=vim&limit=many", "limit"),
        ("/memory/search?type=fact&since=yesterday", "since"),
        ("/memory/search?pinned=maybe", "pinned"),
    ];
    let history = format!("/api/memory/{id}/history?limit=none");
    for (path, field) in bad.iter().copied().chain([(history.as_str(), "limit")]) {
        let (st, e) = s.get(path).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{path}: {e}");
        let error = e["error"].as_str().unwrap_or_default();
        assert!(error.contains(field), "{path}: {error:?}");
    }
    for query in ["force=maybe", "if_version=x"] {
        let path = format!("/api/memory/{id}?reason=r&{query}");
        let (st, e) = s.delete(&path).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{path}: {e}");
        let field = query.split('=').next().unwrap_or_default();
        assert!(e["error"].as_str().unwrap_or_default().contains(field));
    }

    // Unknown keys are ignored; a repeated key keeps its last value, as before.
    let (st, v) = s.get("/api/memories?bogus=1&limit=x&limit=1").await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["memories"].as_array().map(Vec::len), Some(1));
    let (st, v) = s.get("/api/memory/search?q=vim&bogus=1").await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["results"][0]["id"], id.as_str());
    // Nothing to search: the legacy route answers empty without reading `limit`.
    let (st, v) = s.get("/memory/search?limit=many").await;
    assert_eq!((st, v), (StatusCode::OK, json!({"results": []})));
    // `distinct=who` ignores the other keys.
    let (st, v) = s.get("/memory/search?distinct=who&since=nonsense").await;
    assert_eq!((st, v), (StatusCode::OK, json!({"values": ["daemon"]})));
}

/// `raw` decoded as `T` encodes back to the same JSON.
fn round_trip<T: serde::de::DeserializeOwned + serde::Serialize>(raw: &Value) -> T {
    let typed: T = serde_json::from_value(raw.clone()).unwrap_or_else(|e| panic!("{e}: {raw}"));
    assert_eq!(&serde_json::to_value(&typed).unwrap(), raw);
    typed
}

#[tokio::test]
async fn the_detail_and_the_legacy_search_match_their_wire_types() {
    let s = TestServer::start().await;
    let (st, v) = s
        .remember_json(
            json!({"content": "the session detail memory", "who": "alice",
            "sourceType": "session-end", "sourceId": "sess-1"}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let id = v["id"].as_str().unwrap().to_owned();

    let (st, raw) = s.get(&format!("/api/memory/{id}")).await;
    assert_eq!(st, StatusCode::OK, "{raw}");
    let detail: MemoryDetail = round_trip(&raw);
    assert_eq!(detail.row["sessionId"], "sess-1");
    let keys: Vec<&String> = detail.row.keys().collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted, "keys are sent in alphabetical order");
    for (column, ..) in MemoryDetail::COLUMNS {
        assert!(detail.row.contains_key(*column), "{column} missing: {raw}");
    }
    assert_eq!(detail.row.len(), MemoryDetail::COLUMNS.len());

    for path in ["/memory/search?q=session", "/memory/search?who=alice"] {
        let (st, raw) = s.get(path).await;
        assert_eq!(st, StatusCode::OK, "{raw}");
        let LegacySearchResponse::Results { results } = round_trip(&raw) else {
            panic!("expected results: {raw}");
        };
        assert_eq!(results[0]["id"], id.as_str(), "{path}");
    }
    let (_, raw) = s.get("/memory/search?distinct=who").await;
    let LegacySearchResponse::Values { values } = round_trip(&raw) else {
        panic!("expected values: {raw}");
    };
    assert_eq!(values, ["alice"]);
}
