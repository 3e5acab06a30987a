//! The memory domain: remember, read, mutate and recall, over a [`MemoryStore`].
//!
//! Handlers call one method of [`Memories`] per request. Store calls run on the blocking pool.
//! The policy (the config slice these methods read) is taken fresh for every request from a
//! watch channel the config watcher updates, so `agent.yaml` edits apply without a restart.

mod batch;
mod feedback;
pub mod input;
mod keywords;
mod mutate;
mod notify;
mod ops;
mod policy;
mod read;
mod recall;
mod remember;
mod vectors;

use std::sync::Arc;

use signet_model::MemoryStore;
use signet_model::memories::{RecallFilters, ScopeFilter};
use tokio::sync::watch;

pub use batch::{
    BatchForgetInput, BatchModifyInput, BatchPatch, CONFIRM_THRESHOLD, ForgetExecution,
    MAX_BATCH_PATCHES, confirm_token,
};
pub use feedback::FeedbackInput;
pub use mutate::{GuardInput, PatchInput, outcome_response, resolve_actor};
pub use policy::{Extraction, GraphBoost, MemoryPolicy, Rehearsal};
pub use read::{HistoryParams, LegacySearch, LegacySearchParams, ListParams};
pub use recall::{Fusion, MAX_RECALL_LIMIT, RecallInput, RecallMode};
pub use remember::RememberInput;
pub use vectors::{EmbeddingPage, ProjectionParams, SimilarParams};

use crate::access::AccessRecorder;
use crate::analytics::Analytics;
use crate::auth::Scope;
use crate::error::{CoreError, Result};
use crate::events::EventBus;
use crate::semantic::Semantic;

/// The memory service. Cheap to clone.
#[derive(Clone)]
pub struct Memories {
    store: Arc<dyn MemoryStore>,
    policy: watch::Receiver<Arc<MemoryPolicy>>,
    access: AccessRecorder,
    semantic: Semantic,
    /// Live events (`/sse`); private until `with_telemetry` hands in the daemon's bus.
    events: EventBus,
    /// Analytics errors (conflicts); private until `with_telemetry`.
    analytics: Analytics,
    /// The knowledge graph recall boosts from (`with_graph`; none: no boost).
    graph: Option<Arc<dyn signet_model::PipelineStore>>,
    /// When the graph was last counted and whether it held any mention: for a few seconds
    /// after seeing it empty, recall skips the boost's lookup (and its thread hop).
    graph_checked: Arc<std::sync::Mutex<Option<(std::time::Instant, bool)>>>,
}

impl Memories {
    /// A service over `store`, reading its policy from `policy`, recording recalls in `access`.
    pub fn new(
        store: Arc<dyn MemoryStore>,
        policy: watch::Receiver<Arc<MemoryPolicy>>,
        access: AccessRecorder,
        semantic: Semantic,
    ) -> Self {
        Self {
            store,
            policy,
            access,
            semantic,
            events: EventBus::default(),
            analytics: Analytics::default(),
            graph: None,
            graph_checked: Arc::default(),
        }
    }

    /// Boosts recall with the knowledge graph of `graph` (when `graph.enabled`).
    pub fn with_graph(mut self, graph: Arc<dyn signet_model::PipelineStore>) -> Self {
        self.graph = Some(graph);
        self
    }

    /// The semantic side (provider, vector index).
    pub fn semantic(&self) -> &Semantic {
        &self.semantic
    }

    /// The policy in force now.
    pub fn policy(&self) -> Arc<MemoryPolicy> {
        self.policy.borrow().clone()
    }

    /// The store behind this service.
    pub fn store(&self) -> &Arc<dyn MemoryStore> {
        &self.store
    }
}

/// The store-level filter of a token scope.
pub(crate) fn scope_filter(scope: &Scope) -> ScopeFilter {
    ScopeFilter {
        project: scope.project.clone(),
        who: scope.agent.clone(),
        user: scope.user.clone(),
    }
}

/// Narrows search filters to a scope; a filter naming another project or agent is refused.
/// The user is pinned from the scope alone: requests have no user filter to choose one.
pub(crate) fn pin_filters(scope: &Scope, filters: &mut RecallFilters) -> Result<()> {
    filters.scope_user = scope.user.clone();
    filters.project = scope
        .pin("project", filters.project.take())
        .map_err(CoreError::Forbidden)?;
    filters.who = scope
        .pin("who", filters.who.take())
        .map_err(CoreError::Forbidden)?;
    Ok(())
}

/// Refuses `id` when its row lies outside `scope` (a missing row passes: the caller's
/// operation then answers 404 as usual). Runs on the blocking pool.
pub(crate) fn check_owner(store: &dyn MemoryStore, id: &str, scope: &Scope) -> Result<()> {
    if scope.is_empty() {
        return Ok(());
    }
    match store.memory_scope(id)? {
        None => Ok(()),
        Some(m) => scope
            .admits(
                m.project.as_deref(),
                m.who.as_deref(),
                m.scope_user.as_deref(),
            )
            .map_err(CoreError::Forbidden),
    }
}
