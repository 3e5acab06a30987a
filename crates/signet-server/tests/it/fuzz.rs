//! Every route of the table, fed malformed ids, query strings and bodies: control characters,
//! lone surrogates, huge numbers, deep nesting, wrong types. Nothing may answer 5xx (the
//! not-implemented repairs answer their documented 501), and every answer is JSON.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use signet_server::routes;

use crate::common::TestServer;

/// Path parameter values: empty-looking, encoded control bytes, traversal, huge, unicode.
const IDS: &[&str] = &[
    "%00",
    "a%00b",
    "%01%1b%7f",
    "..%2F..%2Fetc%2Fpasswd",
    "%F0%9F%A6%80",
    "%ED%A0%80",
    "99999999999999999999999999999",
    "-1",
    "composite",
    "%22%27%3B--",
];

/// Query strings for any route (the keys routes read, with hostile values).
fn queries() -> Vec<String> {
    let values = [
        "%00",
        "a%00b%01",
        "%ED%A0%80",
        "1e400",
        "-99999999999999999999",
        "99999999999999999999",
        "NaN",
        "true",
        "%5B%5D",
        "x%22%20OR%20%22",
        "\u{1F980}",
    ];
    let keys = [
        "q",
        "query",
        "limit",
        "offset",
        "since",
        "until",
        "k",
        "type",
        "dimensions",
        "vectors",
        "force",
        "reason",
        "if_version",
        "distinct",
        "level",
        "category",
        "id",
        "tags",
        "who",
        "importance_min",
        "pinned",
        "mode",
        "stage",
        "window",
    ];
    let mut out = vec![String::new()];
    for (i, key) in keys.iter().enumerate() {
        let v = values[i % values.len()];
        let w = values[(i * 7 + 3) % values.len()];
        out.push(format!("?{key}={v}"));
        out.push(format!("?{key}={w}&{key}={v}"));
    }
    out
}

/// Bodies: broken JSON bytes, then values of every shape in every field routes read.
fn bodies() -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = vec![
        b"{".to_vec(),
        vec![0xff, 0xfe, 0x00],
        br#"{"content": "\ud800"}"#.to_vec(),
        br#"{"query": "\udfff x"}"#.to_vec(),
        br#"{"limit": 1e400}"#.to_vec(),
        br#"{"importance": 123456789012345678901234567890}"#.to_vec(),
        "[".repeat(100_000).into_bytes(),
        format!("{}1{}", "{\"a\":".repeat(5_000), "}".repeat(5_000)).into_bytes(),
        b"null".to_vec(),
        b"[]".to_vec(),
        b"\"just a string\"".to_vec(),
        b"12".to_vec(),
    ];
    let fields = [
        "content",
        "query",
        "keywordQuery",
        "limit",
        "ids",
        "patches",
        "reason",
        "force",
        "if_version",
        "importance",
        "tags",
        "pinned",
        "type",
        "who",
        "since",
        "until",
        "mode",
        "confirm_token",
        "role",
        "sub",
        "scope",
        "ttlSeconds",
        "repair",
        "dryRun",
        "file",
        "createdAt",
        "sourceId",
        "importance_min",
    ];
    let shapes = [
        json!("\u{0}\u{1}\u{1b}"),
        json!(-1),
        json!(1.0e300),
        json!(u64::MAX),
        json!(i64::MIN),
        json!([null, {}, [], "x"]),
        json!({"nested": {"deeper": [1, 2, 3]}}),
        json!(true),
        json!(null),
        json!("x".repeat(5_000)),
        json!(""),
    ];
    for (i, field) in fields.iter().enumerate() {
        for (j, shape) in shapes.iter().enumerate() {
            if (i + j) % 3 == 0 {
                out.push(json!({ *field: shape }).to_string().into_bytes());
            }
        }
        // Each field wrong while the usual required ones are present.
        let shape = &shapes[i % shapes.len()];
        let body = json!({"content": "fuzz memory", "query": "fuzz", "reason": "fuzz",
            "role": "agent", *field: shape});
        out.push(body.to_string().into_bytes());
    }
    out
}

fn method(name: &str) -> Method {
    Method::from_bytes(name.as_bytes()).unwrap()
}

fn streams(path: &str) -> bool {
    matches!(path, "/sse" | "/api/logs/stream")
}

/// 501 is the documented answer of the repairs this daemon does not have.
fn allowed(path: &str, status: StatusCode) -> bool {
    !status.is_server_error() || (status == StatusCode::NOT_IMPLEMENTED && path.contains("repair"))
}

