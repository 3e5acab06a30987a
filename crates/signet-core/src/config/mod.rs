//! The daemon's configuration: one typed [`Settings`] value, validated once and passed by value.
//!
//! This module owns:
//! - finding the workspace directory ([`resolve_workspace`]: `SIGNET_PATH`, then
//!   `~/.config/signet/workspace.json`, then `~/.agents`);
//! - reading the workspace's `agent.yaml` (or `AGENT.yaml`, `config.yaml`) with a real YAML
//!   parser and mapping the keys the daemon uses onto typed sections with upstream's names,
//!   defaults and ranges;
//! - layering: defaults < `agent.yaml` < `SIGNET_*` environment. CLI flags are layered on top by
//!   the binary, which may overwrite the public fields (e.g. `settings.network.port`);
//! - hot reload ([`spawn_watcher`]), which publishes new settings on a `tokio::sync::watch`
//!   channel and keeps the old value when the new file is invalid.
//!
//! Policy, stricter than upstream: unknown keys produce warnings (never failures), while a value
//! of the wrong type, outside its documented range, or not among the allowed choices is an error
//! naming the dotted key. Upstream clamps or silently falls back instead. This module never
//! writes to the user's files (upstream's startup `migrateConfig` rewrite is not reproduced).
//!
//! Nothing here reads global state: the environment arrives as an [`EnvVars`] snapshot.

mod auth;
mod backup;
mod embedding;
mod env;
mod exposure;
mod manifest;
mod pipeline;
mod privacy;
mod search;
mod section;
mod storage;
mod watch;
mod workspace;
mod yaml;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::{Map, Value};

pub use auth::{AuthMode, AuthSettings, RateLimit, RateLimits};
pub use backup::{BackupSchedule, BackupSettings};
pub use embedding::{EmbeddingProvider, EmbeddingSettings, Secret};
pub use env::{DEFAULT_HOST, DEFAULT_PORT, EnvVars, Network};
pub use manifest::{
    AgentInfo, GitSettings, HooksSettings, PreCompactionHook, SessionStartHook, UpdateChannel,
    UpdateSettings,
};
pub use pipeline::{
    BudgetSettings, DocumentSettings, EmbeddingTrackerSettings, ExtractionProvider,
    ExtractionSettings, ExtractionStrength, GraphSettings, GuardrailSettings, PipelineSettings,
    Privacy, RepairSettings, RerankerSettings, WorkerSettings,
};
pub use privacy::is_loopback_url;
pub use search::{FusionKind, SearchSettings};
pub use storage::{DatabaseUrlText, PgvectorSetting, StorageBackend, StorageSettings};
pub use watch::{error_chain, reload, restart_required, spawn_watcher};
pub use workspace::resolve_workspace;
pub use yaml::CONFIG_FILE_NAMES;

use section::Section;

/// Why configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A file exists but could not be read.
    #[error("cannot read {}", path.display())]
    Io {
        /// The file or directory involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A config file is not valid YAML; `message` carries the line and column.
    #[error("cannot parse {}: {message}", file.display())]
    Parse {
        /// The file that failed to parse.
        file: PathBuf,
        /// Parser message with position.
        message: String,
    },
    /// A value has the wrong type, is out of range or is not an allowed choice.
    #[error("invalid config value for {key}: {message}")]
    Invalid {
        /// Dotted key (e.g. `memory.pipelineV2.worker.pollMs`) or environment variable name.
        key: String,
        /// What is wrong and what is allowed.
        message: String,
    },
    /// The workspace directory could not be determined.
    #[error("cannot resolve the workspace: {0}")]
    Workspace(String),
}

/// The result of [`Settings::load`].
#[derive(Clone, Debug)]
pub struct LoadedConfig {
    /// The validated settings.
    pub settings: Settings,
    /// Non-fatal problems (unknown keys, shadowed aliases), to be logged by the caller.
    pub warnings: Vec<String>,
    /// The config file that was read, or `None` when the workspace has none.
    pub source: Option<PathBuf>,
}

