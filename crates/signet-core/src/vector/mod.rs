//! The in-memory vector index behind semantic recall.
//!
//! SQLite's `embeddings` table is the source of truth (vectors as raw little-endian f32 blobs,
//! see [`from_le_bytes`] / [`to_le_bytes`]); [`VectorIndex`] is a copy built at start-up and
//! kept in sync on every write, delete and recover. Keys are memory ids.
//!
//! Layout: an immutable **base** segment (`segment::Segment`: vectors, optional int8 codes,
//! and past [`IndexConfig::ann_threshold`] an HNSW graph) shared behind an `Arc`, plus a small
//! mutable **delta** of vectors added or replaced since the base was built; replaced or removed
//! base vectors are marked dead in a bitset.
//!
//! How a search runs:
//! - **Delta**: always an exact scan (one pass over a contiguous `Vec<f32>`, a dot product the
//!   compiler vectorises, a bounded min-heap for the top `k`).
//! - **Base below the threshold**: the same exact scan (an int8 first pass rescored in f32 with
//!   [`IndexConfig::int8_prefilter`]). The filter (and the dead set) is applied inside the
//!   scan, so a filtered search returns `k` results whenever `k` ids pass.
//! - **Base with a graph**: HNSW, walked (and built) on the int8 codes when the segment keeps
//!   them, the beam's best rescored in f32 so scores stay exact. After each full build the
//!   graph's recall@10 is measured on its own data (stored vectors and midpoints of two) and
//!   the smallest beam width (`ef`) that reaches [`IndexConfig::target_recall`] is kept; data on which no affordable `ef` does (isotropic
//!   random vectors, say) keeps the exact scan. Filters are applied during the walk; a selective
//!   filter (estimated by sampling), or a walk that exceeds its work budget, scans instead.
//!
//! Merges: [`VectorIndex::begin_merge`] hands out a [`MergePlan`] (an `Arc` of the base, copies
//! of the dead set and the delta) when one would pay; [`MergePlan::build`] runs without any lock
//! (the service runs it on a background thread) and [`VectorIndex::finish_merge`] swaps the new
//! base in, replaying every change made meanwhile. Readers keep the last built graph and new
//! vectors are searched exactly until merged, so neither writes nor recall wait for a build.
//! Start-up loads go the same way ([`VectorIndex::begin_load`]).
//!
//! Memory: the vectors (`4 * dimensions` bytes each), one copy of each id, a slot table of
//! `u32`s, with int8 codes `dimensions + 4` bytes more, and with a graph its links
//! (~`(2M + 1) * 4` bytes a vector). A merge of a
//! graph-backed base copies the base while it builds (twice the vector memory for that time).
//! [`VectorIndex::memory_bytes`] reports the total.
//!
//! Threading: the index is plain data (`Send + Sync`). Searches take `&self` and may run
//! concurrently; writes take `&mut self` and are cheap (the delta); the expensive part of a
//! merge takes no reference to the index at all.

mod calibrate;
mod hnsw;
mod kernel;
mod quantized;
mod segment;
mod space;
mod store;
mod topk;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod testutil;

pub use kernel::{from_le_bytes, to_le_bytes};

use std::collections::HashSet;
use std::sync::Arc;

use quantized::Int8Codes;
use segment::Segment;
use store::VectorStore;

use crate::CoreError;

/// Why the index refused a vector.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum VectorError {
    /// The vector's length is not the index's dimension count.
    #[error("vector has {got} dimensions, the index expects {expected}")]
    Dimensions { expected: usize, got: usize },
    /// The vector has no direction: all zeros, or a NaN or infinite component.
    #[error("vector is zero or not finite")]
    Degenerate,
}

impl From<VectorError> for CoreError {
    fn from(e: VectorError) -> Self {
        CoreError::Invalid(e.to_string())
    }
}

