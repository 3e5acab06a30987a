//! Semantic recall: the embedding provider, the in-memory vector index and the background
//! embedding worker.
//!
//! Vectors live in SQLite (`embeddings`) as the source of truth; [`Semantic`] keeps an
//! in-memory [`VectorIndex`] of the current vectors (this provider's model and dimensions, this
//! content) of live memories, built at start-up and kept in sync by the memory service on every
//! write, delete and recover. Writes never wait for a provider: remember commits and answers,
//! then wakes the [`EmbeddingWorker`], which finds memories lacking a current vector in the
//! database (so nothing is lost across crashes), embeds them in batches, stores the vectors and
//! updates the index, backing off while the provider is down.

pub mod outcomes;
pub mod projection;
pub mod provider;
mod worker;

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use serde_json::{Value, json};
use signet_store::MemoryStore;
use tokio::sync::Notify;

use crate::embedding::{EmbedError, Embedder};
use crate::vector::{VectorIndex, from_le_bytes};

pub use outcomes::{Outcome, OutcomeCounts, ProviderOutcomes};
pub use provider::{HashEmbedder, Resolved};
pub use worker::EmbeddingWorker;

/// How long recall waits for the query vector before answering keyword-only.
pub const QUERY_TIMEOUT: Duration = Duration::from_secs(2);

/// The index runs exact scans: the HNSW graph (see `vector::hnsw`) builds in ~1 s per 1k
/// vectors while holding the index lock, which would stall recall for minutes when a store
/// crosses the threshold. Until it builds in the background it stays off.
fn index_config() -> crate::vector::IndexConfig {
    crate::vector::IndexConfig {
        ann_threshold: usize::MAX,
        ..Default::default()
    }
}

/// Provider health as the status endpoints report it.
#[derive(Debug, Clone, Default, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProviderState {
    pub available: bool,
    pub loading: bool,
    pub last_error: Option<String>,
    pub last_error_at: Option<String>,
    pub last_success_at: Option<String>,
}

/// Progress of a re-embed (model change migration).
#[derive(Debug, Clone, Default, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReembedProgress {
    pub running: bool,
    pub done: u64,
    pub total: u64,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
}

/// The semantic side of recall. Cheap to clone.
#[derive(Clone)]
pub struct Semantic {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn MemoryStore>,
    embedder: RwLock<Option<Arc<dyn Embedder>>>,
    /// Provider/model/dimensions configured, for status even before a native model loads.
    configured: (String, String, usize),
    keyword_only_reason: Option<String>,
    index: RwLock<VectorIndex>,
    state: Mutex<ProviderState>,
    reembed: Mutex<ReembedProgress>,
    reembed_requested: AtomicBool,
    wake: Notify,
    embedded: AtomicU64,
    failed: AtomicU64,
    /// Bumped on every change to the index; derived views (the projection) key on it.
    generation: AtomicU64,
    /// The last 2-D projection: (generation, limit) and the response.
    projection: Mutex<Option<((u64, usize), Value)>>,
    /// The last provider outcomes (worker batches and query embeddings), for diagnostics.
    outcomes: ProviderOutcomes,
    /// Where provider failures are recorded as analytics errors (set once at assembly).
    analytics: std::sync::OnceLock<crate::analytics::Analytics>,
}

impl Semantic {
    /// A keyword-only service (no provider).
    pub fn disabled(store: Arc<dyn MemoryStore>, reason: String) -> Self {
        Self::build(store, None, ("none".into(), String::new(), 0), Some(reason))
    }

    /// A service over a ready provider; loads the index from the store (blocking: call from a
    /// blocking thread at start-up).
    pub fn with_embedder(
        store: Arc<dyn MemoryStore>,
        embedder: Arc<dyn Embedder>,
    ) -> Result<Self, crate::CoreError> {
        let configured = (
            embedder.provider().to_owned(),
            embedder.model().to_owned(),
            embedder.dimensions(),
        );
        let s = Self::build(store, Some(embedder), configured, None);
        s.load_index()?;
        Ok(s)
    }

    /// A native provider still to be loaded by the worker (start-up stays fast).
    pub fn pending_native(store: Arc<dyn MemoryStore>, model: &str, dims: usize) -> Self {
        let s = Self::build(store, None, ("native".into(), model.into(), dims), None);
        s.inner
            .state
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .loading = true;
        s
    }

    fn build(
        store: Arc<dyn MemoryStore>,
        embedder: Option<Arc<dyn Embedder>>,
        configured: (String, String, usize),
        reason: Option<String>,
    ) -> Self {
        let dims = configured.2.max(1);
        let available = embedder.is_some();
        let inner = Inner {
            store,
            embedder: RwLock::new(embedder),
            configured,
            keyword_only_reason: reason,
            index: RwLock::new(VectorIndex::with_config(dims, index_config())),
            state: Mutex::new(ProviderState {
                available,
                ..Default::default()
            }),
            reembed: Mutex::new(ReembedProgress::default()),
            reembed_requested: AtomicBool::new(false),
            wake: Notify::new(),
            embedded: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            generation: AtomicU64::new(0),
            projection: Mutex::new(None),
            outcomes: ProviderOutcomes::default(),
            analytics: std::sync::OnceLock::new(),
        };
        Self {
            inner: Arc::new(inner),
        }
    }

