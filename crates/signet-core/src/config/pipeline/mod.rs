//! `memory.pipelineV2`: the extraction pipeline and the workers around it.
//!
//! [`PipelineSettings`] and the alias readers live here; its subsections by what they
//! configure: `extraction` (the LLM), `workers` (job worker, embedding tracker, documents),
//! `recall` (graph boost, reranker), `limits` (content guardrails, repair budgets), and
//! `unread` (keys upstream defines that nothing here reads yet, validated all the same).
//!
//! Most keys have a nested form (`worker.pollMs`) and a flat alias directly under
//! `pipelineV2` (`workerPollMs`). As upstream, the nested form wins, except for
//! `extraction.provider` / `extraction.strength`, where the flat key wins. Ranges are
//! upstream's clamps, but a value outside them is refused instead of clamped.

use serde::Serialize;

use super::ConfigError;
use super::section::Section;

mod extraction;
mod limits;
mod recall;
mod unread;
mod workers;

pub use extraction::{ExtractionProvider, ExtractionSettings, ExtractionStrength};
pub use limits::{BudgetSettings, GuardrailSettings, RepairSettings};
pub use recall::{GraphSettings, RerankerSettings};
pub use workers::{DocumentSettings, EmbeddingTrackerSettings, WorkerSettings};

/// Where LLM and embedding calls may go (`memory.pipelineV2.privacy`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Privacy {
    /// Any configured provider (default).
    #[default]
    Any,
    /// Only providers on this host: config load refuses an extraction or embedding provider
    /// whose endpoint is not loopback, and the cloud ones (`claude-code`, `codex`,
    /// `anthropic`, `opencode` with a non-`ollama` model).
    LocalOnly,
}

const PRIVACY: [(&str, Privacy); 2] = [("any", Privacy::Any), ("local-only", Privacy::LocalOnly)];

/// Pipeline settings (`memory.pipelineV2`); when the block is absent everything is default.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PipelineSettings {
    /// Master switch for extraction and the workers (`enabled`, default true).
    pub enabled: bool,
    /// Run extraction but do not apply its decisions (`shadowMode`).
    pub shadow_mode: bool,
    /// Refuse every pipeline-driven write (`mutationsFrozen`).
    pub mutations_frozen: bool,
    /// `privacy` (`any` | `local-only`, default any): whether providers must be on this host.
    pub privacy: Privacy,
    /// Extraction LLM.
    pub extraction: ExtractionSettings,
    /// Job queue worker.
    pub worker: WorkerSettings,
    /// Knowledge-graph boost in recall.
    pub graph: GraphSettings,
    /// Embedding reranker in recall.
    pub reranker: RerankerSettings,
    /// Content size limits.
    pub guardrails: GuardrailSettings,
    /// Background re-embedding of memories without a current vector.
    pub embedding_tracker: EmbeddingTrackerSettings,
    /// Document ingestion worker.
    pub documents: DocumentSettings,
    /// Cooldowns and budgets of repair actions.
    pub repair: RepairSettings,
    /// `autonomous.enabled` (flat `autonomousEnabled`, default true): agents may trigger
    /// repairs (and, later, the maintenance worker runs).
    pub autonomous_enabled: bool,
    /// `autonomous.frozen` (flat `autonomousFrozen`, default false): repairs are refused.
    pub autonomous_frozen: bool,
    /// `continuity.recoveryBudgetChars` (default 2000, [200,10000]): characters of the
    /// checkpoint session start recovers.
    pub recovery_budget_chars: usize,
    /// `autonomous.allowUpdateDelete` (flat `allowUpdateDelete`, default true): the pipeline
    /// may apply update and delete decisions (else they are recorded, blocked).
    pub allow_update_delete: bool,
    /// `semanticContradictionEnabled` (default true): an update whose target shares words with
    /// the fact is checked by the LLM for a contradiction, which blocks it.
    pub semantic_contradiction: bool,
    /// `semanticContradictionTimeoutMs` (default 45000, [5000,300000]).
    pub semantic_contradiction_timeout_ms: u64,
    /// The LLM cost ceiling (`budget`).
    pub budget: BudgetSettings,
}

impl Default for PipelineSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            shadow_mode: false,
            mutations_frozen: false,
            privacy: Privacy::Any,
            extraction: ExtractionSettings::default(),
            worker: WorkerSettings::default(),
            graph: GraphSettings::default(),
            reranker: RerankerSettings::default(),
            guardrails: GuardrailSettings::default(),
            embedding_tracker: EmbeddingTrackerSettings::default(),
            documents: DocumentSettings::default(),
            repair: RepairSettings::default(),
            autonomous_enabled: true,
            autonomous_frozen: false,
            recovery_budget_chars: 2_000,
            allow_update_delete: true,
            semantic_contradiction: true,
            semantic_contradiction_timeout_ms: 45_000,
            budget: BudgetSettings::default(),
        }
    }
}

