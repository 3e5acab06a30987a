//! `/api/pipeline/*` and `/api/memory/jobs/{id}`: the pipeline's status on a real daemon,
//! an operator's pause and resume, one job and the listing, and the ledger in analytics and
//! `/metrics`.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use signet_core::auth::{Role, Scope};

use crate::auth::{TEAM, as_bearer, get_as, project, token};
use crate::common::{TestServer, eventually};
use crate::diagnostics::db;

/// An ollama provider nothing listens for: every call fails to connect, fast.
const UNREACHABLE_OLLAMA: &str = "memory:\n  pipelineV2:\n    extraction:\n      provider: ollama\n      endpoint: http://127.0.0.1:9\n";

/// The extract job remember queued for `memory_id`.
fn extract_job(s: &TestServer, memory_id: &str) -> String {
    db(s)
        .query_row(
            "SELECT id FROM memory_jobs WHERE job_type = 'extract' AND memory_id = ?1",
            [memory_id],
            |r| r.get(0),
        )
        .unwrap()
}

async fn metrics_text(s: &TestServer) -> String {
    let res = reqwest::get(format!("{}/metrics", s.base)).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    res.text().await.unwrap()
}

#[tokio::test]
async fn a_disabled_pipeline_says_it_is_idle_and_why() {
    let s = TestServer::start_with_yaml(Some("memory:\n  pipelineV2:\n    enabled: false\n")).await;
    let id = s.remember("nothing extracts this").await;
    let (st, v) = s.get("/api/pipeline/status").await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["mode"], "disabled");
    assert_eq!(v["paused"], true);
    assert_eq!(v["pausedReason"], "memory.pipelineV2.enabled is false");
    assert_eq!(v["provider"]["health"], "disabled");
    for queue in ["memory", "summary"] {
        assert_eq!(v["queues"][queue]["pending"], 0, "{queue}: {v}");
    }
    assert_eq!(v["ledger"]["total"]["calls"], 0);
    assert_eq!(v["budget"]["exhausted"], false);
    // A disabled pipeline queues nothing.
    let (_, m) = s.get(&format!("/api/memory/{id}")).await;
    assert_eq!(m["extraction_status"], "none", "{m}");
    s.shutdown().await;
}

#[tokio::test]
async fn a_missing_job_is_upstreams_404() {
    let s = TestServer::start().await;
    let (st, v) = s.get("/api/memory/jobs/no-such-job").await;
    assert_eq!(
        (st, v),
        (StatusCode::NOT_FOUND, json!({"error": "Job not found"}))
    );
    // The memory route still answers for a memory id (the static segment does not shadow it).
    let (st, v) = s.get("/api/memory/no-such-memory").await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{v}");
    s.shutdown().await;
}

#[tokio::test]
async fn a_remembered_memory_has_an_extract_job_the_worker_tries_and_the_ledger_counts() {
    let s = TestServer::start_with_yaml(Some(UNREACHABLE_OLLAMA)).await;
    let id = s.remember("the deploy key rotates monthly").await;
    let job = extract_job(&s, &id);
    let (st, v) = s.get(&format!("/api/memory/jobs/{job}")).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(
        (v["id"].as_str(), v["memory_id"].as_str()),
        (Some(job.as_str()), Some(id.as_str()))
    );
    assert_eq!(v["job_type"], "extract");
    assert_eq!(v["attempt_count"], v["attempts"]);
    assert_eq!(v["max_attempts"], 3);
    assert!(
        ["pending", "leased", "dead"].contains(&v["status"].as_str().unwrap()),
        "{v}"
    );

    let (_, status) = s.get("/api/pipeline/status").await;
    assert_eq!(status["mode"], "controlled-write", "{status}");
    assert_eq!(status["provider"]["name"], "ollama");
    assert_eq!(status["provider"]["model"], "llama3.2:3b");
    let by_status = &status["queues"]["memory"]["byType"]["extract"];
    let jobs: i64 = by_status
        .as_object()
        .unwrap()
        .values()
        .map(|n| n.as_i64().unwrap())
        .sum();
    assert_eq!(jobs, 1, "{status}");

    // The worker calls the provider, which cannot connect: the ledger records the failure,
    // and analytics and /metrics show it per provider and model.
    let key = "ollama/llama3.2:3b";
    let failed = eventually(|| async {
        let (_, usage) = s.get("/api/analytics/usage").await;
        usage["providers"][key]["errors"].as_i64().unwrap_or(0) >= 1
    })
    .await;
    assert!(failed, "no failed call in the ledger");
    let (_, usage) = s.get("/api/analytics/usage").await;
    let totals = &usage["providers"][key];
    assert!(
        totals["calls"].as_i64().unwrap() >= totals["errors"].as_i64().unwrap(),
        "{usage}"
    );
    let text = metrics_text(&s).await;
    let labels = r#"{provider="ollama",model="llama3.2:3b"}"#;
    assert!(
        text.contains(&format!("signet_llm_calls_total{labels} ")),
        "{text}"
    );
    assert!(
        text.contains(&format!("signet_llm_errors_total{labels} ")),
        "{text}"
    );
    let tokens =
        r#"signet_llm_tokens_total{provider="ollama",model="llama3.2:3b",direction="input"} 0"#;
    assert!(text.contains(tokens), "{text}");
    s.shutdown().await;
}

