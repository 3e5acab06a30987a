//! The `embedding` section of `agent.yaml` (or its aliases `memory.embeddings` /
//! `embeddings`): which provider computes vectors, and its API key, kept as a [`Secret`].

use std::fmt;

use serde::{Serialize, Serializer};

use super::ConfigError;
use super::section::Section;

/// A secret string (an API key or a `$secret:NAME` / `op://...` reference).
///
/// `Debug` and `Serialize` print `[redacted]`; only [`Secret::expose`] gives the value.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret value itself; callers must not log it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str("[redacted]")
    }
}

/// Which embedding backend computes vectors.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EmbeddingProvider {
    /// The in-process model (upstream default).
    Native,
    /// An Ollama server.
    Ollama,
    /// An OpenAI-compatible `/embeddings` endpoint.
    Openai,
    /// Embeddings disabled; recall is keyword-only.
    None,
}

/// Embedding provider settings (`embedding`, or the aliases `memory.embeddings` / `embeddings`).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EmbeddingSettings {
    /// Backend. Unlike upstream, an unknown provider is an error rather than "openai-compatible".
    pub provider: EmbeddingProvider,
    /// Model name sent to the provider.
    pub model: String,
    /// Vector width; must match the model.
    pub dimensions: usize,
    /// Provider endpoint (`base_url` or `endpoint`); when unset, the provider's default
    /// (`http://localhost:11434` for ollama, `https://api.openai.com/v1` for openai, "" otherwise).
    pub base_url: String,
    /// API key, literal or a secret reference, resolved by the embedding provider.
    pub api_key: Option<Secret>,
}

impl Default for EmbeddingSettings {
    fn default() -> Self {
        Self {
            provider: EmbeddingProvider::Native,
            model: "nomic-embed-text-v1.5".to_owned(),
            dimensions: 768,
            base_url: String::new(),
            api_key: None,
        }
    }
}

const EMBEDDING_PROVIDERS: [(&str, EmbeddingProvider); 4] = [
    ("native", EmbeddingProvider::Native),
    ("ollama", EmbeddingProvider::Ollama),
    ("openai", EmbeddingProvider::Openai),
    ("none", EmbeddingProvider::None),
];

impl EmbeddingSettings {
    /// Parses one embedding block (whichever alias was chosen by the caller).
    pub(crate) fn parse(s: &Section<'_>) -> Result<Self, ConfigError> {
        let defaults = Self::default();
        let provider = s
            .choice("provider", &EMBEDDING_PROVIDERS)?
            .unwrap_or(defaults.provider);
        let base_url = match s.string("base_url")?.filter(|u| !u.is_empty()) {
            Some(url) => Some(url),
            None => s.string("endpoint")?.filter(|u| !u.is_empty()),
        };
        Ok(Self {
            provider,
            model: s
                .string("model")?
                .filter(|m| !m.is_empty())
                .unwrap_or(defaults.model),
            dimensions: s
                .int("dimensions", 1..=65_536)?
                .unwrap_or(defaults.dimensions),
            base_url: base_url.unwrap_or_else(|| default_base_url(provider).to_owned()),
            api_key: s.string("api_key")?.filter(|k| !k.is_empty()).map(Secret),
        })
    }
}

fn default_base_url(provider: EmbeddingProvider) -> &'static str {
    match provider {
        EmbeddingProvider::Ollama => "http://localhost:11434",
        EmbeddingProvider::Openai => "https://api.openai.com/v1",
        EmbeddingProvider::Native | EmbeddingProvider::None => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_is_redacted_in_debug_and_json() {
        let settings = EmbeddingSettings {
            api_key: Some(Secret::new("sk-live-123")),
            ..Default::default()
        };
        assert!(!format!("{settings:?}").contains("sk-live-123"));
        assert!(
            !serde_json::to_string(&settings)
                .unwrap()
                .contains("sk-live-123")
        );
        assert_eq!(settings.api_key.unwrap().expose(), "sk-live-123");
    }
}
