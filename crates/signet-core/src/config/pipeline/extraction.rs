//! `memory.pipelineV2.extraction` (and its flat `extraction*` aliases): the LLM that extracts
//! facts from memories. Unlike the other subsections, the flat provider and strength win
//! over the nested ones, as upstream.

use serde::Serialize;

use super::{first_non_empty, float_alias, int_alias};
use crate::config::section::Section;
use crate::config::{ConfigError, Secret};

/// Which LLM backend extracts facts from memories.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ExtractionProvider {
    /// A local Ollama server.
    Ollama,
    /// The `claude` CLI (upstream default).
    ClaudeCode,
    /// The `opencode` HTTP server (`opencode serve`).
    Opencode,
    /// The `codex` CLI.
    Codex,
    /// The Anthropic HTTP API.
    Anthropic,
    /// Any OpenAI-compatible `/chat/completions` endpoint (not upstream's; a local vLLM,
    /// llama.cpp or LM Studio server as much as OpenAI itself).
    Openai,
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

const EXTRACTION_PROVIDERS: [(&str, ExtractionProvider); 7] = [
    ("ollama", ExtractionProvider::Ollama),
    ("claude-code", ExtractionProvider::ClaudeCode),
    ("opencode", ExtractionProvider::Opencode),
    ("codex", ExtractionProvider::Codex),
    ("anthropic", ExtractionProvider::Anthropic),
    ("openai", ExtractionProvider::Openai),
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
    /// API key for `anthropic` / `openai` (`apiKey` or `api_key`): a literal, or `$NAME` /
    /// `$secret:NAME` read from the environment; when unset, `ANTHROPIC_API_KEY` /
    /// `OPENAI_API_KEY`.
    pub api_key: Option<Secret>,
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
            api_key: None,
            timeout_ms: 90_000,
            min_confidence: 0.7,
        }
    }
}

impl ExtractionSettings {
    pub(super) fn parse(p: &Section<'_>, warnings: &mut Vec<String>) -> Result<Self, ConfigError> {
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
        let api_key = first_non_empty(&[(&e, "apiKey"), (&e, "api_key")])?.map(Secret::new);
        let parsed = Self {
            provider,
            model: model.unwrap_or(d.model),
            strength: strength.unwrap_or(d.strength),
            endpoint,
            api_key,
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
        super::unread::check_escalation(&e, warnings)?;
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
