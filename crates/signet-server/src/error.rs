//! The one place answers get their HTTP status. Handlers, the permission guard and the
//! JSON-error middleware say what an answer means as a [`Kind`] (from a [`CoreError`], an
//! [`AuthFailure`] or [`Denied`], a mutation's [`OutcomeKind`], or their own verdict: rate
//! limited, not implemented, unhealthy) and [`Kind::status`] is the only table from kinds to
//! status codes. Also the JSON body extractor that turns malformed or oversized bodies into
//! the same `{"error": ...}` shape, and the two that hand a handler the core's validated input:
//! [`Input`] from the body, [`Params`] from the query string.

use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Value, json};
use signet_core::CoreError;
use signet_core::auth::{AuthFailure, Denied};
use signet_model::memories::OutcomeKind;

/// What an answer means to the client; each kind has exactly one HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The request did what it asked, or found nothing to do (200).
    Done,
    /// The request created something new (201).
    Created,
    /// The client's cached copy is current (304, no body): the dashboard's files.
    NotModified,
    /// Malformed or out-of-range input (400).
    Invalid,
    /// No valid credentials (401, with `WWW-Authenticate: Bearer`).
    Unauthenticated,
    /// Authenticated but not allowed: role, token scope, an autonomous agent's force (403).
    Forbidden,
    /// Nothing under this id or path (404).
    NotFound,
    /// The change collides with the stored state (409).
    Conflict,
    /// The body is over the limit (413).
    TooLarge,
    /// Refused for now: a rate limit, a repair's limiter or gate (429).
    RateLimited,
    /// A failure on our side (500).
    Internal,
    /// An endpoint this daemon does not implement (501).
    NotImplemented,
    /// Not available now: the database is down, mutations are frozen, the store is busy (503).
    Unavailable,
}

impl Kind {
    /// The HTTP status of this kind: the one table.
    pub fn status(self) -> StatusCode {
        match self {
            Kind::Done => StatusCode::OK,
            Kind::Created => StatusCode::CREATED,
            Kind::NotModified => StatusCode::NOT_MODIFIED,
            Kind::Invalid => StatusCode::BAD_REQUEST,
            Kind::Unauthenticated => StatusCode::UNAUTHORIZED,
            Kind::Forbidden => StatusCode::FORBIDDEN,
            Kind::NotFound => StatusCode::NOT_FOUND,
            Kind::Conflict => StatusCode::CONFLICT,
            Kind::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Kind::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            Kind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            Kind::NotImplemented => StatusCode::NOT_IMPLEMENTED,
            Kind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

impl From<OutcomeKind> for Kind {
    fn from(k: OutcomeKind) -> Self {
        match k {
            OutcomeKind::Done => Kind::Done,
            OutcomeKind::NotFound => Kind::NotFound,
            OutcomeKind::Conflict => Kind::Conflict,
            OutcomeKind::Forbidden => Kind::Forbidden,
        }
    }
}

/// A JSON answer sent with the status of its kind: what a handler returns when the status
/// depends on the result (a mutation outcome, `/health`, a repair), and how every
/// [`ApiError`] is rendered. The body is any serialisable value — a wire type, or the
/// `Value` of an error — written once, straight into the response.
#[derive(Debug)]
pub struct Reply<B = Value> {
    kind: Kind,
    body: B,
}

impl<B: Serialize> Reply<B> {
    /// `body` with the status of `kind`.
    pub fn new(kind: Kind, body: B) -> Self {
        Self { kind, body }
    }
}

impl<B: Serialize> IntoResponse for Reply<B> {
    fn into_response(self) -> Response {
        let mut res = (self.kind.status(), axum::Json(self.body)).into_response();
        if self.kind == Kind::Unauthenticated {
            res.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        res
    }
}

/// An error on its way to the client: a kind, a JSON body (`{"error": ...}` and, for some
/// kinds, extra fields), and for a rate limit the seconds until a slot frees.
#[derive(Debug)]
pub struct ApiError {
    reply: Reply,
    /// `Retry-After` seconds (rate limits only).
    retry_after: Option<u64>,
}

impl ApiError {
    /// An error of `kind` with `{"error": message}`.
    pub fn new(kind: Kind, message: impl Into<String>) -> Self {
        Self::with_body(kind, json!({ "error": message.into() }))
    }

    /// An error of `kind` with a body of the caller's (which must carry `error`).
    pub fn with_body(kind: Kind, body: Value) -> Self {
        Self {
            reply: Reply::new(kind, body),
            retry_after: None,
        }
    }

    /// 400 with a message.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(Kind::Invalid, message)
    }

    /// 404 with a message.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(Kind::NotFound, message)
    }

    /// 500 with the generic body (the caller logs the cause).
    pub fn internal() -> Self {
        Self::new(Kind::Internal, "internal error")
    }

    /// 429 with `Retry-After: seconds` and upstream's `retryAfter` (epoch ms when a slot
    /// frees).
    pub fn rate_limited(seconds: u64) -> Self {
        let reset_ms = (chrono::Utc::now().timestamp() + seconds as i64) * 1000;
        let body = json!({"error": "rate limit exceeded", "retryAfter": reset_ms});
        Self {
            retry_after: Some(seconds),
            ..Self::with_body(Kind::RateLimited, body)
        }
    }

    /// What this error means.
    pub fn kind(&self) -> Kind {
        self.reply.kind
    }

    /// The JSON body the client gets (`{"error": ...}` and any extra fields).
    pub fn body(&self) -> &Value {
        &self.reply.body
    }

    /// Adds `key: value` to the body when the error is of `kind` (e.g. `memoryId` on a 404).
    pub fn with_field_if(mut self, kind: Kind, key: &str, value: impl Into<Value>) -> Self {
        if let (true, Some(body)) = (self.kind() == kind, self.reply.body.as_object_mut()) {
            body.insert(key.to_owned(), value.into());
        }
        self
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
                Self::with_body(Kind::Invalid, body)
            }
            CoreError::NotFound(m) => Self::not_found(m),
            CoreError::Forbidden(m) => Self::new(Kind::Forbidden, m),
            CoreError::Conflict(m) => Self::new(Kind::Conflict, m),
            CoreError::Frozen | CoreError::Busy => Self::new(Kind::Unavailable, e.to_string()),
            CoreError::Internal(detail) => {
                tracing::error!(target: "api", error = %detail, "internal error");
                Self::internal()
            }
        }
    }
}

