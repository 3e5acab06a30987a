//! `/api/logs`, `/api/logs/stream`, and request ids on log entries and history rows.

use reqwest::{Method, StatusCode};
use serde_json::json;
use signet_server::logs::{LogEntry, LogLevel};

use crate::common::TestServer;

fn entry(level: LogLevel, category: &str, message: &str, ts: &str) -> LogEntry {
    LogEntry {
        timestamp: ts.into(),
        level,
        category: category.into(),
        message: message.into(),
        data: None,
        request_id: None,
    }
}

#[tokio::test]
async fn logs_are_filtered_by_level_category_since_and_limit() {
    let s = TestServer::start().await;
    for (level, category, message, ts) in [
        (LogLevel::Info, "api", "a", "2026-01-01T00:00:00.000Z"),
        (LogLevel::Warn, "memory", "b", "2026-01-02T00:00:00.000Z"),
        (LogLevel::Error, "memory", "c", "2026-01-03T00:00:00.000Z"),
    ] {
        s.logs.push(entry(level, category, message, ts));
    }
    let (st, v) = s.get("/api/logs").await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(v["count"], 3);
    assert_eq!(v["logs"][0]["message"], "a");
    let (_, v) = s.get("/api/logs?level=warn&category=memory").await;
    assert_eq!(v["count"], 2);
    let (_, v) = s.get("/api/logs?since=2026-01-03T00:00:00Z").await;
    assert_eq!(v["logs"][0]["message"], "c");
    assert_eq!(v["count"], 1);
    let (_, v) = s.get("/api/logs?limit=1").await;
    assert_eq!(v["logs"][0]["message"], "c");
    let (_, v) = s.get("/api/analytics/logs?category=api").await;
    assert_eq!(v["count"], 1);
    for bad in ["limit=0", "limit=x", "level=loud", "since=yesterday"] {
        let (st, v) = s.get(&format!("/api/logs?{bad}")).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{bad}");
        assert!(v["error"].is_string(), "{bad}: {v}");
    }
}

#[tokio::test]
async fn the_log_stream_sends_connected_then_live_entries() {
    let s = TestServer::start().await;
    s.logs.push(entry(
        LogLevel::Info,
        "api",
        "before",
        "2026-01-01T00:00:00.000Z",
    ));
    let mut stream = s.sse("/api/logs/stream").await;
    let first = stream.next().await.unwrap();
    assert_eq!(first.json(), json!({"type": "connected"}));
    s.logs.push(entry(
        LogLevel::Warn,
        "memory",
        "live one",
        "2026-01-02T00:00:00.000Z",
    ));
    let got = stream.next().await.unwrap().json();
    assert_eq!(got["message"], "live one");
    assert_eq!(got["level"], "warn");
    assert_eq!(got["category"], "memory");
    s.shutdown().await;
}

#[tokio::test]
async fn a_lagging_log_stream_client_is_dropped() {
    let s = TestServer::start().await;
    let mut stream = s.sse("/api/logs/stream").await;
    stream.next().await.unwrap();
    // More entries than the per-subscriber buffer, before the client reads any.
    for i in 0..(signet_server::logs::STREAM_BUFFER * 3) {
        s.logs.push(entry(
            LogLevel::Info,
            "api",
            &format!("m{i}"),
            "2026-01-01T00:00:00.000Z",
        ));
    }
    let mut seen = 0;
    while stream.next().await.is_some() {
        seen += 1;
    }
    assert!(
        seen <= signet_server::logs::STREAM_BUFFER,
        "stream ended after {seen}"
    );
    let (st, _) = s.get("/health").await;
    assert_eq!(st, StatusCode::OK);
}

#[tokio::test]
async fn history_rows_carry_the_request_id() {
    // Log lines carrying it are checked end to end on the real binary (crates/signet/tests/it/
    // team.rs), where the global subscriber is installed: thread-local subscribers in a
    // parallel test binary make span interest racy.
    let s = TestServer::start().await;
    let (st, v) = s
        .call_with(
            Method::POST,
            "/api/memory/remember",
            Some(json!({"content": "the request id travels"})),
            &[("x-signet-request-id", "rid-logs-1")],
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let id = v["id"].as_str().unwrap().to_owned();
    let (_, h) = s.get(&format!("/api/memory/{id}/history")).await;
    assert_eq!(h["history"][0]["requestId"], "rid-logs-1", "{h}");
}
