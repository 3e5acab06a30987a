//! The session tracker over HTTP: the claimed sessions and their bypass flags, and the agent
//! feedback on the memories a session was given.

use axum::Json;
use axum::extract::{Path, State};
use serde_json::Value;
use signet_api::{BypassResponse, FeedbackResponse, SessionInfo, SessionList};
use signet_core::memory::FeedbackInput;

use crate::error::{ApiError, ApiResult, JsonBody};
use crate::permission::Authed;
use crate::state::AppState;

/// `GET /api/sessions`.
pub async fn list(State(s): State<AppState>) -> Json<SessionList> {
    Json(s.sessions().list(chrono::Utc::now()))
}

/// `GET /api/sessions/{key}` (404 when the session is not claimed).
pub async fn get(
    State(s): State<AppState>,
    Path(key): Path<String>,
) -> ApiResult<Json<SessionInfo>> {
    s.sessions()
        .get(&key, chrono::Utc::now())
        .map(Json)
        .ok_or_else(|| ApiError::not_found("Session not found"))
}

/// `POST /api/sessions/{key}/bypass` with `{enabled: bool}`.
pub async fn bypass(
    State(s): State<AppState>,
    Path(key): Path<String>,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<BypassResponse>> {
    let enabled = body
        .get("enabled")
        .and_then(Value::as_bool)
        .ok_or_else(|| ApiError::bad_request("enabled (boolean) is required"))?;
    set_bypass(&s, &key, enabled).map(Json)
}

/// Sets a claimed session's bypass flag (the route and the MCP tool `session_bypass`).
pub(crate) fn set_bypass(
    s: &AppState,
    key: &str,
    enabled: bool,
) -> Result<BypassResponse, ApiError> {
    let info = s
        .sessions()
        .set_bypass(key, enabled, chrono::Utc::now())
        .ok_or_else(|| ApiError::not_found("Session not found or already released"))?;
    Ok(BypassResponse {
        key: info.key,
        bypassed: info.bypassed,
        extra: Default::default(),
    })
}

/// `POST /api/memory/feedback` with `{sessionKey, feedback: {memoryId: rating}}`.
pub async fn feedback(
    State(s): State<AppState>,
    caller: Authed,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<FeedbackResponse>> {
    let req = FeedbackInput::try_from(&body)?;
    Ok(Json(s.memories().feedback(req, &caller.scope()).await?))
}
