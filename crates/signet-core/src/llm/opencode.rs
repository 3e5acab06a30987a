//! The opencode HTTP server: `POST /session {title}` → `id` (cached), then
//! `POST /session/<id>/message {parts:[{type:"text",text}], model:{providerID, modelID}}`.
//! A 404 or 410 on the message means the session is gone: a new one is made and the message
//! sent once more. A reply without assistant text is followed by reading
//! `GET /session/<id>/message` every 250 ms for up to min(timeout, 20 s).

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::http::{client, malformed, send_json, tokens};
use super::{BoxFuture, LlmError, LlmProvider, LlmRequest, LlmResponse, Usage};

/// The default (managed, local) server.
pub const DEFAULT_BASE_URL: &str = "http://127.0.0.1:4096";

/// Upstream's default model.
pub const DEFAULT_MODEL: &str = "anthropic/claude-haiku-4-5-20251001";

/// How often, and for how long at most, the session is read when the reply has no answer.
const POLL_EVERY: Duration = Duration::from_millis(250);
const MAX_POLL: Duration = Duration::from_secs(20);

/// The title of the sessions it opens.
const SESSION_TITLE: &str = "signet-extraction";

/// An opencode server.
#[derive(Debug)]
pub struct Opencode {
    base: String,
    model: String,
    provider_id: String,
    model_id: String,
    session: Mutex<Option<String>>,
    http: reqwest::Client,
}

/// `provider/model` split at the first `/`; a name without one is the whole model id with
/// an empty provider.
pub fn split_model(model: &str) -> (&str, &str) {
    model.split_once('/').unwrap_or(("", model))
}

impl Opencode {
    /// A provider for `model` (`providerID/modelID`) at `base_url`.
    pub fn new(base_url: &str, model: &str) -> Self {
        let (provider_id, model_id) = split_model(model);
        Self {
            base: base_url.trim_end_matches('/').to_owned(),
            model: model.to_owned(),
            provider_id: provider_id.to_owned(),
            model_id: model_id.to_owned(),
            session: Mutex::new(None),
            http: client(),
        }
    }

    fn cached(&self) -> Option<String> {
        self.session
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn remember(&self, id: Option<String>) {
        *self.session.lock().unwrap_or_else(PoisonError::into_inner) = id;
    }

    async fn session(&self, timeout: Duration) -> Result<String, LlmError> {
        if let Some(id) = self.cached() {
            return Ok(id);
        }
        let url = format!("{}/session", self.base);
        let body = json!({ "title": SESSION_TITLE });
        let (v, _) = send_json("opencode", self.http.post(url).json(&body), timeout).await?;
        let id = v["id"]
            .as_str()
            .filter(|id| !id.is_empty())
            .ok_or_else(|| malformed("opencode", "no id in the session reply"))?
            .to_owned();
        self.remember(Some(id.clone()));
        Ok(id)
    }

    async fn message(&self, session: &str, req: &LlmRequest) -> Result<LlmResponse, LlmError> {
        let started = Instant::now();
        let body = json!({
            "parts": [{"type": "text", "text": req.prompt}],
            "model": {"providerID": self.provider_id, "modelID": self.model_id},
        });
        let url = format!("{}/session/{session}/message", self.base);
        let (v, _) = send_json("opencode", self.http.post(&url).json(&body), req.timeout).await?;
        if !v["parts"].is_array() {
            return Err(malformed("opencode", "no parts in the message reply"));
        }
        if let Some((text, usage)) = assistant_text(&v) {
            return Ok(LlmResponse {
                text,
                usage,
                duration: started.elapsed(),
            });
        }
        // The reply came back before the answer: read the session until it appears.
        let window = req.timeout.min(MAX_POLL);
        loop {
            if started.elapsed() + POLL_EVERY > window {
                return Err(malformed("opencode", "no assistant text in the reply"));
            }
            tokio::time::sleep(POLL_EVERY).await;
            let (list, _) = send_json("opencode", self.http.get(&url), req.timeout).await?;
            let answer = list
                .as_array()
                .into_iter()
                .flatten()
                .rev()
                .filter(|m| m["info"]["role"] == "assistant")
                .find_map(assistant_text);
            if let Some((text, usage)) = answer {
                return Ok(LlmResponse {
                    text,
                    usage,
                    duration: started.elapsed(),
                });
            }
        }
    }

    async fn call(&self, req: &LlmRequest) -> Result<LlmResponse, LlmError> {
        let id = self.session(req.timeout).await?;
        match self.message(&id, req).await {
            Err(LlmError::Status { status, .. }) if status == 404 || status == 410 => {
                self.remember(None);
                let id = self.session(req.timeout).await?;
                self.message(&id, req).await
            }
            other => other,
        }
    }
}

/// A message's text parts joined with `\n` and its usage (`info.tokens`); `None` without text.
fn assistant_text(v: &Value) -> Option<(String, Usage)> {
    let texts: Vec<&str> = v["parts"]
        .as_array()?
        .iter()
        .filter(|p| p["type"] == "text")
        .filter_map(|p| p["text"].as_str())
        .collect();
    if texts.is_empty() {
        return None;
    }
    let t = &v["info"]["tokens"];
    Some((
        texts.join("\n"),
        Usage {
            input_tokens: tokens(&t["input"]),
            output_tokens: tokens(&t["output"]),
        },
    ))
}

impl LlmProvider for Opencode {
    fn name(&self) -> &str {
        "opencode"
    }
    fn model(&self) -> &str {
        &self.model
    }
    fn complete<'a>(&'a self, req: &'a LlmRequest) -> BoxFuture<'a, Result<LlmResponse, LlmError>> {
        Box::pin(self.call(req))
    }
}
