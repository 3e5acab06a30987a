//! The in-memory vector index behind semantic recall.
//!
//! SQLite's `embeddings` table is the source of truth (vectors as raw little-endian f32 blobs,
//! see [`from_le_bytes`] / [`to_le_bytes`]); [`VectorIndex`] is a copy built at start-up and
//! kept in sync on every write, delete and recover. Keys are memory ids.
//!
//! How a search runs:
//! - **Exact scan** (below [`IndexConfig::ann_threshold`] vectors): every unit vector is scored
//!   against the query in one pass over a contiguous `Vec<f32>`, with a dot product the compiler
//!   vectorises and a bounded min-heap for the top `k`. The filter is applied inside the scan,
//!   so a filtered search returns `k` results whenever `k` ids pass. With
//!   [`IndexConfig::int8_prefilter`] an int8 pass picks candidates that are rescored in f32.
//! - **HNSW** (from the threshold up): a graph over the same vectors. After each build the
//!   index measures the graph's recall@10 on its own data and picks the smallest beam width
//!   (`ef`) that reaches [`IndexConfig::target_recall`]; data on which no affordable `ef` does
//!   (isotropic random vectors, say) keeps the exact scan. Filters are applied during the graph
//!   walk; a selective filter (estimated by sampling), or a walk that exceeds its work budget,
//!   falls back to the exact scan.
//!
//! Memory: the vectors (`4 * dimensions` bytes each), one copy of each id, a slot table of
//! `u32`s and, past the threshold, the graph links (~`(2M + 1) * 4` bytes a vector).
//! [`VectorIndex::memory_bytes`] reports the total.
//!
//! Threading: the index is plain data (`Send + Sync`). Searches take `&self` and may run
//! concurrently; writes take `&mut self`. The service keeps it behind an `RwLock` and calls it
//! from blocking threads: a 100k×384 exact scan takes ~15-35 ms, and the graph build at the
//! threshold runs inside the write that crosses it (~1 s per 1k 384-d vectors on the 2-core
//! dev box, so minutes at 200k).

mod calibrate;
mod hnsw;
mod kernel;
mod quantized;
mod store;
mod topk;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod testutil;

pub use kernel::{from_le_bytes, to_le_bytes};

use calibrate::tune_ef;
use hnsw::{Hnsw, HnswParams};
use quantized::Int8Codes;
use store::VectorStore;
use topk::{Scored, TopK};

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
    /// Keep int8 codes for a faster first pass of the exact scan, rescored in f32. Costs 25%
    /// more memory than the vectors themselves; off by default for that reason.
    pub int8_prefilter: bool,
    /// Candidates per result that the int8 pass hands to f32 rescoring.
    pub rescore_factor: usize,
    /// Seed of the HNSW level draws, so builds are reproducible.
    pub seed: u64,
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
        }
    }
}

/// Rows sampled to estimate how selective a filter is.
const FILTER_SAMPLE: usize = 256;
/// Vectors a graph walk may score before the exact scan takes over, as a divisor of the live
/// count: past `len / 8` scattered reads, one sequential pass is about as fast.
const BUDGET_DIVISOR: usize = 8;

