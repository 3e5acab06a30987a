//! `GET /metrics`: Prometheus text format.

use reqwest::StatusCode;
use serde_json::json;

use crate::common::TestServer;

/// `name{labels} value` or `name value`, with a float value.
fn parse_sample(line: &str) -> (String, f64) {
    let (series, value) = line
        .rsplit_once(' ')
        .unwrap_or_else(|| panic!("bad line {line}"));
    let value: f64 = value
        .parse()
        .unwrap_or_else(|_| panic!("bad value in {line}"));
    let name_end = series.find('{').unwrap_or(series.len());
    let name = &series[..name_end];
    assert!(
        !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':'),
        "bad name in {line}"
    );
    if name_end < series.len() {
        assert!(series.ends_with('}'), "bad labels in {line}");
        let labels = &series[name_end + 1..series.len() - 1];
        for pair in labels.split("\",") {
            let (k, v) = pair
                .split_once("=\"")
                .unwrap_or_else(|| panic!("bad label in {line}"));
            assert!(
                k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
                "{line}"
            );
            assert!(!v.is_empty() || pair.ends_with('"'), "{line}");
        }
    }
    (series.to_owned(), value)
}

#[tokio::test]
async fn metrics_expose_requests_latency_memories_jobs_and_process() {
    let s = TestServer::start().await;
    let id = s.remember("metrics count me").await;
    s.remember("and me").await;
    s.recall(json!({"query": "metrics"})).await;
    s.call(
        reqwest::Method::DELETE,
        &format!("/api/memory/{id}?reason=x"),
        None,
    )
    .await;
    let res = reqwest::get(format!("{}/metrics", s.base)).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let ct = res.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(ct.starts_with("text/plain; version=0.0.4"), "{ct}");
    let text = res.text().await.unwrap();
    let samples: Vec<(String, f64)> = text
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(parse_sample)
        .collect();
    let get = |series: &str| {
        samples
            .iter()
            .find(|(s, _)| s == series)
            .map(|(_, v)| *v)
            .unwrap_or_else(|| panic!("no {series} in\n{text}"))
    };
    assert_eq!(
        get(
            r#"signet_http_requests_total{route="/api/memory/remember",method="POST",status_class="2xx"}"#
        ),
        2.0
    );
    assert_eq!(
        get(r#"signet_http_request_duration_seconds_count{group="remember"}"#),
        2.0
    );
    assert!(get(r#"signet_http_request_duration_seconds{group="recall",quantile="0.99"}"#) > 0.0);
    assert_eq!(get(r#"signet_memories{state="live"}"#), 1.0);
    assert_eq!(get(r#"signet_memories{state="deleted"}"#), 1.0);
    // The pipeline is on by default (claude-code): each remember queued an extract job, which
    // waits while the provider is unusable (or is being worked on).
    let pending = get(r#"signet_jobs{status="pending"}"#) + get(r#"signet_jobs{status="leased"}"#);
    let queued = get(r#"signet_pipeline_jobs{queue="memory",status="pending"}"#)
        + get(r#"signet_pipeline_jobs{queue="memory",status="leased"}"#);
    assert!(pending <= 2.0 && queued == pending, "{text}");
    assert_eq!(
        get(r#"signet_pipeline_jobs{queue="summary",status="pending"}"#),
        0.0
    );
    assert_eq!(get("signet_pipeline_paused"), 0.0);
    assert_eq!(get("signet_pipeline_budget_exhausted"), 0.0);
    assert!(get("signet_embedding_coverage_ratio") <= 1.0);
    assert_eq!(get("signet_embedding_provider_errors_total"), 0.0);
    assert!(get("signet_uptime_seconds") >= 0.0);
    assert!(get("process_resident_memory_bytes") > 1e6);
    for family in [
        "signet_http_requests_total",
        "signet_memories",
        "signet_jobs",
        "signet_llm_calls_total",
        "signet_llm_errors_total",
        "signet_llm_tokens_total",
        "signet_pipeline_paused",
        "signet_pipeline_budget_exhausted",
        "signet_pipeline_jobs",
    ] {
        assert!(text.contains(&format!("# TYPE {family} ")), "{family}");
    }
}
