//! Liveness, status, feature flags, identity and the workspace config files.

use std::path::Path;

use axum::Json;
use axum::extract::State;
use serde_json::Value;
use signet_api::{
    AuthSection, ConfigFile, ConfigFiles, ConfigSection, ConfigWrite, Extra, ExtractionSection,
    Features, Health, Identity, LoggingSection, PipelineSection, SchemaSection, Status,
    StorageSection, Written,
};
use signet_core::config::StorageBackend;
use signet_model::MigrationReport;

use crate::error::{ApiError, ApiResult, JsonBody, Kind, Reply};
use crate::state::{AppState, DaemonInfo};

/// A path as the wire shows it.
fn path_text(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

/// `GET /health`: cheap, never touches the database pool (the health worker probes it);
/// unavailable (503) while the database is down.
pub async fn health(State(s): State<AppState>) -> Reply<Health> {
    let i = s.info();
    let db = s.db_ok();
    let kind = if db { Kind::Done } else { Kind::Unavailable };
    let body = Health {
        agents_dir: Some(path_text(&i.workspace)),
        db,
        pending_restart: false,
        pid: i.pid,
        port: i.port,
        status: if db { "healthy" } else { "unhealthy" }.to_owned(),
        update_available: false,
        uptime: i.started.elapsed().as_secs_f64(),
        version: i.version.to_owned(),
        extra: Extra::new(),
    };
    Reply::new(kind, body)
}

/// The `schema` section: what opening the database did.
fn schema_section(m: &MigrationReport) -> SchemaSection {
    SchemaSection {
        applied: m.applied.clone(),
        backup: m.backup.as_deref().map(path_text),
        bogus_version_repaired: m.bogus_version_repaired,
        from_version: m.from_version,
        fts_rebuilt: m.fts_rebuilt,
        phantom_versions: m.phantom_versions.clone(),
        to_version: m.to_version,
        extra: Extra::new(),
    }
}

/// The `logging` and `config` sections.
fn logging_and_config(i: &DaemonInfo) -> (LoggingSection, ConfigSection) {
    let logging = LoggingSection {
        log_dir: path_text(&i.log_dir),
        log_file: i.log_file.as_deref().map(path_text),
        extra: Extra::new(),
    };
    let config = ConfigSection {
        source: i.config_source.as_deref().map(path_text),
        warnings: i.config_warnings.clone(),
        extra: Extra::new(),
    };
    (logging, config)
}

/// The backend the daemon opened, its URL's password redacted.
fn storage_section(i: &DaemonInfo) -> StorageSection {
    let s = &i.storage;
    let backend = match s.backend {
        StorageBackend::Sqlite => "sqlite",
        StorageBackend::Postgres => "postgres",
    };
    StorageSection {
        backend: backend.to_owned(),
        url: s.url.as_ref().map(|u| u.redacted()),
        schema: s.schema.clone(),
        vector_index: match i.pgvector.as_ref().is_some_and(|p| p.used) {
            true => "pgvector",
            false => "in-process",
        }
        .to_owned(),
        pgvector: i.pgvector.clone(),
        node: i.node.clone(),
        sync: i.peer_sync.as_ref().map(|p| p.section()),
        extra: Extra::new(),
    }
}

/// `GET /api/status`: process, configuration and storage facts.
pub async fn status(State(s): State<AppState>) -> ApiResult<Json<Status>> {
    let i = s.info();
    let settings = s.settings();
    let memories = s.memories().stats().await?;
    let policy = s.memories().policy();
    let pipeline = PipelineSection {
        enabled: policy.pipeline_enabled,
        extraction: ExtractionSection {
            enqueuing: policy.extraction.enqueues(),
            provider: settings.pipeline.extraction.provider.as_str().to_owned(),
            reason: policy.extraction.off_reason().map(str::to_owned),
            extra: Extra::new(),
        },
        mutations_frozen: policy.mutations_frozen,
        extra: Extra::new(),
    };
    let (logging, config) = logging_and_config(i);
    Ok(Json(Status {
        agent_created_at: settings.agent.created.clone(),
        agents_dir: path_text(&i.workspace),
        auth: AuthSection {
            mode: s.auth().mode().as_str().to_owned(),
            extra: Extra::new(),
        },
        bind_host: i.bind_host.clone(),
        config,
        db_path: path_text(&i.db_path),
        embedding: s.memories().semantic().status(),
        host: i.host.clone(),
        logging,
        memories,
        memory_db: i.storage.url.is_some() || i.db_path.exists(),
        pid: i.pid,
        pipeline_v2: pipeline,
        port: i.port,
        schema: schema_section(&i.migration),
        started_at: i.started_at.clone(),
        status: "running".to_owned(),
        storage: storage_section(i),
        uptime: i.started.elapsed().as_secs_f64(),
        version: i.version.to_owned(),
        extra: Extra::new(),
    }))
}

/// `GET /api/features`: the `features:` map of agent.yaml.
pub async fn features(State(s): State<AppState>) -> Json<Features> {
    Json(Features(s.settings().features.clone()))
}

/// `GET /api/identity`: `- name:`, `- creature:`, `- vibe:` lines of IDENTITY.md.
pub async fn identity(State(s): State<AppState>) -> Json<Identity> {
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
    Json(Identity {
        creature: field("creature").unwrap_or_default(),
        name: field("name").unwrap_or_else(|| "Unknown".into()),
        vibe: field("vibe").unwrap_or_default(),
        extra: Extra::new(),
    })
}

/// `GET /api/config`: the workspace's `*.md` and `*.yaml` files.
pub async fn config_files(State(s): State<AppState>) -> ApiResult<Json<ConfigFiles>> {
    let dir = s.info().workspace.clone();
    let files = signet_core::blocking::run(move || crate::workspace_files::list(&dir)).await?;
    let files = files
        .into_iter()
        .map(|f| ConfigFile {
            content: f.content,
            name: f.name,
            size: f.size,
        })
        .collect();
    Ok(Json(ConfigFiles {
        files,
        extra: Extra::new(),
    }))
}

/// The body of `POST /api/config`: an object with string `file` and `content` (other fields
/// are ignored).
fn config_write(body: Value) -> Result<ConfigWrite, ApiError> {
    if !body.is_object() {
        return Err(ApiError::bad_request("Invalid JSON body"));
    }
    serde_json::from_value(body)
        .map_err(|_| ApiError::bad_request("file and content are required strings"))
}

/// `POST /api/config`: writes one top-level `*.md` / `*.yaml` file of the workspace.
pub async fn write_config_file(
    State(s): State<AppState>,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Written>> {
    let ConfigWrite { file, content } = config_write(body)?;
    let dir = s.info().workspace.clone();
    let network = s.settings().network.clone();
    signet_core::blocking::run(move || {
        crate::workspace_files::write(&dir, &file, &content, &network)
    })
    .await?;
    Ok(Json(Written::ok()))
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
