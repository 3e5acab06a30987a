//! `/api/hooks/*` (the harness lifecycle hooks), `GET /api/harnesses` and
//! `GET /api/checkpoints*`.
//!
//! Every hook answers one type whether it ran, was skipped (`x-signet-no-hooks: 1`) or the
//! session is bypassed (`bypassed: true`): the stub is the same object with empty values, so a
//! harness reads the same keys in every case.

use serde::{Deserialize, Serialize};

use crate::Extra;

/// Body of `POST /api/hooks/session-start`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionStartRequest {
    /// The harness calling (`claude-code`, `codex`, `opencode`, ...). Required.
    pub harness: String,
    /// The project (working directory) of the session: its memories are listed first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<String>,
    /// An opaque key the harness chose for this session (claims, dedup, bypass).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_key: Option<String>,
    /// `plugin` or `legacy` (the `x-signet-runtime-path` header wins).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runtime_path: Option<String>,
    /// Team mode: `true` asks for a session token (same or narrower scope, at most 24 h).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_token: Option<bool>,
}

/// The agent's identity as session start found it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct HookIdentity {
    /// `agent.name`, IDENTITY.md's `name:`, or "Agent".
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// A memory session start injected.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct HookMemory {
    pub id: String,
    pub content: String,
    #[serde(rename = "type")]
    pub type_: String,
    pub importance: f64,
    pub created_at: String,
}

/// Answer of `POST /api/hooks/session-start`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionStartResponse {
    /// Absent in the stubs (skipped or bypassed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity: Option<HookIdentity>,
    pub memories: Vec<HookMemory>,
    /// MEMORY.md, when the workspace has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recent_context: Option<String>,
    /// The text the harness puts in front of the model.
    pub inject: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bypassed: Option<bool>,
    /// A session token, when one was asked for (team mode).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_token: Option<String>,
    /// When the session token expires (ISO-8601).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_token_expires_at: Option<String>,
    #[serde(flatten)]
    #[schema(ignore)]
    pub extra: Extra,
}

/// Body of `POST /api/hooks/user-prompt-submit`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserPromptRequest {
    pub harness: String,
    /// The user's message (or `userPrompt`; one of them is required).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_prompt: Option<String>,
    /// The previous answer: a few of its words widen the query.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_assistant_message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runtime_path: Option<String>,
}

/// Answer of `POST /api/hooks/user-prompt-submit`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserPromptResponse {
    /// The date header, then the recalled memories (if any passed the gate).
    pub inject: String,
    pub memory_count: usize,
    /// The terms searched for, space-separated (when memories were found).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query_terms: Option<String>,
    /// `hybrid` or `keyword` (when memories were found).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub engine: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bypassed: Option<bool>,
    #[serde(flatten)]
    #[schema(ignore)]
    pub extra: Extra,
}

/// Body of `POST /api/hooks/session-end`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionEndRequest {
    pub harness: String,
    /// A transcript file the daemon can read (Claude Code or Codex JSONL, or plain text).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transcript_path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_key: Option<String>,
    /// The session's working directory (the summary job's project).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cwd: Option<String>,
    /// `clear`: nothing is queued.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runtime_path: Option<String>,
}

/// Answer of `POST /api/hooks/session-end`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionEndResponse {
    /// Always 0: the summary pipeline writes memories later.
    pub memories_saved: usize,
    /// Whether the transcript was queued for summarising.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub queued: Option<bool>,
    /// The `summary_jobs` id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bypassed: Option<bool>,
    #[serde(flatten)]
    #[schema(ignore)]
    pub extra: Extra,
}

/// Body of `POST /api/hooks/remember`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HookRememberRequest {
    pub harness: String,
    /// The memory; `critical:` and `[tags]:` prefixes are parsed.
    pub content: String,
    /// Who wrote it (default: the harness).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub who: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_key: Option<String>,
    /// A retry with the same key returns the first memory instead of writing another.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub idempotency_key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runtime_path: Option<String>,
}

