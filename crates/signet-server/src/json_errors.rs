//! Every error leaves as JSON: axum's own plain-text rejections (bad path or query, wrong
//! method) are rewritten to `{"error": ...}`, and unknown routes get a JSON 404.

use axum::body::Body;
use axum::extract::Request;
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// Largest plain-text error body copied into the JSON message.
const MAX_MESSAGE: usize = 512;

/// The fallback: a JSON 404 for any path no route matches.
pub async fn not_found() -> Response {
    crate::error::ApiError::not_found("not found").into_response()
}

/// Rewrites non-JSON error responses into the JSON error shape.
pub async fn normalize(req: Request, next: Next) -> Response {
    let res = next.run(req).await;
    let status = res.status();
    let is_json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json") || v.starts_with("text/event-stream"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return res;
    }
    let (parts, body) = res.into_parts();
    let text = axum::body::to_bytes(body, MAX_MESSAGE * 4)
        .await
        .unwrap_or_default();
    let mut message = String::from_utf8_lossy(&text).trim().to_owned();
    if status.is_server_error() {
        message = "internal error".into();
    } else if message.is_empty() {
        message = status.canonical_reason().unwrap_or("error").to_lowercase();
    }
    message.truncate(MAX_MESSAGE);
    let mut out = Response::from_parts(parts, Body::from(json!({ "error": message }).to_string()));
    out.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    out.headers_mut().remove(header::CONTENT_LENGTH);
    out
}
