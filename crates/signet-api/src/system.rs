//! Process-level responses.

use serde::{Deserialize, Serialize};

use crate::Extra;

/// `GET /health`.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Health {
    /// `"healthy"` or `"unhealthy"`.
    pub status: String,
    /// Seconds since the daemon started.
    #[serde(default)]
    pub uptime: f64,
    /// Process id of the daemon.
    pub pid: u32,
    /// Daemon version.
    #[serde(default)]
    pub version: String,
    /// Port the daemon listens on.
    #[serde(default)]
    pub port: u16,
    /// The daemon's workspace directory.
    #[serde(default)]
    pub agents_dir: Option<String>,
    /// Whether the last database probe succeeded.
    #[serde(default)]
    pub db: bool,
    /// Fields not modelled above.
    #[serde(flatten)]
    #[schema(ignore)]
    pub extra: Extra,
}
