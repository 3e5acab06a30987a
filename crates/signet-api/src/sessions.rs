//! `/api/sessions*` (the session tracker's claims and bypass flags) and
//! `POST /api/memory/feedback` (an agent's ratings of the memories a session was given).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::Extra;

/// One claimed session, as `GET /api/sessions/{key}` answers it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionInfo {
    /// The session key the harness chose (opaque).
    pub key: String,
    /// The runtime path that holds the claim: `plugin` or `legacy`.
    pub runtime_path: String,
    /// When the claim was made or last refreshed (ISO-8601); it expires 4 h later.
    pub claimed_at: String,
    /// Whether the hooks answer this session with empty stubs.
    pub bypassed: bool,
    #[serde(flatten)]
    #[schema(ignore)]
    pub extra: Extra,
}

/// Answer of `GET /api/sessions`: the sessions claimed now, oldest claim first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SessionList {
    pub sessions: Vec<SessionInfo>,
    pub count: usize,
    #[serde(flatten)]
    #[schema(ignore)]
    pub extra: Extra,
}

/// Body of `POST /api/sessions/{key}/bypass`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BypassRequest {
    /// `true`: the hooks stop injecting and recording for this session; `false`: they resume.
    pub enabled: bool,
}

/// Answer of `POST /api/sessions/{key}/bypass`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BypassResponse {
    pub key: String,
    pub bypassed: bool,
    #[serde(flatten)]
    #[schema(ignore)]
    pub extra: Extra,
}

/// Body of `POST /api/memory/feedback`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FeedbackRequest {
    /// The session whose memories are rated.
    pub session_key: String,
    /// Memory id → rating from -1 (useless or harmful) to 1 (exactly what was needed);
    /// values outside are clamped, non-numbers are dropped.
    pub feedback: BTreeMap<String, f64>,
}

/// Answer of `POST /api/memory/feedback`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FeedbackResponse {
    pub ok: bool,
    /// How many of the session's memory rows took a rating (a memory the session was never
    /// given, or one outside the caller's scope, records nothing).
    pub recorded: usize,
    #[serde(flatten)]
    #[schema(ignore)]
    pub extra: Extra,
}
