//! `/api/auth/*`: the mode (open), who the caller is, and minting tokens (admin).

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};
use signet_core::auth::{Caller, MintRequest};

use crate::error::{ApiResult, JsonBody};
use crate::permission::Authed;
use crate::state::AppState;

/// `GET /api/auth/status`: the mode, and nothing secret (open in every mode so a tokenless
/// `curl` can tell why it gets 401).
pub async fn status(State(s): State<AppState>) -> Json<Value> {
    Json(json!({"mode": s.auth().mode()}))
}

/// `GET /api/auth/whoami`.
pub async fn whoami(State(s): State<AppState>, Authed(caller): Authed) -> Json<Value> {
    let claims = caller.claims();
    Json(json!({
        "authenticated": claims.is_some(),
        "claims": claims,
        "mode": s.auth().mode(),
        "local": matches!(caller, Caller::Local { .. }),
    }))
}

/// `POST /api/auth/token`: `{role, sub?, scope?, ttlSeconds?}` → `{token, expiresAt}`.
pub async fn mint(
    State(s): State<AppState>,
    Authed(caller): Authed,
    JsonBody(body): JsonBody,
) -> ApiResult {
    let req = MintRequest::from_json(&body)?;
    let now = chrono::Utc::now().timestamp();
    let (token, claims) = s.auth().mint(req, now)?;
    tracing::info!(
        target: "auth",
        by = caller.actor(),
        sub = %claims.sub,
        role = claims.role.as_str(),
        scope = %serde_json::to_string(&claims.scope).unwrap_or_default(),
        exp = claims.exp,
        "token minted"
    );
    let expires = chrono::DateTime::from_timestamp(claims.exp, 0)
        .map(signet_store::time::format_iso)
        .unwrap_or_default();
    Ok(Json(
        json!({"token": token, "expiresAt": expires, "claims": claims}),
    ))
}
