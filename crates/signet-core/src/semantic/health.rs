//! Provider health: whether the provider is available or still loading, its last error and
//! success, counters, the ring of recent outcomes scored by diagnostics, and the analytics
//! error ring. Both the worker's batches and recall's query vectors report here, so the
//! figures reflect what callers saw. The status of `/api/embeddings/status` is built here.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};

use signet_api::EmbeddingStatus;

use super::Semantic;
use super::outcomes::{Outcome, OutcomeRing};
use super::reembed::ReembedProgress;
use crate::analytics::{Analytics, ErrorEntry};
use crate::embedding::EmbedError;

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

/// The provider's state and the counts behind it.
pub(super) struct ProviderHealth {
    state: Mutex<ProviderState>,
    /// Memories embedded since start.
    embedded: AtomicU64,
    /// Provider failures since start (batches and query vectors).
    failed: AtomicU64,
    /// The last provider outcomes (worker batches and query embeddings), for diagnostics.
    outcomes: OutcomeRing,
    /// Where provider failures are recorded as analytics errors (set once at assembly).
    analytics: OnceLock<Analytics>,
}

impl ProviderHealth {
    pub(super) fn new(available: bool) -> Self {
        Self {
            state: Mutex::new(ProviderState {
                available,
                ..Default::default()
            }),
            embedded: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            outcomes: OutcomeRing::default(),
            analytics: OnceLock::new(),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, ProviderState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(super) fn set_loading(&self, loading: bool) {
        self.state().loading = loading;
    }

    /// A provider loaded in the background is ready.
    pub(super) fn installed(&self) {
        let mut st = self.state();
        st.loading = false;
        st.available = true;
    }

    fn record_error(&self, e: &EmbedError) {
        self.failed.fetch_add(1, Ordering::Relaxed);
        let outcome = if e.is_timeout() {
            Outcome::Timeout
        } else {
            Outcome::Failure
        };
        self.outcomes.record(outcome);
        if let Some(a) = self.analytics.get() {
            a.record_error(ErrorEntry::provider(e));
        }
        let mut st = self.state();
        if st.available || st.last_error.as_deref() != Some(&e.to_string()) {
            tracing::warn!(target: "embedding", error = %e, "embedding provider failed; recall falls back to keywords");
        }
        st.available = false;
        st.last_error = Some(e.to_string());
        st.last_error_at = Some(signet_model::time::now_iso());
    }

    fn record_success(&self, n: usize) {
        self.embedded.fetch_add(n as u64, Ordering::Relaxed);
        self.outcomes.record(Outcome::Success);
        let mut st = self.state();
        if !st.available {
            tracing::info!(target: "embedding", "embedding provider available");
        }
        st.available = true;
        st.last_success_at = Some(signet_model::time::now_iso());
    }
}

impl Semantic {
    /// Records provider failures in `analytics` from now on (the first call wins).
    pub fn attach_analytics(&self, analytics: Analytics) {
        let _ = self.inner.health.analytics.set(analytics);
    }

    /// Provider failures since start (embedding batches and query vectors).
    pub fn provider_errors(&self) -> u64 {
        self.inner.health.failed.load(Ordering::Relaxed)
    }

    /// Counts over the last provider outcomes (diagnostics' provider domain).
    pub fn provider_outcomes(&self) -> signet_api::diagnostics::ProviderOutcomes {
        self.inner.health.outcomes.counts()
    }

    /// Records a provider failure: counters, the outcome ring, analytics, state, log.
    pub(crate) fn record_error(&self, e: &EmbedError) {
        self.inner.health.record_error(e);
    }

    /// Records a provider success (`n` memories embedded; 0 for a query vector).
    pub(crate) fn record_success(&self, n: usize) {
        self.inner.health.record_success(n);
    }

    /// The provider and index status: `/api/status`'s `embedding` section, and
    /// `/api/embeddings/status` once the memory service adds the coverage.
    pub fn status(&self) -> EmbeddingStatus {
        let health = &self.inner.health;
        let st = health.state().clone();
        let (provider, model, dims) = self.configured_provider();
        EmbeddingStatus {
            available: st.available && self.embedder().is_some(),
            coverage: None,
            dimensions: dims,
            embedded: health.embedded.load(Ordering::Relaxed),
            error: st.last_error,
            failed: health.failed.load(Ordering::Relaxed),
            index: self.index_status(),
            indexed: self.indexed(),
            keyword_only_reason: self.keyword_only_reason().map(str::to_owned),
            last_error_at: st.last_error_at,
            last_success_at: st.last_success_at,
            loading: st.loading,
            model: model.to_owned(),
            provider: provider.to_owned(),
            reembed: self.reembed_progress().into(),
            extra: Default::default(),
        }
    }
}

impl From<ReembedProgress> for signet_api::ReembedProgress {
    fn from(p: ReembedProgress) -> Self {
        Self {
            done: p.done,
            finished_at: p.finished_at,
            running: p.running,
            started_at: p.started_at,
            total: p.total,
            extra: Default::default(),
        }
    }
}