async fn send(
    s: &TestServer,
    c: &reqwest::Client,
    m: Method,
    url: &str,
    body: Option<Vec<u8>>,
) -> (StatusCode, String) {
    let mut req = c.request(m, format!("{}{url}", s.base));
    if let Some(b) = body {
        req = req.header("content-type", "application/json").body(b);
    }
    let res = req.send().await.expect("request");
    let status = res.status();
    (status, res.text().await.unwrap_or_default())
}

#[tokio::test]
async fn no_route_answers_5xx_to_malformed_input() {
    let s = TestServer::start().await;
    let keep = s.remember("a memory the fuzz must not lose").await;
    let c = reqwest::Client::new();
    let (queries, bodies) = (queries(), bodies());
    let mut failures = Vec::new();
    let mut sent = 0;
    for spec in routes::table() {
        if streams(spec.path) {
            continue;
        }
        let m = method(spec.method_name);
        let paths: Vec<String> = if spec.path.contains('{') {
            IDS.iter()
                .map(|id| {
                    let open = spec.path.find('{').unwrap();
                    let close = spec.path.find('}').unwrap();
                    format!("{}{id}{}", &spec.path[..open], &spec.path[close + 1..])
                })
                .collect()
        } else {
            vec![spec.path.to_owned()]
        };
        for path in &paths {
            for q in &queries {
                let url = format!("{path}{q}");
                let (st, text) = send(&s, &c, m.clone(), &url, None).await;
                sent += 1;
                check(&mut failures, spec.path, &m, &url, st, &text, "");
            }
            if m == Method::GET {
                continue;
            }
            for (i, body) in bodies.iter().enumerate() {
                let (st, text) = send(&s, &c, m.clone(), path, Some(body.clone())).await;
                sent += 1;
                check(
                    &mut failures,
                    spec.path,
                    &m,
                    path,
                    st,
                    &text,
                    &format!("body #{i}"),
                );
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {sent} requests failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(sent > 1_000, "only {sent} requests");
    let (st, v) = s.get(&format!("/api/memory/{keep}")).await;
    assert_eq!(st, StatusCode::OK, "the fuzz lost a memory: {v}");
}

fn check(
    failures: &mut Vec<String>,
    route: &str,
    m: &Method,
    url: &str,
    st: StatusCode,
    text: &str,
    what: &str,
) {
    if !allowed(route, st) {
        failures.push(format!(
            "{m} {url} {what}: {st} {}",
            &text[..text.len().min(200)]
        ));
    } else if serde_json::from_str::<Value>(text).is_err()
        && route != "/metrics"
        // The export answers JSON Lines (its own tests: crates/signet/tests/it/export.rs).
        && !(route == "/api/export" && st.is_success())
        && !(st.is_success() && signet_server::dashboard::is_route(route))
    {
        failures.push(format!(
            "{m} {url} {what}: non-JSON {st} {}",
            &text[..text.len().min(200)]
        ));
    }
}

/// Hostile headers (actor, request id, authorization, host) on a few routes: no 5xx, and a
/// request id that is not a sane token is replaced rather than echoed.
#[tokio::test]
async fn hostile_headers_are_not_5xx() {
    let s = TestServer::start().await;
    let c = reqwest::Client::new();
    let long = "a".repeat(8_000);
    let values: Vec<&[u8]> = vec![
        b"\x01\x02",
        b"\xff\xfe",
        b"   ",
        b"bearer",
        b"Bearer \xff",
        long.as_bytes(),
        b"../../etc/passwd",
        b"x\ty",
    ];
    let headers = [
        "x-signet-actor",
        "x-signet-actor-type",
        "x-signet-request-id",
        "authorization",
        "x-forwarded-for",
    ];
    for path in [
        "/api/memory/remember",
        "/api/memory/recall",
        "/api/status",
        "/api/diagnostics",
    ] {
        for name in headers {
            for v in &values {
                let Ok(value) = reqwest::header::HeaderValue::from_bytes(v) else {
                    continue;
                };
                let m = if path.starts_with("/api/memory") {
                    Method::POST
                } else {
                    Method::GET
                };
                let res = c
                    .request(m, format!("{}{path}", s.base))
                    .header(name, value)
                    .json(&json!({"content": "header fuzz", "query": "header"}))
                    .send()
                    .await
                    .unwrap();
                let st = res.status();
                if name == "x-signet-request-id"
                    && let Some(echo) = res.headers().get("x-signet-request-id")
                {
                    assert!(
                        echo.len() <= 128,
                        "request id echoed unbounded ({} bytes)",
                        echo.len()
                    );
                }
                assert!(
                    !st.is_server_error(),
                    "{path} {name}={:?}: {st}",
                    String::from_utf8_lossy(v)
                );
            }
        }
    }
}
