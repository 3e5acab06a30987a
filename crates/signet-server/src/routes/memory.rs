//! Handlers of the memory API: one service call each.

use std::collections::HashMap;
use std::time::Instant;

use axum::Json;
use axum::extract::{Path, Query, State};
use serde_json::Value;
use signet_api::{
    BatchForgetResponse, BatchModifyResponse, HistoryResponse, MemoryList, RecallResponse,
    RememberResponse,
};
use signet_core::memory::{
    GuardInput, PatchInput, RecallInput, RememberInput, input, outcome_response, resolve_actor,
};
use signet_store::memories::{Mutation, MutationOutcome};

use crate::actor::CallerActor;
use crate::error::{ApiError, ApiResult, JsonBody, Kind, Reply};
use crate::permission::{Authed, Operation};
use crate::state::AppState;

type Params = Query<HashMap<String, String>>;

/// The outcome's wire answer with the status of its kind (200, 404, 403 or 409).
fn mutation_reply(id: &str, o: &MutationOutcome, warnings: Vec<String>) -> Reply {
    let mut answer = outcome_response(id, o);
    answer.warnings = warnings;
    Reply::new(
        o.kind().into(),
        serde_json::to_value(answer).unwrap_or_default(),
    )
}

/// Body fields the route does not read, as `warnings` (none for a non-object body).
fn unknown(body: &Value, known: &[&str]) -> Vec<String> {
    body.as_object()
        .map(|o| input::unknown_fields(o, known))
        .unwrap_or_default()
}

/// `POST /api/memory/remember` (and its aliases).
pub async fn remember(
    State(s): State<AppState>,
    caller: Authed,
    CallerActor(actor): CallerActor,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<RememberResponse>> {
    let req = RememberInput::from_json(&body)?;
    let actor = resolve_actor(actor, body.as_object());
    let mut stored = s.memories().remember(req, actor, &caller.scope()).await?;
    stored.set_warnings(unknown(&body, RememberInput::FIELDS));
    Ok(Json(stored))
}

/// `GET /api/memories`.
pub async fn list(
    State(s): State<AppState>,
    caller: Authed,
    Query(q): Params,
) -> ApiResult<Json<MemoryList>> {
    Ok(Json(s.memories().list(&q, &caller.scope()).await?))
}

/// `GET /api/memory/:id`.
pub async fn get(State(s): State<AppState>, caller: Authed, Path(id): Path<String>) -> ApiResult {
    Ok(Json(s.memories().get(id, &caller.scope()).await?))
}

/// `GET /api/memory/:id/history` (a 404 names the `memoryId`).
pub async fn history(
    State(s): State<AppState>,
    caller: Authed,
    Path(id): Path<String>,
    Query(q): Params,
) -> ApiResult<Json<HistoryResponse>> {
    let (limit, scope) = (q.get("limit").map(String::as_str), caller.scope());
    let found = s.memories().history(id.clone(), limit, &scope).await;
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
    JsonBody(body): JsonBody,
) -> ApiResult<Reply> {
    let obj = input::object(&body)?;
    let req = PatchInput::from_json(obj, None)?;
    let warnings = input::unknown_fields(obj, PatchInput::FIELDS);
    let actor = resolve_actor(actor, Some(obj));
    let m = req.into_mutation(id.clone(), actor);
    let outcome = s.memories().mutate(m, &caller.scope()).await?;
    Ok(mutation_reply(&id, &outcome, warnings))
}

/// `DELETE /api/memory/:id` (soft delete; `force` also counts against `forceDelete`).
pub async fn delete(
    State(s): State<AppState>,
    Path(id): Path<String>,
    Query(q): Params,
    caller: Authed,
    CallerActor(actor): CallerActor,
    JsonBody(body): JsonBody,
) -> ApiResult<Reply> {
    let req = GuardInput::from_parts(Some(&body), &q)?;
    if req.force
        && let Err(wait) = s
            .auth()
            .admit(&caller.0, Operation::ForceDelete, Instant::now())
    {
        return Err(ApiError::rate_limited(wait.seconds()));
    }
    let m = req.into_forget(id.clone(), resolve_actor(actor, body.as_object()));
    guarded(&s, &caller, m, &body).await
}

/// `POST /api/memory/:id/recover`.
pub async fn recover(
    State(s): State<AppState>,
    Path(id): Path<String>,
    Query(q): Params,
    caller: Authed,
    CallerActor(actor): CallerActor,
    JsonBody(body): JsonBody,
) -> ApiResult<Reply> {
    let req = GuardInput::from_parts(Some(&body), &q)?;
    let m = req.into_recover(id.clone(), resolve_actor(actor, body.as_object()));
    guarded(&s, &caller, m, &body).await
}

/// Runs a DELETE or recover and answers with its outcome (and the body's unknown fields).
async fn guarded(s: &AppState, caller: &Authed, m: Mutation, body: &Value) -> ApiResult<Reply> {
    let id = m.id.clone();
    let outcome = s.memories().mutate(m, &caller.scope()).await?;
    Ok(mutation_reply(
        &id,
        &outcome,
        unknown(body, GuardInput::FIELDS),
    ))
}

/// `POST /api/memory/forget` (batch, preview or execute).
pub async fn batch_forget(
    State(s): State<AppState>,
    caller: Authed,
    CallerActor(actor): CallerActor,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<BatchForgetResponse>> {
    let scope = caller.scope();
    Ok(Json(s.memories().batch_forget(body, actor, &scope).await?))
}

/// `POST /api/memory/modify` (batch).
pub async fn batch_modify(
    State(s): State<AppState>,
    caller: Authed,
    CallerActor(actor): CallerActor,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<BatchModifyResponse>> {
    let scope = caller.scope();
    Ok(Json(s.memories().batch_modify(body, actor, &scope).await?))
}

/// `POST /api/memory/recall`.
pub async fn recall(
    State(s): State<AppState>,
    caller: Authed,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<RecallResponse>> {
    let req = RecallInput::from_json(&body)?;
    let mut found = s.memories().recall(req, &caller.scope()).await?;
    found.warnings = unknown(&body, RecallInput::FIELDS);
    Ok(Json(found))
}

/// `GET /api/memory/search?q=` (the recall alias upstream shadows; reachable here).
pub async fn search(
    State(s): State<AppState>,
    caller: Authed,
    Query(q): Params,
) -> ApiResult<Json<RecallResponse>> {
    let req = RecallInput::from_query(&q)?;
    Ok(Json(s.memories().recall(req, &caller.scope()).await?))
}

/// `GET /memory/search` (legacy keyword / filter search, `distinct=who`).
pub async fn legacy_search(
    State(s): State<AppState>,
    caller: Authed,
    Query(q): Params,
) -> ApiResult<Json<Value>> {
    Ok(Json(s.memories().legacy_search(&q, &caller.scope()).await?))
}
