//! Handlers of the semantic side: similar memories, embeddings listing, status, health,
//! projection, and the embedding repairs.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Query, State};
use serde_json::Value;

use crate::error::{ApiResult, JsonBody};
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
    Ok(Json(s.memories().embedding_gaps().await?))
}

/// `POST /api/repair/re-embed` (`{"dryRun": bool}`).
pub async fn reembed(State(s): State<AppState>, JsonBody(body): JsonBody) -> ApiResult {
    let dry_run =
        signet_core::memory::input::opt_bool(body.get("dryRun"), "dryRun")?.unwrap_or(false);
    Ok(Json(s.memories().reembed(dry_run).await?))
}

/// `POST /api/repair/clean-orphans`.
pub async fn clean_orphans(State(s): State<AppState>) -> ApiResult<Json<Value>> {
    Ok(Json(s.memories().clean_orphans().await?))
}
