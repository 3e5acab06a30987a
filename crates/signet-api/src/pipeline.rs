//! `/api/pipeline/*` and `/api/memory/jobs/:id`: the memory pipeline's state (workers, queues,
//! mode, provider health, the LLM call ledger and the budget), pause and resume, and one job.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::Extra;
use crate::analytics::LatencySummary;

/// Answer of `GET /api/pipeline/status`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PipelineStatus {
    /// `disabled` (`enabled: false`), `frozen` (`mutationsFrozen`), `shadow` (`shadowMode`)
    /// or `controlled-write`, as upstream decides it.
    pub mode: String,
    /// Whether the workers lease nothing right now (an operator's pause, the budget, or an
    /// idle pipeline), and why.
    pub paused: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paused_reason: Option<String>,
    /// Upstream's worker names (`extraction`, `summary`, `document`, `retention`,
    /// `maintenance`, `synthesis`, `structuralClassify`, `structuralDependency`).
    pub workers: BTreeMap<String, WorkerState>,
    /// `memory` (`memory_jobs`, every job type) and `summary` (`summary_jobs`).
    pub queues: BTreeMap<String, QueueState>,
    pub provider: ProviderState,
    pub ledger: LedgerState,
    pub budget: BudgetState,
    /// Extraction job durations (the analytics `jobs` histogram).
    pub latency: LatencySummary,
    /// Pipeline errors since start by code (`EXTRACTION_TIMEOUT`, `EXTRACTION_PARSE_FAIL`, ...).
    pub error_summary: BTreeMap<String, u64>,
    pub graph: GraphState,
    #[serde(flatten)]
    #[schema(ignore)]
    pub extra: Extra,
}

/// One worker.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct WorkerState {
    pub running: bool,
}

/// Jobs of one queue by status, and by job type and status.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct QueueState {
    pub pending: i64,
    /// Leased (`memory_jobs`) or processing (`summary_jobs`).
    pub leased: i64,
    pub completed: i64,
    /// Upstream's field; the status `failed` is never written (failed attempts go back to
    /// `pending`, the last one to `dead`), so it is 0.
    pub failed: i64,
    pub dead: i64,
    /// `job_type → status → count`.
    #[serde(rename = "byType")]
    pub by_type: BTreeMap<String, BTreeMap<String, i64>>,
}

/// The extraction provider as the daemon sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProviderState {
    /// The config name (`ollama`, `openai`, `anthropic`, `claude-code`, `codex`, `opencode`,
    /// `none`).
    pub name: String,
    pub model: String,
    /// `disabled` (provider none or pipeline off), `unknown` (no call yet), `ok` (the last
    /// call succeeded), `degraded` (the last call failed) or `down` (circuit open).
    pub health: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_success_at: Option<String>,
}

/// LLM call sums from the ledger.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LlmTotals {
    pub calls: i64,
    /// Calls that failed.
    pub errors: i64,
    pub input_tokens: i64,
    pub output_tokens: i64,
    pub duration_ms: i64,
}

/// The ledger's sums: the rolling windows the budget uses, and everything recorded.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LedgerState {
    pub last_hour: LlmTotals,
    pub last_day: LlmTotals,
    pub total: LlmTotals,
    /// All-time sums per `"<provider>/<model>"`.
    pub by_provider: BTreeMap<String, LlmTotals>,
}

/// The cost ceiling (`memory.pipelineV2.budget`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BudgetState {
    /// Input + output tokens allowed in any 24 h (`None`: no limit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens_per_day: Option<u64>,
    /// Calls allowed in any hour (`None`: no limit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_calls_per_hour: Option<u64>,
    pub tokens_last_day: i64,
    pub calls_last_hour: i64,
    /// A limit is reached: the workers wait (jobs stay pending) until the window moves on.
    pub exhausted: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The knowledge graph.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct GraphState {
    /// `graph.enabled`: extraction persists entities and recall boosts linked memories.
    pub enabled: bool,
    pub entities: i64,
    pub relations: i64,
    pub mentions: i64,
}

/// Answer of `POST /api/pipeline/pause` and `POST /api/pipeline/resume`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PipelineControl {
    /// Whether an operator has paused the pipeline now.
    pub paused: bool,
    pub mode: String,
}

/// Answer of `GET /api/pipeline/jobs` (ours): a page of `memory_jobs`, newest first by
/// `updated_at`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct JobList {
    pub jobs: Vec<JobStatus>,
    /// Jobs matching the filters, whatever the page.
    pub total: i64,
}

/// Answer of `GET /api/memory/jobs/:id`: upstream's fields (with its aliases
/// `attempt_count` = `attempts` and `last_error` = `error`), plus the job's `result`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct JobStatus {
    pub id: String,
    pub memory_id: Option<String>,
    pub document_id: Option<String>,
    pub job_type: String,
    /// `pending`, `leased`, `completed` or `dead`.
    pub status: String,
    pub attempt_count: i64,
    pub attempts: i64,
    pub max_attempts: i64,
    /// Always null, as upstream (the backoff is computed at lease time).
    pub next_attempt_at: Option<String>,
    pub last_error: Option<String>,
    /// Always null, as upstream.
    pub last_error_code: Option<String>,
    pub error: Option<String>,
    pub leased_at: Option<String>,
    pub completed_at: Option<String>,
    pub failed_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    /// The completed job's result document (for `extract`: facts, entities, proposals,
    /// writeMode, writeStats, warnings), as the worker wrote it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub result: Option<serde_json::Value>,
}
