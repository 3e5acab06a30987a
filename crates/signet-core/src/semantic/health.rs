//! Provider health: whether the provider is available or still loading, its last error and
//! success, counters, the ring of recent outcomes scored by diagnostics, and the analytics
//! error ring. Both the worker's batches and recall's query vectors report here, so the
//! figures reflect what callers saw. The status JSON of `/api/embeddings/status` is built here.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};

use serde_json::{Value, json};

use super::Semantic;
use super::outcomes::{Outcome, OutcomeCounts, ProviderOutcomes};
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
    outcomes: ProviderOutcomes,
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
            outcomes: ProviderOutcomes::default(),
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
        st.last_error_at = Some(signet_store::time::now_iso());
    }

    fn record_success(&self, n: usize) {
        self.embedded.fetch_add(n as u64, Ordering::Relaxed);
        self.outcomes.record(Outcome::Success);
        let mut st = self.state();
        if !st.available {
            tracing::info!(target: "embedding", "embedding provider available");
        }
        st.available = true;
        st.last_success_at = Some(signet_store::time::now_iso());
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
    pub fn provider_outcomes(&self) -> OutcomeCounts {
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

    /// `/api/embeddings/status`-style description.
    pub fn status_json(&self) -> Value {
        let health = &self.inner.health;
        let st = health.state().clone();
        let (provider, model, dims) = self.configured_provider();
        json!({
            "provider": provider,
            "model": model,
            "dimensions": dims,
            "available": st.available && self.embedder().is_some(),
            "loading": st.loading,
            "keywordOnlyReason": self.keyword_only_reason(),
            "error": st.last_error,
            "lastErrorAt": st.last_error_at,
            "lastSuccessAt": st.last_success_at,
            "indexed": self.indexed(),
            "embedded": health.embedded.load(Ordering::Relaxed),
            "failed": health.failed.load(Ordering::Relaxed),
            "reembed": self.reembed_progress(),
        })
    }
}
