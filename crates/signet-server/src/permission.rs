//! Every route declares the permission it needs. The route table in `routes` is the only way
//! routes are added, so a route without a permission cannot exist (a test walks the table).
//!
//! Today the daemon runs in local mode only, where every permission is granted; the check
//! still runs on every request and records what was required, so team mode (signed tokens,
//! roles, scopes) plugs in here without touching a handler.

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use serde::Serialize;

/// What a caller must be allowed to do to use a route (the role table of self-hosting.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Permission {
    /// Open in every mode: liveness only, nothing secret.
    Open,
    Remember,
    Recall,
    Modify,
    Forget,
    Recover,
    Documents,
    Connectors,
    Diagnostics,
    Analytics,
    Admin,
}

impl Permission {
    /// The name used in error messages and token roles.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Remember => "remember",
            Self::Recall => "recall",
            Self::Modify => "modify",
            Self::Forget => "forget",
            Self::Recover => "recover",
            Self::Documents => "documents",
            Self::Connectors => "connectors",
            Self::Diagnostics => "diagnostics",
            Self::Analytics => "analytics",
            Self::Admin => "admin",
        }
    }
}

/// The permission the matched route required, left in the request's extensions.
#[derive(Debug, Clone, Copy)]
pub struct Required(pub Permission);

/// Middleware run on every route: checks (local mode: grants) and records the permission.
pub async fn check(permission: Permission, mut req: Request, next: Next) -> Response {
    req.extensions_mut().insert(Required(permission));
    next.run(req).await
}
