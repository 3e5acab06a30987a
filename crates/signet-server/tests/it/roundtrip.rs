//! Every route of the route table round-trips through the client's wire types, table-driven
//! from the OpenAPI document (which names each route's response schema): a daemon with a few
//! memories answers a planned request per route; the body decodes into the named type and
//! re-encodes to the same text (keys in the same order, the same numbers once parsed), and
//! every key in it is one the type's schema declares (so a field the type does not model —
//! one that would land in `extra` — fails here).
//!
//! A route without a response schema must be in [`UNTYPED`] (with the reason) or be one of
//! the [`NOT_IMPLEMENTED`] placeholders; a route that is typed must have a request in
//! [`plan`] and a decoder in [`reencode`]. Adding an untyped route, or typing one without a
//! request and decoder here, fails this test.

use std::collections::BTreeSet;

use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use signet_api as api;

use crate::common::TestServer;

/// Routes whose answer has no wire type, and why.
const UNTYPED: &[(&str, &str, &str)] = &[
    ("GET", "/api/openapi.json", "the OpenAPI document itself"),
    ("GET", "/api/logs/stream", "an SSE stream of log entries"),
    ("GET", "/sse", "an SSE stream of live events"),
    ("GET", "/metrics", "Prometheus text format"),
    ("POST", "/mcp", "JSON-RPC (MCP), tests/it/mcp.rs"),
    (
        "GET",
        "/",
        "the dashboard's page (HTML), tests/it/dashboard_http.rs",
    ),
    ("GET", "/assets/{*path}", "the dashboard's files (JS, CSS)"),
    (
        "POST",
        "/api/export",
        "JSON Lines (application/x-ndjson), crates/signet/tests/it/export.rs",
    ),
];

/// The session the seeded daemon's tracker holds a claim on.
const SESSION: &str = "roundtrip-session";

/// The session the hook plans use (never bypassed).
const HOOKS: &str = "roundtrip-hooks";

/// The repairs this daemon does not implement (501): untyped for now; once typed, [`plan`]
/// expects their 501.
const NOT_IMPLEMENTED: &[(&str, &str)] = &[
    ("POST", "/api/repair/resync-vec"),
    ("POST", "/api/repair/reclassify-entities"),
    ("POST", "/api/repair/structural-backfill"),
];

/// A hybrid-mode daemon (local requests need no token, and the daemon has a secret to mint
/// with) whose rate limits leave room for one request per route.
const YAML: &str = "auth:\n  mode: hybrid\n  rateLimits:\n    admin:\n      max: 1000\n    \
                    batchForget:\n      max: 1000\nmemory:\n  pipelineV2:\n    extraction:\n      \
                    provider: ollama\n      endpoint: http://127.0.0.1:9\n";

/// What the plan needs to know about the seeded daemon.
struct Seeded {
    /// A live memory the reads and the PATCH use.
    live: String,
    /// A memory the DELETE deletes and the recover brings back.
    doomed: String,
    /// A token for the bearer `whoami`.
    token: String,
    /// The extract job queued for `live` (an ollama provider where nothing listens: jobs are
    /// queued, and fail and retry).
    job: String,
    /// An ingested document the reads use and the DELETE deletes (seeded by the route
    /// test only, so the other tests' memory counts stay as they are).
    document: String,
}

/// One planned request.
#[derive(Clone)]
struct Request {
    method: Method,
    /// The path with its query string.
    path: String,
    body: Option<Value>,
    /// Sent as `Authorization: Bearer` when set.
    bearer: Option<String>,
    /// The status the answer must have.
    status: StatusCode,
}

/// A request that must succeed (200).
fn ok(method: Method, path: impl Into<String>, body: Option<Value>) -> Request {
    Request {
        method,
        path: path.into(),
        body,
        bearer: None,
        status: StatusCode::OK,
    }
}

