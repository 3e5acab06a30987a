//! `GET /api/status`: process, configuration and storage facts, one struct per section.
//! Fields are declared in the order the daemon sends them (alphabetical).

use serde::{Deserialize, Serialize};

use crate::{EmbeddingStatus, Extra, MemoryListStats};

/// Answer of `GET /api/status`.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Status {
    /// `agent.created` of `agent.yaml`, as written there.
    pub agent_created_at: Option<String>,
    /// The workspace directory.
    pub agents_dir: String,
    pub auth: AuthSection,
    /// The address the daemon listens on.
    pub bind_host: String,
    pub config: ConfigSection,
    /// The SQLite database file.
    pub db_path: String,
    /// The embedding provider and the vector index.
    pub embedding: EmbeddingStatus,
    /// The host clients are told to use.
    pub host: String,
    pub logging: LoggingSection,
    /// Counts of live memories.
    pub memories: MemoryListStats,
    /// Whether the database file exists.
    pub memory_db: bool,
    pub pid: u32,
    #[serde(rename = "pipelineV2")]
    pub pipeline_v2: PipelineSection,
    pub port: u16,
    /// What opening the database did to its schema.
    pub schema: SchemaSection,
    /// When the daemon started (ISO-8601 UTC).
    pub started_at: String,
    /// Always `"running"`.
    pub status: String,
    /// Which backend holds the memories.
    #[serde(default)]
    pub storage: StorageSection,
    /// Seconds since the daemon started.
    pub uptime: f64,
    pub version: String,
    #[serde(flatten)]
    #[schema(ignore)]
    pub extra: Extra,
}

/// `auth` of the status: the mode in force.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AuthSection {
    /// `local`, `team` or `hybrid`.
    pub mode: String,
    #[serde(flatten)]
    #[schema(ignore)]
    pub extra: Extra,
}

/// `config` of the status: where the configuration came from and what was wrong with it.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ConfigSection {
    /// The `agent.yaml` read (absent: defaults only).
    pub source: Option<String>,
    /// Unknown keys and ignored values found at load, one message each.
    pub warnings: Vec<String>,
    #[serde(flatten)]
    #[schema(ignore)]
    pub extra: Extra,
}

/// `logging` of the status.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LoggingSection {
    /// Where daily log files go.
    pub log_dir: String,
    /// `SIGNET_LOG_FILE`, when logs go to one fixed file instead.
    pub log_file: Option<String>,
    #[serde(flatten)]
    #[schema(ignore)]
    pub extra: Extra,
}

/// `pipelineV2` of the status: the pipeline switches and the extraction stage.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PipelineSection {
    pub enabled: bool,
    pub extraction: ExtractionSection,
    /// Mutations are refused (503) while frozen.
    pub mutations_frozen: bool,
    #[serde(flatten)]
    #[schema(ignore)]
    pub extra: Extra,
}

/// `pipelineV2.extraction` of the status.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ExtractionSection {
    /// Whether remember queues extraction jobs.
    pub enqueuing: bool,
    /// The configured extraction provider.
    pub provider: String,
    /// Why nothing is queued, when nothing is.
    pub reason: Option<String>,
    #[serde(flatten)]
    #[schema(ignore)]
    pub extra: Extra,
}

/// `storage` of the status: the backend this daemon opened.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StorageSection {
    /// `sqlite` or `postgres`.
    pub backend: String,
    /// The PostgreSQL database, its password replaced by `[redacted]` (`None` on SQLite).
    pub url: Option<String>,
    /// The PostgreSQL schema holding the tables, when `storage.schema` names one.
    pub schema: Option<String>,
    /// Where vector search runs: `in-process` (the daemon's own index over the stored
    /// vectors), or `pgvector` (the PostgreSQL database's HNSW index, `storage.pgvector`).
    #[serde(rename = "vectorIndex")]
    pub vector_index: String,
    /// PostgreSQL only: whether the server offers pgvector, and whether it is used.
    pub pgvector: Option<PgvectorSection>,
    /// This node's id on a shared database (its connections' `application_name` is
    /// `signet/<node>`); `None` on SQLite.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    /// How this node follows the other nodes' writes (shared databases only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sync: Option<PeerSyncSection>,
    #[serde(flatten)]
    #[schema(ignore)]
    pub extra: Extra,
}

/// `storage.pgvector` of the status: the `vector` extension on the PostgreSQL server.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PgvectorSection {
    /// The server can install the extension (`pg_available_extensions`).
    pub available: bool,
    /// The version installed in this database (`pg_extension`), if any.
    pub installed: Option<String>,
    /// Whether vector search runs in pgvector (`false`: the in-process index).
    pub used: bool,
    /// Why it is used or not.
    pub reason: Option<String>,
    #[serde(flatten)]
    #[schema(ignore)]
    pub extra: Extra,
}

/// `storage.sync` of the status: the change feed this node follows.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PeerSyncSection {
    /// The last change sequence number this node has applied.
    pub cursor: i64,
    /// Whether the listening connection (`LISTEN signet_changes`) is up.
    pub listening: bool,
    /// Notifications received.
    pub notifications: u64,
    /// Other nodes' changes applied to this node's index and events.
    pub applied: u64,
    /// Times the listening connection was opened again after it dropped.
    pub reconnects: u64,
    /// Times the whole vector index was reloaded because changes were pruned unseen.
    pub reloads: u64,
}

/// `schema` of the status: the migration report of this start (snake_case, as written).
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SchemaSection {
    /// Versions applied during this start.
    pub applied: Vec<i64>,
    /// The backup written before migrating, if any.
    pub backup: Option<String>,
    /// Versions were recorded but a migration's column was missing, so all ran again.
    pub bogus_version_repaired: bool,
    /// Schema version found (0 for a new database).
    pub from_version: i64,
    /// The keyword index was missing and has been rebuilt.
    pub fts_rebuilt: bool,
    /// Recorded versions whose tables or columns were missing, so they ran again.
    pub phantom_versions: Vec<i64>,
    /// Schema version after migrating.
    pub to_version: i64,
    #[serde(flatten)]
    #[schema(ignore)]
    pub extra: Extra,
}
