//! The in-memory index: the current vectors (this model, these dimensions, this content) of
//! live memories. Loaded from the store at start-up (and when a native model is installed),
//! then kept in step by the memory service: a deleted memory leaves, a changed one leaves and
//! is re-embedded by the worker, a recovered one returns. Every change bumps a generation,
//! which derived views (the cached 2-D projection) key on.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, RwLock};

use signet_api::Projection;

use super::Semantic;
use crate::vector::{IndexConfig, VectorIndex, from_le_bytes};

/// The index runs exact scans: the HNSW graph (see `vector::hnsw`) builds in ~1 s per 1k
/// vectors while holding the index lock, which would stall recall for minutes when a store
/// crosses the threshold. Until it builds in the background it stays off.
fn index_config() -> IndexConfig {
    IndexConfig {
        ann_threshold: usize::MAX,
        ..Default::default()
    }
}

/// The vectors, their generation and the projection derived from them.
pub(super) struct LiveIndex {
    vectors: RwLock<VectorIndex>,
    /// Bumped on every change to the index; derived views (the projection) key on it.
    generation: AtomicU64,
    /// The last 2-D projection: (generation, limit) and the response.
    projection: Mutex<Option<((u64, usize), Projection)>>,
}

impl LiveIndex {
    pub(super) fn new(dims: usize) -> Self {
        Self {
            vectors: RwLock::new(empty(dims)),
            generation: AtomicU64::new(0),
            projection: Mutex::new(None),
        }
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, VectorIndex> {
        self.vectors.write().unwrap_or_else(|p| p.into_inner())
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, VectorIndex> {
        self.vectors.read().unwrap_or_else(|p| p.into_inner())
    }

    fn changed(&self) {
        self.generation.fetch_add(1, Ordering::Relaxed);
    }

    fn replace(&self, index: VectorIndex) {
        *self.write() = index;
        self.changed();
    }

    /// Adds the vectors of `ids` whose `saved` flag is set (one change for the batch).
    pub(super) fn upsert_saved(&self, ids: &[String], vectors: &[Vec<f32>], saved: &[bool]) {
        let mut index = self.write();
        for ((id, v), ok) in ids.iter().zip(vectors).zip(saved) {
            if *ok {
                let _ = index.upsert(id, v);
            }
        }
        drop(index);
        self.changed();
    }

    fn upsert(&self, id: &str, v: &[f32]) {
        let _ = self.write().upsert(id, v);
        self.changed();
    }

    fn remove(&self, id: &str) {
        if self.write().remove(id) {
            self.changed();
        }
    }
}

fn empty(dims: usize) -> VectorIndex {
    VectorIndex::with_config(dims.max(1), index_config())
}

impl Semantic {
    /// Replaces the index with the store's current vectors (blocking).
    pub(super) fn load_index(&self) -> Result<(), crate::CoreError> {
        let (model, dims) = (self.model(), self.dimensions());
        let rows = self.inner.store.load_vectors(&model, dims)?;
        let mut index = empty(dims);
        index.reserve(rows.len());
        for row in rows {
            if let Some(v) = from_le_bytes(&row.blob) {
                let _ = index.upsert(&row.memory_id, &v);
            }
        }
        tracing::info!(target: "embedding", vectors = index.len(), model = %model, dims, "vector index loaded");
        self.inner.index.replace(index);
        Ok(())
    }

    /// Vectors in the index.
    pub fn indexed(&self) -> usize {
        self.inner.index.read().len()
    }

    /// A memory was deleted: it leaves the index.
    pub fn remove(&self, id: &str) {
        self.inner.index.remove(id);
    }

    /// A memory's content changed: its old vector leaves the index; the worker embeds anew.
    pub fn content_changed(&self, id: &str) {
        self.remove(id);
        self.notify();
    }

    /// A memory was recovered: its stored vector returns to the index (or gets embedded).
    pub fn restore(&self, id: &str) -> Result<(), crate::CoreError> {
        match self.vector_of(id)? {
            Some(v) => self.inner.index.upsert(id, &v),
            None => self.notify(),
        }
        Ok(())
    }

    /// The `k` nearest live memories to `query` among `allowed` (all when `None`).
    pub fn search(
        &self,
        query: &[f32],
        k: usize,
        allowed: Option<&HashSet<String>>,
    ) -> Vec<(String, f32)> {
        let index = self.inner.index.read();
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

    /// The index generation now (read before computing a derived view).
    pub fn generation(&self) -> u64 {
        self.inner.index.generation.load(Ordering::Relaxed)
    }

    /// The cached projection of `limit` points, if the index has not changed since.
    pub fn cached_projection(&self, limit: usize) -> Option<Projection> {
        let key = (self.generation(), limit);
        let cache = self
            .inner
            .index
            .projection
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        cache
            .as_ref()
            .filter(|(k, _)| *k == key)
            .map(|(_, v)| v.clone())
    }

    /// Caches a projection computed at index `generation`.
    pub fn cache_projection(&self, generation: u64, limit: usize, v: Projection) {
        *self
            .inner
            .index
            .projection
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = Some(((generation, limit), v));
    }
}
