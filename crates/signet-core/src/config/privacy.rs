//! `memory.pipelineV2.privacy: local-only`: config load refuses any extraction or embedding
//! provider that would send memory text off this host.

use std::net::IpAddr;

use super::{ConfigError, EmbeddingProvider, ExtractionProvider, Privacy, Settings};
use crate::llm::{ollama, opencode, split_model};

/// Whether `url` is `http(s)://` to `localhost`, a 127.0.0.0/8 address or `::1`.
pub fn is_loopback_url(url: &str) -> bool {
    let Ok(url) = reqwest::Url::parse(url) else {
        return false;
    };
    let Some(host) = url.host_str() else {
        return false;
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

fn refuse(key: &str, message: String) -> ConfigError {
    ConfigError::Invalid {
        key: key.to_owned(),
        message: format!("{message}, but memory.pipelineV2.privacy is local-only"),
    }
}

/// Refuses, under `local-only`, the extraction and embedding providers that are not on this host.
pub(super) fn check(settings: &Settings) -> Result<(), ConfigError> {
    if settings.pipeline.privacy != Privacy::LocalOnly {
        return Ok(());
    }
    let x = &settings.pipeline.extraction;
    let endpoint_key = "memory.pipelineV2.extraction.endpoint";
    let local_endpoint = |default: Option<&str>| -> Result<(), ConfigError> {
        match x.endpoint.as_deref().or(default) {
            Some(url) if is_loopback_url(url) => Ok(()),
            Some(url) => Err(refuse(endpoint_key, format!("{url} is not on this host"))),
            None => Err(refuse(
                endpoint_key,
                "openai without an endpoint calls api.openai.com".to_owned(),
            )),
        }
    };
    match x.provider {
        ExtractionProvider::None => {}
        ExtractionProvider::Ollama => local_endpoint(Some(ollama::DEFAULT_BASE_URL))?,
        ExtractionProvider::Openai => local_endpoint(None)?,
        ExtractionProvider::Opencode => {
            local_endpoint(Some(opencode::DEFAULT_BASE_URL))?;
            let (provider_id, _) = split_model(&x.model);
            if provider_id != "ollama" {
                return Err(refuse(
                    "memory.pipelineV2.extraction.model",
                    format!(
                        "opencode forwards {} to a remote provider (only ollama/<model> stays local)",
                        x.model
                    ),
                ));
            }
        }
        p @ (ExtractionProvider::ClaudeCode
        | ExtractionProvider::Codex
        | ExtractionProvider::Anthropic) => {
            return Err(refuse(
                "memory.pipelineV2.extraction.provider",
                format!("{} sends memory text to a cloud API", p.as_str()),
            ));
        }
    }
    let e = &settings.embedding;
    match e.provider {
        EmbeddingProvider::Native | EmbeddingProvider::None => {}
        EmbeddingProvider::Ollama | EmbeddingProvider::Openai => {
            if !is_loopback_url(&e.base_url) {
                return Err(refuse(
                    "embedding.base_url",
                    format!("the embedding endpoint {} is not on this host", e.base_url),
                ));
            }
        }
    }
    Ok(())
}