/// Answer of `POST /api/hooks/remember`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HookRememberResponse {
    /// The hook ran (also `true` for the stubs, as upstream's).
    pub success: bool,
    /// Whether a memory was stored (or already held this content or idempotency key).
    pub saved: bool,
    /// The memory's id (the first chunk's for a long memory).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The memory already existed (same content or idempotency key).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deduped: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bypassed: Option<bool>,
    #[serde(flatten)]
    #[schema(ignore)]
    pub extra: Extra,
}

/// Body of `POST /api/hooks/recall`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HookRecallRequest {
    pub harness: String,
    pub query: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    /// Most results (default 10).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runtime_path: Option<String>,
}

/// One result of `POST /api/hooks/recall`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct HookRecallItem {
    pub id: String,
    pub content: String,
    #[serde(rename = "type")]
    pub type_: String,
    pub importance: f64,
    pub tags: Option<String>,
    pub created_at: String,
    /// The ranked recall's score (best first).
    pub score: f64,
}

/// Answer of `POST /api/hooks/recall`: `results` in every case (`memories` is the same list,
/// the key upstream's stubs used).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct HookRecallResponse {
    pub results: Vec<HookRecallItem>,
    pub memories: Vec<HookRecallItem>,
    pub count: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bypassed: Option<bool>,
    #[serde(flatten)]
    #[schema(ignore)]
    pub extra: Extra,
}

/// Body of `POST /api/hooks/pre-compaction`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PreCompactionRequest {
    pub harness: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_context: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_count: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runtime_path: Option<String>,
}

/// Answer of `POST /api/hooks/pre-compaction`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PreCompactionResponse {
    /// What to ask the model before the context is compacted (empty when bypassed).
    pub summary_prompt: String,
    /// The guidelines inside it (`hooks.preCompaction.summaryGuidelines` or the built-in).
    pub guidelines: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bypassed: Option<bool>,
    #[serde(flatten)]
    #[schema(ignore)]
    pub extra: Extra,
}

/// Body of `POST /api/hooks/compaction-complete`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CompactionCompleteRequest {
    pub harness: String,
    /// The compaction summary, stored as a `session_summary` memory.
    pub summary: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runtime_path: Option<String>,
}

/// Answer of `POST /api/hooks/compaction-complete`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CompactionCompleteResponse {
    pub success: bool,
    /// The `session_summary` memory (absent when bypassed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bypassed: Option<bool>,
    #[serde(flatten)]
    #[schema(ignore)]
    pub extra: Extra,
}

/// One harness of `GET /api/harnesses`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HarnessInfo {
    pub name: String,
    pub id: String,
    /// The file the harness's integration lives in (none for a harness only seen calling).
    pub path: Option<String>,
    pub exists: bool,
    /// When it last called a lifecycle hook (ISO-8601), since the daemon started.
    pub last_seen: Option<String>,
}

/// Answer of `GET /api/harnesses`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct HarnessList {
    pub harnesses: Vec<HarnessInfo>,
    #[serde(flatten)]
    #[schema(ignore)]
    pub extra: Extra,
}

/// One continuity checkpoint, secrets redacted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CheckpointItem {
    pub id: String,
    pub session_key: String,
    pub harness: String,
    pub project: Option<String>,
    pub project_normalized: Option<String>,
    pub trigger: String,
    pub digest: String,
    pub prompt_count: i64,
    pub memory_queries: Option<String>,
    pub recent_remembers: Option<String>,
    pub created_at: String,
}

/// Answer of `GET /api/checkpoints` and `GET /api/checkpoints/{sessionKey}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CheckpointList {
    pub checkpoints: Vec<CheckpointItem>,
    pub count: usize,
    #[serde(flatten)]
    #[schema(ignore)]
    pub extra: Extra,
}

/// Query of `GET /api/checkpoints`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CheckpointParams {
    /// The project path (required).
    pub project: Option<String>,
    /// Most checkpoints (default 10, at most 100).
    pub limit: Option<String>,
}
