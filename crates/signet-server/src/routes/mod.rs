//! The route table: every route, its method, and the permission it declares. The router is
//! built from this table only, so a route cannot exist without a declared permission.

mod analytics;
mod embeddings;
mod logs;
mod memory;
mod metrics;
mod system;

use axum::Router;
use axum::routing::{MethodFilter, MethodRouter, on};

use crate::permission::{self, Permission};
use crate::state::AppState;

/// One route of the API.
pub struct RouteSpec {
    pub method: MethodFilter,
    pub method_name: &'static str,
    pub path: &'static str,
    pub permission: Permission,
    handler: MethodRouter<AppState>,
}

macro_rules! route {
    ($method:ident, $path:expr, $perm:ident, $handler:expr) => {
        RouteSpec {
            method: MethodFilter::$method,
            method_name: stringify!($method),
            path: $path,
            permission: Permission::$perm,
            handler: on(MethodFilter::$method, $handler),
        }
    };
}

/// Every route, in no particular order (axum prefers static segments over parameters).
pub fn table() -> Vec<RouteSpec> {
    vec![
        route!(GET, "/health", Open, system::health),
        route!(GET, "/api/status", Recall, system::status),
        route!(GET, "/api/features", Recall, system::features),
        route!(GET, "/api/identity", Recall, system::identity),
        route!(GET, "/api/config", Admin, system::config_files),
        route!(POST, "/api/config", Admin, system::write_config_file),
        route!(GET, "/api/memories", Recall, memory::list),
        route!(POST, "/api/memory/remember", Remember, memory::remember),
        route!(POST, "/api/memory/save", Remember, memory::remember),
        route!(POST, "/api/hook/remember", Remember, memory::remember),
        route!(POST, "/api/memory/recall", Recall, memory::recall),
        route!(GET, "/api/memory/search", Recall, memory::search),
        route!(GET, "/memory/search", Recall, memory::legacy_search),
        route!(POST, "/api/memory/forget", Forget, memory::batch_forget),
        route!(POST, "/api/memory/modify", Modify, memory::batch_modify),
        route!(GET, "/api/memory/{id}", Recall, memory::get),
        route!(PATCH, "/api/memory/{id}", Modify, memory::patch),
        route!(DELETE, "/api/memory/{id}", Forget, memory::delete),
        route!(GET, "/api/memory/{id}/history", Recall, memory::history),
        route!(POST, "/api/memory/{id}/recover", Recover, memory::recover),
        route!(GET, "/memory/similar", Recall, embeddings::similar),
        route!(GET, "/api/embeddings", Recall, embeddings::list),
        route!(GET, "/api/embeddings/status", Recall, embeddings::status),
        route!(GET, "/api/embeddings/health", Recall, embeddings::health),
        route!(
            GET,
            "/api/embeddings/projection",
            Recall,
            embeddings::projection
        ),
        route!(GET, "/api/repair/embedding-gaps", Admin, embeddings::gaps),
        route!(POST, "/api/repair/re-embed", Admin, embeddings::reembed),
        route!(
            POST,
            "/api/repair/clean-orphans",
            Admin,
            embeddings::clean_orphans
        ),
        route!(GET, "/api/logs", Diagnostics, logs::list),
        route!(GET, "/api/logs/stream", Diagnostics, logs::stream),
        route!(GET, "/sse", Recall, logs::events),
        route!(GET, "/metrics", Diagnostics, metrics::metrics),
        route!(GET, "/api/analytics/usage", Analytics, analytics::usage),
        route!(GET, "/api/analytics/errors", Analytics, analytics::errors),
        route!(GET, "/api/analytics/latency", Analytics, analytics::latency),
        route!(GET, "/api/analytics/logs", Analytics, logs::list),
        route!(
            GET,
            "/api/analytics/memory-safety",
            Analytics,
            analytics::memory_safety
        ),
    ]
}

/// Builds the router from the table, each route behind its permission check.
pub fn build(routes: Vec<RouteSpec>) -> Router<AppState> {
    routes.into_iter().fold(Router::new(), |router, spec| {
        let perm = spec.permission;
        let guarded = spec
            .handler
            .route_layer(axum::middleware::from_fn(move |req, next| {
                permission::check(perm, req, next)
            }));
        router.route(spec.path, guarded)
    })
}
