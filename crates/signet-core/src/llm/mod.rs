//! LLM providers for the memory pipeline (extraction, decisions, summaries).
//!
//! One trait, [`LlmProvider`], over the HTTP providers ([`Ollama`], [`OpenAi`], [`Anthropic`])
//! and [`NoProvider`]; [`Resilient`] wraps any of them with retries on retryable errors and a
//! circuit breaker. Providers make exactly one request per call; retrying is the wrapper's job.
//! Keys are [`Secret`]s and never appear in `Debug` output.

pub mod anthropic;
mod build;
pub mod cli;
mod http;
pub mod ollama;
pub mod openai;
pub mod opencode;
mod resilient;
#[cfg(test)]
mod tests;

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use serde_json::Value;

pub use anthropic::{ANTHROPIC_VERSION, Anthropic, resolve_anthropic_model};
pub use build::{
    CODEX_DEFAULT_MODEL, OLLAMA_DEFAULT_MODEL, pipeline_provider, provider_from, quick_unusable,
    request_timeout,
};
pub use cli::{ClaudeCode, Codex};
pub use ollama::Ollama;
pub use openai::OpenAi;
pub use opencode::{Opencode, split_model};
pub use resilient::{Breaker, Clock, Resilient, RetryPolicy, SystemClock};

use crate::config::{EnvVars, Secret};

/// A boxed, sendable future (the trait stays object-safe without `async-trait`).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Default per-call timeout (upstream's `extraction.timeout` default, 90 s).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(90);

/// One completion request.
#[derive(Clone, Debug, PartialEq)]
pub struct LlmRequest {
    /// The whole prompt, sent as one user message.
    pub prompt: String,
    /// A JSON schema the output must follow, where the API can constrain output to one.
    pub schema: Option<Value>,
    /// Upper bound on generated tokens (`None`: the provider's default).
    pub max_tokens: Option<u32>,
    /// Deadline of this one request, connection included.
    pub timeout: Duration,
}

impl LlmRequest {
    /// A request for `prompt` with no schema, no token bound and [`DEFAULT_TIMEOUT`].
    pub fn new(prompt: impl Into<String>) -> Self {
        Self {
            prompt: prompt.into(),
            schema: None,
            max_tokens: None,
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// Constrains the output to `schema`.
    pub fn with_schema(mut self, schema: Value) -> Self {
        self.schema = Some(schema);
        self
    }

    /// Bounds the output to `max_tokens`.
    pub fn with_max_tokens(mut self, max_tokens: u32) -> Self {
        self.max_tokens = Some(max_tokens);
        self
    }

    /// Sets the per-call timeout.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
}

/// Tokens a call consumed, as the API reported them (0 when it reported none).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Usage {
    /// Prompt tokens.
    pub input_tokens: u64,
    /// Generated tokens.
    pub output_tokens: u64,
}

/// A completed call: what the cost ledger records beside the provider and model.
#[derive(Clone, Debug, PartialEq)]
pub struct LlmResponse {
    /// The generated text, as the API returned it (see [`strip_think`]).
    pub text: String,
    /// Token usage.
    pub usage: Usage,
    /// Wall time of the request.
    pub duration: Duration,
}

/// Why a call failed, and whether asking again could help ([`LlmError::is_retryable`]).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LlmError {
    /// The request did not complete within its timeout.
    #[error("{provider} timed out after {ms} ms")]
    Timeout { provider: String, ms: u128 },
    /// The provider could not be reached, or the connection broke.
    #[error("{provider} unreachable: {message}")]
    Connect { provider: String, message: String },
    /// The provider answered with an error status.
    #[error("{provider} answered {status}: {body}")]
    Status {
        provider: String,
        status: u16,
        body: String,
    },
    /// The provider answered 2xx with a body that is not its API's shape.
    #[error("{provider} sent a malformed response: {message}")]
    Malformed { provider: String, message: String },
    /// A CLI provider could not be started, exited non-zero, or printed nothing usable.
    #[error("{provider} failed: {message}")]
    Process { provider: String, message: String },
    /// The provider is `none`: the pipeline makes no LLM calls.
    #[error("no LLM provider is configured (provider: none)")]
    Disabled,
    /// The circuit breaker is open after repeated failures; no request was made.
    #[error("{provider} is failing; circuit open for another {} ms", retry_in.as_millis())]
    CircuitOpen {
        provider: String,
        retry_in: Duration,
    },
}

impl LlmError {
    /// Timeouts, network errors, 408, 429 and 5xx (529 included) may succeed on a retry;
    /// other 4xx, malformed bodies, `Disabled` and `CircuitOpen` will not.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Timeout { .. } | Self::Connect { .. } => true,
            Self::Status { status, .. } => is_retryable_status(*status),
            Self::Malformed { .. }
            | Self::Process { .. }
            | Self::Disabled
            | Self::CircuitOpen { .. } => false,
        }
    }
}

/// 408, 429 and every 5xx.
pub fn is_retryable_status(status: u16) -> bool {
    status == 408 || status == 429 || (500..600).contains(&status)
}

/// A language model behind an API.
pub trait LlmProvider: Send + Sync {
    /// The provider's config name (`ollama`, `openai`, `anthropic`, `none`).
    fn name(&self) -> &str;
    /// The model it calls.
    fn model(&self) -> &str;
    /// Sends one request (no retries).
    fn complete<'a>(&'a self, req: &'a LlmRequest) -> BoxFuture<'a, Result<LlmResponse, LlmError>>;
}

/// `provider: none`: every call fails with [`LlmError::Disabled`] and touches no network.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoProvider;

impl LlmProvider for NoProvider {
    fn name(&self) -> &str {
        "none"
    }
    fn model(&self) -> &str {
        ""
    }
    fn complete<'a>(
        &'a self,
        _req: &'a LlmRequest,
    ) -> BoxFuture<'a, Result<LlmResponse, LlmError>> {
        Box::pin(async { Err(LlmError::Disabled) })
    }
}

/// Removes `<think>…</think>` blocks (reasoning models emit them before the answer), and an
/// unclosed trailing `<think>` with everything after it; trims the result.
pub fn strip_think(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("<think>") {
        out.push_str(&rest[..start]);
        match rest[start..].find("</think>") {
            Some(end) => rest = &rest[start + end + "</think>".len()..],
            None => {
                rest = "";
                break;
            }
        }
    }
    out.push_str(rest);
    out.trim().to_owned()
}

/// The API key: the configured value (a literal, or `$NAME` / `$secret:NAME` read from the
/// environment), else `default_var` from the environment. Empty values count as absent.
pub fn resolve_key(
    configured: Option<&Secret>,
    env: &EnvVars,
    default_var: &str,
) -> Option<Secret> {
    match configured.map(Secret::expose) {
        Some(k) if k.starts_with('$') => {
            let name = k.trim_start_matches('$').trim_start_matches("secret:");
            env.non_empty(name).map(Secret::new)
        }
        Some(k) if !k.is_empty() => Some(Secret::new(k)),
        _ => env.non_empty(default_var).map(Secret::new),
    }
}
