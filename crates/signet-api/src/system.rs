//! Process-level responses: `/health`, the feature flags, the identity file and the
//! workspace config files. Fields are declared in the order the daemon sends them
//! (alphabetical, as upstream's shapes have always been written here).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::Extra;

/// `GET /health` (503 with `"status": "unhealthy"` while the database is down).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Health {
    /// The daemon's workspace directory.
    #[serde(default)]
    pub agents_dir: Option<String>,
    /// Whether the last database probe succeeded.
    #[serde(default)]
    pub db: bool,
    /// Always false: this daemon restarts only when asked (upstream's self-updater flag).
    #[serde(default)]
    pub pending_restart: bool,
    /// Process id of the daemon.
    pub pid: u32,
    /// Port the daemon listens on.
    #[serde(default)]
    pub port: u16,
    /// `"healthy"` or `"unhealthy"`.
    pub status: String,
    /// Always false: this daemon has no update checker (upstream's flag, kept for clients).
    #[serde(default)]
    pub update_available: bool,
    /// Seconds since the daemon started.
    #[serde(default)]
    pub uptime: f64,
    /// Daemon version.
    #[serde(default)]
    pub version: String,
    /// Fields not modelled above.
    #[serde(flatten)]
    #[schema(ignore)]
    pub extra: Extra,
}

/// `GET /api/features`: the `features:` map of `agent.yaml` (flag name → on).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(transparent)]
pub struct Features(pub BTreeMap<String, bool>);

/// `GET /api/identity`: the `- name:`, `- creature:` and `- vibe:` lines of `IDENTITY.md`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Identity {
    /// Empty when the file has no such line.
    pub creature: String,
    /// `"Unknown"` when the file has no such line.
    pub name: String,
    /// Empty when the file has no such line.
    pub vibe: String,
    #[serde(flatten)]
    #[schema(ignore)]
    pub extra: Extra,
}

/// `GET /api/config`: the workspace's top-level `*.md` and `*.yaml` files, priority files
/// (`agent.yaml`, `AGENTS.md`, `SOUL.md`, `IDENTITY.md`, `USER.md`) first, then by name.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ConfigFiles {
    pub files: Vec<ConfigFile>,
    #[serde(flatten)]
    #[schema(ignore)]
    pub extra: Extra,
}

/// One listed workspace file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ConfigFile {
    /// The whole file, as text.
    pub content: String,
    /// The plain file name (no directories).
    pub name: String,
    /// Length of `content` in bytes.
    pub size: u64,
}

/// Body of `POST /api/config`: one top-level `*.md` / `*.yaml` file to write.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ConfigWrite {
    /// The plain file name, e.g. `AGENTS.md`.
    pub file: String,
    /// The new content (at most 1 MiB).
    pub content: String,
}

/// Answer of a write that succeeded (`POST /api/config`): `{"success": true}`.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Written {
    pub success: bool,
    #[serde(flatten)]
    #[schema(ignore)]
    pub extra: Extra,
}

impl Written {
    /// `{"success": true}`.
    pub fn ok() -> Self {
        Self {
            success: true,
            extra: Extra::new(),
        }
    }
}
