//! The in-memory index: the current vectors (this model, these dimensions, this content) of
//! live memories. Loaded from the store at start-up (and when a native model is installed),
//! then kept in step by the memory service: a deleted memory leaves, a changed one leaves and
//! is re-embedded by the worker, a recovered one returns. Every change bumps a generation,
//! which derived views (the cached 2-D projection) key on.
//!
//! Where the store searches vectors itself ([`signet_model::MemoryStore::vector_search`], pgvector), the
//! index stays empty: nothing is loaded, the memory service's changes are no-ops here (the
//! database keeps its own index in step with every write), and [`Semantic::search`] asks the
//! store.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use signet_api::Projection;
use signet_model::VectorSearch;

use super::Semantic;
use crate::vector::{IndexConfig, MergePlan, VectorIndex, from_le_bytes};

/// Live vectors from which the base gets an HNSW graph. Below it an exact scan is cheap (~1.4
/// ms at 20k × 384 on the dev box, `cargo bench -p signet-core --bench vector_index`); above
/// it the graph answers in a tenth of a millisecond. The graph is built and merged on a
/// background thread (see `vector`), so crossing the threshold stalls nothing.
const ANN_THRESHOLD: usize = 20_000;

/// How long start-up waits for the index load before serving without it: small stores come
/// up fully loaded, a large one comes up at once and says "loading" until it is ready.
const LOAD_GRACE: Duration = Duration::from_millis(50);

/// The index configuration the daemon runs with (benchmarks rebuild the same index offline).
///
/// int8 codes are on: the exact scan reads a quarter of the bytes and the graph walks and
/// builds in int8, both rescored in f32 so the scores stay exact (100k × 384 on the bench
/// corpus: scan 18.9 → 7.3 ms, graph search at the same beam ~1.8× faster), for 388 bytes
/// more a vector (`cargo run --release -p signet-core --example ann_corpus`).
///
/// The beam may grow to 1,024: at 1M vectors of the bench corpus no beam up to 512 reached the
/// calibration's target, so the graph was declined and every search scanned (80 ms); with
/// 1,024 it is kept (5.6 ms p50, recall@10 0.999). 100k settles on 320, so only data that
/// needs it pays for it.
pub fn index_config() -> IndexConfig {
    IndexConfig {
        ann_threshold: ANN_THRESHOLD,
        int8_prefilter: true,
        max_ef_search: 1_024,
        ..Default::default()
    }
}

/// The vectors, their generation and the projection derived from them.
pub(super) struct LiveIndex {
    shared: Arc<Shared>,
}

struct Shared {
    vectors: RwLock<VectorIndex>,
    /// Bumped on every change to the index; derived views (the projection) key on it.
    generation: AtomicU64,
    /// Bumped by every load: a load finishing after a newer one started is dropped.
    loads: AtomicU64,
    /// A load is reading the store; recall is keyword-only until it finishes.
    loading: AtomicBool,
    /// A merge is building on its thread.
    merging: AtomicBool,
    /// The store serves vector search (pgvector): this index holds nothing.
    delegated: AtomicBool,
    /// The last 2-D projection: (generation, limit) and the response.
    projection: Mutex<Option<((u64, usize), Projection)>>,
}

impl Shared {
    fn write(&self) -> std::sync::RwLockWriteGuard<'_, VectorIndex> {
        self.vectors.write().unwrap_or_else(|p| p.into_inner())
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, VectorIndex> {
        self.vectors.read().unwrap_or_else(|p| p.into_inner())
    }

    fn changed(&self) {
        self.generation.fetch_add(1, Ordering::Relaxed);
    }
}

/// The index as status reports it.
#[derive(Debug, Clone, Copy)]
pub(super) struct IndexState {
    pub loading: bool,
    pub merging: bool,
    pub vectors: usize,
    pub pending: usize,
    pub approximate: bool,
    pub memory_bytes: usize,
}

