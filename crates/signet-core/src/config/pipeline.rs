//! `memory.pipelineV2`: the extraction pipeline and the workers around it.
//!
//! Most keys have a nested form (`worker.pollMs`) and a flat alias directly under
//! `pipelineV2` (`workerPollMs`). As upstream, the nested form wins, except for
//! `extraction.provider` / `extraction.strength`, where the flat key wins. Ranges are
//! upstream's clamps, but a value outside them is refused instead of clamped.

use serde::Serialize;

use super::ConfigError;
use super::pipeline_extra;
use super::section::Section;

mod sections;

pub use sections::{
    DocumentSettings, EmbeddingTrackerSettings, GraphSettings, GuardrailSettings, RepairSettings,
    RerankerSettings, WorkerSettings,
};

/// Which LLM backend extracts facts from memories.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ExtractionProvider {
    /// A local Ollama server.
    Ollama,
    /// The `claude` CLI (upstream default).
    ClaudeCode,
    /// The `opencode` CLI.
    Opencode,
    /// The `codex` CLI.
    Codex,
    /// The Anthropic HTTP API.
    Anthropic,
    /// No extraction: the pipeline stays idle (the guide's recommended VPS setting).
    None,
}

impl ExtractionProvider {
    /// The config value (`ollama`, `claude-code`, ..., `none`).
    pub fn as_str(self) -> &'static str {
        EXTRACTION_PROVIDERS
            .iter()
            .find(|(_, p)| *p == self)
            .map_or("none", |(name, _)| name)
    }
}

const EXTRACTION_PROVIDERS: [(&str, ExtractionProvider); 6] = [
    ("ollama", ExtractionProvider::Ollama),
    ("claude-code", ExtractionProvider::ClaudeCode),
    ("opencode", ExtractionProvider::Opencode),
    ("codex", ExtractionProvider::Codex),
    ("anthropic", ExtractionProvider::Anthropic),
    ("none", ExtractionProvider::None),
];

/// How much effort extraction spends per memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ExtractionStrength {
    /// Upstream default.
    Low,
    /// Medium effort.
    Medium,
    /// High effort.
    High,
}

const STRENGTHS: [(&str, ExtractionStrength); 3] = [
    ("low", ExtractionStrength::Low),
    ("medium", ExtractionStrength::Medium),
    ("high", ExtractionStrength::High),
];

/// Extraction LLM settings (`extraction.*`, flat `extraction*`).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExtractionSettings {
    /// Backend (`provider` / `extractionProvider`, flat wins; default claude-code).
    pub provider: ExtractionProvider,
    /// Model, taken from the same form (nested or flat) as the provider (default `haiku`).
    pub model: String,
    /// Effort level (`strength` / `extractionStrength`, flat wins).
    pub strength: ExtractionStrength,
    /// Endpoint override (`endpoint` or `base_url` / `extractionEndpoint` or `extractionBaseUrl`).
    pub endpoint: Option<String>,
    /// Per-call timeout in ms (`timeout` / `extractionTimeout`), [5000,300000].
    pub timeout_ms: u64,
    /// Facts below this confidence are not written (`minConfidence` /
    /// `minFactConfidenceForWrite`), [0,1].
    pub min_confidence: f64,
}

impl Default for ExtractionSettings {
    fn default() -> Self {
        Self {
            provider: ExtractionProvider::ClaudeCode,
            model: "haiku".to_owned(),
            strength: ExtractionStrength::Low,
            endpoint: None,
            timeout_ms: 90_000,
            min_confidence: 0.7,
        }
    }
}

impl ExtractionSettings {
    fn parse(p: &Section<'_>, warnings: &mut Vec<String>) -> Result<Self, ConfigError> {
        let d = Self::default();
        let e = p.child("extraction")?;
        let (provider, model) = provider_and_model(p, &e)?;
        let nested_strength = e.choice("strength", &STRENGTHS)?;
        let strength = p
            .choice("extractionStrength", &STRENGTHS)?
            .or(nested_strength);
        let endpoint = first_non_empty(&[
            (&e, "endpoint"),
            (&e, "base_url"),
            (p, "extractionEndpoint"),
            (p, "extractionBaseUrl"),
        ])?;
        let parsed = Self {
            provider,
            model: model.unwrap_or(d.model),
            strength: strength.unwrap_or(d.strength),
            endpoint,
            timeout_ms: int_alias(
                &e,
                "timeout",
                p,
                "extractionTimeout",
                5_000..=300_000,
                d.timeout_ms,
            )?,
            min_confidence: float_alias(
                &e,
                "minConfidence",
                p,
                "minFactConfidenceForWrite",
                0.0..=1.0,
                d.min_confidence,
            )?,
        };
        pipeline_extra::check_escalation(&e, warnings)?;
        e.finish(warnings);
        Ok(parsed)
    }
}

/// The provider that wins (flat, then nested) and the model from the same form. A flat model
/// with no provider anywhere implies ollama, as upstream.
fn provider_and_model(
    p: &Section<'_>,
    e: &Section<'_>,
) -> Result<(ExtractionProvider, Option<String>), ConfigError> {
    let flat_provider = p.choice("extractionProvider", &EXTRACTION_PROVIDERS)?;
    let nested_provider = e.choice("provider", &EXTRACTION_PROVIDERS)?;
    let flat_model = p.string("extractionModel")?.filter(|m| !m.is_empty());
    let nested_model = e.string("model")?.filter(|m| !m.is_empty());
    Ok(match (flat_provider, nested_provider) {
        (Some(provider), _) => (provider, flat_model),
        (None, Some(provider)) => (provider, nested_model),
        (None, None) => match (nested_model, flat_model) {
            (Some(model), _) => (ExtractionProvider::ClaudeCode, Some(model)),
            (None, Some(model)) => (ExtractionProvider::Ollama, Some(model)),
            (None, None) => (ExtractionProvider::ClaudeCode, None),
        },
    })
}

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
}

impl Default for PipelineSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            shadow_mode: false,
            mutations_frozen: false,
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
            // Read without claiming the section: `pipeline_extra` validates its other keys.
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
        };
        pipeline_extra::check_pipeline(p, warnings)?;
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
