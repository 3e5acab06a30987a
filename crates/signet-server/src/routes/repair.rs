//! `/api/repair/*`: each handler reads the caller from the `x-signet-*` headers, runs one
//! repair and maps its result: 200 on success, 429 when the gate or limiter refused (and, as
//! upstream, whenever requeue-dead, release-leases or check-fts did not succeed), else 500.

use axum::Json;
use axum::extract::{FromRequestParts, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use signet_core::repair::{RepairContext, RepairResult};

use crate::actor::{actor_name, header};
use crate::error::{ApiResult, JsonBody};
use crate::request_id::RequestId;
use crate::state::AppState;

/// The repair context from `x-signet-reason`, `x-signet-actor`, `x-signet-actor-type` and the
/// request id (defaults: "manual repair", "operator", "operator").
pub struct RepairCaller(pub RepairContext);

impl<S: Send + Sync> FromRequestParts<S> for RepairCaller {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let d = RepairContext::default();
        Ok(Self(RepairContext {
            actor: actor_name(parts).unwrap_or(d.actor),
            actor_type: header(parts, "x-signet-actor-type")
                .map(|t| t.to_ascii_lowercase())
                .unwrap_or(d.actor_type),
            reason: header(parts, "x-signet-reason").unwrap_or(d.reason),
            request_id: parts.extensions.get::<RequestId>().map(|r| r.0.clone()),
        }))
    }
}

/// The HTTP answer of a repair; `strict`: any failure is 429 (requeue, leases, FTS).
pub fn repair_response(r: RepairResult, strict: bool) -> Response {
    let status = if r.success {
        StatusCode::OK
    } else if r.denied || strict {
        StatusCode::TOO_MANY_REQUESTS
    } else {
        StatusCode::INTERNAL_SERVER_ERROR
    };
    (status, Json(r.to_json())).into_response()
}

/// `POST /api/repair/requeue-dead` (alias `requeue-dead-jobs`).
pub async fn requeue_dead(
    State(s): State<AppState>,
    RepairCaller(c): RepairCaller,
) -> ApiResult<Response> {
    Ok(repair_response(
        s.maintenance().requeue_dead(&c).await?,
        true,
    ))
}

/// `POST /api/repair/release-leases`.
pub async fn release_leases(
    State(s): State<AppState>,
    RepairCaller(c): RepairCaller,
) -> ApiResult<Response> {
    Ok(repair_response(
        s.maintenance().release_leases(&c).await?,
        true,
    ))
}

/// `POST /api/repair/check-fts` (`{"repair": bool}`).
pub async fn check_fts(
    State(s): State<AppState>,
    RepairCaller(c): RepairCaller,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    Ok(repair_response(
        s.maintenance().check_fts(&c, &body).await?,
        true,
    ))
}

/// `POST /api/repair/retention-sweep`: runs a sweep now.
pub async fn retention_sweep(
    State(s): State<AppState>,
    RepairCaller(c): RepairCaller,
) -> ApiResult<Response> {
    Ok(repair_response(
        s.maintenance().retention_sweep(&c).await?,
        false,
    ))
}

/// `GET /api/repair/dedup-stats`.
pub async fn dedup_stats(State(s): State<AppState>) -> ApiResult {
    Ok(Json(s.maintenance().dedup_stats().await?))
}

/// `POST /api/repair/deduplicate` (`{batchSize, dryRun, semanticThreshold, semanticEnabled}`).
pub async fn deduplicate(
    State(s): State<AppState>,
    RepairCaller(c): RepairCaller,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    Ok(repair_response(
        s.maintenance().deduplicate(&c, &body).await?,
        false,
    ))
}

/// Upstream repairs of subsystems this daemon does not have (the sqlite-vec table, the entity
/// graph, session summaries): 501 with the reason, never a pretend success.
pub async fn not_implemented(uri: axum::http::Uri) -> Response {
    let action = uri.path().rsplit('/').next().unwrap_or_default().to_owned();
    let message = match action.as_str() {
        "resync-vec" => {
            "not applicable: vectors live in an in-memory index built from the embeddings table; there is no sqlite-vec table to resync"
        }
        "cold-stats" => {
            "not implemented yet: cold-storage statistics arrive with the retention dashboard"
        }
        _ => {
            "not implemented: this repair belongs to the extraction pipeline (entities, summaries), which this daemon does not run yet"
        }
    };
    (
        StatusCode::NOT_IMPLEMENTED,
        Json(serde_json::json!({"action": action, "success": false, "affected": 0, "message": message, "error": message})),
    )
        .into_response()
}
