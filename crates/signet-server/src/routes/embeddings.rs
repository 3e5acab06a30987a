//! Handlers of the semantic side: similar memories, embeddings listing, status, health,
//! projection, and the embedding repairs.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Query, State};

use crate::error::{ApiResult, JsonBody, Reply};
use crate::routes::repair::{RepairCaller, repair_response};
use crate::state::AppState;

type Params = Query<HashMap<String, String>>;

/// `GET /memory/similar?id=&k=&type=`.
pub async fn similar(
    State(s): State<AppState>,
    caller: crate::permission::Authed,
    Query(q): Params,
) -> ApiResult {
    Ok(Json(s.memories().similar(&q, &caller.scope()).await?))
}

/// `GET /api/embeddings`.
pub async fn list(State(s): State<AppState>, Query(q): Params) -> ApiResult {
    Ok(Json(s.memories().embeddings(&q).await?))
}

/// `GET /api/embeddings/status`.
pub async fn status(State(s): State<AppState>) -> ApiResult {
    Ok(Json(s.memories().embedding_status().await?))
}

/// `GET /api/embeddings/health`.
pub async fn health(State(s): State<AppState>) -> ApiResult {
    Ok(Json(s.memories().embedding_health().await?))
}

/// `GET /api/embeddings/projection?dimensions=2`.
pub async fn projection(State(s): State<AppState>, Query(q): Params) -> ApiResult {
    Ok(Json(s.memories().projection(&q).await?))
}

/// `GET /api/repair/embedding-gaps`.
pub async fn gaps(State(s): State<AppState>) -> ApiResult {
    Ok(Json(s.maintenance().embedding_gaps().await?))
}

/// `POST /api/repair/re-embed` (`{"dryRun": bool}`); audited.
pub async fn reembed(
    State(s): State<AppState>,
    RepairCaller(ctx): RepairCaller,
    JsonBody(body): JsonBody,
) -> ApiResult<Reply> {
    Ok(repair_response(
        s.maintenance().reembed(&ctx, &body).await?,
        false,
    ))
}

/// `POST /api/repair/clean-orphans`; audited.
pub async fn clean_orphans(
    State(s): State<AppState>,
    RepairCaller(ctx): RepairCaller,
) -> ApiResult<Reply> {
    Ok(repair_response(
        s.maintenance().clean_orphans(&ctx).await?,
        false,
    ))
}