/// The requests that exercise a route, by its method and pattern (`None`: no plan).
fn plan(method: &str, path: &str, s: &Seeded) -> Option<Vec<Request>> {
    use Method as M;
    let get = |p: &str| vec![ok(M::GET, p, None)];
    let post = |p: &str, b: Value| vec![ok(M::POST, p, Some(b))];
    if NOT_IMPLEMENTED.contains(&(method, path)) {
        let m = M::from_bytes(method.as_bytes()).ok()?;
        let body = (m == M::POST).then(|| json!({}));
        let status = StatusCode::NOT_IMPLEMENTED;
        return Some(vec![Request {
            status,
            ..ok(m, path, body)
        }]);
    }
    Some(match (method, path) {
        ("GET", "/health" | "/api/auth/status" | "/api/status" | "/api/features") => get(path),
        ("GET", "/api/identity" | "/api/config" | "/api/diagnostics" | "/api/logs") => get(path),
        ("GET", "/api/embeddings/status" | "/api/embeddings/health") => get(path),
        ("GET", "/api/embeddings/projection" | "/api/repair/dedup-stats") => get(path),
        ("GET", "/api/repair/embedding-gaps" | "/api/analytics/logs") => get(path),
        ("GET", "/api/analytics/usage" | "/api/analytics/latency") => get(path),
        ("GET", "/api/analytics/memory-safety" | "/api/repair/cold-stats") => get(path),
        ("GET", "/api/analytics/errors") => get("/api/analytics/errors?stage=mutation&limit=5"),
        ("GET", "/api/auth/whoami") => {
            let bearer = Some(s.token.clone());
            vec![
                ok(M::GET, path, None),
                Request {
                    bearer,
                    ..ok(M::GET, path, None)
                },
            ]
        }
        ("POST", "/api/auth/token") => post(
            path,
            json!({"role": "agent", "sub": "roundtrip", "scope": {"project": "p"}}),
        ),
        ("POST", "/api/config") => post(path, json!({"file": "NOTES.md", "content": "hi"})),
        ("GET", "/api/memories") => [get(path), get("/api/memories?limit=1&offset=1")].concat(),
        ("POST", "/api/memory/remember" | "/api/memory/save" | "/api/hook/remember") => [
            post(path, json!({"content": format!("roundtrip via {path}")})),
            post(path, json!({"content": "word ".repeat(400)})),
        ]
        .concat(),
        ("POST", "/api/memory/recall") => [
            post(path, json!({"query": "rotate keys"})),
            post(
                path,
                json!({"query": "rotate", "mode": "keyword", "limit": 2}),
            ),
            post(path, json!({"query": "rotate keys", "explain": true})),
        ]
        .concat(),
        ("GET", "/api/memory/search") => get("/api/memory/search?q=rotate"),
        ("GET", "/memory/search") => [
            get("/memory/search?q=rotate"),
            get("/memory/search?distinct=who"),
        ]
        .concat(),
        ("POST", "/api/memory/forget") => [
            post(path, json!({"query": "rotate"})),
            post(
                path,
                json!({"who": "roundtrip-forget", "mode": "execute", "reason": "r"}),
            ),
        ]
        .concat(),
        ("POST", "/api/memory/modify") => post(
            path,
            json!({"reason": "r", "patches": [
                {"id": s.live, "importance": 0.7},
                {"id": "missing", "importance": 0.1},
                {"importance": 0.2},
            ]}),
        ),
        ("GET", "/api/memory/{id}") => get(&format!("/api/memory/{}", s.live)),
        ("PATCH", "/api/memory/{id}") => vec![ok(
            M::PATCH,
            format!("/api/memory/{}", s.live),
            Some(json!({"content": "critical: [ops]: rotate the keys monthly", "reason": "r"})),
        )],
        ("DELETE", "/api/memory/{id}") => vec![ok(
            M::DELETE,
            format!("/api/memory/{}", s.doomed),
            Some(json!({"reason": "r"})),
        )],
        ("GET", "/api/memory/{id}/history") => get(&format!("/api/memory/{}/history", s.doomed)),
        ("POST", "/api/memory/{id}/recover") => post(
            &format!("/api/memory/{}/recover", s.doomed),
            json!({"reason": "r"}),
        ),
        ("GET", "/memory/similar") => get(&format!("/memory/similar?id={}&k=3", s.live)),
        ("GET", "/api/embeddings") => get("/api/embeddings?limit=2&vectors=true"),
        ("GET", "/api/diagnostics/{domain}") => signet_core::diagnostics::DOMAINS
            .iter()
            .flat_map(|d| get(&format!("/api/diagnostics/{d}")))
            .collect(),
        ("POST", "/api/repair/re-embed") => post(path, json!({"dryRun": true})),
        ("POST", "/api/repair/deduplicate") => post(path, json!({"dryRun": true})),
        ("POST", "/api/repair/check-fts") => post(path, json!({"repair": false})),
        (
            "POST",
            "/api/repair/prune-chunk-groups"
            | "/api/repair/prune-singleton-entities"
            | "/api/repair/backfill-skipped",
        ) => [post(path, json!({"dryRun": true})), post(path, json!({}))].concat(),
        ("POST", p) if p.starts_with("/api/repair/") => post(path, json!({})),
        ("POST", "/api/memory/feedback") => post(
            path,
            json!({"sessionKey": SESSION, "feedback": {s.live.as_str(): 0.5}}),
        ),
        ("GET", "/api/sessions") => get(path),
        ("GET", "/api/sessions/{key}") => get(&format!("/api/sessions/{SESSION}")),
        ("POST", "/api/sessions/{key}/bypass") => post(
            &format!("/api/sessions/{SESSION}/bypass"),
            json!({"enabled": true}),
        ),
        ("POST", "/api/hooks/session-start") => {
            let body = json!({"harness": "roundtrip", "sessionKey": HOOKS, "project": "/p"});
            // The second is the repeated session start's stub.
            [post(path, body.clone()), post(path, body)].concat()
        }
        ("POST", "/api/hooks/user-prompt-submit") => [
            post(
                path,
                json!({"harness": "roundtrip", "sessionKey": HOOKS, "userMessage": "rotate the keys"}),
            ),
            post(path, json!({"harness": "roundtrip", "userPrompt": "zzqx"})),
        ]
        .concat(),
        ("POST", "/api/hooks/session-end") => post(path, json!({"harness": "roundtrip"})),
        ("POST", "/api/hooks/remember") => post(
            path,
            json!({"harness": "roundtrip", "content": "a memory the remember hook writes"}),
        ),
        ("POST", "/api/hooks/recall") => {
            post(path, json!({"harness": "roundtrip", "query": "rotate keys"}))
        }
        ("POST", "/api/hooks/pre-compaction") => post(path, json!({"harness": "roundtrip"})),
        ("POST", "/api/hooks/compaction-complete") => post(
            path,
            json!({"harness": "roundtrip", "summary": "the roundtrip session's summary"}),
        ),
        ("GET", "/api/harnesses") => get(path),
        ("GET", "/api/checkpoints") => get("/api/checkpoints?project=/p"),
        ("GET", "/api/checkpoints/{key}") => get(&format!("/api/checkpoints/{HOOKS}")),
        ("POST", "/api/documents") => {
            let body = json!({"text": "a roundtrip document.\n\nIts second paragraph."});
            let created = Request {
                status: StatusCode::CREATED,
                ..ok(M::POST, path, Some(body.clone()))
            };
            // The second names the first (deduplicated, 200).
            [vec![created], post(path, body)].concat()
        }
        ("GET", "/api/documents") => {
            [get(path), get("/api/documents?status=done&limit=1&offset=0")].concat()
        }
        ("GET", "/api/documents/{id}") => get(&format!("/api/documents/{}", s.document)),
        ("GET", "/api/documents/{id}/chunks") => {
            get(&format!("/api/documents/{}/chunks", s.document))
        }
        ("DELETE", "/api/documents/{id}") => vec![ok(
            M::DELETE,
            format!("/api/documents/{}?reason=roundtrip", s.document),
            None,
        )],
        // A JSON string body is sent as it is: an empty export, header and end record.
        ("POST", "/api/import") => post(
            path,
            Value::String(
                "{\"format\":\"signet-export\",\"version\":1,\"createdAt\":\"2026-01-01T00:00:00.000Z\",\
                 \"source\":{},\"embedding\":null,\"options\":{}}\n\
                 {\"kind\":\"end\",\"counts\":{\"memories\":0,\"history\":0,\"vectors\":0}}\n"
                    .into(),
            ),
        ),
        ("GET", "/api/pipeline/status") => get(path),
        ("POST", "/api/pipeline/pause" | "/api/pipeline/resume") => post(path, json!({})),
        ("GET", "/api/memory/jobs/{id}") => get(&format!("/api/memory/jobs/{}", s.job)),
        ("GET", "/api/pipeline/jobs") => [
            get(path),
            get("/api/pipeline/jobs?status=pending&type=extract&limit=1&offset=0"),
        ]
        .concat(),
        _ => return None,
    })
}

