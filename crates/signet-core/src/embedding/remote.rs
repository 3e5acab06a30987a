//! HTTP embedding providers: Ollama (`/api/embed`, falling back to `/api/embeddings`) and any
//! OpenAI-compatible `/embeddings` endpoint (OpenAI, llama.cpp server, vLLM, LM Studio, TEI).

use std::time::Duration;

use serde_json::{Value, json};

use super::{BoxFuture, EmbedError, Embedder};

/// Per-request timeout of a provider call.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(REQUEST_TIMEOUT)
        .connect_timeout(Duration::from_secs(3))
        .build()
        .unwrap_or_default()
}

fn unavailable(e: impl std::fmt::Display) -> EmbedError {
    EmbedError::Unavailable(e.to_string())
}

/// Normalises to unit length (providers differ on whether they do).
pub fn normalize(mut v: Vec<f32>) -> Vec<f32> {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
    v
}

fn parse_vector(v: &Value, dims: usize) -> Result<Vec<f32>, EmbedError> {
    let arr = v
        .as_array()
        .ok_or_else(|| EmbedError::BadResponse("embedding is not an array".into()))?;
    let out: Vec<f32> = arr
        .iter()
        .filter_map(Value::as_f64)
        .map(|f| f as f32)
        .collect();
    if out.len() != arr.len() || out.len() != dims {
        return Err(EmbedError::BadResponse(format!(
            "expected {dims} numbers, got {} (set embedding.dimensions to the model's size)",
            arr.len()
        )));
    }
    Ok(normalize(out))
}

async fn post_json(
    http: &reqwest::Client,
    url: &str,
    body: &Value,
    key: Option<&str>,
) -> Result<(u16, Value), EmbedError> {
    let mut req = http.post(url).json(body);
    if let Some(k) = key {
        req = req.bearer_auth(k);
    }
    let res = req.send().await.map_err(unavailable)?;
    let status = res.status().as_u16();
    let value = res.json::<Value>().await.unwrap_or(Value::Null);
    if status >= 500 {
        return Err(EmbedError::Unavailable(format!("{url} answered {status}")));
    }
    Ok((status, value))
}

/// A client error (4xx) the provider answered, with its body, as a bad response.
fn ensure_ok(url: &str, status: u16, v: &Value) -> Result<(), EmbedError> {
    if status >= 400 {
        return Err(EmbedError::BadResponse(format!(
            "{url} answered {status}: {v}"
        )));
    }
    Ok(())
}

fn count_mismatch(asked: usize, got: usize) -> EmbedError {
    EmbedError::BadResponse(format!("asked for {asked} vectors, got {got}"))
}

/// [`Embedder`] for a remote provider: a struct with `model`, `dims` and an async
/// `embed_batch`, named `$provider`.
macro_rules! remote_embedder {
    ($ty:ty, $provider:literal) => {
        impl Embedder for $ty {
            fn provider(&self) -> &str {
                $provider
            }
            fn model(&self) -> &str {
                &self.model
            }
            fn dimensions(&self) -> usize {
                self.dims
            }
            fn embed<'a>(
                &'a self,
                texts: &'a [String],
            ) -> BoxFuture<'a, Result<Vec<Vec<f32>>, EmbedError>> {
                Box::pin(self.embed_batch(texts))
            }
        }
    };
}

remote_embedder!(Ollama, "ollama");
remote_embedder!(OpenAi, "openai");

/// An Ollama server.
pub struct Ollama {
    base: String,
    model: String,
    dims: usize,
    http: reqwest::Client,
}

impl Ollama {
    /// A provider for `model` at `base_url` (e.g. `http://localhost:11434`).
    pub fn new(base_url: &str, model: &str, dims: usize) -> Self {
        Self {
            base: base_url.trim_end_matches('/').to_owned(),
            model: model.to_owned(),
            dims,
            http: client(),
        }
    }

    async fn embed_batch(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let url = format!("{}/api/embed", self.base);
        let (status, v) = self
            .post(&url, json!({"model": self.model, "input": texts}))
            .await?;
        if status == 404 && v.get("embeddings").is_none() && !v.to_string().contains("model") {
            return self.embed_legacy(texts).await;
        }
        ensure_ok(&url, status, &v)?;
        let list = v["embeddings"]
            .as_array()
            .ok_or_else(|| EmbedError::BadResponse("no embeddings in response".into()))?;
        if list.len() != texts.len() {
            return Err(count_mismatch(texts.len(), list.len()));
        }
        list.iter().map(|e| parse_vector(e, self.dims)).collect()
    }

    /// Posts `body` to `url` (Ollama takes no API key).
    async fn post(&self, url: &str, body: Value) -> Result<(u16, Value), EmbedError> {
        post_json(&self.http, url, &body, None).await
    }

    /// Older Ollama servers only have `/api/embeddings`, one prompt per call.
    async fn embed_legacy(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let url = format!("{}/api/embeddings", self.base);
        let mut out = Vec::with_capacity(texts.len());
        for t in texts {
            let (status, v) = self
                .post(&url, json!({"model": self.model, "prompt": t}))
                .await?;
            ensure_ok(&url, status, &v)?;
            out.push(parse_vector(&v["embedding"], self.dims)?);
        }
        Ok(out)
    }
}

/// An OpenAI-compatible `/embeddings` endpoint.
pub struct OpenAi {
    base: String,
    model: String,
    dims: usize,
    key: Option<String>,
    http: reqwest::Client,
}

impl OpenAi {
    /// A provider for `model` at `base_url` (e.g. `https://api.openai.com/v1`).
    pub fn new(base_url: &str, model: &str, dims: usize, key: Option<String>) -> Self {
        Self {
            base: base_url.trim_end_matches('/').to_owned(),
            model: model.to_owned(),
            dims,
            key,
            http: client(),
        }
    }

    async fn embed_batch(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let url = format!("{}/embeddings", self.base);
        let body = json!({"model": self.model, "input": texts});
        let (status, v) = post_json(&self.http, &url, &body, self.key.as_deref()).await?;
        if status == 401 || status == 403 {
            return Err(EmbedError::Unavailable(format!(
                "{url} refused the API key ({status})"
            )));
        }
        ensure_ok(&url, status, &v)?;
        let data = v["data"]
            .as_array()
            .ok_or_else(|| EmbedError::BadResponse("no data in response".into()))?;
        let mut out = vec![Vec::new(); texts.len()];
        for (pos, item) in data.iter().enumerate() {
            let i = item["index"].as_u64().map_or(pos, |i| i as usize);
            let slot = out
                .get_mut(i)
                .ok_or_else(|| EmbedError::BadResponse(format!("index {i} out of range")))?;
            *slot = parse_vector(&item["embedding"], self.dims)?;
        }
        if out.iter().any(Vec::is_empty) {
            return Err(count_mismatch(texts.len(), data.len()));
        }
        Ok(out)
    }
}
