//! `/api/pipeline/*` and `/api/memory/jobs/{id}`: the memory pipeline's status, an operator's
//! pause and resume, and one job. Each handler is one call of `signet_core::pipeline::Pipeline`.

use axum::Json;
use axum::extract::{Path, State};
use signet_api::{JobList, JobListQuery, JobStatus, PipelineControl, PipelineStatus};
use signet_core::pipeline::JobListParams;

use crate::error::{ApiError, ApiResult, Params};
use crate::state::AppState;

/// `GET /api/pipeline/status`: mode, workers, queues, provider health, ledger, budget.
pub async fn status(State(s): State<AppState>) -> ApiResult<Json<PipelineStatus>> {
    Ok(Json(s.pipeline().status().await?))
}

/// `POST /api/pipeline/pause`: the workers lease nothing until resumed (a job in progress
/// finishes). The switch is in memory: a restart resumes.
pub async fn pause(State(s): State<AppState>) -> Json<PipelineControl> {
    Json(s.pipeline().pause())
}

/// `POST /api/pipeline/resume`.
pub async fn resume(State(s): State<AppState>) -> Json<PipelineControl> {
    Json(s.pipeline().resume())
}

/// `GET /api/pipeline/jobs?status&type&limit&offset`: `memory_jobs`, newest first (ours).
pub async fn jobs(
    State(s): State<AppState>,
    Params(p, _): Params<JobListQuery, JobListParams>,
) -> ApiResult<Json<JobList>> {
    Ok(Json(s.pipeline().jobs(p).await?))
}

/// `GET /api/memory/jobs/{id}`: one `memory_jobs` row, any type; 404 `{"error":"Job not
/// found"}` as upstream.
pub async fn job(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<JobStatus>> {
    s.pipeline()
        .job(&id)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::not_found("Job not found"))
}