impl LiveIndex {
    pub(super) fn new(dims: usize) -> Self {
        Self {
            shared: Arc::new(Shared {
                vectors: RwLock::new(empty(dims)),
                generation: AtomicU64::new(0),
                loads: AtomicU64::new(0),
                loading: AtomicBool::new(false),
                merging: AtomicBool::new(false),
                delegated: AtomicBool::new(false),
                projection: Mutex::new(None),
            }),
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, VectorIndex> {
        self.shared.read()
    }

    pub(super) fn loading(&self) -> bool {
        self.shared.loading.load(Ordering::Acquire)
    }

    pub(super) fn state(&self) -> IndexState {
        let index = self.read();
        IndexState {
            loading: self.loading(),
            merging: self.shared.merging.load(Ordering::Relaxed),
            vectors: index.len(),
            pending: index.pending(),
            approximate: index.is_approximate(),
            memory_bytes: index.memory_bytes(),
        }
    }

    /// Applies `change` under the write lock, then starts a background merge if one would pay.
    fn change<T>(&self, change: impl FnOnce(&mut VectorIndex) -> T) -> T {
        let mut index = self.shared.write();
        let out = change(&mut index);
        let plan = index.begin_merge();
        drop(index);
        self.shared.changed();
        if let Some(plan) = plan {
            spawn_merge(&self.shared, plan);
        }
        out
    }

    fn delegated(&self) -> bool {
        self.shared.delegated.load(Ordering::Acquire)
    }

    /// Adds the vectors of `ids` whose `saved` flag is set (one change for the batch).
    pub(super) fn upsert_saved(&self, ids: &[String], vectors: &[Vec<f32>], saved: &[bool]) {
        if self.delegated() {
            return;
        }
        self.change(|index| {
            for ((id, v), ok) in ids.iter().zip(vectors).zip(saved) {
                if *ok {
                    let _ = index.upsert(id, v);
                }
            }
        });
    }

    fn upsert(&self, id: &str, v: &[f32]) {
        if self.delegated() {
            return;
        }
        self.change(|index| {
            let _ = index.upsert(id, v);
        });
    }

    fn remove(&self, id: &str) {
        if self.delegated() {
            return;
        }
        self.change(|index| index.remove(id));
    }

    /// Replaces the index with an empty one of `dims` and fills it from `rows` on a background
    /// thread; writes meanwhile go to the new index and win over the loaded vectors. Waits up
    /// to [`LOAD_GRACE`] for the load.
    fn load(&self, dims: usize, rows: impl FnOnce() -> crate::Result<LoadedRows> + Send + 'static) {
        let epoch = self.shared.loads.fetch_add(1, Ordering::AcqRel) + 1;
        let mut loader = {
            let mut index = self.shared.write();
            *index = empty(dims);
            index.begin_load()
        };
        self.shared.loading.store(true, Ordering::Release);
        self.shared.changed();
        let shared = Arc::clone(&self.shared);
        let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
        let run = move || {
            let started = std::time::Instant::now();
            let loaded = rows().map(|rows| {
                loader.reserve(rows.len());
                for row in rows {
                    if let Some(v) = from_le_bytes(&row.blob) {
                        loader.push(&row.memory_id, &v);
                    }
                }
                loader.finish()
            });
            let mut index = shared.write();
            if shared.loads.load(Ordering::Acquire) != epoch {
                return; // a newer load replaced this index
            }
            match loaded {
                Ok(merged) => {
                    index.finish_merge(merged);
                    tracing::info!(target: "embedding", vectors = index.len(),
                        elapsed_ms = started.elapsed().as_millis() as u64, "vector index loaded");
                }
                Err(e) => {
                    index.abort_merge();
                    tracing::error!(target: "embedding", error = %e,
                        "vector index load failed; recall stays keyword-only until a reload");
                }
            }
            let plan = index.begin_merge();
            drop(index);
            shared.loading.store(false, Ordering::Release);
            shared.changed();
            let _ = done_tx.send(());
            if let Some(plan) = plan {
                spawn_merge(&shared, plan);
            }
        };
        if let Err(e) = std::thread::Builder::new()
            .name("signet-vector-load".into())
            .spawn(run)
        {
            tracing::error!(target: "embedding", error = %e, "could not start the vector index load");
            self.shared.write().abort_merge();
            self.shared.loading.store(false, Ordering::Release);
            return;
        }
        let _ = done_rx.recv_timeout(LOAD_GRACE);
    }
}

type LoadedRows = Vec<signet_model::memories::StoredVector>;

/// Builds `plan` (and any merge that follows) on a background thread, swapping each result in
/// under a short write lock. A build that panics leaves the index as it was.
fn spawn_merge(shared: &Arc<Shared>, plan: MergePlan) {
    let shared = Arc::clone(shared);
    shared.merging.store(true, Ordering::Relaxed);
    let run = {
        let shared = Arc::clone(&shared);
        move || {
            let mut plan = Some(plan);
            while let Some(p) = plan.take() {
                let started = std::time::Instant::now();
                let built = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| p.build()));
                let mut index = shared.write();
                match built {
                    Ok(merged) => {
                        index.finish_merge(merged);
                        tracing::debug!(target: "embedding", vectors = index.len(),
                            approximate = index.is_approximate(),
                            elapsed_ms = started.elapsed().as_millis() as u64,
                            "vector index merged");
                        plan = index.begin_merge();
                    }
                    Err(_) => {
                        index.abort_merge();
                        tracing::error!(target: "embedding",
                            "vector index merge panicked; searches keep the previous base");
                    }
                }
                drop(index);
                shared.changed();
            }
            shared.merging.store(false, Ordering::Relaxed);
        }
    };
    if std::thread::Builder::new()
        .name("signet-vector-merge".into())
        .spawn(run)
        .is_err()
    {
        shared.write().abort_merge();
        shared.merging.store(false, Ordering::Relaxed);
    }
}

