//! The memory domain: remember, read, mutate and recall, over a [`MemoryStore`].
//!
//! Handlers call one method of [`Memories`] per request. Store calls run on the blocking pool.
//! The policy (the config slice these methods read) is taken fresh for every request from a
//! watch channel the config watcher updates, so `agent.yaml` edits apply without a restart.

mod batch;
pub mod input;
mod mutate;
mod notify;
mod ops;
mod policy;
mod read;
mod recall;
mod remember;
mod vectors;

use std::sync::Arc;

use signet_store::MemoryStore;
use tokio::sync::watch;

pub use batch::{CONFIRM_THRESHOLD, MAX_BATCH_PATCHES, confirm_token};
pub use mutate::{GuardInput, PatchInput, outcome_json, outcome_status, resolve_actor};
pub use policy::{MemoryPolicy, Rehearsal};
pub use recall::{Fusion, MAX_RECALL_LIMIT, RecallInput, RecallMode};
pub use remember::RememberInput;
pub use vectors::repair;

use crate::access::AccessRecorder;
use crate::analytics::Analytics;
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
        }
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
