//! Any OpenAI-compatible `POST <base>/chat/completions` (OpenAI, vLLM, llama.cpp, LM Studio),
//! the schema as `response_format: json_schema`, the key as a bearer token.

use std::time::Duration;

use serde_json::{Value, json};

use super::http::{client, malformed, send_json, tokens};
use super::{BoxFuture, LlmError, LlmProvider, LlmRequest, LlmResponse, Usage};
use crate::config::Secret;

/// The default base URL (it includes the `/v1`).
pub const DEFAULT_BASE_URL: &str = "https://api.openai.com/v1";

/// An OpenAI-compatible endpoint.
#[derive(Clone, Debug)]
pub struct OpenAi {
    base: String,
    model: String,
    /// Redacted in `Debug`.
    key: Option<Secret>,
    http: reqwest::Client,
}

impl OpenAi {
    /// A provider for `model` at `base_url` (e.g. `https://api.openai.com/v1`); local servers
    /// often need no key.
    pub fn new(base_url: &str, model: &str, key: Option<Secret>) -> Self {
        Self {
            base: base_url.trim_end_matches('/').to_owned(),
            model: model.to_owned(),
            key,
            http: client(),
        }
    }

    async fn chat(&self, req: &LlmRequest) -> Result<LlmResponse, LlmError> {
        let mut body = json!({
            "model": self.model,
            "messages": [{"role": "user", "content": req.prompt}],
        });
        if let Some(schema) = &req.schema {
            body["response_format"] = json!({
                "type": "json_schema",
                "json_schema": {"name": "response", "schema": schema},
            });
        }
        if let Some(n) = req.max_tokens {
            body["max_tokens"] = json!(n);
        }
        let url = format!("{}/chat/completions", self.base);
        let mut http = self.http.post(url).json(&body);
        if let Some(k) = &self.key {
            http = http.bearer_auth(k.expose());
        }
        let (v, duration) = send_json("openai", http, req.timeout).await?;
        parse(&v, duration)
    }
}

fn parse(v: &Value, duration: Duration) -> Result<LlmResponse, LlmError> {
    let text = v["choices"][0]["message"]["content"]
        .as_str()
        .ok_or_else(|| malformed("openai", "no choices[0].message.content"))?;
    Ok(LlmResponse {
        text: text.to_owned(),
        usage: Usage {
            input_tokens: tokens(&v["usage"]["prompt_tokens"]),
            output_tokens: tokens(&v["usage"]["completion_tokens"]),
        },
        duration,
    })
}

impl LlmProvider for OpenAi {
    fn name(&self) -> &str {
        "openai"
    }
    fn model(&self) -> &str {
        &self.model
    }
    fn complete<'a>(&'a self, req: &'a LlmRequest) -> BoxFuture<'a, Result<LlmResponse, LlmError>> {
        Box::pin(self.chat(req))
    }
}
