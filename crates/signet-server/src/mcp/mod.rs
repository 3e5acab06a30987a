//! `/mcp`: the Model Context Protocol over streamable HTTP (rmcp), stateless as upstream — no
//! `Mcp-Session-Id`, one fresh server per request, JSON answers — with the SDK's own rules for
//! what a request must look like (406 without `Accept: application/json, text/event-stream`,
//! 415 without `Content-Type: application/json`, 405 for other methods than POST).
//!
//! The route guard has authenticated the request (permission `authenticated`) before rmcp sees
//! it and left the [`Caller`](signet_core::auth::Caller) in the request's extensions; rmcp hands
//! the request's parts to each tool, which authorizes its own permission with
//! [`permission::admit`](crate::permission::admit) and calls the memory service in-process
//! with the caller's scope (see [`tools`]).

mod args;
mod tools;

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::Response;
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::{StreamableHttpServerConfig, StreamableHttpService};
use signet_core::config::AuthMode;

use crate::state::AppState;

pub use tools::{Signet, TOOLS};

/// `POST /mcp` (the whole transport; rmcp answers every status itself).
pub async fn handle(State(s): State<AppState>, req: Request) -> Response {
    let config = config(&s);
    let state = s.clone();
    let service = StreamableHttpService::new(
        move || Ok(Signet::new(state.clone())),
        Arc::new(NeverSessionManager::default()),
        config,
    );
    service.handle(req).await.map(Body::new)
}

/// Stateless, JSON answers, the daemon's body limit, streams closed at shutdown. rmcp's check
/// against DNS rebinding (the `Host` must name this machine) stays on in local mode, where no
/// token stands between a web page and the tools, widened by the host the daemon is configured
/// to be reached at; in team and hybrid mode a bearer token is required of anyone not really
/// local, so any `Host` is accepted.
fn config(s: &AppState) -> StreamableHttpServerConfig {
    let base = StreamableHttpServerConfig::default()
        .with_legacy_session_mode(false)
        .with_json_response(true)
        .with_sse_keep_alive(None)
        .with_max_request_body_bytes(crate::MAX_BODY_BYTES)
        .with_cancellation_token(s.observe().closing.child_token());
    if s.auth().mode() != AuthMode::Local {
        return base.disable_allowed_hosts();
    }
    let mut hosts: Vec<String> = ["localhost", "127.0.0.1", "::1"].map(String::from).into();
    let info = s.info();
    for h in [&info.host, &info.bind_host] {
        let h = h.trim().trim_start_matches('[').trim_end_matches(']');
        if !h.is_empty() && h != "0.0.0.0" && h != "::" && !hosts.iter().any(|k| k == h) {
            hosts.push(h.to_owned());
        }
    }
    base.with_allowed_hosts(hosts)
}
