//! Liveness, status, feature flags, identity and the workspace config files.

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use crate::error::{ApiError, ApiResult, JsonBody, Kind, Reply};
use crate::state::AppState;

/// `GET /health`: cheap, never touches the database pool (the health worker probes it);
/// unavailable (503) while the database is down.
pub async fn health(State(s): State<AppState>) -> Reply {
    let i = s.info();
    let db = s.db_ok();
    let kind = if db { Kind::Done } else { Kind::Unavailable };
    let body = json!({
        "status": if db { "healthy" } else { "unhealthy" },
        "uptime": i.started.elapsed().as_secs_f64(),
        "pid": i.pid,
        "version": i.version,
        "port": i.port,
        "agentsDir": i.workspace,
        "db": db,
        "updateAvailable": false,
        "pendingRestart": false,
    });
    Reply::new(kind, body)
}

/// `GET /api/status`: process, configuration and storage facts.
pub async fn status(State(s): State<AppState>) -> ApiResult {
    let i = s.info();
    let settings = s.settings();
    let stats = s.memories().stats().await?;
    let policy = s.memories().policy();
    Ok(Json(json!({
        "status": "running",
        "version": i.version,
        "pid": i.pid,
        "uptime": i.started.elapsed().as_secs_f64(),
        "startedAt": i.started_at,
        "port": i.port,
        "host": i.host,
        "bindHost": i.bind_host,
        "agentsDir": i.workspace,
        "memoryDb": i.db_path.exists(),
        "dbPath": i.db_path,
        "schema": i.migration,
        "memories": stats,
        "pipelineV2": {
            "enabled": policy.pipeline_enabled,
            "mutationsFrozen": policy.mutations_frozen,
            "extraction": {
                "provider": settings.pipeline.extraction.provider.as_str(),
                "enqueuing": policy.extraction.enqueues(),
                "reason": policy.extraction.off_reason(),
            },
        },
        "auth": {"mode": s.auth().mode().as_str()},
        "embedding": s.memories().semantic().status_json(),
        "logging": {"logDir": i.log_dir, "logFile": i.log_file},
        "config": {"source": i.config_source, "warnings": i.config_warnings},
        "agentCreatedAt": settings.agent.created,
    })))
}

/// `GET /api/features`: the `features:` map of agent.yaml.
pub async fn features(State(s): State<AppState>) -> Json<Value> {
    Json(json!(s.settings().features))
}

/// `GET /api/identity`: `- name:`, `- creature:`, `- vibe:` lines of IDENTITY.md.
pub async fn identity(State(s): State<AppState>) -> Json<Value> {
    let path = s.info().workspace.join("IDENTITY.md");
    let text = tokio::fs::read_to_string(path).await.unwrap_or_default();
    let field = |key: &str| -> Option<String> {
        text.lines().find_map(|l| {
            let rest = l.trim_start().strip_prefix('-')?.trim_start();
            let (k, v) = rest.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case(key)
                .then(|| v.trim().trim_matches('*').trim().to_owned())
        })
    };
    Json(json!({
        "name": field("name").unwrap_or_else(|| "Unknown".into()),
        "creature": field("creature").unwrap_or_default(),
        "vibe": field("vibe").unwrap_or_default(),
    }))
}

/// `GET /api/config`: the workspace's `*.md` and `*.yaml` files.
pub async fn config_files(State(s): State<AppState>) -> ApiResult {
    let dir = s.info().workspace.clone();
    let files = signet_core::blocking::run(move || crate::workspace_files::list(&dir)).await?;
    Ok(Json(json!({ "files": files })))
}

/// `POST /api/config`: writes one top-level `*.md` / `*.yaml` file of the workspace.
pub async fn write_config_file(State(s): State<AppState>, JsonBody(body): JsonBody) -> ApiResult {
    let obj = body
        .as_object()
        .ok_or_else(|| ApiError::bad_request("Invalid JSON body"))?;
    let (Some(name), Some(content)) = (
        obj.get("file").and_then(Value::as_str),
        obj.get("content").and_then(Value::as_str),
    ) else {
        return Err(ApiError::bad_request(
            "file and content are required strings",
        ));
    };
    let (name, content) = (name.to_owned(), content.to_owned());
    let dir = s.info().workspace.clone();
    let network = s.settings().network.clone();
    signet_core::blocking::run(move || {
        crate::workspace_files::write(&dir, &name, &content, &network)
    })
    .await?;
    Ok(Json(json!({ "success": true })))
}

/// `GET /api/openapi.json`: the OpenAPI document (wire types and the route table).
pub async fn openapi() -> axum::response::Response {
    use axum::response::IntoResponse;
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        crate::openapi::document_json(),
    )
        .into_response()
}
