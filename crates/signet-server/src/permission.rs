//! Every route declares the permission it needs, and optionally a rate-limited operation and
//! how it treats token scopes. The route table in `routes` is the only way routes are added,
//! so a route without a declared guard cannot exist (a test walks the table).
//!
//! [`check`] runs on every guarded route: authenticate (401 with `WWW-Authenticate: Bearer`),
//! then [`admit`]: authorize the role (403 naming the missing permission), refuse scoped
//! tokens on routes that cannot filter by scope (403), admit the rate-limited operation (429
//! with `Retry-After`); then it leaves the [`Caller`] in the request for the handler. The MCP
//! tools, which share one route, run [`admit`] again each with its own [`Guard`].

use std::net::SocketAddr;
use std::time::Instant;

use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use signet_core::auth::{AuthFailure, AuthGate, Credentials, Scope};
pub use signet_core::auth::{Caller, Operation, Permission};

use crate::error::{ApiError, Kind};
use crate::state::AppState;

/// How a route treats a token's scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scoping {
    /// The handler narrows everything it reads and checks everything it changes.
    Filters,
    /// The route shows no memory content: any scope may use it.
    NoMemories,
    /// The route cannot filter by scope: scope-restricted tokens are refused.
    Unscoped,
}

/// What a route requires, as declared in the route table.
#[derive(Debug, Clone, Copy)]
pub struct Guard {
    pub permission: Permission,
    pub limit: Option<Operation>,
    pub scoping: Scoping,
}

/// Whether a `Host` header names this machine (`localhost`, `127.0.0.1`, `::1`, any port).
fn loopback_host(headers: &HeaderMap) -> bool {
    let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else {
        return false;
    };
    let host = host.trim();
    let name = if let Some(rest) = host.strip_prefix('[') {
        rest.split_once(']').map_or("", |(h, _)| h)
    } else if host.matches(':').count() > 1 {
        host
    } else {
        host.split(':').next().unwrap_or("")
    };
    name.eq_ignore_ascii_case("localhost") || name == "127.0.0.1" || name == "::1"
}

/// Headers a reverse proxy adds: a request carrying one was relayed, so it is not local.
const FORWARDING_HEADERS: [&str; 3] = ["forwarded", "x-forwarded-for", "x-real-ip"];

/// Whether the request is really local: a loopback TCP peer, a loopback `Host`, and no sign of
/// having been relayed by a proxy (which connects from loopback on behalf of anyone).
fn is_local(req: &Request) -> bool {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .is_some_and(|c| c.0.ip().to_canonical().is_loopback());
    let relayed = FORWARDING_HEADERS
        .iter()
        .any(|h| req.headers().contains_key(*h));
    peer && !relayed && loopback_host(req.headers())
}

fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// Middleware of every guarded route.
pub async fn check(
    State(s): State<AppState>,
    guard: Guard,
    mut req: Request,
    next: Next,
) -> Response {
    if guard.permission == Permission::Open {
        return next.run(req).await;
    }
    let caller = match vet(&s, guard, &req) {
        Ok(c) => c,
        Err(refused) => return refused.into_response(),
    };
    let attributed = match &caller {
        Caller::Token(c) => Some(c.sub.clone()),
        Caller::Local { actor } => actor.clone(),
    };
    req.extensions_mut().insert(caller);
    let mut res = next.run(req).await;
    if let Some(actor) = attributed {
        res.extensions_mut().insert(Attributed(actor));
    }
    res
}

/// The guard's checks in order: authenticate, then [`admit`].
fn vet(s: &AppState, guard: Guard, req: &Request) -> Result<Caller, ApiError> {
    let gate = s.auth();
    let caller = authenticate(gate, req)?;
    admit(gate, &caller, guard, req.uri().path())?;
    Ok(caller)
}

/// The checks after authentication, in order: authorize the role for the guard's permission,
/// refuse scoped tokens where the operation cannot filter, admit the rate-limited operation.
/// The route guard runs it for every guarded route and each MCP tool for its own operation;
/// `what` names the route or tool in the log.
pub(crate) fn admit(
    gate: &AuthGate,
    caller: &Caller,
    guard: Guard,
    what: &str,
) -> Result<(), ApiError> {
    if let Err(e) = gate.authorize(caller, guard.permission) {
        tracing::warn!(target: "auth", actor = caller.actor(), path = %what, reason = %e, "request refused");
        return Err(e.into());
    }
    if guard.scoping == Scoping::Unscoped && !caller.scope().is_empty() {
        return Err(ApiError::new(
            Kind::Forbidden,
            format!(
                "this route is not available to scope-restricted tokens (token scope: {})",
                describe(&caller.scope())
            ),
        ));
    }
    if let Some(op) = guard.limit
        && let Err(wait) = gate.admit(caller, op, Instant::now())
    {
        return Err(ApiError::rate_limited(wait.seconds()));
    }
    Ok(())
}

/// The caller the request's credentials prove (local, or a valid bearer token).
fn authenticate(gate: &AuthGate, req: &Request) -> Result<Caller, ApiError> {
    let headers = req.headers();
    let authorization = match headers.get(header::AUTHORIZATION).map(|v| v.to_str()) {
        None => None,
        Some(Ok(v)) => Some(v),
        Some(Err(_)) => return Err(AuthFailure::BadHeader.into()),
    };
    let actor_header = crate::actor::header_value(headers, "x-signet-actor");
    let creds = Credentials {
        authorization,
        local: is_local(req),
        actor_header: actor_header.as_deref(),
    };
    gate.authenticate(creds, now_secs()).map_err(|e| {
        tracing::warn!(target: "auth", path = %req.uri().path(), reason = %e, "request refused: not authenticated");
        ApiError::from(e)
    })
}

/// The actor a guarded request was attributed to (a token's `sub`, else the tokenless
/// caller's `x-signet-actor`), left on the response for the analytics recorder.
#[derive(Debug, Clone)]
pub struct Attributed(pub String);

fn describe(scope: &Scope) -> String {
    serde_json::to_string(scope).unwrap_or_default()
}

/// The authenticated caller, for handlers of guarded routes.
pub struct Authed(pub Caller);

impl Authed {
    /// The scope the handler must enforce (empty for admins and local callers).
    pub fn scope(&self) -> Scope {
        self.0.scope()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Authed {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Caller>()
            .cloned()
            .map(Self)
            .ok_or_else(|| {
                tracing::error!(target: "auth", "handler needs a caller but its route is open");
                ApiError::internal()
            })
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn host(h: &str) -> bool {
        let mut m = HeaderMap::new();
        m.insert(header::HOST, HeaderValue::from_str(h).unwrap());
        loopback_host(&m)
    }

    #[test]
    fn loopback_hosts_with_and_without_ports() {
        for h in [
            "localhost",
            "LOCALHOST:3850",
            "127.0.0.1:3850",
            "[::1]:3850",
            "::1",
        ] {
            assert!(host(h), "{h}");
        }
        for h in [
            "signet.example.com",
            "127.0.0.2",
            "localhost.evil.com",
            "127.0.0.1.nip.io",
            "[::2]:1",
        ] {
            assert!(!host(h), "{h}");
        }
        assert!(!loopback_host(&HeaderMap::new()));
    }
}
