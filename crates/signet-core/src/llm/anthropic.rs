//! The Anthropic Messages API: `POST <base>/v1/messages` with `x-api-key` and
//! `anthropic-version`. No schema is sent (as upstream); callers parse the text tolerantly.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::Semaphore;

use super::http::{client, malformed, send_json, tokens};
use super::{BoxFuture, LlmError, LlmProvider, LlmRequest, LlmResponse, Usage};
use crate::config::Secret;

/// The default base URL.
pub const DEFAULT_BASE_URL: &str = "https://api.anthropic.com";

/// The `anthropic-version` header sent with every request.
pub const ANTHROPIC_VERSION: &str = "2023-06-01";

/// `max_tokens` when the request sets none (the API requires one).
const DEFAULT_MAX_TOKENS: u32 = 4096;

/// Upstream's model aliases; any other name is sent as given.
pub fn resolve_anthropic_model(model: &str) -> &str {
    match model {
        "haiku" => "claude-haiku-4-5-20251001",
        "sonnet" => "claude-sonnet-4-5-20250514",
        "opus" => "claude-opus-4-5-20250514",
        other => other,
    }
}

/// The Anthropic API.
#[derive(Clone, Debug)]
pub struct Anthropic {
    base: String,
    model: String,
    /// Redacted in `Debug`.
    key: Secret,
    /// Shared with the CLI providers (upstream's one LLM concurrency cap), when set.
    permits: Option<Arc<Semaphore>>,
    http: reqwest::Client,
}

impl Anthropic {
    /// A provider for `model` (aliases resolved) at `base_url` (e.g. `https://api.anthropic.com`).
    pub fn new(base_url: &str, model: &str, key: Secret) -> Self {
        Self {
            base: base_url.trim_end_matches('/').to_owned(),
            model: resolve_anthropic_model(model).to_owned(),
            key,
            permits: None,
            http: client(),
        }
    }

    /// Holds a permit of `permits` for each call (upstream: the CLIs' semaphore,
    /// `SIGNET_MAX_LLM_CONCURRENCY`).
    pub fn with_semaphore(mut self, permits: Arc<Semaphore>) -> Self {
        self.permits = Some(permits);
        self
    }

    async fn messages(&self, req: &LlmRequest) -> Result<LlmResponse, LlmError> {
        let _permit = match &self.permits {
            Some(p) => Some(p.acquire().await.map_err(|e| malformed("anthropic", e))?),
            None => None,
        };
        let body = json!({
            "model": self.model,
            "max_tokens": req.max_tokens.unwrap_or(DEFAULT_MAX_TOKENS),
            "messages": [{"role": "user", "content": req.prompt}],
        });
        let http = self
            .http
            .post(format!("{}/v1/messages", self.base))
            .header("x-api-key", self.key.expose())
            .header("anthropic-version", ANTHROPIC_VERSION)
            .json(&body);
        let (v, duration) = send_json("anthropic", http, req.timeout).await?;
        parse(&v, duration)
    }
}

/// Text blocks joined with `\n`; an answer with none is malformed (not retried, as upstream).
fn parse(v: &Value, duration: Duration) -> Result<LlmResponse, LlmError> {
    let blocks = v["content"]
        .as_array()
        .ok_or_else(|| malformed("anthropic", "no content"))?;
    let texts: Vec<&str> = blocks
        .iter()
        .filter(|b| b["type"] == "text")
        .filter_map(|b| b["text"].as_str())
        .collect();
    if texts.is_empty() {
        return Err(malformed("anthropic", "no text block in content"));
    }
    Ok(LlmResponse {
        text: texts.join("\n"),
        usage: Usage {
            input_tokens: tokens(&v["usage"]["input_tokens"]),
            output_tokens: tokens(&v["usage"]["output_tokens"]),
        },
        duration,
    })
}

impl LlmProvider for Anthropic {
    fn name(&self) -> &str {
        "anthropic"
    }
    fn model(&self) -> &str {
        &self.model
    }
    fn complete<'a>(&'a self, req: &'a LlmRequest) -> BoxFuture<'a, Result<LlmResponse, LlmError>> {
        Box::pin(self.messages(req))
    }
}