impl From<AuthFailure> for ApiError {
    /// 401 with a hint on how to get a token; a daemon without its secret is our failure.
    fn from(e: AuthFailure) -> Self {
        if e == AuthFailure::NoSecret {
            return Self::new(Kind::Internal, e.to_string());
        }
        let hint = "send 'Authorization: Bearer <token>'; an admin mints tokens with \
                    `signet token create` on the daemon's host or POST /api/auth/token";
        let body = json!({"error": e.to_string(), "hint": hint});
        Self::with_body(Kind::Unauthenticated, body)
    }
}

impl From<Denied> for ApiError {
    /// A role or scope refusal is 403; invalid mint input 400.
    fn from(e: Denied) -> Self {
        match e {
            Denied::Forbidden(m) => Self::new(Kind::Forbidden, m),
            Denied::Invalid(m) => Self::bad_request(m),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut res = self.reply.into_response();
        if let Some(seconds) = self.retry_after {
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        res
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
                if e.status() == Kind::TooLarge.status() {
                    ApiError::new(
                        Kind::TooLarge,
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

/// A JSON body read into the core's validated input `T`: malformed JSON is refused as by
/// [`JsonBody`], a field the core refuses is its 400 naming the field.
pub struct Input<T>(pub T);

impl<S: Send + Sync, T> FromRequest<S> for Input<T>
where
    T: for<'a> TryFrom<&'a Value, Error = CoreError>,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let JsonBody(body) = JsonBody::from_request(req, state).await?;
        Ok(Self(T::try_from(&body)?))
    }
}

/// A query string `Q` read into the core's validated parameters `P`: a query axum cannot
/// read is its own rejection (made JSON by the error middleware), a value the core refuses is
/// its 400 naming the key.
pub struct Params<Q, P>(pub P, pub std::marker::PhantomData<fn() -> Q>);

impl<S: Send + Sync, Q, P> FromRequestParts<S> for Params<Q, P>
where
    Q: serde::de::DeserializeOwned,
    P: for<'a> TryFrom<&'a Q, Error = CoreError>,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Query(q) = Query::<Q>::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let p = P::try_from(&q).map_err(|e| ApiError::from(e).into_response())?;
        Ok(Self(p, std::marker::PhantomData))
    }
}

/// Result of a handler.
pub type ApiResult<T = axum::Json<Value>> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;

    const KINDS: [(Kind, u16); 13] = [
        (Kind::Done, 200),
        (Kind::Created, 201),
        (Kind::NotModified, 304),
        (Kind::Invalid, 400),
        (Kind::Unauthenticated, 401),
        (Kind::Forbidden, 403),
        (Kind::NotFound, 404),
        (Kind::Conflict, 409),
        (Kind::TooLarge, 413),
        (Kind::RateLimited, 429),
        (Kind::Internal, 500),
        (Kind::NotImplemented, 501),
        (Kind::Unavailable, 503),
    ];

    #[test]
    fn every_kind_has_its_status() {
        for (kind, code) in KINDS {
            assert_eq!(kind.status().as_u16(), code, "{kind:?}");
            let res = Reply::new(kind, json!({})).into_response();
            assert_eq!(res.status().as_u16(), code, "{kind:?}");
            let challenges = res.headers().contains_key(header::WWW_AUTHENTICATE);
            assert_eq!(challenges, kind == Kind::Unauthenticated, "{kind:?}");
            assert!(!res.headers().contains_key(header::RETRY_AFTER), "{kind:?}");
        }
    }

    #[test]
    fn core_errors_and_outcomes_map_to_kinds() {
        let core = [
            (CoreError::Invalid("x".into()), Kind::Invalid),
            (CoreError::InvalidWith("x".into(), json!({})), Kind::Invalid),
            (CoreError::NotFound("x".into()), Kind::NotFound),
            (CoreError::Forbidden("x".into()), Kind::Forbidden),
            (CoreError::Conflict("x".into()), Kind::Conflict),
            (CoreError::Frozen, Kind::Unavailable),
            (CoreError::Busy, Kind::Unavailable),
            (CoreError::Internal("secret detail".into()), Kind::Internal),
        ];
        for (e, kind) in core {
            assert_eq!(ApiError::from(e).kind(), kind);
        }
        let auth = [
            (ApiError::from(AuthFailure::Missing), Kind::Unauthenticated),
            (ApiError::from(AuthFailure::NoSecret), Kind::Internal),
            (
                ApiError::from(Denied::Forbidden("x".into())),
                Kind::Forbidden,
            ),
            (ApiError::from(Denied::Invalid("x".into())), Kind::Invalid),
        ];
        for (e, kind) in auth {
            assert_eq!(e.kind(), kind);
        }
        let outcomes = [
            (OutcomeKind::Done, Kind::Done),
            (OutcomeKind::NotFound, Kind::NotFound),
            (OutcomeKind::Conflict, Kind::Conflict),
            (OutcomeKind::Forbidden, Kind::Forbidden),
        ];
        for (o, kind) in outcomes {
            assert_eq!(Kind::from(o), kind);
        }
    }

    #[test]
    fn internal_errors_never_leak_their_cause() {
        let e = ApiError::from(CoreError::Internal("disk I/O at /secret".into()));
        assert_eq!(e.reply.body, json!({"error": "internal error"}));
    }

    #[test]
    fn rate_limits_say_when_to_retry() {
        let e = ApiError::rate_limited(7);
        let reset = e.reply.body["retryAfter"].as_i64().unwrap();
        let now_ms = chrono::Utc::now().timestamp() * 1000;
        assert!((now_ms..=now_ms + 8000).contains(&reset), "{reset}");
        let res = e.into_response();
        assert_eq!(res.status().as_u16(), 429);
        assert_eq!(res.headers()[header::RETRY_AFTER], "7");
    }

    #[test]
    fn extra_fields_go_only_to_the_named_kind() {
        let not_found = ApiError::not_found("gone").with_field_if(Kind::NotFound, "memoryId", "m");
        assert_eq!(
            not_found.reply.body,
            json!({"error": "gone", "memoryId": "m"})
        );
        let other = ApiError::bad_request("bad").with_field_if(Kind::NotFound, "memoryId", "m");
        assert_eq!(other.reply.body, json!({"error": "bad"}));
    }

    /// The rule of this module, checked: no other server module names a status code.
    #[test]
    fn no_other_module_names_a_status_code() {
        fn rust_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    rust_files(&path, out);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    out.push(path);
                }
            }
        }
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = Vec::new();
        rust_files(&src, &mut files);
        let offenders: Vec<_> = files
            .iter()
            .filter(|p| **p != src.join("error.rs"))
            .filter(|p| std::fs::read_to_string(p).unwrap().contains("StatusCode"))
            .collect();
        assert!(
            offenders.is_empty(),
            "status codes outside error.rs: {offenders:?}"
        );
    }
}