    /// Installs a provider loaded in the background and builds the index (blocking).
    pub(crate) fn install(&self, embedder: Arc<dyn Embedder>) -> Result<(), crate::CoreError> {
        *self
            .inner
            .embedder
            .write()
            .unwrap_or_else(|p| p.into_inner()) = Some(embedder);
        self.load_index()?;
        let mut st = self.inner.state.lock().unwrap_or_else(|p| p.into_inner());
        st.loading = false;
        st.available = true;
        Ok(())
    }

    /// Replaces the index with the store's current vectors (blocking).
    fn load_index(&self) -> Result<(), crate::CoreError> {
        let (model, dims) = (self.model(), self.dimensions());
        let rows = self.inner.store.load_vectors(&model, dims)?;
        let mut index = VectorIndex::with_config(dims.max(1), index_config());
        index.reserve(rows.len());
        for row in rows {
            if let Some(v) = from_le_bytes(&row.blob) {
                let _ = index.upsert(&row.memory_id, &v);
            }
        }
        tracing::info!(target: "embedding", vectors = index.len(), model = %model, dims, "vector index loaded");
        *self.inner.index.write().unwrap_or_else(|p| p.into_inner()) = index;
        self.changed();
        Ok(())
    }

    /// The provider, once ready.
    pub fn embedder(&self) -> Option<Arc<dyn Embedder>> {
        self.inner
            .embedder
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Why recall is keyword-only, when no provider is configured.
    pub fn keyword_only_reason(&self) -> Option<&str> {
        self.inner.keyword_only_reason.as_deref()
    }

    /// Whether semantic recall is configured at all.
    pub fn configured(&self) -> bool {
        self.inner.keyword_only_reason.is_none()
    }

    /// The model whose vectors the index holds.
    pub fn model(&self) -> String {
        self.embedder()
            .map_or_else(|| self.inner.configured.1.clone(), |e| e.model().to_owned())
    }

    /// The dimensions of the index.
    pub fn dimensions(&self) -> usize {
        self.embedder()
            .map_or(self.inner.configured.2, |e| e.dimensions())
    }

    /// Vectors in the index.
    pub fn indexed(&self) -> usize {
        self.inner
            .index
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .len()
    }

    /// Wakes the worker: a memory was written or its content changed.
    pub fn notify(&self) {
        self.inner.wake.notify_one();
    }

    /// A memory was deleted: it leaves the index.
    pub fn remove(&self, id: &str) {
        if self
            .inner
            .index
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .remove(id)
        {
            self.changed();
        }
    }

    /// Marks the index as changed.
    pub(crate) fn changed(&self) {
        self.inner.generation.fetch_add(1, Ordering::Relaxed);
    }

    /// The cached projection of `limit` points, if the index has not changed since.
    pub fn cached_projection(&self, limit: usize) -> Option<Value> {
        let key = (self.inner.generation.load(Ordering::Relaxed), limit);
        let cache = self
            .inner
            .projection
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        cache
            .as_ref()
            .filter(|(k, _)| *k == key)
            .map(|(_, v)| v.clone())
    }

    /// Caches a projection computed at index `generation`.
    pub fn cache_projection(&self, generation: u64, limit: usize, v: Value) {
        *self
            .inner
            .projection
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = Some(((generation, limit), v));
    }

    /// The index generation now (read before computing a derived view).
    pub fn generation(&self) -> u64 {
        self.inner.generation.load(Ordering::Relaxed)
    }

    /// A memory's content changed: its old vector leaves the index; the worker embeds anew.
    pub fn content_changed(&self, id: &str) {
        self.remove(id);
        self.notify();
    }

    /// A memory was recovered: its stored vector returns to the index (or gets embedded).
    pub fn restore(&self, id: &str) -> Result<(), crate::CoreError> {
        let blob = self
            .inner
            .store
            .vector_of(id, &self.model(), self.dimensions())?;
        match blob.and_then(|b| from_le_bytes(&b)) {
            Some(v) => {
                let _ = self
                    .inner
                    .index
                    .write()
                    .unwrap_or_else(|p| p.into_inner())
                    .upsert(id, &v);
                self.changed();
            }
            None => self.notify(),
        }
        Ok(())
    }

    /// The query's vector, or `None` (no provider, provider down or slow).
    pub async fn query_vector(&self, text: &str) -> Option<Vec<f32>> {
        let embedder = self.embedder()?;
        let texts = [text.to_owned()];
        match tokio::time::timeout(QUERY_TIMEOUT, embedder.embed(&texts)).await {
            Ok(Ok(mut v)) if v.len() == 1 => {
                self.record_success(0);
                v.pop()
            }
            Ok(Ok(v)) => {
                self.record_error(&EmbedError::BadResponse(format!(
                    "asked for 1 query vector, got {}",
                    v.len()
                )));
                None
            }
            Ok(Err(e)) => {
                self.record_error(&e);
                None
            }
            Err(_) => {
                self.record_error(&EmbedError::Unavailable(format!(
                    "query embedding took over {QUERY_TIMEOUT:?}"
                )));
                None
            }
        }
    }

    /// The `k` nearest live memories to `query` among `allowed` (all when `None`).
    pub fn search(
        &self,
        query: &[f32],
        k: usize,
        allowed: Option<&HashSet<String>>,
    ) -> Vec<(String, f32)> {
        let index = self.inner.index.read().unwrap_or_else(|p| p.into_inner());
        let res = match allowed {
            Some(set) => index.search(query, k, |id| set.contains(id)),
            None => index.search(query, k, |_| true),
        };
        res.unwrap_or_default()
    }

    /// The stored vector of a memory in the index, if any.
    pub fn vector_of(&self, id: &str) -> Result<Option<Vec<f32>>, crate::CoreError> {
        let blob = self
            .inner
            .store
            .vector_of(id, &self.model(), self.dimensions())?;
        Ok(blob.and_then(|b| from_le_bytes(&b)))
    }

    /// Records provider failures in `analytics` from now on (the first call wins).
    pub fn attach_analytics(&self, analytics: crate::analytics::Analytics) {
        let _ = self.inner.analytics.set(analytics);
    }

    /// Provider failures since start (embedding batches and query vectors).
    pub fn provider_errors(&self) -> u64 {
        self.inner.failed.load(Ordering::Relaxed)
    }

    /// Records a provider failure: counters, the outcome ring, analytics, state, log.
    pub(crate) fn record_error(&self, e: &EmbedError) {
        self.inner.failed.fetch_add(1, Ordering::Relaxed);
        let outcome = if e.is_timeout() {
            Outcome::Timeout
        } else {
            Outcome::Failure
        };
        self.inner.outcomes.record(outcome);
        if let Some(a) = self.inner.analytics.get() {
            a.record_error(crate::analytics::ErrorEntry::provider(e));
        }
        let mut st = self.inner.state.lock().unwrap_or_else(|p| p.into_inner());
        if st.available || st.last_error.as_deref() != Some(&e.to_string()) {
            tracing::warn!(target: "embedding", error = %e, "embedding provider failed; recall falls back to keywords");
        }
        st.available = false;
        st.last_error = Some(e.to_string());
        st.last_error_at = Some(signet_store::time::now_iso());
    }

    /// Records a provider success (`n` memories embedded; 0 for a query vector).
    pub(crate) fn record_success(&self, n: usize) {
        self.inner.embedded.fetch_add(n as u64, Ordering::Relaxed);
        self.inner.outcomes.record(Outcome::Success);
        let mut st = self.inner.state.lock().unwrap_or_else(|p| p.into_inner());
        if !st.available {
            tracing::info!(target: "embedding", "embedding provider available");
        }
        st.available = true;
        st.last_success_at = Some(signet_store::time::now_iso());
    }

    /// Counts over the last provider outcomes (diagnostics' provider domain).
    pub fn provider_outcomes(&self) -> OutcomeCounts {
        self.inner.outcomes.counts()
    }

    /// Provider, model and dimensions as configured.
    pub fn configured_provider(&self) -> (&str, &str, usize) {
        let (p, m, d) = &self.inner.configured;
        (p, m, *d)
    }

    /// Asks the worker to re-embed every live memory whose vector is not from this model.
    pub fn request_reembed(&self) -> bool {
        if !self.configured() {
            return false;
        }
        {
            let mut p = self.inner.reembed.lock().unwrap_or_else(|p| p.into_inner());
            if !p.running {
                *p = ReembedProgress {
                    running: true,
                    started_at: Some(signet_store::time::now_iso()),
                    ..Default::default()
                };
            }
        }
        self.inner.reembed_requested.store(true, Ordering::SeqCst);
        self.notify();
        true
    }

    /// The current re-embed progress.
    pub fn reembed_progress(&self) -> ReembedProgress {
        self.inner
            .reembed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// `/api/embeddings/status`-style description.
    pub fn status_json(&self) -> Value {
        let st = self
            .inner
            .state
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let (provider, model, dims) = &self.inner.configured;
        json!({
            "provider": provider,
            "model": model,
            "dimensions": dims,
            "available": st.available && self.embedder().is_some(),
            "loading": st.loading,
            "keywordOnlyReason": self.inner.keyword_only_reason,
            "error": st.last_error,
            "lastErrorAt": st.last_error_at,
            "lastSuccessAt": st.last_success_at,
            "indexed": self.indexed(),
            "embedded": self.inner.embedded.load(Ordering::Relaxed),
            "failed": self.inner.failed.load(Ordering::Relaxed),
            "reembed": self.reembed_progress(),
        })
    }
}
