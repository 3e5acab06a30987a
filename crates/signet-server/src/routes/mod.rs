//! The route table: every route, its method, and the permission it declares. The router is
//! built from this table only, so a route cannot exist without a declared permission.

mod analytics;
mod auth;
mod diagnostics;
mod documents;
mod embeddings;
mod export;
mod hooks;
mod logs;
mod memory;
mod metrics;
mod pipeline;
pub(crate) mod repair;
pub(crate) mod sessions;
mod system;

use axum::Router;
use axum::routing::{MethodFilter, MethodRouter, on};

use crate::permission::{self, Guard, Operation, Permission, Scoping};
use crate::state::AppState;

/// One route of the API.
pub struct RouteSpec {
    pub method: MethodFilter,
    pub method_name: &'static str,
    pub path: &'static str,
    pub permission: Permission,
    /// The rate-limited operation the route counts against, if any.
    pub limit: Option<Operation>,
    /// How the route treats token scopes.
    pub scoping: Scoping,
    handler: MethodRouter<AppState>,
}

impl RouteSpec {
    /// The guard the route declares.
    pub fn guard(&self) -> Guard {
        Guard {
            permission: self.permission,
            limit: self.limit,
            scoping: self.scoping,
        }
    }
}

/// `route!(METHOD, path, Permission, handler [, scoped | no_memories] [, limit = Operation])`.
/// Without a scoping word the route refuses scope-restricted tokens.
macro_rules! route {
    (@spec $method:ident, $path:expr, $perm:ident, $handler:expr, $scoping:ident, $limit:expr) => {
        RouteSpec {
            method: MethodFilter::$method,
            method_name: stringify!($method),
            path: $path,
            permission: Permission::$perm,
            limit: $limit,
            scoping: Scoping::$scoping,
            handler: on(MethodFilter::$method, $handler),
        }
    };
    ($method:ident, $path:expr, $perm:ident, $handler:expr) => {
        route!(@spec $method, $path, $perm, $handler, Unscoped, None)
    };
    ($method:ident, $path:expr, $perm:ident, $handler:expr, limit = $op:ident) => {
        route!(@spec $method, $path, $perm, $handler, Unscoped, Some(Operation::$op))
    };
    ($method:ident, $path:expr, $perm:ident, $handler:expr, scoped) => {
        route!(@spec $method, $path, $perm, $handler, Filters, None)
    };
    ($method:ident, $path:expr, $perm:ident, $handler:expr, scoped, limit = $op:ident) => {
        route!(@spec $method, $path, $perm, $handler, Filters, Some(Operation::$op))
    };
    ($method:ident, $path:expr, $perm:ident, $handler:expr, no_memories) => {
        route!(@spec $method, $path, $perm, $handler, NoMemories, None)
    };
}

