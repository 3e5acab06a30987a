//! The one place errors become HTTP responses, and the JSON body extractor that turns
//! malformed or oversized bodies into the same `{"error": ...}` shape.

use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use signet_core::CoreError;

/// An error on its way to the client.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    body: Value,
}

impl ApiError {
    /// An error with `status` and `{"error": message}`.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            body: json!({ "error": message.into() }),
        }
    }

    /// 400 with a message.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    /// 404 with a message.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }
}

impl From<CoreError> for ApiError {
    fn from(e: CoreError) -> Self {
        match e {
            CoreError::Invalid(m) => Self::bad_request(m),
            CoreError::InvalidWith(m, extra) => {
                let mut body = json!({ "error": m });
                if let (Some(b), Value::Object(x)) = (body.as_object_mut(), extra) {
                    b.extend(x);
                }
                Self {
                    status: StatusCode::BAD_REQUEST,
                    body,
                }
            }
            CoreError::NotFound(m) => Self::not_found(m),
            CoreError::Forbidden(m) => Self::new(StatusCode::FORBIDDEN, m),
            CoreError::Conflict(m) => Self::new(StatusCode::CONFLICT, m),
            CoreError::Frozen => Self::new(StatusCode::SERVICE_UNAVAILABLE, e.to_string()),
            CoreError::Busy => Self::new(StatusCode::SERVICE_UNAVAILABLE, e.to_string()),
            CoreError::Internal(detail) => {
                tracing::error!(target: "api", error = %detail, "internal error");
                Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, axum::Json(self.body)).into_response()
    }
}

/// A JSON body as a `Value`. Malformed JSON is a 400 "Invalid JSON body", an oversized body a
/// 413, a missing body (where one is optional) `Value::Null`.
pub struct JsonBody(pub Value);

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|e| {
                if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::new(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        format!(
                            "request body too large: the limit is {} MiB ({} bytes)",
                            crate::MAX_BODY_BYTES / (1024 * 1024),
                            crate::MAX_BODY_BYTES
                        ),
                    )
                } else {
                    ApiError::bad_request("Invalid JSON body")
                }
            })?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self(Value::Null));
        }
        serde_json::from_slice(&bytes)
            .map(Self)
            .map_err(|_| ApiError::bad_request("Invalid JSON body"))
    }
}

/// Result of a handler.
pub type ApiResult<T = axum::Json<Value>> = Result<T, ApiError>;