/// `raw` decoded as `T` and encoded again, as text and as a value.
fn again<T: DeserializeOwned + Serialize>(raw: &str) -> Result<(String, Value), String> {
    let typed: T = serde_json::from_str(raw).map_err(|e| e.to_string())?;
    let text = serde_json::to_string(&typed).map_err(|e| e.to_string())?;
    let value = serde_json::to_value(&typed).map_err(|e| e.to_string())?;
    Ok((text, value))
}

/// JSON text with every number token (outside strings) replaced by `#`: what must match
/// byte for byte once numbers are compared as parsed values (serde_json's parser may round
/// a long decimal differently from how it was written, so digits are not compared as text).
fn skeleton(text: &str) -> String {
    let (mut out, mut in_string, mut escaped, mut in_number) = (String::new(), false, false, false);
    for c in text.chars() {
        if in_string {
            in_string = c != '"' || escaped;
            escaped = c == '\\' && !escaped;
        } else if c == '-' || c.is_ascii_digit() || (in_number && "+.eE".contains(c)) {
            if !in_number {
                out.push('#');
            }
            in_number = true;
            continue;
        } else {
            in_string = c == '"';
        }
        in_number = false;
        out.push(c);
    }
    out
}

/// `raw` through the wire type the schema `name` documents (`None`: no decoder for it).
fn reencode(name: &str, raw: &str) -> Option<Result<(String, Value), String>> {
    Some(match name {
        "Health" => again::<api::Health>(raw),
        "Status" => again::<api::Status>(raw),
        "Features" => again::<api::Features>(raw),
        "Identity" => again::<api::Identity>(raw),
        "ConfigFiles" => again::<api::ConfigFiles>(raw),
        "Written" => again::<api::Written>(raw),
        "AuthStatus" => again::<api::AuthStatus>(raw),
        "Whoami" => again::<api::Whoami>(raw),
        "MintedToken" => again::<api::MintedToken>(raw),
        "RememberResponse" => again::<api::RememberResponse>(raw),
        "RecallResponse" => again::<api::RecallResponse>(raw),
        "MutationResponse" => again::<api::MutationResponse>(raw),
        "MemoryDetail" => again::<api::MemoryDetail>(raw),
        "LegacySearchResponse" => again::<api::LegacySearchResponse>(raw),
        "HistoryResponse" => again::<api::HistoryResponse>(raw),
        "MemoryList" => again::<api::MemoryList>(raw),
        "BatchModifyResponse" => again::<api::BatchModifyResponse>(raw),
        "BatchForgetResponse" => again::<api::BatchForgetResponse>(raw),
        "SimilarResponse" => again::<api::SimilarResponse>(raw),
        "EmbeddingList" => again::<api::EmbeddingList>(raw),
        "EmbeddingStatus" => again::<api::EmbeddingStatus>(raw),
        "EmbeddingHealth" => again::<api::EmbeddingHealth>(raw),
        "Projection" => again::<api::Projection>(raw),
        "DedupStats" => again::<api::DedupStats>(raw),
        "ColdStats" => again::<api::ColdStats>(raw),
        "EmbeddingGaps" => again::<api::EmbeddingGaps>(raw),
        "RepairResponse" => again::<api::RepairResponse>(raw),
        "DiagnosticsReport" => again::<api::DiagnosticsReport>(raw),
        "DiagnosticsDomain" => again::<api::DiagnosticsDomain>(raw),
        "UsageReport" => again::<api::UsageReport>(raw),
        "ErrorsReport" => again::<api::ErrorsReport>(raw),
        "LatencyReport" => again::<api::LatencyReport>(raw),
        "MemorySafety" => again::<api::MemorySafety>(raw),
        "LogList" => again::<api::LogList>(raw),
        "FeedbackResponse" => again::<api::FeedbackResponse>(raw),
        "SessionList" => again::<api::SessionList>(raw),
        "SessionInfo" => again::<api::SessionInfo>(raw),
        "BypassResponse" => again::<api::BypassResponse>(raw),
        "SessionStartResponse" => again::<api::SessionStartResponse>(raw),
        "UserPromptResponse" => again::<api::UserPromptResponse>(raw),
        "SessionEndResponse" => again::<api::SessionEndResponse>(raw),
        "HookRememberResponse" => again::<api::HookRememberResponse>(raw),
        "HookRecallResponse" => again::<api::HookRecallResponse>(raw),
        "PreCompactionResponse" => again::<api::PreCompactionResponse>(raw),
        "CompactionCompleteResponse" => again::<api::CompactionCompleteResponse>(raw),
        "HarnessList" => again::<api::HarnessList>(raw),
        "CheckpointList" => again::<api::CheckpointList>(raw),
        "DocumentCreated" => again::<api::DocumentCreated>(raw),
        "DocumentList" => again::<api::DocumentList>(raw),
        "DocumentRow" => again::<api::DocumentRow>(raw),
        "DocumentChunks" => again::<api::DocumentChunks>(raw),
        "PipelineStatus" => again::<api::PipelineStatus>(raw),
        "PipelineControl" => again::<api::PipelineControl>(raw),
        "JobStatus" => again::<api::JobStatus>(raw),
        "ImportReport" => again::<api::ImportReport>(raw),
        "JobList" => again::<api::JobList>(raw),
        "DocumentDeleted" => again::<api::DocumentDeleted>(raw),
        _ => return None,
    })
}