/// Every route, in no particular order (axum prefers static segments over parameters).
pub fn table() -> Vec<RouteSpec> {
    vec![
        route!(GET, "/health", Open, system::health),
        // The dashboard's page and files hold no data (everything it shows comes through the
        // API's guards); the OpenAPI document leaves them out.
        route!(GET, "/", Open, crate::dashboard::page),
        route!(GET, "/assets/{*path}", Open, crate::dashboard::asset),
        route!(GET, "/api/auth/status", Open, auth::status),
        route!(
            GET,
            "/api/openapi.json",
            Recall,
            system::openapi,
            no_memories
        ),
        route!(GET, "/api/auth/whoami", Recall, auth::whoami, no_memories),
        route!(POST, "/api/auth/token", Admin, auth::mint, limit = Admin),
        route!(GET, "/api/status", Recall, system::status, no_memories),
        route!(GET, "/api/features", Recall, system::features, no_memories),
        route!(GET, "/api/identity", Recall, system::identity, no_memories),
        route!(GET, "/api/config", Admin, system::config_files),
        route!(
            POST,
            "/api/config",
            Admin,
            system::write_config_file,
            limit = Admin
        ),
        route!(GET, "/api/memories", Recall, memory::list, scoped),
        route!(
            POST,
            "/api/memory/remember",
            Remember,
            memory::remember,
            scoped
        ),
        route!(POST, "/api/memory/save", Remember, memory::remember, scoped),
        route!(
            POST,
            "/api/hook/remember",
            Remember,
            memory::remember,
            scoped
        ),
        route!(POST, "/api/memory/recall", Recall, memory::recall, scoped),
        route!(GET, "/api/memory/search", Recall, memory::search, scoped),
        route!(GET, "/memory/search", Recall, memory::legacy_search, scoped),
        route!(
            POST,
            "/api/memory/forget",
            Forget,
            memory::batch_forget,
            scoped,
            limit = BatchForget
        ),
        route!(
            POST,
            "/api/memory/modify",
            Modify,
            memory::batch_modify,
            scoped,
            limit = Modify
        ),
        // The static segment wins over `{id}`, so this never shadows a memory's history
        // (a memory id is never `jobs`). A job's result quotes its memory's facts, whatever
        // the project: scoped tokens are refused.
        route!(GET, "/api/memory/jobs/{id}", Authenticated, pipeline::job),
        // Ours, for the dashboard; guarded as one job is (scoped tokens refused).
        route!(GET, "/api/pipeline/jobs", Authenticated, pipeline::jobs),
        route!(GET, "/api/memory/{id}", Recall, memory::get, scoped),
        route!(
            PATCH,
            "/api/memory/{id}",
            Modify,
            memory::patch,
            scoped,
            limit = Modify
        ),
        route!(
            DELETE,
            "/api/memory/{id}",
            Forget,
            memory::delete,
            scoped,
            limit = Forget
        ),
        route!(
            GET,
            "/api/memory/{id}/history",
            Recall,
            memory::history,
            scoped
        ),
        route!(
            POST,
            "/api/memory/{id}/recover",
            Recover,
            memory::recover,
            scoped
        ),
        route!(
            POST,
            "/api/memory/feedback",
            Remember,
            sessions::feedback,
            scoped
        ),
        route!(GET, "/api/sessions", Recall, sessions::list, no_memories),
        route!(
            GET,
            "/api/sessions/{key}",
            Recall,
            sessions::get,
            no_memories
        ),
        route!(
            POST,
            "/api/sessions/{key}/bypass",
            Remember,
            sessions::bypass,
            no_memories
        ),
        // The harness hooks: reads need recall, writes (memories, summary jobs) remember.
        route!(
            POST,
            "/api/hooks/session-start",
            Recall,
            hooks::session_start,
            scoped
        ),
        route!(
            POST,
            "/api/hooks/user-prompt-submit",
            Recall,
            hooks::user_prompt_submit,
            scoped
        ),
        route!(
            POST,
            "/api/hooks/session-end",
            Remember,
            hooks::session_end,
            scoped
        ),
        route!(
            POST,
            "/api/hooks/remember",
            Remember,
            hooks::remember,
            scoped
        ),
        route!(POST, "/api/hooks/recall", Recall, hooks::recall, scoped),
        route!(
            POST,
            "/api/hooks/pre-compaction",
            Recall,
            hooks::pre_compaction,
            scoped
        ),
        route!(
            POST,
            "/api/hooks/compaction-complete",
            Remember,
            hooks::compaction_complete,
            scoped
        ),
        route!(GET, "/api/harnesses", Recall, hooks::harnesses, no_memories),
        route!(
            GET,
            "/api/checkpoints",
            Recall,
            hooks::checkpoints,
            no_memories
        ),
        route!(
            GET,
            "/api/checkpoints/{key}",
            Recall,
            hooks::session_checkpoints,
            no_memories
        ),
        // Documents have no project: scoped tokens are refused.
        route!(POST, "/api/documents", Documents, documents::create),
        route!(GET, "/api/documents", Documents, documents::list),
        route!(GET, "/api/documents/{id}", Documents, documents::get),
        route!(
            GET,
            "/api/documents/{id}/chunks",
            Documents,
            documents::chunks
        ),
        route!(DELETE, "/api/documents/{id}", Documents, documents::delete),
        // Every tool authorizes its own permission (see `mcp::tools`).
        route!(POST, "/mcp", Authenticated, crate::mcp::handle, scoped),
        route!(GET, "/memory/similar", Recall, embeddings::similar, scoped),
        route!(GET, "/api/embeddings", Recall, embeddings::list),
        route!(
            GET,
            "/api/embeddings/status",
            Recall,
            embeddings::status,
            no_memories
        ),
        route!(
            GET,
            "/api/embeddings/health",
            Recall,
            embeddings::health,
            no_memories
        ),
        route!(
            GET,
            "/api/embeddings/projection",
            Recall,
            embeddings::projection
        ),
        route!(GET, "/api/diagnostics", Diagnostics, diagnostics::report),
        route!(
            GET,
            "/api/diagnostics/{domain}",
            Diagnostics,
            diagnostics::domain
        ),
        route!(
            POST,
            "/api/repair/requeue-dead",
            Admin,
            repair::requeue_dead,
            limit = Admin
        ),
        route!(
            POST,
            "/api/repair/requeue-dead-jobs",
            Admin,
            repair::requeue_dead,
            limit = Admin
        ),
        route!(
            POST,
            "/api/repair/release-leases",
            Admin,
            repair::release_leases,
            limit = Admin
        ),
        route!(
            POST,
            "/api/repair/check-fts",
            Admin,
            repair::check_fts,
            limit = Admin
        ),
        route!(
            POST,
            "/api/repair/retention-sweep",
            Admin,
            repair::retention_sweep,
            limit = Admin
        ),
        route!(GET, "/api/repair/dedup-stats", Admin, repair::dedup_stats),
        route!(
            POST,
            "/api/repair/deduplicate",
            Admin,
            repair::deduplicate,
            limit = Admin
        ),
        route!(
            POST,
            "/api/repair/resync-vec",
            Admin,
            repair::not_implemented,
            limit = Admin
        ),
        route!(
            POST,
            "/api/repair/backfill-skipped",
            Admin,
            repair::backfill_skipped,
            limit = Admin
        ),
        route!(
            POST,
            "/api/repair/reclassify-entities",
            Admin,
            repair::not_implemented,
            limit = Admin
        ),
        route!(
            POST,
            "/api/repair/prune-chunk-groups",
            Admin,
            repair::prune_chunk_groups,
            limit = Admin
        ),
        route!(
            POST,
            "/api/repair/prune-singleton-entities",
            Admin,
            repair::prune_singletons,
            limit = Admin
        ),
        route!(
            POST,
            "/api/repair/structural-backfill",
            Admin,
            repair::not_implemented,
            limit = Admin
        ),
        route!(GET, "/api/repair/cold-stats", Admin, repair::cold_stats),
        route!(POST, "/api/export", Admin, export::export, limit = Admin),
        route!(POST, "/api/import", Admin, export::import, limit = Admin),
        route!(GET, "/api/repair/embedding-gaps", Admin, embeddings::gaps),
        route!(
            POST,
            "/api/repair/re-embed",
            Admin,
            embeddings::reembed,
            limit = Admin
        ),
        route!(
            POST,
            "/api/repair/clean-orphans",
            Admin,
            embeddings::clean_orphans,
            limit = Admin
        ),
        route!(GET, "/api/logs", Diagnostics, logs::list),
        route!(GET, "/api/logs/stream", Diagnostics, logs::stream),
        route!(GET, "/sse", Recall, logs::events, scoped),
        // Upstream guards `/api/pipeline/*` with authentication only; pausing is ours to
        // guard (it stops every write the pipeline makes).
        route!(
            GET,
            "/api/pipeline/status",
            Authenticated,
            pipeline::status,
            no_memories
        ),
        route!(
            POST,
            "/api/pipeline/pause",
            Admin,
            pipeline::pause,
            limit = Admin
        ),
        route!(
            POST,
            "/api/pipeline/resume",
            Admin,
            pipeline::resume,
            limit = Admin
        ),
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

/// Builds the router from the table, each route behind its guard.
pub fn build(routes: Vec<RouteSpec>, state: &AppState) -> Router<AppState> {
    routes.into_iter().fold(Router::new(), |router, spec| {
        let guard = spec.guard();
        let guarded = spec
            .handler
            .route_layer(axum::middleware::from_fn_with_state(
                state.clone(),
                move |st, req, next| permission::check(st, guard, req, next),
            ));
        router.route(spec.path, guarded)
    })
}
