//! `/api/analytics/*`: the in-memory collector (usage, errors, latency) and memory safety.

use axum::Json;
use axum::extract::State;
use signet_api::{ErrorsQuery, ErrorsReport, Extra, LatencyReport, MemorySafety, UsageReport};
use signet_core::analytics::{ErrorQuery, Stage};

use crate::error::{ApiResult, Params};
use crate::state::AppState;

/// `GET /api/analytics/usage`: the collector's counters since start, and the LLM ledger's
/// all-time totals per provider and model.
pub async fn usage(State(s): State<AppState>) -> ApiResult<Json<UsageReport>> {
    let mut report = s.memories().analytics().usage();
    report.providers = s.pipeline().usage().await?;
    Ok(Json(report))
}

/// `GET /api/analytics/latency`: p50/p95/p99/count/mean (ms) per operation group.
pub async fn latency(State(s): State<AppState>) -> Json<LatencyReport> {
    Json(s.memories().analytics().latency_report())
}

/// `GET /api/analytics/errors?stage=&since=&limit=` → `{errors, summary}`.
pub async fn errors(
    State(s): State<AppState>,
    Params(q, _): Params<ErrorsQuery, ErrorQuery>,
) -> ApiResult<Json<ErrorsReport>> {
    Ok(Json(s.memories().analytics().errors(&q)))
}

/// `GET /api/analytics/memory-safety` → `{mutation, recentErrors, errorSummary}`.
pub async fn memory_safety(State(s): State<AppState>) -> ApiResult<Json<MemorySafety>> {
    let mutation = s.memories().mutation_signals().await?;
    let q = ErrorQuery {
        stage: Some(Stage::Mutation),
        since: None,
        limit: 50,
    };
    let errors = s.memories().analytics().errors(&q);
    Ok(Json(MemorySafety {
        error_summary: errors.summary,
        mutation,
        recent_errors: errors.errors,
        extra: Extra::new(),
    }))
}