/// Every setting the daemon reads. Serializes (secrets redacted) for `/api/status` and
/// `/api/config` views.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Settings {
    /// Listen address and logging; from the environment and CLI, never from `agent.yaml`.
    pub network: Network,
    /// Embedding provider (`embedding`, `memory.embeddings` or `embeddings`).
    pub embedding: EmbeddingSettings,
    /// Recall tuning (`search`).
    pub search: SearchSettings,
    /// Authentication and rate limits (`auth`); changes need a restart.
    pub auth: AuthSettings,
    /// Extraction pipeline and workers (`memory.pipelineV2`).
    #[serde(rename = "pipelineV2")]
    pub pipeline: PipelineSettings,
    /// Feature flags (`features`), served by `GET /api/features`.
    pub features: BTreeMap<String, bool>,
    /// Agent identity (`agent`).
    pub agent: AgentInfo,
    /// Hook behaviour (`hooks`).
    pub hooks: HooksSettings,
    /// Workspace git sync (`git`).
    pub git: GitSettings,
    /// Self-update checks (`updates` or `update`).
    pub updates: UpdateSettings,
    /// Scheduled backups (`backup`), applied live.
    pub backup: BackupSettings,
    /// Which backend holds the memories (`storage`, `SIGNET_DATABASE_URL`); needs a restart.
    pub storage: StorageSettings,
    /// `configVersion`, upstream's migration marker; informational only.
    pub config_version: Option<u64>,
}

/// Top-level keys that upstream's manifest defines but the daemon does not read.
const UNREAD_TOP_LEVEL: &[&str] = &[
    "version",
    "schema",
    "name",
    "description",
    "identity",
    "owner",
    "home",
    "harnesses",
    "capabilities",
    "trust",
    "services",
];

/// Keys under `memory` that the daemon does not read (the database path is fixed).
const UNREAD_MEMORY: &[&str] = &["database", "vectors", "session_budget", "decay_rate"];

impl Settings {
    /// Loads settings for `workspace`: defaults, then the first config file found, then the
    /// `SIGNET_*` network variables from `env`. A workspace without a config file gives
    /// defaults and no warnings.
    pub fn load(workspace: &Path, env: &EnvVars) -> Result<LoadedConfig, ConfigError> {
        let network = Network::from_env(env)?;
        let Some(file) = yaml::find_config_file(workspace) else {
            let settings = Settings {
                network,
                storage: StorageSettings::from_document(&Map::new(), env)?,
                ..Settings::default()
            };
            exposure::check(&settings)?;
            let warnings = exposure::insecure_bind_warning(&settings)
                .into_iter()
                .collect();
            return Ok(LoadedConfig {
                settings,
                warnings,
                source: None,
            });
        };
        let text = yaml::read_text(&file)?;
        let document = yaml::parse_document(&file, &text)?;
        let (mut settings, mut warnings) =
            Self::from_document(&document, network).map_err(|e| in_file(e, &file, &text))?;
        // Here, not in `from_document`: `SIGNET_DATABASE_URL` comes from the environment.
        settings.storage =
            StorageSettings::from_document(&document, env).map_err(|e| in_file(e, &file, &text))?;
        warnings.extend(exposure::insecure_bind_warning(&settings));
        Ok(LoadedConfig {
            settings,
            warnings,
            source: Some(file),
        })
    }

    /// Checks config text as `load` would read it from `file` with this `network` (parse
    /// errors, invalid values, local mode on a non-loopback bind), without touching the disk:
    /// for config writes that must not install a file the daemon would refuse at start-up.
    /// Returns the unknown-key warnings.
    pub fn check_text(
        file: &Path,
        text: &str,
        network: &Network,
    ) -> Result<Vec<String>, ConfigError> {
        let document = yaml::parse_document(file, text)?;
        Self::from_document(&document, network.clone())
            .map(|(_, warnings)| warnings)
            .map_err(|e| in_file(e, file, text))
    }

    /// Maps a parsed document onto typed settings, collecting unknown-key warnings.
    fn from_document(
        document: &Map<String, Value>,
        network: Network,
    ) -> Result<(Self, Vec<String>), ConfigError> {
        let mut warnings = Vec::new();
        let w = &mut warnings;
        let root = Section::root(document);
        let memory = root.child("memory")?;
        let settings = Settings {
            network,
            embedding: parse_embedding(&root, &memory, w)?,
            search: section(&root, "search", w, |s, _| SearchSettings::parse(s))?,
            auth: strict_section(&root, "auth", &auth::AUTH_KEYS, AuthSettings::parse)?,
            pipeline: section(&memory, "pipelineV2", w, PipelineSettings::parse)?,
            features: section(&root, "features", w, |s, _| manifest::parse_features(s))?,
            agent: section(&root, "agent", w, |s, _| AgentInfo::parse(s))?,
            hooks: section(&root, "hooks", w, HooksSettings::parse)?,
            git: section(&root, "git", w, |s, _| GitSettings::parse(s))?,
            updates: parse_updates(&root, w)?,
            backup: section(&root, "backup", w, |s, _| BackupSettings::parse(s))?,
            storage: StorageSettings::default(),
            config_version: root.int("configVersion", 0..=u64::from(u32::MAX))?,
        };
        memory.accept(UNREAD_MEMORY);
        memory.finish(w);
        root.accept(UNREAD_TOP_LEVEL);
        root.accept(&["storage"]); // read by `load`, with the environment
        refuse_misplaced_auth(&root)?;
        root.finish(w);
        exposure::check(&settings)?;
        privacy::check(&settings)?;
        Ok((settings, warnings))
    }
}

