//! Semantic recall: the embedding provider, the in-memory vector index and the background
//! embedding worker.
//!
//! Vectors live in SQLite (`embeddings`) as the source of truth; [`Semantic`] keeps an
//! in-memory [`VectorIndex`](crate::vector::VectorIndex) of the current vectors (this
//! provider's model and dimensions, this content) of live memories, built at start-up and kept
//! in sync by the memory service on every write, delete and recover. Writes never wait for a
//! provider: remember commits and answers, then wakes the [`EmbeddingWorker`], which finds
//! memories lacking a current vector in the database (so nothing is lost across crashes),
//! embeds them in batches, stores the vectors and updates the index, backing off while the
//! provider is down.
//!
//! [`Semantic`] is one cheap handle over a few parts. Each part is a small type in its own
//! module, next to the `Semantic` methods that serve it:
//! - `embedder` (`EmbedderSlot`): what was configured, the provider once ready (a native model
//!   is installed by the worker), why there is none; model, dimensions, query vectors;
//! - `health` (`ProviderHealth`): available or loading, last error and success, counters, the
//!   ring of recent [`outcomes`], analytics errors; the status JSON;
//! - `index` (`LiveIndex`): the in-memory vectors and their generation, with the cached 2-D
//!   [`projection`]: load, remove, content changed, restore, search;
//! - `reembed` (`Reembed`): a model-change migration: requested, progress, finished.
//!
//! Around them: [`provider`] chooses the provider from settings; `worker` is the
//! [`EmbeddingWorker`], which embeds, stores and indexes the vectors.

mod embedder;
mod health;
mod index;
pub mod outcomes;
pub mod projection;
pub mod provider;
mod reembed;
mod worker;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use signet_model::MemoryStore;
use tokio::sync::Notify;

use crate::embedding::Embedder;

use embedder::EmbedderSlot;
use health::ProviderHealth;
use index::LiveIndex;
use reembed::Reembed;

pub use health::ProviderState;
pub use index::index_config;
pub use outcomes::{Outcome, OutcomeRing};
pub use provider::{HashEmbedder, Resolved};
pub use reembed::ReembedProgress;
pub use worker::EmbeddingWorker;

/// How long recall waits for the query vector before answering keyword-only.
pub const QUERY_TIMEOUT: Duration = Duration::from_secs(2);

/// The semantic side of recall. Cheap to clone.
#[derive(Clone)]
pub struct Semantic {
    inner: Arc<Inner>,
}

struct Inner {
    /// Where vectors are read and written (the source of truth the index is built from).
    store: Arc<dyn MemoryStore>,
    /// The provider: as configured, once ready, or why there is none.
    embedder: EmbedderSlot,
    /// How the provider is doing, for status, diagnostics and analytics.
    health: ProviderHealth,
    /// The current vectors of live memories, searched by recall.
    index: LiveIndex,
    /// A model-change migration the worker is running.
    reembed: Reembed,
    /// Wakes the worker when a memory needs a vector.
    wake: Notify,
    /// Counts [`Semantic::notify_changed`]: a change the worker's next pass must look at
    /// everywhere, not only above the memories it last found complete.
    changes: AtomicU64,
}

impl Semantic {
    /// A keyword-only service (no provider).
    pub fn disabled(store: Arc<dyn MemoryStore>, reason: String) -> Self {
        Self::build(store, EmbedderSlot::keyword_only(reason))
    }

    /// A service over a ready provider; loads the index from the store (blocking: call from a
    /// blocking thread at start-up).
    pub fn with_embedder(
        store: Arc<dyn MemoryStore>,
        embedder: Arc<dyn Embedder>,
    ) -> Result<Self, crate::CoreError> {
        let s = Self::build(store, EmbedderSlot::ready(embedder));
        s.load_index()?;
        Ok(s)
    }

    /// A native provider still to be loaded by the worker (start-up stays fast).
    pub fn pending_native(store: Arc<dyn MemoryStore>, model: &str, dims: usize) -> Self {
        let s = Self::build(store, EmbedderSlot::pending("native", model, dims));
        s.inner.health.set_loading(true);
        s
    }

    fn build(store: Arc<dyn MemoryStore>, embedder: EmbedderSlot) -> Self {
        let (_, _, dims) = embedder.configured();
        let inner = Inner {
            store,
            health: ProviderHealth::new(embedder.get().is_some()),
            index: LiveIndex::new(dims),
            embedder,
            reembed: Reembed::default(),
            wake: Notify::new(),
            changes: AtomicU64::new(0),
        };
        Self {
            inner: Arc::new(inner),
        }
    }

    /// Wakes the worker: memories were inserted (they sit above every older one, so the
    /// worker's next pass finds them without looking at the rest).
    pub fn notify(&self) {
        self.inner.wake.notify_one();
    }

    /// Wakes the worker for a change anywhere: an existing memory's content changed, or one was
    /// recovered, so its next pass looks at every memory.
    pub fn notify_changed(&self) {
        self.inner.changes.fetch_add(1, Ordering::Relaxed);
        self.inner.wake.notify_one();
    }

    /// Replaces the index with the store's current vectors (in the background, as at
    /// start-up): for a node that missed other nodes' changes (the daemon's peer sync).
    pub fn reload_index(&self) -> Result<(), crate::CoreError> {
        self.load_index()
    }
}
