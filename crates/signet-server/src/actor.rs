//! Who is calling: the actor headers of upstream's mutation API, as an extractor.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use signet_model::memories::Actor;

use crate::request_id::RequestId;

/// Actor types a tokenless caller may claim.
const ACTOR_TYPES: [&str; 5] = ["operator", "pipeline", "harness", "sdk", "daemon"];

/// The caller's identity from `x-signet-actor*` headers. `changed_by` is empty when no
/// header named the actor (the body's `changed_by`, then "daemon", fill it in later).
pub struct CallerActor(pub Actor);

/// A sane header value: trimmed, non-empty, at most 256 bytes.
pub(crate) fn header(parts: &Parts, name: &str) -> Option<String> {
    header_value(&parts.headers, name)
}

/// [`header`] over a bare header map.
pub(crate) fn header_value(headers: &axum::http::HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|s| !s.is_empty() && s.len() <= 256)
        .map(str::to_owned)
}

/// Who to name in audit rows: a token's `sub` (the header cannot override it), else the
/// `x-signet-actor` header.
pub(crate) fn actor_name(parts: &Parts) -> Option<String> {
    parts
        .extensions
        .get::<signet_core::auth::Caller>()
        .and_then(|c| c.claims())
        .map(|c| c.sub.clone())
        .or_else(|| header(parts, "x-signet-actor"))
}

impl<S: Send + Sync> FromRequestParts<S> for CallerActor {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let actor_type = header(parts, "x-signet-actor-type")
            .filter(|t| ACTOR_TYPES.contains(&t.as_str()))
            .unwrap_or_else(|| "operator".into());
        Ok(Self(Actor {
            changed_by: actor_name(parts).unwrap_or_default(),
            actor_type: Some(actor_type),
            session_id: header(parts, "x-signet-session-id"),
            request_id: parts.extensions.get::<RequestId>().map(|r| r.0.clone()),
        }))
    }
}