impl PipelineSettings {
    /// Parses `memory.pipelineV2` (`p`), pushing unknown-key warnings for it and its children.
    pub(crate) fn parse(p: &Section<'_>, warnings: &mut Vec<String>) -> Result<Self, ConfigError> {
        let d = Self::default();
        let parsed = Self {
            enabled: p.bool("enabled")?.unwrap_or(d.enabled),
            shadow_mode: p.bool("shadowMode")?.unwrap_or(d.shadow_mode),
            mutations_frozen: p.bool("mutationsFrozen")?.unwrap_or(d.mutations_frozen),
            privacy: p.choice("privacy", &PRIVACY)?.unwrap_or(d.privacy),
            extraction: ExtractionSettings::parse(p, warnings)?,
            worker: nested(p, "worker", warnings, WorkerSettings::parse)?,
            graph: nested(p, "graph", warnings, GraphSettings::parse)?,
            reranker: nested(p, "reranker", warnings, RerankerSettings::parse)?,
            guardrails: nested(p, "guardrails", warnings, GuardrailSettings::parse)?,
            embedding_tracker: nested(
                p,
                "embeddingTracker",
                warnings,
                EmbeddingTrackerSettings::parse,
            )?,
            documents: nested(p, "documents", warnings, DocumentSettings::parse)?,
            repair: nested(p, "repair", warnings, RepairSettings::parse)?,
            // Read without claiming the section: `unread` validates its other keys.
            autonomous_enabled: bool_alias(
                &p.child("autonomous")?,
                "enabled",
                p,
                "autonomousEnabled",
                d.autonomous_enabled,
            )?,
            autonomous_frozen: bool_alias(
                &p.child("autonomous")?,
                "frozen",
                p,
                "autonomousFrozen",
                d.autonomous_frozen,
            )?,
            // Read without claiming the section: `unread` validates its other keys.
            recovery_budget_chars: p
                .child("continuity")?
                .int("recoveryBudgetChars", 200..=10_000)?
                .unwrap_or(d.recovery_budget_chars),
            // Read without claiming the section: `unread` validates its other keys.
            allow_update_delete: bool_alias(
                &p.child("autonomous")?,
                "allowUpdateDelete",
                p,
                "allowUpdateDelete",
                d.allow_update_delete,
            )?,
            semantic_contradiction: p
                .bool("semanticContradictionEnabled")?
                .unwrap_or(d.semantic_contradiction),
            semantic_contradiction_timeout_ms: p
                .int("semanticContradictionTimeoutMs", 5_000..=300_000)?
                .unwrap_or(d.semantic_contradiction_timeout_ms),
            budget: nested(p, "budget", warnings, BudgetSettings::parse)?,
        };
        unread::check_pipeline(p, warnings)?;
        Ok(parsed)
    }
}

/// Parses the subsection `key` of `p` with `parse(nested, flat)` and checks it for unknown keys.
fn nested<T>(
    p: &Section<'_>,
    key: &str,
    warnings: &mut Vec<String>,
    parse: impl FnOnce(&Section<'_>, &Section<'_>) -> Result<T, ConfigError>,
) -> Result<T, ConfigError> {
    let section = p.child(key)?;
    let parsed = parse(&section, p)?;
    section.finish(warnings);
    Ok(parsed)
}

/// The first non-empty string among `(section, key)` candidates; all are validated.
fn first_non_empty(candidates: &[(&Section<'_>, &str)]) -> Result<Option<String>, ConfigError> {
    let mut found = None;
    for (section, key) in candidates {
        let value = section.string(key)?.filter(|v| !v.is_empty());
        found = found.or(value);
    }
    Ok(found)
}

/// A bool from the nested key, else the flat alias, else `default`.
pub(crate) fn bool_alias(
    n: &Section<'_>,
    key: &str,
    flat: &Section<'_>,
    flat_key: &str,
    default: bool,
) -> Result<bool, ConfigError> {
    let flat_value = flat.bool(flat_key)?;
    Ok(n.bool(key)?.or(flat_value).unwrap_or(default))
}

/// An integer from the nested key, else the flat alias, else `default`.
pub(crate) fn int_alias<T: TryFrom<u64>>(
    n: &Section<'_>,
    key: &str,
    flat: &Section<'_>,
    flat_key: &str,
    range: std::ops::RangeInclusive<u64>,
    default: T,
) -> Result<T, ConfigError> {
    let flat_value = flat.int(flat_key, range.clone())?;
    Ok(n.int(key, range)?.or(flat_value).unwrap_or(default))
}

/// A float from the nested key, else the flat alias, else `default`.
pub(crate) fn float_alias(
    n: &Section<'_>,
    key: &str,
    flat: &Section<'_>,
    flat_key: &str,
    range: std::ops::RangeInclusive<f64>,
    default: f64,
) -> Result<f64, ConfigError> {
    let flat_value = flat.float(flat_key, range.clone())?;
    Ok(n.float(key, range)?.or(flat_value).unwrap_or(default))
}