/// Tuning of the index. The defaults are the measured choices (see `benches/vector_index.rs`).
#[derive(Debug, Clone, PartialEq)]
pub struct IndexConfig {
    /// Live vectors from which searches use the HNSW graph instead of the exact scan. The
    /// graph is built when the count reaches this and dropped when it falls 10% below.
    pub ann_threshold: usize,
    /// HNSW links per node on the upper layers (layer 0 keeps twice as many).
    pub hnsw_m: usize,
    /// HNSW candidate list size while inserting.
    pub ef_construction: usize,
    /// Smallest HNSW candidate list size tried while searching (at least `k` is used); the
    /// build doubles it until the measured recall reaches `target_recall`.
    pub ef_search: usize,
    /// Largest `ef` the build may settle on. A graph needing more is dropped (exact scan).
    pub max_ef_search: usize,
    /// Leave-one-out recall@10 the graph must reach on its own data to be used.
    pub target_recall: f64,
    /// Rebuild the graph once removed nodes exceed this fraction of live vectors.
    pub rebuild_ratio: f64,
    /// Filters estimated to pass less than this fraction of vectors skip the graph and scan.
    pub min_filter_ratio: f64,
    /// Keep int8 codes: the exact scan makes a first pass over them and the HNSW graph walks
    /// and builds on them, both rescored in f32 (the daemon turns this on). Costs 25%
    /// more memory than the vectors themselves; off by default for that reason.
    pub int8_prefilter: bool,
    /// Candidates per result that an int8 scan or walk hands to f32 rescoring.
    pub rescore_factor: usize,
    /// Seed of the HNSW level draws, so builds are reproducible.
    pub seed: u64,
    /// Most delta vectors one merge into a graph-backed base takes; the rest wait for the next.
    /// Under a bulk load each merge then finishes in about a minute and the exactly scanned
    /// delta shrinks step by step, instead of one merge taking the whole backlog.
    pub max_merge: usize,
}

impl Default for IndexConfig {
    fn default() -> Self {
        Self {
            ann_threshold: 200_000,
            hnsw_m: 16,
            ef_construction: 64,
            ef_search: 32,
            max_ef_search: 512,
            target_recall: 0.98,
            rebuild_ratio: 0.25,
            min_filter_ratio: 0.05,
            int8_prefilter: false,
            rescore_factor: 4,
            seed: 0x5151_6e65_7400_0001,
            max_merge: 65_536,
        }
    }
}

/// Fewest changed vectors a merge is worth (below it the delta scan costs next to nothing).
const MIN_MERGE: usize = 1_024;
/// A graph-backed base takes a merge once the delta reaches this fraction of it (1/32: at 1M
/// vectors, the delta scan stays under ~32k vectors).
const DELTA_DIVISOR: usize = 32;

/// Unit vectors keyed by memory id, searchable by cosine similarity.
///
/// Two parts: an immutable **base** segment (behind an `Arc`, with its graph when large enough)
/// and a small mutable **delta** of vectors added or replaced since the base was built. A
/// replaced or removed base vector is only marked dead. Searches scan the delta exactly and
/// search the base (graph or scan), skipping dead slots, then merge the two top lists. A merge
/// ([`Self::begin_merge`] → [`MergePlan::build`] → [`Self::finish_merge`]) folds the delta into
/// a new base without holding the caller's lock while it builds; changes made meanwhile are
/// replayed onto the new base when it is swapped in.
pub struct VectorIndex {
    config: IndexConfig,
    dimensions: usize,
    base: Arc<Segment>,
    /// Bitset over base slots whose vector was removed or replaced.
    dead: Vec<u64>,
    dead_count: usize,
    delta: VectorStore,
    /// int8 codes of the delta, when `config.int8_prefilter` is on.
    delta_codes: Option<Int8Codes>,
    /// While a merge or load is being built: the ids changed since it was planned.
    touched: Option<HashSet<Box<str>>>,
    /// Size at which the data was judged unsuited to a graph; retried at twice that size.
    declined_at: Option<usize>,
}

/// A merge taken from the index: what it reads, detached from the index's lock.
pub struct MergePlan {
    config: IndexConfig,
    base: Arc<Segment>,
    dead: Vec<u64>,
    delta: VectorStore,
    want_graph: bool,
}

/// A built merge, ready for [`VectorIndex::finish_merge`].
pub struct Merged {
    segment: Segment,
    declined: bool,
}