/// The schema a `$ref` names (other schemas as they are).
fn resolve<'a>(doc: &'a Value, s: &'a Value) -> &'a Value {
    match s["$ref"].as_str() {
        Some(r) => {
            let name = r.trim_start_matches("#/components/schemas/");
            resolve(doc, &doc["components"]["schemas"][name])
        }
        None => s,
    }
}

/// An object schema's declared properties (over its `allOf` branches) and its schema for
/// other keys: `additionalProperties`, or `true` (any) when it declares nothing at all (a
/// free-form object), or `None` (no other keys).
fn object_view<'a>(doc: &'a Value, s: &'a Value) -> (Vec<(&'a str, &'a Value)>, Option<&'a Value>) {
    let s = resolve(doc, s);
    let mut props = Vec::new();
    let mut other = s.get("additionalProperties");
    if let Some(p) = s["properties"].as_object() {
        props.extend(p.iter().map(|(k, v)| (k.as_str(), v)));
    }
    for branch in s["allOf"].as_array().into_iter().flatten() {
        let (p, o) = object_view(doc, branch);
        props.extend(p);
        other = other.or(o);
    }
    let declares = s.get("properties").is_some() || s.get("allOf").is_some();
    if !declares && other.is_none() {
        other = Some(&Value::Bool(true));
    }
    (props, other)
}