/// Unit vectors keyed by memory id, searchable by cosine similarity.
pub struct VectorIndex {
    config: IndexConfig,
    store: VectorStore,
    /// int8 codes parallel to the store, when `config.int8_prefilter` is on.
    codes: Option<Int8Codes>,
    /// The HNSW graph, while the index is at or past `config.ann_threshold`.
    graph: Option<Hnsw>,
    /// The `ef` the last build measured to reach `config.target_recall`.
    ef: usize,
    /// Size at which the data was judged unsuited to a graph; retried at twice that size.
    declined_at: Option<usize>,
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
        let store = VectorStore::new(dimensions);
        let codes = config.int8_prefilter.then(|| Int8Codes::build(&store));
        Self {
            config,
            store,
            codes,
            graph: None,
            ef: 0,
            declined_at: None,
        }
    }

    pub fn config(&self) -> &IndexConfig {
        &self.config
    }

    pub fn dimensions(&self) -> usize {
        self.store.dimensions()
    }

    pub fn len(&self) -> usize {
        self.store.len()
    }

    pub fn is_empty(&self) -> bool {
        self.store.len() == 0
    }

    pub fn contains(&self, id: &str) -> bool {
        self.store.slot_of(id).is_some()
    }

    /// True while searches go through the HNSW graph.
    pub fn is_approximate(&self) -> bool {
        self.graph.is_some()
    }

    /// The HNSW beam width the last build settled on, while searches use the graph.
    pub fn search_ef(&self) -> Option<usize> {
        self.graph.as_ref().map(|_| self.ef)
    }

    /// Makes room for `additional` more vectors (call before a bulk load of known size).
    pub fn reserve(&mut self, additional: usize) {
        self.store.reserve(additional);
        if let Some(codes) = &mut self.codes {
            codes.reserve(additional);
        }
    }

    /// Heap bytes held by the index: vectors, ids, slot table, int8 codes and graph.
    pub fn memory_bytes(&self) -> usize {
        self.store.memory_bytes()
            + self.codes.as_ref().map_or(0, Int8Codes::memory_bytes)
            + self.graph.as_ref().map_or(0, Hnsw::memory_bytes)
    }

    /// Bytes of the live vectors as raw f32, the yardstick for [`Self::memory_bytes`].
    pub fn vector_bytes(&self) -> usize {
        self.store.len() * self.store.dimensions() * size_of::<f32>()
    }

    /// Inserts or replaces the vector of `id`, normalised to unit length.
    pub fn upsert(&mut self, id: &str, vector: &[f32]) -> Result<(), VectorError> {
        let unit = self.unit(vector)?;
        match self.store.slot_of(id) {
            Some(slot) => {
                if let Some(graph) = &mut self.graph {
                    graph.remove(&self.store, slot);
                }
                self.store.set(slot, &unit);
                if let Some(codes) = &mut self.codes {
                    codes.set(slot, &unit);
                }
                if let Some(graph) = &mut self.graph {
                    graph.insert(&self.store, slot);
                }
                self.rebuild_if_worn();
            }
            None => {
                let slot = self.store.push(id, &unit);
                if let Some(codes) = &mut self.codes {
                    codes.push(&unit);
                }
                if let Some(graph) = &mut self.graph {
                    graph.insert(&self.store, slot);
                } else if self.wants_graph() {
                    self.build_graph();
                }
            }
        }
        Ok(())
    }

    /// Removes `id`; `false` when it was not indexed.
    pub fn remove(&mut self, id: &str) -> bool {
        let Some(slot) = self.store.slot_of(id) else {
            return false;
        };
        if let Some(graph) = &mut self.graph {
            graph.remove(&self.store, slot);
        }
        let moved_from = self.store.swap_remove(slot);
        if let Some(codes) = &mut self.codes {
            codes.swap_remove(slot);
        }
        if let Some(graph) = &mut self.graph {
            graph.on_swap_remove(slot, moved_from);
        }
        let low_water = self.config.ann_threshold - self.config.ann_threshold / 10;
        if self.store.len() < low_water {
            self.declined_at = None;
        }
        if self.graph.is_some() && self.store.len() < low_water {
            self.graph = None;
            self.store.shrink_to_fit();
        } else {
            self.rebuild_if_worn();
        }
        true
    }

    /// The `k` ids most similar to `query` among those passing `filter`, best first, with
    /// their cosine similarity. Exact below the ANN threshold, HNSW-approximate above it.
    pub fn search(
        &self,
        query: &[f32],
        k: usize,
        filter: impl Fn(&str) -> bool,
    ) -> Result<Vec<(String, f32)>, VectorError> {
        let query = self.unit(query)?;
        if k == 0 || self.is_empty() {
            return Ok(Vec::new());
        }
        let mut accept = |slot: u32| filter(self.store.id(slot));
        let ratio = if self.graph.is_some() {
            self.filter_ratio(&mut accept)
        } else {
            1.0
        };
        if let Some(graph) = &self.graph
            && ratio >= self.config.min_filter_ratio
        {
            // The beam keeps only passing nodes; widen it so as many candidates are compared
            // as in an unfiltered search.
            let ef = ((self.ef as f64 / ratio).ceil() as usize).max(k);
            let budget = (self.len() / BUDGET_DIVISOR).max(ef * 4 * self.config.hnsw_m);
            if let Ok(found) = graph.search(&self.store, &query, k, ef, budget, &mut accept) {
                return Ok(self.named(found));
            }
        }
        Ok(self.named(self.scan(&query, k, &mut accept)))
    }

    /// Like [`Self::search`], but always by exact scan (the recall baseline).
    pub fn search_exact(
        &self,
        query: &[f32],
        k: usize,
        filter: impl Fn(&str) -> bool,
    ) -> Result<Vec<(String, f32)>, VectorError> {
        let query = self.unit(query)?;
        let mut accept = |slot: u32| filter(self.store.id(slot));
        Ok(self.named(self.scan(&query, k, &mut accept)))
    }

    /// The exact top `k`: an int8 first pass with f32 rescoring when configured, else one f32
    /// pass.
    fn scan(&self, query: &[f32], k: usize, accept: &mut impl FnMut(u32) -> bool) -> Vec<Scored> {
        if let Some(codes) = &self.codes {
            return codes.search(&self.store, query, k, self.config.rescore_factor, accept);
        }
        let mut top = TopK::new(k);
        let rows = self.store.data().chunks_exact(self.dimensions());
        for (slot, row) in rows.enumerate() {
            let score = kernel::dot(query, row);
            // Score first: the filter (an id lookup) only runs for would-be results.
            if top.admits(score) && accept(slot as u32) {
                top.push(Scored {
                    score,
                    index: slot as u32,
                });
            }
        }
        top.into_sorted()
    }

    /// Fraction of an evenly spaced sample of slots that pass `accept`.
    fn filter_ratio(&self, accept: &mut impl FnMut(u32) -> bool) -> f64 {
        let len = self.len();
        let samples = FILTER_SAMPLE.min(len);
        let passed = (0..samples)
            .filter(|i| accept((i * len / samples) as u32))
            .count();
        passed as f64 / samples.max(1) as f64
    }

    fn named(&self, found: Vec<Scored>) -> Vec<(String, f32)> {
        found
            .into_iter()
            .map(|s| (self.store.id(s.index).to_owned(), s.score))
            .collect()
    }

    /// Checks the length and returns a unit-length copy.
    fn unit(&self, vector: &[f32]) -> Result<Vec<f32>, VectorError> {
        if vector.len() != self.dimensions() {
            return Err(VectorError::Dimensions {
                expected: self.dimensions(),
                got: vector.len(),
            });
        }
        let mut unit = vector.to_vec();
        if !kernel::normalize(&mut unit) {
            return Err(VectorError::Degenerate);
        }
        Ok(unit)
    }

    fn hnsw_params(&self) -> HnswParams {
        HnswParams {
            m: self.config.hnsw_m.max(2),
            ef_construction: self.config.ef_construction.max(1),
            seed: self.config.seed,
        }
    }

    fn wants_graph(&self) -> bool {
        let len = self.store.len();
        len >= self.config.ann_threshold && self.declined_at.is_none_or(|at| len >= 2 * at)
    }

    /// Builds and calibrates the graph, or declines it when the data does not suit one.
    ///
    /// A trial graph over a sample cannot make that call: a uniform sample thins every cluster,
    /// so clustered data looks unstructured in it. Unstructured data therefore pays for one full
    /// build before it is declined (and is retried only at twice the size).
    fn build_graph(&mut self) {
        let started = std::time::Instant::now();
        let (params, len, cfg) = (self.hnsw_params(), self.len(), &self.config);
        let (start_ef, max_ef, target) = (cfg.ef_search, cfg.max_ef_search, cfg.target_recall);
        self.graph = None;
        let graph = Hnsw::build(params, &self.store);
        let Some(ef) = tune_ef(&graph, &self.store, start_ef, max_ef, target) else {
            return self.decline_graph(started);
        };
        self.graph = Some(graph);
        self.ef = ef;
        tracing::info!(
            vectors = len,
            ef,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "built HNSW vector graph"
        );
    }

    fn decline_graph(&mut self, started: std::time::Instant) {
        self.declined_at = Some(self.len());
        tracing::info!(
            vectors = self.len(),
            target_recall = self.config.target_recall,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "vector data too unstructured for an HNSW graph to beat the exact scan; scanning"
        );
    }

    /// Rebuilds the graph from scratch once tombstones exceed `rebuild_ratio` of live vectors.
    fn rebuild_if_worn(&mut self) {
        let worn = self.graph.as_ref().is_some_and(|g| {
            g.tombstones() as f64 > self.config.rebuild_ratio * self.store.len() as f64
        });
        if worn {
            self.store.shrink_to_fit();
            self.build_graph();
        }
    }
}

impl std::fmt::Debug for VectorIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VectorIndex")
            .field("dimensions", &self.dimensions())
            .field("len", &self.len())
            .field("approximate", &self.is_approximate())
            .field("memory_bytes", &self.memory_bytes())
            .finish()
    }
}
