//! Ollama: `POST /api/chat` (`stream: false`, the schema as `format`) and `GET /api/tags`.

use std::time::Duration;

use serde_json::{Value, json};

use super::http::{client, malformed, send_json, tokens};
use super::{BoxFuture, LlmError, LlmProvider, LlmRequest, LlmResponse, Usage};

/// The default base URL.
pub const DEFAULT_BASE_URL: &str = "http://127.0.0.1:11434";

/// Timeout of the `/api/tags` check (upstream's `available()`).
const TAGS_TIMEOUT: Duration = Duration::from_secs(3);

/// An Ollama server.
#[derive(Clone, Debug)]
pub struct Ollama {
    base: String,
    model: String,
    http: reqwest::Client,
}

impl Ollama {
    /// A provider for `model` at `base_url` (e.g. `http://127.0.0.1:11434`).
    pub fn new(base_url: &str, model: &str) -> Self {
        Self {
            base: base_url.trim_end_matches('/').to_owned(),
            model: model.to_owned(),
            http: client(),
        }
    }

    /// Whether the model is pulled: `GET /api/tags` lists it (`name` or `name:latest`).
    pub async fn model_present(&self) -> Result<bool, LlmError> {
        let url = format!("{}/api/tags", self.base);
        let (v, _) = send_json("ollama", self.http.get(url), TAGS_TIMEOUT).await?;
        let models = v["models"]
            .as_array()
            .ok_or_else(|| malformed("ollama", "no models in /api/tags"))?;
        let wanted = self.model.strip_suffix(":latest").unwrap_or(&self.model);
        Ok(models.iter().any(|m| {
            [&m["name"], &m["model"]].iter().any(|n| {
                n.as_str()
                    .is_some_and(|n| n.strip_suffix(":latest").unwrap_or(n) == wanted)
            })
        }))
    }

    async fn chat(&self, req: &LlmRequest) -> Result<LlmResponse, LlmError> {
        let mut body = json!({
            "model": self.model,
            "messages": [{"role": "user", "content": req.prompt}],
            "stream": false,
        });
        if let Some(schema) = &req.schema {
            body["format"] = schema.clone();
        }
        if let Some(n) = req.max_tokens {
            body["options"] = json!({ "num_predict": n });
        }
        let url = format!("{}/api/chat", self.base);
        let (v, duration) =
            send_json("ollama", self.http.post(url).json(&body), req.timeout).await?;
        parse(&v, duration)
    }
}

fn parse(v: &Value, duration: Duration) -> Result<LlmResponse, LlmError> {
    let text = v["message"]["content"]
        .as_str()
        .ok_or_else(|| malformed("ollama", "no message.content"))?;
    Ok(LlmResponse {
        text: text.to_owned(),
        usage: Usage {
            input_tokens: tokens(&v["prompt_eval_count"]),
            output_tokens: tokens(&v["eval_count"]),
        },
        duration,
    })
}

impl LlmProvider for Ollama {
    fn name(&self) -> &str {
        "ollama"
    }
    fn model(&self) -> &str {
        &self.model
    }
    fn complete<'a>(&'a self, req: &'a LlmRequest) -> BoxFuture<'a, Result<LlmResponse, LlmError>> {
        Box::pin(self.chat(req))
    }
}
