//! signet-server: the HTTP face of the daemon.
//!
//! [`router`] builds the axum `Router` from the route table (every route declares its
//! permission) and [`serve`] runs it on a bound listener until a shutdown future resolves,
//! letting in-flight requests finish. [`daemon`] assembles a whole daemon (store, services,
//! workers, server) for the binary and for tests.
//!
//! Path of a request: request-id middleware (and its tracing span) → analytics recorder →
//! body limit → JSON error normaliser → route guard (authenticate, authorize, scope, rate
//! limit) → handler (extract, one service call, map the result) → `ApiError`.
//! Handlers never touch SQL; services run store calls on the blocking pool.

#![forbid(unsafe_code)]

pub mod actor;
pub mod daemon;
pub mod dashboard;
pub mod error;
mod json_errors;
pub mod logs;
pub mod mcp;
pub mod observe;
pub mod openapi;
pub mod permission;
pub mod request_id;
pub mod routes;
mod sse;
pub mod state;
mod workspace_files;

use std::future::Future;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use tokio::net::TcpListener;

pub use state::{AppState, DaemonInfo, Services};

/// Largest request body accepted (larger ones get 413).
pub const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;

/// The whole HTTP API over `state`.
pub fn router(state: AppState) -> Router {
    routes::build(routes::table(), &state)
        .fallback(json_errors::not_found)
        .layer(axum::middleware::from_fn(json_errors::normalize))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            observe::record,
        ))
        .layer(axum::middleware::from_fn(request_id::assign))
        .with_state(state)
}

/// Serves `router(state)` on `listener` until `shutdown` resolves; in-flight requests finish.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let closing = state.observe().closing.clone();
    let app = router(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    let shutdown = async move {
        shutdown.await;
        closing.cancel();
    };
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}