#[tokio::test]
async fn pause_and_resume_need_an_admin_in_team_mode() {
    // A usable provider, so the operator's pause is the reason the pipeline is idle.
    let s = TestServer::start_with_yaml(Some(&format!("{TEAM}{UNREACHABLE_OLLAMA}"))).await;
    let admin = token(&s, Role::Admin, "ops", Scope::default());
    let reader = token(&s, Role::Readonly, "dash", Scope::default());
    let (st, _) = s.post("/api/pipeline/pause", json!({})).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    let (st, _) = s.get("/api/pipeline/status").await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    let (st, v) = as_bearer(&s, Method::POST, "/api/pipeline/pause", None, &reader).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{v}");

    let (st, v) = as_bearer(&s, Method::POST, "/api/pipeline/pause", None, &admin).await;
    assert_eq!((st, &v["paused"]), (StatusCode::OK, &json!(true)), "{v}");
    assert_eq!(v["mode"], "controlled-write");
    // Any authenticated caller reads the status (as upstream).
    let paused = eventually(|| async {
        let (_, v) = get_as(&s, "/api/pipeline/status", &reader).await;
        v["pausedReason"] == "paused by an operator (POST /api/pipeline/resume)"
    })
    .await;
    assert!(paused, "the status names the operator's pause");
    let text = reqwest::Client::new()
        .get(format!("{}/metrics", s.base))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(text.contains("\nsignet_pipeline_paused 1\n"), "{text}");

    let (st, v) = as_bearer(&s, Method::POST, "/api/pipeline/resume", None, &admin).await;
    assert_eq!((st, &v["paused"]), (StatusCode::OK, &json!(false)), "{v}");
    let (_, v): (StatusCode, Value) = get_as(&s, "/api/pipeline/status", &reader).await;
    assert_ne!(
        v["pausedReason"], "paused by an operator (POST /api/pipeline/resume)",
        "{v}"
    );
    s.shutdown().await;
}

#[tokio::test]
async fn a_provider_cli_that_is_missing_leaves_the_pipeline_idle_saying_so() {
    // The test daemon's environment is empty: no PATH, so no `codex`.
    let yaml = "memory:\n  pipelineV2:\n    extraction:\n      provider: codex\n";
    let s = TestServer::start_with_yaml(Some(yaml)).await;
    // The `--version` check runs after start-up; the status says so until it is done.
    let idle = eventually(|| async {
        let (_, v) = s.get("/api/pipeline/status").await;
        v["pausedReason"]
            .as_str()
            .is_some_and(|r| r.contains("`codex` is not on PATH"))
    })
    .await;
    assert!(idle, "the status names the missing CLI");
    s.shutdown().await;
}

#[tokio::test]
async fn jobs_are_listed_newest_first_by_status_and_type_for_unscoped_callers() {
    let s = TestServer::start_with_yaml(Some(TEAM)).await;
    db(&s)
        .execute_batch(
            "INSERT INTO memory_jobs (id, job_type, status, attempts, error, failed_at, \
               created_at, updated_at) VALUES \
             ('old-dead', 'extract', 'dead', 3, 'boom', '2026-01-01T00:00:00.000Z', \
               '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z'), \
             ('new-dead', 'document_ingest', 'dead', 3, 'gone', '2026-01-03T00:00:00.000Z', \
               '2026-01-01T00:00:00.000Z', '2026-01-03T00:00:00.000Z'), \
             ('done', 'extract', 'completed', 1, NULL, NULL, \
               '2026-01-01T00:00:00.000Z', '2026-01-02T00:00:00.000Z');",
        )
        .unwrap();
    let reader = token(&s, Role::Readonly, "dash", Scope::default());
    let ids = |v: &Value| -> Vec<String> {
        let jobs = v["jobs"].as_array().unwrap();
        jobs.iter()
            .map(|j| j["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let (st, v) = get_as(&s, "/api/pipeline/jobs", &reader).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(ids(&v), ["new-dead", "done", "old-dead"], "{v}");
    assert_eq!(v["total"], 3);
    let (_, v) = get_as(&s, "/api/pipeline/jobs?status=dead", &reader).await;
    assert_eq!(
        (ids(&v), &v["total"]),
        (vec!["new-dead".into(), "old-dead".into()], &json!(2))
    );
    assert_eq!(v["jobs"][0]["last_error"], "gone");
    let (_, v) = get_as(&s, "/api/pipeline/jobs?status=dead&type=extract", &reader).await;
    assert_eq!(ids(&v), ["old-dead"]);
    let (_, v) = get_as(&s, "/api/pipeline/jobs?limit=1&offset=1", &reader).await;
    assert_eq!((ids(&v), &v["total"]), (vec!["done".into()], &json!(3)));

    for (query, key) in [
        ("status=failed", "status"),
        ("type=bogus", "type"),
        ("limit=0", "limit"),
        ("offset=-1", "offset"),
    ] {
        let (st, v) = get_as(&s, &format!("/api/pipeline/jobs?{query}"), &reader).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{query}: {v}");
        let message = v["error"].as_str().unwrap();
        assert!(message.starts_with(key), "{query}: {message}");
    }
    // As one job: authentication, and no project-scoped token (results quote any project).
    let (st, _) = s.get("/api/pipeline/jobs").await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    let scoped = token(&s, Role::Readonly, "dash", project("/p"));
    let (st, v) = get_as(&s, "/api/pipeline/jobs", &scoped).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{v}");
    s.shutdown().await;
}
