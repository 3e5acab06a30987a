//! `/api/analytics/*`: usage by route pattern, latency histograms, errors, memory safety.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::common::TestServer;

#[tokio::test]
async fn usage_counts_requests_by_route_pattern_and_actor() {
    let s = TestServer::start().await;
    let a = s.remember("first memory about rust").await;
    let b = s.remember("second memory about tokio").await;
    for id in [&a, &b] {
        let (st, _) = s
            .call_with(
                Method::GET,
                &format!("/api/memory/{id}"),
                None,
                &[("x-signet-actor", "claude")],
            )
            .await;
        assert_eq!(st, StatusCode::OK);
    }
    s.get("/no/such/route").await;
    let (st, u) = s.get("/api/analytics/usage").await;
    assert_eq!(st, StatusCode::OK);
    let eps = &u["endpoints"];
    assert_eq!(eps["POST /api/memory/remember"]["count"], 2);
    assert_eq!(eps["GET /api/memory/{id}"]["count"], 2, "{eps}");
    assert_eq!(eps["GET (unmatched)"]["count"], 1);
    assert_eq!(eps["GET (unmatched)"]["errors"], 1);
    assert!(
        eps.get(format!("GET /api/memory/{a}")).is_none(),
        "no concrete paths"
    );
    assert_eq!(u["actors"]["claude"]["requests"], 2);
    assert_eq!(u["totals"]["memoryOperations"]["remember"], 2);
}

#[tokio::test]
async fn latency_histograms_count_each_operation_group() {
    let s = TestServer::start().await;
    let id = s.remember("latency of a remember").await;
    s.recall(json!({"query": "latency"})).await;
    s.recall(json!({"query": "remember"})).await;
    s.patch_memory(&id, json!({"pinned": true, "reason": "r"}))
        .await;
    let (st, l) = s.get("/api/analytics/latency").await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(l["remember"]["count"], 1);
    assert_eq!(l["recall"]["count"], 2);
    assert_eq!(l["mutate"]["count"], 1);
    assert_eq!(l["jobs"]["count"], 0);
    assert_eq!(l["predictor_score"]["count"], 0);
    let r = &l["recall"];
    assert!(r["p50"].as_f64().unwrap() > 0.0);
    assert!(r["p50"].as_f64() <= r["p99"].as_f64());
}

#[tokio::test]
async fn version_conflicts_are_recorded_and_filtered_by_stage() {
    let s = TestServer::start().await;
    let id = s.remember("a memory two agents edit").await;
    let (st, _) = s
        .call_with(
            Method::PATCH,
            &format!("/api/memory/{id}"),
            Some(json!({"importance": 0.2, "reason": "stale", "if_version": 7})),
            &[
                ("x-signet-actor", "agent-b"),
                ("x-signet-request-id", "rid-conflict"),
            ],
        )
        .await;
    assert_eq!(st, StatusCode::CONFLICT);
    let (st, v) = s.get("/api/analytics/errors?stage=mutation").await;
    assert_eq!(st, StatusCode::OK);
    let e = &v["errors"][0];
    assert_eq!(e["code"], "MUTATION_CONFLICT");
    assert_eq!(e["stage"], "mutation");
    assert_eq!(e["memoryId"], id.as_str());
    assert_eq!(e["actor"], "agent-b");
    assert_eq!(e["requestId"], "rid-conflict");
    assert_eq!(v["summary"]["MUTATION_CONFLICT"], 1);
    let (_, v) = s.get("/api/analytics/errors?stage=embedding").await;
    assert_eq!(v["errors"], json!([]));
    let (_, v) = s
        .get("/api/analytics/errors?since=2999-01-01T00:00:00Z")
        .await;
    assert_eq!(v["errors"], json!([]));
    for bad in ["stage=nope", "since=never", "limit=0"] {
        let (st, _) = s.get(&format!("/api/analytics/errors?{bad}")).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{bad}");
    }
    let (st, m) = s.get("/api/analytics/memory-safety").await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(m["mutation"]["recentDeletes"], 0);
    assert_eq!(m["recentErrors"][0]["code"], "MUTATION_CONFLICT");
    s.delete(&format!("/api/memory/{id}?reason=gone")).await;
    let (_, m) = s.get("/api/analytics/memory-safety").await;
    assert_eq!(m["mutation"]["recentDeletes"], 1);
    assert_eq!(m["mutation"]["windowDays"], 7);
}