fn empty(dims: usize) -> VectorIndex {
    VectorIndex::with_config(dims.max(1), index_config())
}

impl Semantic {
    /// Replaces the index with the store's current vectors, loaded on a background thread
    /// (waits up to [`LOAD_GRACE`]; recall is keyword-only until the load is done). Where the
    /// store searches vectors itself, loads nothing and readies the store's index for these
    /// dimensions instead (blocking: a first build over many vectors takes a while; a failure
    /// is logged and retried by the first search).
    pub(super) fn load_index(&self) -> Result<(), crate::CoreError> {
        let (model, dims) = (self.model(), self.dimensions());
        if let Some(search) = self.inner.store.vector_search() {
            self.inner
                .index
                .shared
                .delegated
                .store(true, Ordering::Release);
            *self.inner.index.shared.write() = empty(dims);
            self.inner.index.shared.changed();
            tracing::info!(target: "embedding", index = search.name(), dims,
                "vector search runs in the database; no vectors are loaded into memory");
            // A failed build is retried by the first search of these dimensions.
            if let Err(e) = search.prepare(dims) {
                tracing::warn!(target: "embedding", index = search.name(), dims, error = %e,
                    "readying the database's vector index failed");
            }
            return Ok(());
        }
        let store = self.inner.store.clone();
        self.inner
            .index
            .load(dims, move || Ok(store.load_vectors(&model, dims)?));
        Ok(())
    }

    /// The store's own vector search, when it serves recall (pgvector) instead of this
    /// process's index.
    pub fn store_search(&self) -> Option<&dyn VectorSearch> {
        self.inner.store.vector_search()
    }

    /// True when the store serves vector search and this process keeps no index: other
    /// nodes' changes need not be applied here (the daemon's peer sync).
    pub fn served_by_store(&self) -> bool {
        self.inner.index.delegated()
    }

    /// The index as `/api/embeddings/status` reports it.
    pub fn index_status(&self) -> signet_api::VectorIndexStatus {
        if let Some(search) = self.store_search().filter(|_| self.served_by_store()) {
            // No vectors in this process: the database holds the index.
            return signet_api::VectorIndexStatus {
                state: "ready".to_owned(),
                served_by: Some(search.name().to_owned()),
                approximate: true,
                ..Default::default()
            };
        }
        let st = self.inner.index.state();
        signet_api::VectorIndexStatus {
            state: if st.loading { "loading" } else { "ready" }.to_owned(),
            vectors: st.vectors,
            pending: st.pending,
            approximate: st.approximate,
            merging: st.merging,
            memory_bytes: st.memory_bytes,
            served_by: None,
        }
    }

    /// True while the index is loading: recall skips the vector leg and says so.
    pub fn index_loading(&self) -> bool {
        self.inner.index.loading()
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
        self.notify_changed();
    }

    /// A memory was recovered: its stored vector returns to the index (or gets embedded).
    pub fn restore(&self, id: &str) -> Result<(), crate::CoreError> {
        match self.vector_of(id)? {
            Some(v) => self.inner.index.upsert(id, &v),
            None => self.notify_changed(),
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
        if self.served_by_store()
            && let Some(store) = self.store_search()
        {
            return match store.search(&self.model(), self.dimensions(), query, k, allowed) {
                Ok(hits) => hits,
                Err(e) => {
                    tracing::warn!(target: "embedding", index = store.name(), error = %e,
                        "vector search in the database failed; this recall has no vector leg");
                    Vec::new()
                }
            };
        }
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
        self.inner.index.shared.generation.load(Ordering::Relaxed)
    }

    /// The cached projection of `limit` points, if the index has not changed since.
    pub fn cached_projection(&self, limit: usize) -> Option<Projection> {
        let key = (self.generation(), limit);
        let cache = self
            .inner
            .index
            .shared
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
            .shared
            .projection
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = Some(((generation, limit), v));
    }
}