/// Paths (from `at`) of the keys in `v` that the schema `s` does not declare.
fn unmodelled(doc: &Value, s: &Value, v: &Value, at: &str) -> Vec<String> {
    let s = resolve(doc, s);
    if let Some(branches) = s["oneOf"].as_array().or(s["anyOf"].as_array()) {
        let tries = branches.iter().map(|b| unmodelled(doc, b, v, at));
        return tries.min_by_key(Vec::len).unwrap_or_default();
    }
    match v {
        Value::Array(items) => items
            .iter()
            .enumerate()
            .flat_map(|(i, x)| unmodelled(doc, &s["items"], x, &format!("{at}[{i}]")))
            .collect(),
        Value::Object(map) => {
            let (props, other) = object_view(doc, s);
            let mut out = Vec::new();
            for (k, x) in map {
                let here = format!("{at}.{k}");
                match (props.iter().find(|(p, _)| p == k), other) {
                    (Some((_, ps)), _) => out.extend(unmodelled(doc, ps, x, &here)),
                    (None, Some(Value::Bool(true))) => {}
                    (None, Some(o)) if o.is_object() => out.extend(unmodelled(doc, o, x, &here)),
                    (None, _) => out.push(here),
                }
            }
            out
        }
        _ => Vec::new(),
    }
}

