//! `/api/analytics/*` and `/api/logs`: the in-memory collector's counters, latency
//! percentiles and error ring, memory safety, and the recent log entries. Fields are declared
//! in the order the daemon sends them (alphabetical).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{Extra, MutationSignals, QueryMap};

/// Answer of `GET /api/analytics/usage`: counters since the daemon started.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct UsageReport {
    /// Per `x-signet-actor` (at most 1000 names; the rest count under `"(other)"`).
    pub actors: BTreeMap<String, ActorUsage>,
    /// Upstream's per-connector counters; this daemon runs no connectors (always empty).
    #[schema(value_type = Object)]
    pub connectors: Extra,
    /// Per `"<METHOD> <route pattern>"` (`"<METHOD> (unmatched)"` for unknown paths).
    pub endpoints: BTreeMap<String, EndpointUsage>,
    /// LLM calls per `"<provider>/<model>"` since the ledger began (the pipeline's
    /// `llm_calls`, which survives restarts; upstream's collector left this empty).
    pub providers: BTreeMap<String, crate::LlmTotals>,
    pub totals: UsageTotals,
    #[serde(flatten)]
    #[schema(ignore)]
    pub extra: Extra,
}

/// One actor's requests.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ActorUsage {
    /// Modify, forget and recover requests.
    pub mutations: u64,
    /// Recall and search requests.
    pub recalls: u64,
    pub remembers: u64,
    /// Every request.
    pub requests: u64,
    #[serde(flatten)]
    #[schema(ignore)]
    pub extra: Extra,
}

/// One route's requests.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EndpointUsage {
    pub count: u64,
    /// Answers with a status of 400 or more.
    pub errors: u64,
    pub total_latency_ms: f64,
    #[serde(flatten)]
    #[schema(ignore)]
    pub extra: Extra,
}

/// Sums over every route.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UsageTotals {
    pub errors: u64,
    pub memory_operations: MemoryOperations,
    pub requests: u64,
    #[serde(flatten)]
    #[schema(ignore)]
    pub extra: Extra,
}

/// Requests per memory operation group.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MemoryOperations {
    pub mutate: u64,
    pub recall: u64,
    pub remember: u64,
    #[serde(flatten)]
    #[schema(ignore)]
    pub extra: Extra,
}

/// Answer of `GET /api/analytics/latency`: percentiles per operation group (`predictor_*`
/// stay zero: this daemon has no predictor).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LatencyReport {
    pub jobs: LatencySummary,
    pub mutate: LatencySummary,
    pub predictor_score: LatencySummary,
    pub predictor_train: LatencySummary,
    pub recall: LatencySummary,
    pub remember: LatencySummary,
    #[serde(flatten)]
    #[schema(ignore)]
    pub extra: Extra,
}

/// One group's latency in milliseconds (all zero when nothing was recorded).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LatencySummary {
    /// Samples recorded since start.
    pub count: u64,
    pub mean: f64,
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
    #[serde(flatten)]
    #[schema(ignore)]
    pub extra: Extra,
}

/// Where a recorded error happened (upstream's stages).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum ErrorStage {
    Extraction,
    Decision,
    Embedding,
    Mutation,
    Connector,
    Predictor,
}

impl ErrorStage {
    /// Every stage, in upstream's order.
    pub const ALL: [Self; 6] = [
        Self::Extraction,
        Self::Decision,
        Self::Embedding,
        Self::Mutation,
        Self::Connector,
        Self::Predictor,
    ];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Extraction => "extraction",
            Self::Decision => "decision",
            Self::Embedding => "embedding",
            Self::Mutation => "mutation",
            Self::Connector => "connector",
            Self::Predictor => "predictor",
        }
    }

    /// The stage of a wire name.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == name)
    }
}

/// One entry of the error ring.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ErrorRecord {
    /// Who made the request that failed, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    /// Upstream's error code, e.g. `EMBEDDING_PROVIDER_DOWN`, `MUTATION_CONFLICT`.
    pub code: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_id: Option<String>,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    pub stage: ErrorStage,
    /// ISO-8601 UTC.
    pub timestamp: String,
    #[serde(flatten)]
    #[schema(ignore)]
    pub extra: Extra,
}

/// Query of `GET /api/analytics/errors` (raw strings, validated by the daemon; unknown keys
/// are ignored).
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[serde(from = "QueryMap")]
#[into_params(parameter_in = Query)]
pub struct ErrorsQuery {
    /// Only this stage (`extraction`, `decision`, `embedding`, `mutation`, `connector`,
    /// `predictor`).
    pub stage: Option<String>,
    /// Only entries at or after this ISO-8601 timestamp.
    pub since: Option<String>,
    /// Most entries to return: 1 to 500, default 50.
    pub limit: Option<String>,
}

impl From<QueryMap> for ErrorsQuery {
    fn from(mut m: QueryMap) -> Self {
        Self {
            stage: m.remove("stage"),
            since: m.remove("since"),
            limit: m.remove("limit"),
        }
    }
}

/// Answer of `GET /api/analytics/errors`.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ErrorsReport {
    /// The newest entries matching the filters, oldest first.
    pub errors: Vec<ErrorRecord>,
    /// Entries per code over the whole ring.
    pub summary: BTreeMap<String, u64>,
    #[serde(flatten)]
    #[schema(ignore)]
    pub extra: Extra,
}

/// Answer of `GET /api/analytics/memory-safety`.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MemorySafety {
    /// Entries per code over the whole error ring.
    pub error_summary: BTreeMap<String, u64>,
    pub mutation: MutationSignals,
    /// The last 50 errors of the `mutation` stage, oldest first.
    pub recent_errors: Vec<ErrorRecord>,
    #[serde(flatten)]
    #[schema(ignore)]
    pub extra: Extra,
}

/// Severity of a log entry, ordered; the `level=` filter is a minimum.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    Debug,
    Info,
    Warn,
    Error,
}

impl LogLevel {
    /// Parses `debug|info|warn|warning|error` (any case; `trace` counts as `debug`).
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "debug" | "trace" => Some(Self::Debug),
            "info" => Some(Self::Info),
            "warn" | "warning" => Some(Self::Warn),
            "error" => Some(Self::Error),
            _ => None,
        }
    }
}

/// One log entry of `GET /api/logs` (upstream's `LogEntry` plus `requestId`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LogRecord {
    /// The area that logged it (`memory`, `store`, `api`, ...).
    pub category: String,
    /// The event's other fields (free-form: whatever the code logged).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub data: Option<serde_json::Map<String, serde_json::Value>>,
    pub level: LogLevel,
    pub message: String,
    /// The request being handled when the entry was logged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// ISO-8601 UTC with milliseconds.
    pub timestamp: String,
    #[serde(flatten)]
    #[schema(ignore)]
    pub extra: Extra,
}

/// Answer of `GET /api/logs` and `GET /api/analytics/logs`: the newest entries matching the
/// filters, oldest first.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LogList {
    /// Entries returned.
    pub count: usize,
    pub logs: Vec<LogRecord>,
    #[serde(flatten)]
    #[schema(ignore)]
    pub extra: Extra,
}
