//! `/api/auth/*`: the mode (open), who the caller is, and minting tokens (admin).

use axum::Json;
use axum::extract::State;
use signet_api::{AuthStatus, Extra, MintedToken, Whoami};
use signet_core::auth::{Caller, MintRequest};

use crate::error::{ApiResult, JsonBody};
use crate::permission::Authed;
use crate::state::AppState;

/// `GET /api/auth/status`: the mode, and nothing secret (open in every mode so a tokenless
/// `curl` can tell why it gets 401).
pub async fn status(State(s): State<AppState>) -> Json<AuthStatus> {
    Json(AuthStatus {
        mode: s.auth().mode().as_str().to_owned(),
        extra: Extra::new(),
    })
}

/// `GET /api/auth/whoami`.
pub async fn whoami(State(s): State<AppState>, Authed(caller): Authed) -> Json<Whoami> {
    let claims = caller.claims();
    Json(Whoami {
        authenticated: claims.is_some(),
        claims: claims.map(Into::into),
        local: matches!(caller, Caller::Local { .. }),
        mode: s.auth().mode().as_str().to_owned(),
        extra: Extra::new(),
    })
}

/// `POST /api/auth/token`: `{role, sub?, scope?, ttlSeconds?}` → `{token, expiresAt, claims}`.
pub async fn mint(
    State(s): State<AppState>,
    Authed(caller): Authed,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<MintedToken>> {
    let req = MintRequest::try_from(&body)?;
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
    Ok(Json(claims.minted(token)))
}