/// The response schema the document names for a route's 200.
fn response_schema(doc: &Value, method: &str, path: &str) -> Option<String> {
    let op = &doc["paths"][path][method.to_lowercase()];
    let r = op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].as_str()?;
    Some(r.trim_start_matches("#/components/schemas/").to_owned())
}

/// Remembers `content` (with `who`) and returns its id.
async fn seed(s: &TestServer, content: &str, who: &str) -> String {
    let (st, v) = s
        .remember_json(json!({"content": content, "who": who}))
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    v["id"].as_str().unwrap().to_owned()
}

/// A daemon with a few memories, a deleted and a conflicting mutation (so history, the
/// error ring and memory safety have entries), and a minted token.
async fn seeded() -> (TestServer, Seeded) {
    let s = TestServer::start_with_yaml(Some(YAML)).await;
    let plugin = signet_core::sessions::RuntimePath::Plugin;
    s.state
        .sessions()
        .claim(SESSION, plugin, chrono::Utc::now())
        .unwrap();
    let live = seed(&s, "critical: [ops]: rotate the keys", "claude").await;
    let doomed = seed(&s, "a memory that is deleted and recovered", "claude").await;
    seed(&s, "a memory the batch forget removes", "roundtrip-forget").await;
    let conflict = json!({"importance": 0.2, "reason": "r", "if_version": 99});
    let (st, _) = s.patch(&format!("/api/memory/{live}"), conflict).await;
    assert_eq!(st, StatusCode::CONFLICT);
    let (st, v) = s.post("/api/auth/token", json!({"role": "readonly"})).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let token = v["token"].as_str().unwrap().to_owned();
    let job: String = crate::diagnostics::db(&s)
        .query_row(
            "SELECT id FROM memory_jobs WHERE job_type = 'extract' AND memory_id = ?1",
            [&live],
            |r| r.get(0),
        )
        .unwrap();
    (
        s,
        Seeded {
            live,
            doomed,
            token,
            job,
            document: String::new(),
        },
    )
}

/// Posts a text document and ingests it; returns its id.
async fn seed_document(s: &TestServer) -> String {
    let body = json!({"text": "the seeded document about rotating keys.", "title": "seeded"});
    let (st, v) = s.post("/api/documents", body).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let id = v["id"].as_str().unwrap().to_owned();
    let worker = signet_core::documents::DocumentWorker::new(s.state.documents().clone());
    let done = crate::common::eventually(|| async {
        worker.tick().await;
        s.get(&format!("/api/documents/{id}")).await.1["status"] == "done"
    });
    assert!(done.await, "the seeded document is ingested");
    id
}

