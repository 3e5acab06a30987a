//! Request ids: each request keeps the `x-signet-request-id` it came with (when it is a sane
//! token) or gets a fresh one; the id goes back in the response header and into history rows,
//! and the request runs inside a `request` tracing span carrying it, so log entries logged
//! while handling it carry `requestId`.

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

/// The header carrying the id both ways.
pub const HEADER: &str = "x-signet-request-id";

/// The request's id, in its extensions.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

fn acceptable(v: &str) -> bool {
    !v.is_empty() && v.len() <= 128 && v.bytes().all(|b| b.is_ascii_graphic())
}

/// Assigns the id and echoes it in the response.
pub async fn assign(mut req: Request, next: Next) -> Response {
    let id = req
        .headers()
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| acceptable(v))
        .map(str::to_owned)
        .unwrap_or_else(uuid_like);
    req.extensions_mut().insert(RequestId(id.clone()));
    let span = tracing::info_span!(crate::logs::REQUEST_SPAN, request_id = %id);
    let mut res = next.run(req).instrument(span).await;
    if let Ok(v) = HeaderValue::from_str(&id) {
        res.headers_mut().insert(HEADER, v);
    }
    res
}

fn uuid_like() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    // `std::process::id()` is a system call each time; the pid does not change.
    static PID: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("req-{:x}-{n}", PID.get_or_init(std::process::id))
}
