//! The harness lifecycle hooks (`/api/hooks/*`), `GET /api/harnesses` and
//! `GET /api/checkpoints*`: one `signet_core::hooks::Hooks` call each.
//!
//! Every hook reads two headers besides its body: `x-signet-no-hooks: 1` (an internal call:
//! answer the empty stub) and `x-signet-runtime-path` (`plugin` / `legacy`, which wins over
//! the body's `runtimePath`).

use axum::Json;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use chrono::Utc;
use signet_api::{
    CheckpointList, CheckpointParams, CompactionCompleteResponse, HarnessList, HookRecallResponse,
    HookRememberResponse, PreCompactionResponse, SessionEndResponse, SessionStartResponse,
    UserPromptResponse,
};
use signet_core::hooks::{
    CheckpointRequest, CompactionCompleteInput, HookCall, HookRecallInput, HookRememberInput,
    PreCompactionInput, SessionEndInput, SessionStartInput, UserPromptInput, session_token,
};

use crate::actor::{CallerActor, header};
use crate::error::{ApiResult, Input};
use crate::permission::Authed;
use crate::state::AppState;

/// The hook headers of a request.
pub struct HookHeaders {
    /// `x-signet-no-hooks: 1`.
    skip: bool,
    /// `x-signet-runtime-path`, as sent.
    runtime_path: Option<String>,
}

impl HookHeaders {
    /// Applies the headers to a hook's call.
    fn apply(&self, call: &mut HookCall) {
        call.skip = self.skip;
        call.with_header(self.runtime_path.as_deref());
    }
}

impl<S: Send + Sync> FromRequestParts<S> for HookHeaders {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self {
            skip: header(parts, "x-signet-no-hooks").as_deref() == Some("1"),
            runtime_path: header(parts, "x-signet-runtime-path"),
        })
    }
}

/// `POST /api/hooks/session-start` (with `sessionToken: true` and a token caller, the
/// answer carries a session token).
pub async fn session_start(
    State(s): State<AppState>,
    caller: Authed,
    h: HookHeaders,
    Input(mut req): Input<SessionStartInput>,
) -> ApiResult<Json<SessionStartResponse>> {
    h.apply(&mut req.call);
    let (cfg, now) = (s.settings(), Utc::now());
    let want_token = req.session_token && !req.call.skip;
    let project = req.project.clone();
    let mut answer = s
        .hooks()
        .session_start(req, &caller.scope(), &cfg, now)
        .await?;
    if want_token {
        let ttl = cfg.auth.session_token_ttl_seconds;
        let minted = session_token(
            s.auth(),
            &caller.0,
            project.as_deref(),
            ttl,
            now.timestamp(),
        )?;
        if let Some((token, claims)) = minted {
            let minted = claims.minted(token);
            answer.session_token = Some(minted.token);
            answer.session_token_expires_at = Some(minted.expires_at);
        }
    }
    Ok(Json(answer))
}

/// `POST /api/hooks/user-prompt-submit`.
pub async fn user_prompt_submit(
    State(s): State<AppState>,
    caller: Authed,
    h: HookHeaders,
    Input(mut req): Input<UserPromptInput>,
) -> ApiResult<Json<UserPromptResponse>> {
    h.apply(&mut req.call);
    let scope = caller.scope();
    Ok(Json(s.hooks().user_prompt(req, &scope, Utc::now()).await?))
}

/// `POST /api/hooks/session-end`.
pub async fn session_end(
    State(s): State<AppState>,
    caller: Authed,
    h: HookHeaders,
    Input(mut req): Input<SessionEndInput>,
) -> ApiResult<Json<SessionEndResponse>> {
    h.apply(&mut req.call);
    let scope = caller.scope();
    Ok(Json(s.hooks().session_end(req, &scope, Utc::now()).await?))
}

/// `POST /api/hooks/remember`.
pub async fn remember(
    State(s): State<AppState>,
    caller: Authed,
    CallerActor(actor): CallerActor,
    h: HookHeaders,
    Input(mut req): Input<HookRememberInput>,
) -> ApiResult<Json<HookRememberResponse>> {
    h.apply(&mut req.call);
    let scope = caller.scope();
    Ok(Json(
        s.hooks().remember(req, actor, &scope, Utc::now()).await?,
    ))
}

/// `POST /api/hooks/recall`.
pub async fn recall(
    State(s): State<AppState>,
    caller: Authed,
    h: HookHeaders,
    Input(mut req): Input<HookRecallInput>,
) -> ApiResult<Json<HookRecallResponse>> {
    h.apply(&mut req.call);
    let scope = caller.scope();
    Ok(Json(s.hooks().recall(req, &scope, Utc::now()).await?))
}

/// `POST /api/hooks/pre-compaction`.
pub async fn pre_compaction(
    State(s): State<AppState>,
    caller: Authed,
    h: HookHeaders,
    Input(mut req): Input<PreCompactionInput>,
) -> ApiResult<Json<PreCompactionResponse>> {
    h.apply(&mut req.call);
    let (cfg, scope) = (s.settings(), caller.scope());
    let answer = s.hooks().pre_compaction(req, &scope, &cfg, Utc::now());
    Ok(Json(answer.await?))
}

/// `POST /api/hooks/compaction-complete`.
pub async fn compaction_complete(
    State(s): State<AppState>,
    caller: Authed,
    CallerActor(actor): CallerActor,
    h: HookHeaders,
    Input(mut req): Input<CompactionCompleteInput>,
) -> ApiResult<Json<CompactionCompleteResponse>> {
    h.apply(&mut req.call);
    let scope = caller.scope();
    let answer = s
        .hooks()
        .compaction_complete(req, actor, &scope, Utc::now());
    Ok(Json(answer.await?))
}

/// `GET /api/harnesses`.
pub async fn harnesses(State(s): State<AppState>) -> Json<HarnessList> {
    let home = std::env::var_os("HOME").map(std::path::PathBuf::from);
    Json(s.hooks().harnesses(home.as_deref()))
}

/// `GET /api/checkpoints?project=&limit=`.
pub async fn checkpoints(
    State(s): State<AppState>,
    Query(q): Query<CheckpointParams>,
) -> ApiResult<Json<CheckpointList>> {
    let req = CheckpointRequest::project(&q)?;
    Ok(Json(s.hooks().checkpoints(req).await?))
}

/// `GET /api/checkpoints/{sessionKey}`.
pub async fn session_checkpoints(
    State(s): State<AppState>,
    Path(key): Path<String>,
) -> ApiResult<Json<CheckpointList>> {
    let req = CheckpointRequest::session(&key);
    Ok(Json(s.hooks().checkpoints(req).await?))
}