/// A bulk load (start-up): vectors pushed into a new base while the index serves and takes
/// writes; [`VectorIndex::finish_merge`] installs it.
pub struct Loader {
    config: IndexConfig,
    store: VectorStore,
}

impl Loader {
    /// Makes room for `additional` more vectors.
    pub fn reserve(&mut self, additional: usize) {
        self.store.reserve(additional);
    }

    /// Adds a vector (normalised); a wrong length, a degenerate vector or a repeated id is
    /// skipped (`false`).
    pub fn push(&mut self, id: &str, vector: &[f32]) -> bool {
        if vector.len() != self.store.dimensions() || self.store.slot_of(id).is_some() {
            return false;
        }
        let Some(scale) = kernel::inverse_norm(vector) else {
            return false;
        };
        // Normalised straight into the store: one copy of the vector, not two.
        self.store.push_scaled(id, vector, scale);
        true
    }

    pub fn len(&self) -> usize {
        self.store.len()
    }

    pub fn is_empty(&self) -> bool {
        self.store.len() == 0
    }

    /// The loaded vectors as a base that scans; the graph, if wanted, comes with the next merge.
    pub fn finish(self) -> Merged {
        Merged {
            segment: Segment::exact(self.store, &self.config),
            declined: false,
        }
    }
}

impl MergePlan {
    /// Builds the next base (the expensive part: call it without holding the index's lock).
    ///
    /// A base that has a graph worth keeping is copied and the changes applied to the copy
    /// (dead slots removed with local graph repair, delta vectors inserted); otherwise the live
    /// vectors are packed into a fresh segment and, when wanted, a graph is built over them.
    pub fn build(self) -> Merged {
        let live = self.base.len() - count_ones(&self.dead) + self.delta.len();
        let dead_slots = || ones(&self.dead);
        let worn = self.base.wear() + count_ones(&self.dead) as f64 / live.max(1) as f64;
        if self.want_graph && self.base.graph.is_some() && worn <= self.config.rebuild_ratio {
            let mut segment = (*self.base).clone();
            let mut dead: Vec<u32> = dead_slots().collect();
            // Highest first: each swap-remove then moves a live vector into the hole.
            dead.sort_unstable_by(|a, b| b.cmp(a));
            for slot in dead {
                segment.remove_slot(slot);
            }
            for slot in 0..self.delta.len() as u32 {
                segment.push(self.delta.id(slot), self.delta.vector(slot));
            }
            return Merged {
                segment,
                declined: false,
            };
        }
        let mut store = VectorStore::new(self.delta.dimensions());
        store.reserve(live);
        let base = &self.base.store;
        for slot in 0..base.len() as u32 {
            if !is_set(&self.dead, slot) {
                store.push(base.id(slot), base.vector(slot));
            }
        }
        for slot in 0..self.delta.len() as u32 {
            store.push(self.delta.id(slot), self.delta.vector(slot));
        }
        let mut segment = Segment::exact(store, &self.config);
        let declined = self.want_graph
            && matches!(
                segment.build_graph(&self.config),
                segment::GraphOutcome::Declined
            );
        Merged { segment, declined }
    }
}

impl VectorIndex {
    /// An empty index of `dimensions`-long vectors with the default configuration.
    ///
    /// # Panics
    /// If `dimensions` is zero.
    pub fn new(dimensions: usize) -> Self {
        Self::with_config(dimensions, IndexConfig::default())
    }

    /// An empty index with an explicit configuration.
    ///
    /// # Panics
    /// If `dimensions` is zero.
    pub fn with_config(dimensions: usize, config: IndexConfig) -> Self {
        assert!(
            dimensions > 0,
            "a vector index needs at least one dimension"
        );
        let delta = VectorStore::new(dimensions);
        let delta_codes = config.int8_prefilter.then(|| Int8Codes::build(&delta));
        let base = Arc::new(Segment::exact(VectorStore::new(dimensions), &config));
        Self {
            config,
            dimensions,
            base,
            dead: Vec::new(),
            dead_count: 0,
            delta,
            delta_codes,
            touched: None,
            declined_at: None,
        }
    }