/// Sends a planned request; its status and body text.
async fn send(http: &reqwest::Client, base: &str, r: &Request) -> (StatusCode, String) {
    let mut req = http.request(r.method.clone(), format!("{base}{}", r.path));
    if let Some(t) = &r.bearer {
        req = req.bearer_auth(t);
    }
    match &r.body {
        Some(Value::String(text)) => req = req.body(text.clone()),
        Some(b) => req = req.json(b),
        None => {}
    }
    let res = req.send().await.unwrap();
    (res.status(), res.text().await.unwrap())
}

/// Whether the answer `raw` of a route typed as `schema` decodes, re-encodes to the same
/// text and holds only modelled fields; what is wrong if not.
fn check(doc: &Value, schema: &str, raw: &str) -> Result<(), String> {
    let (text, again) = reencode(schema, raw)
        .ok_or_else(|| format!("no decoder for {schema} in reencode()"))?
        .map_err(|e| format!("does not decode as {schema}: {e}: {raw}"))?;
    let value: Value = serde_json::from_str(raw).unwrap();
    if skeleton(&text) != skeleton(raw) || again != value {
        return Err(format!(
            "re-encodes differently as {schema}:\n  sent  {raw}\n  again {text}"
        ));
    }
    let schema_ref = json!({"$ref": format!("#/components/schemas/{schema}")});
    let missing = unmodelled(doc, &schema_ref, &value, "");
    match missing.is_empty() {
        true => Ok(()),
        false => Err(format!("fields {schema} does not model: {missing:?}")),
    }
}

