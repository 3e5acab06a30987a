//! Errors are JSON with the right status: malformed and oversized bodies, unknown routes,
//! wrong methods.

use reqwest::{Method, StatusCode};

use crate::common::TestServer;

#[tokio::test]
async fn malformed_json_is_a_400_not_a_500() {
    let s = TestServer::start().await;
    for path in [
        "/api/memory/remember",
        "/api/memory/recall",
        "/api/memory/forget",
        "/api/memory/modify",
    ] {
        for body in [
            b"{".to_vec(),
            b"not json".to_vec(),
            vec![0xff, 0xfe],
            b"{\"content\": \"x\"".to_vec(),
        ] {
            let (st, v) = s.raw(Method::POST, path, body).await;
            assert_eq!(st, StatusCode::BAD_REQUEST, "{path}");
            assert_eq!(v["error"], "Invalid JSON body", "{path}");
        }
    }
    let (st, v) = s.raw(Method::PATCH, "/api/memory/abc", b"[".to_vec()).await;
    assert_eq!(
        (st, v["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("Invalid JSON body"))
    );
}

#[tokio::test]
async fn oversized_bodies_are_413() {
    let s = TestServer::start().await;
    let big = format!("{{\"content\": \"{}\"}}", "a".repeat(3 * 1024 * 1024));
    let (st, v) = s
        .raw(Method::POST, "/api/memory/remember", big.into_bytes())
        .await;
    assert_eq!(st, StatusCode::PAYLOAD_TOO_LARGE);
    // The message states the limit (issue 9).
    let e = v["error"].as_str().unwrap();
    assert!(e.contains("2 MiB") && e.contains("2097152"), "{e}");
}

#[tokio::test]
async fn unknown_routes_and_methods_answer_json() {
    let s = TestServer::start().await;
    let (st, v) = s.get("/api/nope").await;
    assert_eq!(
        (st, v["error"].as_str()),
        (StatusCode::NOT_FOUND, Some("not found"))
    );
    let (st, v) = s.get("/api/memory/does-not-exist").await;
    assert_eq!(
        (st, v["error"].as_str()),
        (StatusCode::NOT_FOUND, Some("not found"))
    );
    let (st, v) = s.call(Method::PUT, "/api/memory/remember", None).await;
    assert_eq!(st, StatusCode::METHOD_NOT_ALLOWED);
    assert!(v["error"].is_string());
}

#[tokio::test]
async fn request_ids_are_kept_or_assigned() {
    let s = TestServer::start().await;
    let c = reqwest::Client::new();
    let res = c
        .get(format!("{}/health", s.base))
        .header("x-signet-request-id", "abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-signet-request-id"], "abc-123");
    let res = c.get(format!("{}/health", s.base)).send().await.unwrap();
    assert!(!res.headers()["x-signet-request-id"].is_empty());
}
