//! `/api/analytics/*`: the in-memory collector (usage, errors, latency) and memory safety.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Query, State};
use serde_json::json;
use signet_core::analytics::{ERROR_RING, ErrorQuery};

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

const STAGES: [&str; 6] = [
    "extraction",
    "decision",
    "embedding",
    "mutation",
    "connector",
    "predictor",
];

/// `GET /api/analytics/usage`.
pub async fn usage(State(s): State<AppState>) -> ApiResult {
    Ok(Json(s.memories().analytics().usage_json()))
}

/// `GET /api/analytics/latency`: p50/p95/p99/count/mean (ms) per operation group.
pub async fn latency(State(s): State<AppState>) -> ApiResult {
    Ok(Json(s.memories().analytics().latency_json()))
}

fn error_query(q: &HashMap<String, String>) -> Result<ErrorQuery, ApiError> {
    let get = |k: &str| q.get(k).map(|s| s.trim()).filter(|s| !s.is_empty());
    let stage = match get("stage") {
        Some(st) if !STAGES.contains(&st) => {
            return Err(ApiError::bad_request(format!(
                "stage must be one of {}",
                STAGES.join(", ")
            )));
        }
        st => st.map(str::to_owned),
    };
    let since = match get("since") {
        Some(t) if signet_store::time::parse(t).is_none() => {
            return Err(ApiError::bad_request("since must be an ISO-8601 timestamp"));
        }
        t => t.map(str::to_owned),
    };
    let limit = match get("limit") {
        None => 50,
        Some(l) => l
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=ERROR_RING).contains(n))
            .ok_or_else(|| {
                ApiError::bad_request(format!("limit must be an integer from 1 to {ERROR_RING}"))
            })?,
    };
    Ok(ErrorQuery {
        stage,
        since,
        limit,
    })
}

/// `GET /api/analytics/errors?stage=&since=&limit=` → `{errors, summary}`.
pub async fn errors(
    State(s): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult {
    let (errors, summary) = s.memories().analytics().errors(&error_query(&q)?);
    Ok(Json(json!({"errors": errors, "summary": summary})))
}

/// `GET /api/analytics/memory-safety` → `{mutation, recentErrors, errorSummary}`.
pub async fn memory_safety(State(s): State<AppState>) -> ApiResult {
    let mutation = s.memories().mutation_signals().await?;
    let q = ErrorQuery {
        stage: Some("mutation".into()),
        since: None,
        limit: 50,
    };
    let (recent, summary) = s.memories().analytics().errors(&q);
    Ok(Json(json!({
        "mutation": mutation,
        "recentErrors": recent,
        "errorSummary": summary,
    })))
}
