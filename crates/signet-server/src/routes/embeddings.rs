//! Handlers of the semantic side: similar memories, embeddings listing, status, health,
//! projection, and the embedding repairs.

use axum::Json;
use axum::extract::State;
use signet_api::{
    EmbeddingGaps, EmbeddingHealth, EmbeddingList, EmbeddingStatus, EmbeddingsQuery, Projection,
    ProjectionQuery, SimilarQuery, SimilarResponse,
};
use signet_core::memory::{EmbeddingPage, ProjectionParams, SimilarParams};
use signet_core::repair::ReembedOptions;

use crate::error::{ApiResult, Input, Params};
use crate::routes::repair::{RepairCaller, RepairReply, repair_response};
use crate::state::AppState;

/// `GET /memory/similar?id=&k=&type=`.
pub async fn similar(
    State(s): State<AppState>,
    caller: crate::permission::Authed,
    Params(p, _): Params<SimilarQuery, SimilarParams>,
) -> ApiResult<Json<SimilarResponse>> {
    Ok(Json(s.memories().similar(p, &caller.scope()).await?))
}

/// `GET /api/embeddings`.
pub async fn list(
    State(s): State<AppState>,
    Params(page, _): Params<EmbeddingsQuery, EmbeddingPage>,
) -> ApiResult<Json<EmbeddingList>> {
    Ok(Json(s.memories().embeddings(page).await?))
}

/// `GET /api/embeddings/status`.
pub async fn status(State(s): State<AppState>) -> ApiResult<Json<EmbeddingStatus>> {
    Ok(Json(s.memories().embedding_status().await?))
}

/// `GET /api/embeddings/health`.
pub async fn health(State(s): State<AppState>) -> ApiResult<Json<EmbeddingHealth>> {
    Ok(Json(s.memories().embedding_health().await?))
}

/// `GET /api/embeddings/projection?dimensions=2`.
pub async fn projection(
    State(s): State<AppState>,
    Params(p, _): Params<ProjectionQuery, ProjectionParams>,
) -> ApiResult<Json<Projection>> {
    Ok(Json(s.memories().projection(p).await?))
}

/// `GET /api/repair/embedding-gaps`.
pub async fn gaps(State(s): State<AppState>) -> ApiResult<Json<EmbeddingGaps>> {
    Ok(Json(s.maintenance().embedding_gaps().await?))
}

/// `POST /api/repair/re-embed` (`{"dryRun": bool}`); audited.
pub async fn reembed(
    State(s): State<AppState>,
    RepairCaller(ctx): RepairCaller,
    Input(req): Input<ReembedOptions>,
) -> ApiResult<RepairReply> {
    repair_response(s.maintenance().reembed(&ctx, req).await, false)
}

/// `POST /api/repair/clean-orphans`; audited.
pub async fn clean_orphans(
    State(s): State<AppState>,
    RepairCaller(ctx): RepairCaller,
) -> ApiResult<RepairReply> {
    repair_response(s.maintenance().clean_orphans(&ctx).await, false)
}
