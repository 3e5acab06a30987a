//! The provider slot: what was configured, the provider once it is ready, and why there is
//! none. Model and dimensions come from the ready provider, else from the configuration (a
//! native model reports its name before it loads). Query vectors are embedded here.

use std::sync::{Arc, RwLock};

use super::{QUERY_TIMEOUT, Semantic};
use crate::embedding::{EmbedError, Embedder};

/// The provider and what was configured.
pub(super) struct EmbedderSlot {
    /// The provider, once ready (a native model is installed by the worker after loading).
    ready: RwLock<Option<Arc<dyn Embedder>>>,
    /// Provider/model/dimensions configured, for status even before a native model loads.
    configured: (String, String, usize),
    /// Why recall is keyword-only; `None` when a provider is configured.
    keyword_only_reason: Option<String>,
}

impl EmbedderSlot {
    /// A provider ready now.
    pub(super) fn ready(embedder: Arc<dyn Embedder>) -> Self {
        let configured = (
            embedder.provider().to_owned(),
            embedder.model().to_owned(),
            embedder.dimensions(),
        );
        Self {
            ready: RwLock::new(Some(embedder)),
            configured,
            keyword_only_reason: None,
        }
    }

    /// A provider configured but installed later.
    pub(super) fn pending(provider: &str, model: &str, dims: usize) -> Self {
        Self {
            ready: RwLock::new(None),
            configured: (provider.into(), model.into(), dims),
            keyword_only_reason: None,
        }
    }

    /// No provider, for `reason`.
    pub(super) fn keyword_only(reason: String) -> Self {
        Self {
            ready: RwLock::new(None),
            configured: ("none".into(), String::new(), 0),
            keyword_only_reason: Some(reason),
        }
    }

    pub(super) fn get(&self) -> Option<Arc<dyn Embedder>> {
        self.ready.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn set(&self, embedder: Arc<dyn Embedder>) {
        *self.ready.write().unwrap_or_else(|p| p.into_inner()) = Some(embedder);
    }

    pub(super) fn configured(&self) -> (&str, &str, usize) {
        let (p, m, d) = &self.configured;
        (p, m, *d)
    }

    pub(super) fn keyword_only_reason(&self) -> Option<&str> {
        self.keyword_only_reason.as_deref()
    }
}

impl Semantic {
    /// The provider, once ready.
    pub fn embedder(&self) -> Option<Arc<dyn Embedder>> {
        self.inner.embedder.get()
    }

    /// Why recall is keyword-only, when no provider is configured.
    pub fn keyword_only_reason(&self) -> Option<&str> {
        self.inner.embedder.keyword_only_reason()
    }

    /// Whether semantic recall is configured at all.
    pub fn configured(&self) -> bool {
        self.keyword_only_reason().is_none()
    }

    /// Provider, model and dimensions as configured.
    pub fn configured_provider(&self) -> (&str, &str, usize) {
        self.inner.embedder.configured()
    }

    /// The model whose vectors the index holds.
    pub fn model(&self) -> String {
        let (_, configured, _) = self.configured_provider();
        self.embedder()
            .map_or_else(|| configured.to_owned(), |e| e.model().to_owned())
    }

    /// The dimensions of the index.
    pub fn dimensions(&self) -> usize {
        let (_, _, configured) = self.configured_provider();
        self.embedder().map_or(configured, |e| e.dimensions())
    }

    /// Installs a provider loaded in the background and builds the index (blocking).
    pub(crate) fn install(&self, embedder: Arc<dyn Embedder>) -> Result<(), crate::CoreError> {
        self.inner.embedder.set(embedder);
        self.load_index()?;
        self.inner.health.installed();
        Ok(())
    }

    /// The query's vector, or `None` (no provider, provider down or slow).
    pub async fn query_vector(&self, text: &str) -> Option<Vec<f32>> {
        let embedder = self.embedder()?;
        let texts = [text.to_owned()];
        let failure = match tokio::time::timeout(QUERY_TIMEOUT, embedder.embed(&texts)).await {
            Ok(Ok(mut v)) if v.len() == 1 => {
                self.record_success(0);
                return v.pop();
            }
            Ok(Ok(v)) => {
                EmbedError::BadResponse(format!("asked for 1 query vector, got {}", v.len()))
            }
            Ok(Err(e)) => e,
            Err(_) => {
                EmbedError::Unavailable(format!("query embedding took over {QUERY_TIMEOUT:?}"))
            }
        };
        self.record_error(&failure);
        None
    }
}