#[tokio::test]
async fn every_route_answers_in_its_wire_type() {
    let (s, mut seeded) = seeded().await;
    seeded.document = seed_document(&s).await;
    let doc = serde_json::to_value(signet_server::openapi::document()).unwrap();
    let http = reqwest::Client::new();
    let mut problems = Vec::new();
    let mut typed = BTreeSet::new();
    for spec in signet_server::routes::table() {
        let (m, p) = (spec.method_name, spec.path);
        let route = format!("{m} {p}");
        let untyped = UNTYPED.iter().any(|(um, up, _)| *um == m && *up == p);
        let Some(schema) = response_schema(&doc, m, p) else {
            if !untyped && !NOT_IMPLEMENTED.contains(&(m, p)) {
                problems.push(format!(
                    "{route}: no response type (type it, or add to UNTYPED)"
                ));
            }
            continue;
        };
        if untyped {
            problems.push(format!("{route}: typed as {schema} but listed in UNTYPED"));
        }
        let Some(requests) = plan(m, p, &seeded) else {
            problems.push(format!(
                "{route}: typed as {schema} but plan() has no request"
            ));
            continue;
        };
        for r in requests {
            let (status, raw) = send(&http, &s.base, &r).await;
            let outcome = match status == r.status {
                true => check(&doc, &schema, &raw),
                false => Err(format!("{status}, wanted {}: {raw}", r.status)),
            };
            if let Err(problem) = outcome {
                problems.push(format!("{route} ({}): {problem}", r.path));
            }
        }
        typed.insert(route);
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(
        typed.len() >= 40,
        "only {} typed routes: {typed:?}",
        typed.len()
    );
}

#[test]
fn skeletons_hide_numbers_only() {
    let text = r#"{"a-1":-1.5e3,"b":[0,"x\"9"],"c":null}"#;
    assert_eq!(skeleton(text), r#"{"a-1":#,"b":[#,"x\"9"],"c":null}"#);
}

#[test]
fn the_key_check_catches_an_unmodelled_field() {
    let doc = serde_json::to_value(signet_server::openapi::document()).unwrap();
    let status = json!({"$ref": "#/components/schemas/AuthStatus"});
    assert!(unmodelled(&doc, &status, &json!({"mode": "local"}), "").is_empty());
    assert_eq!(
        unmodelled(&doc, &status, &json!({"mode": "local", "new": 1}), ""),
        [".new"]
    );
    let report = json!({"$ref": "#/components/schemas/DiagnosticsDomain"});
    let queue = json!({"score": 1.0, "status": "healthy", "depth": 0, "surprise": true});
    assert_eq!(unmodelled(&doc, &report, &queue, ""), [".surprise"]);
    let usage = json!({"$ref": "#/components/schemas/UsageReport"});
    let actors = json!({"actors": {"a": {"requests": 1, "odd": 2}}});
    assert_eq!(unmodelled(&doc, &usage, &actors, ""), [".actors.a.odd"]);
}

/// The client's typed methods reach their routes and decode what the daemon sends.
#[tokio::test]
async fn the_client_decodes_every_typed_route() {
    let (s, seeded) = seeded().await;
    let c = signet_client::Client::new(&s.base).unwrap();
    let status = c.status().await.unwrap();
    assert_eq!(
        (status.status.as_str(), status.memories.total),
        ("running", 3)
    );
    assert_eq!(c.auth_status().await.unwrap().mode, "hybrid");
    let me = c.clone().with_token(Some(seeded.token.clone()));
    let claims = me.whoami().await.unwrap().claims.unwrap();
    assert_eq!(claims.role, "readonly");
    assert!(c.whoami().await.unwrap().local);
    assert_eq!(c.identity().await.unwrap().name, "Unknown");
    assert!(c.features().await.unwrap().0.is_empty());
    assert!(
        c.config_files()
            .await
            .unwrap()
            .files
            .iter()
            .any(|f| f.name == "agent.yaml")
    );

    let detail = c.get_memory(&seeded.live).await.unwrap();
    assert_eq!(detail.row["id"], seeded.live.as_str());
    let found = c.search("rotate", Some(5)).await.unwrap();
    assert!(found.results.iter().any(|r| r.id == seeded.live));
    assert_eq!(
        c.list_memories(Some(1), None).await.unwrap().memories.len(),
        1
    );
    let gone = c.forget(&seeded.doomed, "r", false).await.unwrap();
    assert_eq!(gone.status, api::MutationStatus::Deleted);
    let back = c.recover(&seeded.doomed, "r").await.unwrap();
    assert_eq!(back.status, api::MutationStatus::Recovered);
    let history = c.history(&seeded.doomed).await.unwrap();
    assert_eq!(history.count, 3);
    let patch = json!({"importance": 0.3});
    let changed = c.modify(&seeded.live, patch, "r").await.unwrap();
    assert_eq!(changed.status, api::MutationStatus::Updated);

    let report = c.diagnostics().await.unwrap();
    assert_eq!(report.storage.total_memories, 3);
    for name in signet_core::diagnostics::DOMAINS {
        let domain = c.diagnostics_domain(name).await.unwrap();
        assert_eq!(
            serde_json::to_value(report.domain(name)).unwrap(),
            serde_json::to_value(domain).unwrap(),
            "{name}"
        );
    }
    let errors = c
        .analytics_errors(Some(api::ErrorStage::Mutation), None)
        .await
        .unwrap();
    assert_eq!(errors.errors[0].code, "MUTATION_CONFLICT");
    assert_eq!(c.memory_safety().await.unwrap().mutation.recent_deletes, 1);
    assert!(c.analytics_usage().await.unwrap().totals.requests > 0);
    assert!(c.analytics_latency().await.unwrap().remember.count >= 3);
    assert!(c.logs(Some(5)).await.unwrap().count <= 5);
    assert_eq!(c.embedding_gaps().await.unwrap().unembedded, 0);
    assert_eq!(c.dedup_stats().await.unwrap().total_active, 3);
    let fts = c
        .repair("check-fts", &api::CheckFtsRequest::default())
        .await
        .unwrap();
    assert!(fts.success, "{fts:?}");

    let pipeline = c.pipeline_status().await.unwrap();
    assert_eq!(pipeline.mode, "controlled-write");
    assert_eq!(pipeline.queues["memory"].pending, 3, "{pipeline:?}");
    let job = c.job(&seeded.job).await.unwrap();
    assert_eq!(job.memory_id.as_deref(), Some(seeded.live.as_str()));
    assert!(c.pause_pipeline().await.unwrap().paused);
    assert!(!c.resume_pipeline().await.unwrap().paused);
}