    pub fn config(&self) -> &IndexConfig {
        &self.config
    }

    pub fn dimensions(&self) -> usize {
        self.dimensions
    }

    pub fn len(&self) -> usize {
        self.base.len() - self.dead_count + self.delta.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn contains(&self, id: &str) -> bool {
        self.delta.slot_of(id).is_some() || self.live_base_slot(id).is_some()
    }

    /// True while searches of the base go through the HNSW graph.
    pub fn is_approximate(&self) -> bool {
        self.base.graph.is_some()
    }

    /// The HNSW beam width the last build settled on, while searches use the graph.
    pub fn search_ef(&self) -> Option<usize> {
        self.base.graph.as_ref().map(|_| self.base.ef)
    }

    /// Overrides the beam width the build calibrated (benchmarks sweep it; no effect without
    /// a graph).
    pub fn set_search_ef(&mut self, ef: usize) {
        if self.base.graph.is_some() {
            Arc::make_mut(&mut self.base).ef = ef.max(1);
        }
    }

    /// Vectors not yet merged into the base (searched by exact scan).
    pub fn pending(&self) -> usize {
        self.delta.len()
    }

    /// Makes room for `additional` more vectors in the delta (before a bulk upsert).
    pub fn reserve(&mut self, additional: usize) {
        self.delta.reserve(additional);
        if let Some(codes) = &mut self.delta_codes {
            codes.reserve(additional);
        }
    }

    /// Heap bytes held by the index: base (vectors, ids, codes, graph), dead set and delta.
    pub fn memory_bytes(&self) -> usize {
        self.base.memory_bytes()
            + self.dead.capacity() * size_of::<u64>()
            + self.delta.memory_bytes()
            + self.delta_codes.as_ref().map_or(0, Int8Codes::memory_bytes)
    }

    /// Bytes of the live vectors as raw f32, the yardstick for [`Self::memory_bytes`].
    pub fn vector_bytes(&self) -> usize {
        self.len() * self.dimensions * size_of::<f32>()
    }

    /// Inserts or replaces the vector of `id`, normalised to unit length.
    pub fn upsert(&mut self, id: &str, vector: &[f32]) -> Result<(), VectorError> {
        let unit = self.unit(vector)?;
        if let Some(slot) = self.delta.slot_of(id) {
            self.delta.set(slot, &unit);
            if let Some(codes) = &mut self.delta_codes {
                codes.set(slot, &unit);
            }
        } else {
            if let Some(slot) = self.live_base_slot(id) {
                self.kill(slot);
            }
            self.delta.push(id, &unit);
            if let Some(codes) = &mut self.delta_codes {
                codes.push(&unit);
            }
        }
        self.touch(id);
        Ok(())
    }

    /// Removes `id`; `false` when it was not indexed.
    pub fn remove(&mut self, id: &str) -> bool {
        let mut found = false;
        if let Some(slot) = self.delta.slot_of(id) {
            self.delta.swap_remove(slot);
            if let Some(codes) = &mut self.delta_codes {
                codes.swap_remove(slot);
            }
            found = true;
        }
        if let Some(slot) = self.live_base_slot(id) {
            self.kill(slot);
            found = true;
        }
        // Noted even when absent: a load in flight may have read the row before its deletion.
        self.touch(id);
        if found && self.len() < self.low_water() {
            self.declined_at = None;
        }
        found
    }

    /// The `k` ids most similar to `query` among those passing `filter`, best first, with
    /// their cosine similarity: the delta exactly, the base through its graph when it has one.
    pub fn search(
        &self,
        query: &[f32],
        k: usize,
        filter: impl Fn(&str) -> bool,
    ) -> Result<Vec<(String, f32)>, VectorError> {
        self.search_with(query, k, filter, false)
    }

    /// Like [`Self::search`], but always by exact scan (the recall baseline).
    pub fn search_exact(
        &self,
        query: &[f32],
        k: usize,
        filter: impl Fn(&str) -> bool,
    ) -> Result<Vec<(String, f32)>, VectorError> {
        self.search_with(query, k, filter, true)
    }

    fn search_with(
        &self,
        query: &[f32],
        k: usize,
        filter: impl Fn(&str) -> bool,
        exact: bool,
    ) -> Result<Vec<(String, f32)>, VectorError> {
        let query = self.unit(query)?;
        if k == 0 || self.is_empty() {
            return Ok(Vec::new());
        }
        let base = &*self.base;
        let mut accept_base = |slot: u32| !is_set(&self.dead, slot) && filter(base.store.id(slot));
        let from_base = if exact {
            base.scan(&self.config, &query, k, &mut accept_base)
        } else {
            base.search(&self.config, &query, k, &mut accept_base)
        };
        let mut accept_delta = |slot: u32| filter(self.delta.id(slot));
        let from_delta = segment::scan(
            &self.delta,
            self.delta_codes.as_ref(),
            &self.config,
            &query,
            k,
            &mut accept_delta,
        );
        let mut all: Vec<(String, f32)> = from_base
            .into_iter()
            .map(|s| (base.store.id(s.index).to_owned(), s.score))
            .chain(
                from_delta
                    .into_iter()
                    .map(|s| (self.delta.id(s.index).to_owned(), s.score)),
            )
            .collect();
        all.sort_by(|a, b| b.1.total_cmp(&a.1));
        all.truncate(k);
        Ok(all)
    }

    /// True when a merge would pay: the base wants a graph it lacks (or has one it no longer
    /// wants), the delta outgrew its share of a graph-backed base, or dead slots pile up.
    /// Always `false` while a merge or load is in flight.
    pub fn wants_merge(&self) -> bool {
        if self.touched.is_some() {
            return false;
        }
        let (live, base_len) = (self.len(), self.base.len());
        let want_graph = self.wants_graph(live);
        let has_graph = self.base.graph.is_some();
        (want_graph && !has_graph)
            || (has_graph && !want_graph && live < self.low_water())
            || (has_graph && self.delta.len() >= MIN_MERGE.max(base_len / DELTA_DIVISOR))
            || (self.dead_count >= MIN_MERGE && self.dead_count * 4 >= base_len)
    }

    /// Takes a merge when one would pay ([`Self::wants_merge`]); changes from now on are noted
    /// so [`Self::finish_merge`] can replay them.
    pub fn begin_merge(&mut self) -> Option<MergePlan> {
        self.wants_merge().then(|| self.plan())
    }

    /// A merge whether or not one would pay (tests reach every path with it).
    #[cfg(test)]
    pub(crate) fn force_merge(&mut self) -> MergePlan {
        assert!(self.touched.is_none(), "a merge is already in flight");
        self.plan()
    }

    fn plan(&mut self) -> MergePlan {
        let mut touched = HashSet::new();
        let take = if self.base.graph.is_some() {
            self.delta.len().min(self.config.max_merge.max(1))
        } else {
            self.delta.len()
        };
        let delta = if take == self.delta.len() {
            self.delta.clone()
        } else {
            // The newest vectors wait for the next merge: noted as touched, they are carried
            // over into the new delta when this merge is swapped in.
            let mut part = VectorStore::new(self.dimensions);
            part.reserve(take);
            for slot in 0..self.delta.len() as u32 {
                let id = self.delta.id(slot);
                if (slot as usize) < take {
                    part.push(id, self.delta.vector(slot));
                } else {
                    touched.insert(id.into());
                }
            }
            part
        };
        self.touched = Some(touched);
        MergePlan {
            config: self.config.clone(),
            base: Arc::clone(&self.base),
            dead: self.dead.clone(),
            delta,
            want_graph: self.wants_graph(self.len()),
        }
    }

    /// Starts a bulk load into a new base (the index must be empty); writes meanwhile land in
    /// the delta as usual and win over the loaded vectors.
    pub fn begin_load(&mut self) -> Loader {
        self.touched.get_or_insert_with(HashSet::new);
        Loader {
            config: self.config.clone(),
            store: VectorStore::new(self.dimensions),
        }
    }

    /// Installs a built merge or load as the new base. Every id changed since the plan was
    /// taken keeps its current vector (moved to the new delta) or stays removed.
    pub fn finish_merge(&mut self, merged: Merged) {
        let touched = self.touched.take().unwrap_or_default();
        let segment = merged.segment;
        let mut dead = vec![0u64; segment.len().div_ceil(64)];
        let mut dead_count = 0;
        let mut delta = VectorStore::new(self.dimensions);
        for id in &touched {
            if let Some(slot) = segment.store.slot_of(id) {
                set(&mut dead, slot);
                dead_count += 1;
            }
            if let Some(v) = self.current(id) {
                delta.push(id, v);
            }
        }
        let delta_codes = self.config.int8_prefilter.then(|| Int8Codes::build(&delta));
        if merged.declined {
            self.declined_at = Some(segment.len());
        }
        self.base = Arc::new(segment);
        self.dead = dead;
        self.dead_count = dead_count;
        self.delta = delta;
        self.delta_codes = delta_codes;
    }

    /// Forgets a merge that will not finish (its build failed); the index is as it was.
    pub fn abort_merge(&mut self) {
        self.touched = None;
    }

    /// Runs every merge that would pay, inline (tests, benchmarks, tools).
    pub fn merge_now(&mut self) {
        for _ in 0..4 {
            match self.begin_merge() {
                Some(plan) => self.finish_merge(plan.build()),
                None => break,
            }
        }
    }

    /// The current vector of `id`: from the delta, else from the base if still live.
    fn current(&self, id: &str) -> Option<&[f32]> {
        if let Some(slot) = self.delta.slot_of(id) {
            return Some(self.delta.vector(slot));
        }
        self.live_base_slot(id).map(|s| self.base.store.vector(s))
    }

    fn live_base_slot(&self, id: &str) -> Option<u32> {
        self.base
            .store
            .slot_of(id)
            .filter(|&s| !is_set(&self.dead, s))
    }

    fn kill(&mut self, slot: u32) {
        if self.dead.len() * 64 <= slot as usize {
            self.dead.resize(self.base.len().div_ceil(64), 0);
        }
        set(&mut self.dead, slot);
        self.dead_count += 1;
    }

    fn touch(&mut self, id: &str) {
        if let Some(touched) = &mut self.touched {
            touched.insert(id.into());
        }
    }

    fn low_water(&self) -> usize {
        self.config.ann_threshold - self.config.ann_threshold / 10
    }

    fn wants_graph(&self, len: usize) -> bool {
        len >= self.config.ann_threshold && self.declined_at.is_none_or(|at| len >= 2 * at)
    }

    /// Checks the length and returns a unit-length copy.
    fn unit(&self, vector: &[f32]) -> Result<Vec<f32>, VectorError> {
        if vector.len() != self.dimensions {
            return Err(VectorError::Dimensions {
                expected: self.dimensions,
                got: vector.len(),
            });
        }
        let mut unit = vector.to_vec();
        if !kernel::normalize(&mut unit) {
            return Err(VectorError::Degenerate);
        }
        Ok(unit)
    }
}

fn is_set(bits: &[u64], slot: u32) -> bool {
    bits.get(slot as usize / 64)
        .is_some_and(|w| w & (1 << (slot % 64)) != 0)
}

fn set(bits: &mut [u64], slot: u32) {
    bits[slot as usize / 64] |= 1 << (slot % 64);
}

fn count_ones(bits: &[u64]) -> usize {
    bits.iter().map(|w| w.count_ones() as usize).sum()
}

fn ones(bits: &[u64]) -> impl Iterator<Item = u32> + '_ {
    bits.iter().enumerate().flat_map(|(i, &w)| {
        (0..64)
            .filter(move |b| w & (1 << b) != 0)
            .map(move |b| (i * 64 + b) as u32)
    })
}

impl std::fmt::Debug for VectorIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VectorIndex")
            .field("dimensions", &self.dimensions())
            .field("len", &self.len())
            .field("pending", &self.pending())
            .field("approximate", &self.is_approximate())
            .field("memory_bytes", &self.memory_bytes())
            .finish()
    }
}