/// Parses the mapping `key` of `parent` with `parse` and warns about its unknown keys.
fn section<T>(
    parent: &Section<'_>,
    key: &str,
    warnings: &mut Vec<String>,
    parse: impl FnOnce(&Section<'_>, &mut Vec<String>) -> Result<T, ConfigError>,
) -> Result<T, ConfigError> {
    let child = parent.child(key)?;
    let parsed = parse(&child, warnings)?;
    child.finish(warnings);
    Ok(parsed)
}

/// Parses the mapping `key` of `parent` with `parse`; an unknown key in it is an error.
fn strict_section<T>(
    parent: &Section<'_>,
    key: &str,
    known: &[&str],
    parse: impl FnOnce(&Section<'_>) -> Result<T, ConfigError>,
) -> Result<T, ConfigError> {
    let child = parent.child(key)?;
    let parsed = parse(&child)?;
    child.finish_strict(known)?;
    Ok(parsed)
}

/// Fails closed on an `auth` section the daemon would otherwise miss: a misspelt top-level key
/// (`autth:`, `Auth:`), or one of its keys at the top level (`mode: team` not indented under
/// `auth:`). Either would silently start the daemon in local mode.
fn refuse_misplaced_auth(root: &Section<'_>) -> Result<(), ConfigError> {
    let unknown: Vec<&String> = root.unread_keys();
    if let Some(key) = unknown
        .iter()
        .find(|k| section::closest(k, &["auth"]).is_some())
    {
        return Err(root.invalid(
            key,
            "unknown top-level key (did you mean auth?); a misspelt auth section would start \
             the daemon without authentication, so it stops start-up",
        ));
    }
    if let Some(key) = unknown
        .iter()
        .find(|k| auth::AUTH_KEYS.contains(&k.as_str()))
    {
        return Err(root.invalid(
            key,
            format!(
                "{key} belongs under auth (indent it: `auth:` then `  {key}: ...`); at the top \
                 level it would be ignored and the daemon would start without authentication"
            ),
        ));
    }
    Ok(())
}

/// Reads the first of `embedding`, `memory.embeddings`, `embeddings`; the others are ignored
/// with a warning, as upstream only looks at the first.
fn parse_embedding(
    root: &Section<'_>,
    memory: &Section<'_>,
    warnings: &mut Vec<String>,
) -> Result<EmbeddingSettings, ConfigError> {
    let candidates = [
        (root, "embedding"),
        (memory, "embeddings"),
        (root, "embeddings"),
    ];
    let mut chosen: Option<(&Section<'_>, &str)> = None;
    for (parent, key) in candidates {
        match chosen {
            _ if !parent.has(key) => parent.accept(&[key]),
            None => chosen = Some((parent, key)),
            Some((winner, winner_key)) => {
                parent.accept(&[key]);
                let (ignored, used) = (parent.key_path(key), winner.key_path(winner_key));
                warnings.push(format!(
                    "{ignored} is ignored because {used} takes precedence"
                ));
            }
        }
    }
    match chosen {
        Some((parent, key)) => section(parent, key, warnings, |s, _| EmbeddingSettings::parse(s)),
        None => Ok(EmbeddingSettings::default()),
    }
}

/// Reads `updates`, or its alias `update` when `updates` is absent.
fn parse_updates(
    root: &Section<'_>,
    warnings: &mut Vec<String>,
) -> Result<UpdateSettings, ConfigError> {
    let key = if !root.has("updates") && root.has("update") {
        "update"
    } else {
        "updates"
    };
    let other = if key == "updates" {
        "update"
    } else {
        "updates"
    };
    if root.has(other) {
        warnings.push(format!("{other} is ignored because {key} takes precedence"));
    }
    root.accept(&[other]);
    section(root, key, warnings, |s, _| UpdateSettings::parse(s))
}

/// Adds the file name (and the key's line, when it can be found) to a validation error so
/// the message says where to look. Environment variables (`SIGNET_*`) are not in the file.
fn in_file(error: ConfigError, file: &Path, text: &str) -> ConfigError {
    match error {
        ConfigError::Invalid { key, message } if !key.starts_with("SIGNET_") => {
            let at = match yaml::line_of(text, &key) {
                Some(line) => format!("{}, line {line}", file.display()),
                None => file.display().to_string(),
            };
            ConfigError::Invalid {
                key,
                message: format!("{message} (in {at})"),
            }
        }
        other => other,
    }
}

#[cfg(test)]
mod tests;
