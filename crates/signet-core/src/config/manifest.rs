//! The smaller `agent.yaml` sections: `agent`, `hooks`, `git`, `updates` and `features`.

use std::collections::BTreeMap;

use serde::Serialize;

use super::ConfigError;
use super::section::Section;

/// Identity of the agent (`agent.*`), used by session-start hooks and `/api/status`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentInfo {
    /// Display name (`agent.name`).
    pub name: Option<String>,
    /// One-line description (`agent.description`).
    pub description: Option<String>,
    /// Creation timestamp as written in the file (`agent.created`), reported as `agentCreatedAt`.
    pub created: Option<String>,
}

impl AgentInfo {
    pub(crate) fn parse(s: &Section<'_>) -> Result<Self, ConfigError> {
        Ok(Self {
            name: s.string("name")?,
            description: s.string("description")?,
            created: s.string("created")?,
        })
    }
}

/// `hooks.sessionStart.*`: what the session-start hook injects.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionStartHook {
    /// Memories injected (`recallLimit`, default 50), [1,1000].
    pub recall_limit: usize,
    /// Candidates considered before ranking (`candidatePoolLimit`, default 100), [1,10000].
    pub candidate_pool_limit: usize,
    /// Whether identity files are injected (`includeIdentity`, default true).
    pub include_identity: bool,
    /// Upper bound on injected characters (`maxInjectChars`, default 24000), [100,1000000].
    pub max_inject_chars: usize,
}

impl Default for SessionStartHook {
    fn default() -> Self {
        Self {
            recall_limit: 50,
            candidate_pool_limit: 100,
            include_identity: true,
            max_inject_chars: 24_000,
        }
    }
}

/// `hooks.preCompaction.*`: what the pre-compaction hook asks for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PreCompactionHook {
    /// Replaces the built-in summary guidelines (`summaryGuidelines`).
    pub summary_guidelines: Option<String>,
    /// Whether recent memories are included (`includeRecentMemories`, default true).
    pub include_recent_memories: bool,
    /// How many recent memories (`memoryLimit`, default 5), [0,1000].
    pub memory_limit: usize,
}

impl Default for PreCompactionHook {
    fn default() -> Self {
        Self {
            summary_guidelines: None,
            include_recent_memories: true,
            memory_limit: 5,
        }
    }
}

/// Hook behaviour (`hooks.*`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HooksSettings {
    /// `hooks.sessionStart`.
    pub session_start: SessionStartHook,
    /// `hooks.preCompaction`.
    pub pre_compaction: PreCompactionHook,
}

impl HooksSettings {
    pub(crate) fn parse(s: &Section<'_>, warnings: &mut Vec<String>) -> Result<Self, ConfigError> {
        let (start, pre) = (s.child("sessionStart")?, s.child("preCompaction")?);
        let (ds, dp) = (SessionStartHook::default(), PreCompactionHook::default());
        let session_start = SessionStartHook {
            recall_limit: start
                .int("recallLimit", 1..=1_000)?
                .unwrap_or(ds.recall_limit),
            candidate_pool_limit: start
                .int("candidatePoolLimit", 1..=10_000)?
                .unwrap_or(ds.candidate_pool_limit),
            include_identity: start
                .bool("includeIdentity")?
                .unwrap_or(ds.include_identity),
            max_inject_chars: start
                .int("maxInjectChars", 100..=1_000_000)?
                .unwrap_or(ds.max_inject_chars),
        };
        // Parsed but unused upstream.
        start.accept(&["includeRecentContext", "recencyBias", "query"]);
        let pre_compaction = PreCompactionHook {
            summary_guidelines: pre.string("summaryGuidelines")?.filter(|g| !g.is_empty()),
            include_recent_memories: pre
                .bool("includeRecentMemories")?
                .unwrap_or(dp.include_recent_memories),
            memory_limit: pre
                .int("memoryLimit", 0..=1_000)?
                .unwrap_or(dp.memory_limit),
        };
        start.finish(warnings);
        pre.finish(warnings);
        Ok(Self {
            session_start,
            pre_compaction,
        })
    }
}

/// Git auto-commit and sync of the workspace (`git.*`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GitSettings {
    /// Whether the workspace is versioned at all (default true).
    pub enabled: bool,
    /// Commit workspace changes automatically (default true).
    pub auto_commit: bool,
    /// Push and pull periodically (default true).
    pub auto_sync: bool,
    /// Seconds between syncs (`syncInterval`, default 300), [10,86400].
    pub sync_interval_secs: u64,
    /// Remote name (default `origin`).
    pub remote: String,
    /// Branch; `None` means auto-detect.
    pub branch: Option<String>,
}

impl Default for GitSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            auto_commit: true,
            auto_sync: true,
            sync_interval_secs: 300,
            remote: "origin".to_owned(),
            branch: None,
        }
    }
}

impl GitSettings {
    pub(crate) fn parse(s: &Section<'_>) -> Result<Self, ConfigError> {
        let d = Self::default();
        Ok(Self {
            enabled: s.bool("enabled")?.unwrap_or(d.enabled),
            auto_commit: s.bool("autoCommit")?.unwrap_or(d.auto_commit),
            auto_sync: s.bool("autoSync")?.unwrap_or(d.auto_sync),
            sync_interval_secs: s
                .int("syncInterval", 10..=86_400)?
                .unwrap_or(d.sync_interval_secs),
            remote: s
                .string("remote")?
                .filter(|r| !r.is_empty())
                .unwrap_or(d.remote),
            branch: s.string("branch")?.filter(|b| !b.is_empty()),
        })
    }
}

/// Release channel for self-update checks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum UpdateChannel {
    /// Stable releases (default).
    #[default]
    Latest,
    /// Pre-releases.
    Next,
}

/// Self-update checks (`updates.*`, or the alias `update.*`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateSettings {
    /// Install updates without asking (`autoInstall` / `auto_install`, default false).
    pub auto_install: bool,
    /// Seconds between checks (`checkInterval` / `check_interval`, default 21600), [300,604800].
    pub check_interval_secs: u64,
    /// Release channel (`channel`).
    pub channel: UpdateChannel,
}

impl Default for UpdateSettings {
    fn default() -> Self {
        Self {
            auto_install: false,
            check_interval_secs: 21_600,
            channel: UpdateChannel::Latest,
        }
    }
}

impl UpdateSettings {
    pub(crate) fn parse(s: &Section<'_>) -> Result<Self, ConfigError> {
        let d = Self::default();
        let snake_install = s.bool("auto_install")?;
        let snake_interval = s.int("check_interval", 300..=604_800)?;
        let channels = [
            ("latest", UpdateChannel::Latest),
            ("next", UpdateChannel::Next),
        ];
        Ok(Self {
            auto_install: s
                .bool("autoInstall")?
                .or(snake_install)
                .unwrap_or(d.auto_install),
            check_interval_secs: s
                .int("checkInterval", 300..=604_800)?
                .or(snake_interval)
                .unwrap_or(d.check_interval_secs),
            channel: s.choice("channel", &channels)?.unwrap_or(d.channel),
        })
    }
}

/// Feature flags (`features.<name>: bool`), served by `GET /api/features`.
pub(crate) fn parse_features(s: &Section<'_>) -> Result<BTreeMap<String, bool>, ConfigError> {
    let mut features = BTreeMap::new();
    for name in s.keys() {
        if let Some(enabled) = s.bool(name)? {
            features.insert(name.clone(), enabled);
        }
    }
    Ok(features)
}
