//! Observability plumbing of the HTTP layer: the log hub and the "closing" signal of live
//! streams (in [`Observe`]), and the middleware that records every request in the analytics
//! collector by route pattern.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use signet_core::analytics::RequestSample;
use tokio_util::sync::CancellationToken;

use crate::logs::LogHub;
use crate::state::AppState;

/// What the logs and stream handlers need besides the services.
#[derive(Clone, Default)]
pub struct Observe {
    /// Recent log entries and the live log stream.
    pub logs: LogHub,
    /// Cancelled when the server starts shutting down: live streams end, so graceful
    /// shutdown never waits on a client that keeps a stream open.
    pub closing: CancellationToken,
}

/// Records the request in the analytics collector after the handler ran: key
/// `"<METHOD> <route pattern>"`, status, latency, and the actor the route guard attributed
/// the request to (a token's `sub` wins over any `x-signet-actor` header).
pub async fn record(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().clone();
    let route = req.extensions().get::<MatchedPath>().cloned();
    let header = crate::actor::header_value(req.headers(), "x-signet-actor");
    let res = next.run(req).await;
    let actor = res
        .extensions()
        .get::<crate::permission::Attributed>()
        .map(|a| a.0.clone())
        .or(header);
    state.memories().analytics().record_request(RequestSample {
        method: method.as_str(),
        route: route.as_ref().map(MatchedPath::as_str),
        status: res.status().as_u16(),
        latency: started.elapsed(),
        actor: actor.as_deref(),
    });
    res
}
