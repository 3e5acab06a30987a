//! Handlers of the memory API: one service call each.

use std::time::Instant;

use axum::Json;
use axum::extract::{Path, Query, State};
use signet_api::{
    BatchForgetResponse, BatchModifyResponse, GuardQuery, HistoryQuery, HistoryResponse,
    LegacySearchQuery, LegacySearchResponse, ListQuery, MemoryDetail, MemoryList, MutationResponse,
    RecallResponse, RememberResponse, SearchQuery,
};
use signet_core::memory::{
    BatchForgetInput, BatchModifyInput, GuardInput, HistoryParams, LegacySearch, ListParams,
    PatchInput, RecallInput, RememberInput, outcome_response,
};
use signet_model::memories::{Mutation, MutationOutcome};

use crate::actor::CallerActor;
use crate::error::{ApiError, ApiResult, Input, JsonBody, Kind, Params, Reply};
use crate::permission::{Authed, Operation};
use crate::state::AppState;

/// The outcome's wire answer with the status of its kind (200, 404, 403 or 409).
fn mutation_reply(id: &str, o: &MutationOutcome, warnings: Vec<String>) -> Reply<MutationResponse> {
    let mut answer = outcome_response(id, o);
    answer.warnings = warnings;
    Reply::new(o.kind().into(), answer)
}

/// `POST /api/memory/remember` (and its aliases).
pub async fn remember(
    State(s): State<AppState>,
    caller: Authed,
    CallerActor(actor): CallerActor,
    Input(req): Input<RememberInput>,
) -> ApiResult<Json<RememberResponse>> {
    let scope = caller.scope();
    Ok(Json(s.memories().remember(req, actor, &scope).await?))
}

/// `GET /api/memories`.
pub async fn list(
    State(s): State<AppState>,
    caller: Authed,
    Params(params, _): Params<ListQuery, ListParams>,
) -> ApiResult<Json<MemoryList>> {
    Ok(Json(s.memories().list(params, &caller.scope()).await?))
}

/// `GET /api/memory/:id`.
pub async fn get(
    State(s): State<AppState>,
    caller: Authed,
    Path(id): Path<String>,
) -> ApiResult<Json<MemoryDetail>> {
    Ok(Json(s.memories().get(id, &caller.scope()).await?))
}

/// `GET /api/memory/:id/history` (a 404 names the `memoryId`).
pub async fn history(
    State(s): State<AppState>,
    caller: Authed,
    Path(id): Path<String>,
    Params(params, _): Params<HistoryQuery, HistoryParams>,
) -> ApiResult<Json<HistoryResponse>> {
    let found = s
        .memories()
        .history(id.clone(), params, &caller.scope())
        .await;
    found
        .map(Json)
        .map_err(|e| ApiError::from(e).with_field_if(Kind::NotFound, "memoryId", id))
}

/// `PATCH /api/memory/:id`.
pub async fn patch(
    State(s): State<AppState>,
    Path(id): Path<String>,
    caller: Authed,
    CallerActor(actor): CallerActor,
    Input(mut req): Input<PatchInput>,
) -> ApiResult<Reply<MutationResponse>> {
    let warnings = std::mem::take(&mut req.warnings);
    let m = req.into_mutation(id.clone(), actor);
    let outcome = s.memories().mutate(m, &caller.scope()).await?;
    Ok(mutation_reply(&id, &outcome, warnings))
}

/// `DELETE /api/memory/:id` (soft delete; `force` also counts against `forceDelete`).
pub async fn delete(
    State(s): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<GuardQuery>,
    caller: Authed,
    CallerActor(actor): CallerActor,
    JsonBody(body): JsonBody,
) -> ApiResult<Reply<MutationResponse>> {
    let mut req = GuardInput::try_from((&body, &q))?;
    if req.force
        && let Err(wait) = s
            .auth()
            .admit(&caller.0, Operation::ForceDelete, Instant::now())
    {
        return Err(ApiError::rate_limited(wait.seconds()));
    }
    let warnings = std::mem::take(&mut req.warnings);
    guarded(&s, &caller, req.into_forget(id, actor), warnings).await
}

/// `POST /api/memory/:id/recover`.
pub async fn recover(
    State(s): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<GuardQuery>,
    caller: Authed,
    CallerActor(actor): CallerActor,
    JsonBody(body): JsonBody,
) -> ApiResult<Reply<MutationResponse>> {
    let mut req = GuardInput::try_from((&body, &q))?;
    let warnings = std::mem::take(&mut req.warnings);
    guarded(&s, &caller, req.into_recover(id, actor), warnings).await
}

/// Runs a DELETE or recover and answers with its outcome (and the body's unknown fields).
async fn guarded(
    s: &AppState,
    caller: &Authed,
    m: Mutation,
    warnings: Vec<String>,
) -> ApiResult<Reply<MutationResponse>> {
    let id = m.id.clone();
    let outcome = s.memories().mutate(m, &caller.scope()).await?;
    Ok(mutation_reply(&id, &outcome, warnings))
}

/// `POST /api/memory/forget` (batch, preview or execute).
pub async fn batch_forget(
    State(s): State<AppState>,
    caller: Authed,
    CallerActor(actor): CallerActor,
    Input(req): Input<BatchForgetInput>,
) -> ApiResult<Json<BatchForgetResponse>> {
    let scope = caller.scope();
    Ok(Json(s.memories().batch_forget(req, actor, &scope).await?))
}

/// `POST /api/memory/modify` (batch).
pub async fn batch_modify(
    State(s): State<AppState>,
    caller: Authed,
    CallerActor(actor): CallerActor,
    Input(req): Input<BatchModifyInput>,
) -> ApiResult<Json<BatchModifyResponse>> {
    let scope = caller.scope();
    Ok(Json(s.memories().batch_modify(req, actor, &scope).await?))
}

/// `POST /api/memory/recall`.
pub async fn recall(
    State(s): State<AppState>,
    caller: Authed,
    Input(req): Input<RecallInput>,
) -> ApiResult<Json<RecallResponse>> {
    Ok(Json(s.memories().recall(req, &caller.scope()).await?))
}

/// `GET /api/memory/search?q=` (the recall alias upstream shadows; reachable here).
pub async fn search(
    State(s): State<AppState>,
    caller: Authed,
    Params(req, _): Params<SearchQuery, RecallInput>,
) -> ApiResult<Json<RecallResponse>> {
    Ok(Json(s.memories().recall(req, &caller.scope()).await?))
}

/// `GET /memory/search` (legacy keyword / filter search, `distinct=who`).
pub async fn legacy_search(
    State(s): State<AppState>,
    caller: Authed,
    Params(req, _): Params<LegacySearchQuery, LegacySearch>,
) -> ApiResult<Json<LegacySearchResponse>> {
    Ok(Json(
        s.memories().legacy_search(req, &caller.scope()).await?,
    ))
}
