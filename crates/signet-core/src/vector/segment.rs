//! An immutable set of vectors with its search structures: the int8 codes when configured and,
//! past the ANN threshold, the HNSW graph. The index's base is one segment behind an `Arc`, so
//! a background merge can read it while searches go on; a merge builds the next segment (a
//! copy of the old one with the changes applied, or a fresh build) and the index swaps it in.

use super::calibrate::tune_ef;
use super::hnsw::{Hnsw, HnswParams, SearchParams};
use super::quantized::Int8Codes;
use super::space::Space;
use super::store::VectorStore;
use super::topk::{Scored, TopK};
use super::{IndexConfig, kernel};

/// Rows sampled to estimate how selective a filter is.
const FILTER_SAMPLE: usize = 256;
/// Vectors a graph walk may score before the exact scan takes over, as a divisor of the live
/// count: past `len / 8` scattered reads, one sequential pass is about as fast.
const BUDGET_DIVISOR: usize = 8;

#[derive(Clone)]
pub(crate) struct Segment {
    pub store: VectorStore,
    /// int8 codes parallel to the store, when `IndexConfig::int8_prefilter` is on.
    pub codes: Option<Int8Codes>,
    /// The HNSW graph over the store, when the segment is large enough and the data suits one.
    pub graph: Option<Hnsw>,
    /// The beam width the graph's build measured to reach the target recall.
    pub ef: usize,
}

/// What a graph build found.
pub(crate) enum GraphOutcome {
    Built,
    /// No affordable `ef` reaches the target recall on this data: the segment scans.
    Declined,
}

impl Segment {
    /// A segment over `store` that scans (codes built when configured).
    pub fn exact(store: VectorStore, config: &IndexConfig) -> Self {
        let codes = config.int8_prefilter.then(|| Int8Codes::build(&store));
        Self {
            store,
            codes,
            graph: None,
            ef: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.store.len()
    }

    /// Builds and calibrates the graph, or declines it when the data does not suit one.
    ///
    /// A trial graph over a sample cannot make that call: a uniform sample thins every cluster,
    /// so clustered data looks unstructured in it. Unstructured data therefore pays for one full
    /// build before it is declined (and is retried only at twice the size).
    pub fn build_graph(&mut self, config: &IndexConfig) -> GraphOutcome {
        let started = std::time::Instant::now();
        let graph = Hnsw::build(params(config), self.space());
        let elapsed_ms = |s: std::time::Instant| s.elapsed().as_millis() as u64;
        let Some(ef) = tune_ef(&graph, self.space(), config) else {
            tracing::info!(
                vectors = self.len(),
                target_recall = config.target_recall,
                elapsed_ms = elapsed_ms(started),
                "vector data too unstructured for an HNSW graph to beat the exact scan; scanning"
            );
            return GraphOutcome::Declined;
        };
        self.graph = Some(graph);
        self.ef = ef;
        tracing::info!(
            vectors = self.len(),
            ef,
            elapsed_ms = elapsed_ms(started),
            "built HNSW vector graph"
        );
        GraphOutcome::Built
    }

    /// The vectors the graph scores with: the int8 codes when kept, else the f32 vectors.
    pub fn space(&self) -> Space<'_> {
        Space::new(&self.store, self.codes.as_ref())
    }

    /// Removes the vector in `slot` (graph repaired locally, codes and store swap-removed).
    pub fn remove_slot(&mut self, slot: u32) {
        if let Some(graph) = &mut self.graph {
            graph.remove(Space::new(&self.store, self.codes.as_ref()), slot);
        }
        let moved_from = self.store.swap_remove(slot);
        if let Some(codes) = &mut self.codes {
            codes.swap_remove(slot);
        }
        if let Some(graph) = &mut self.graph {
            graph.on_swap_remove(slot, moved_from);
        }
    }

    /// Appends a unit vector under a new id (graph and codes updated).
    pub fn push(&mut self, id: &str, unit: &[f32]) {
        let slot = self.store.push(id, unit);
        if let Some(codes) = &mut self.codes {
            codes.push(unit);
        }
        if let Some(graph) = &mut self.graph {
            graph.insert(Space::new(&self.store, self.codes.as_ref()), slot);
        }
    }

    /// Removed-node share of the graph (0 without one).
    pub fn wear(&self) -> f64 {
        self.graph
            .as_ref()
            .map_or(0.0, |g| g.tombstones() as f64 / self.len().max(1) as f64)
    }

    /// The best `k` slots passing `accept`: through the graph when there is one and the filter
    /// lets enough through, else by exact scan.
    pub fn search(
        &self,
        config: &IndexConfig,
        query: &[f32],
        k: usize,
        accept: &mut impl FnMut(u32) -> bool,
    ) -> Vec<Scored> {
        if k == 0 || self.len() == 0 {
            return Vec::new();
        }
        if let Some(graph) = &self.graph {
            let ratio = self.filter_ratio(accept);
            if ratio >= config.min_filter_ratio {
                // The beam keeps only passing nodes; widen it so as many candidates are
                // compared as in an unfiltered search.
                let ef = ((self.ef as f64 / ratio).ceil() as usize).max(k);
                let budget = (self.len() / BUDGET_DIVISOR).max(ef * 4 * config.hnsw_m);
                let search = SearchParams {
                    k,
                    ef,
                    rescore: k.saturating_mul(config.rescore_factor),
                    budget,
                };
                if let Ok(found) = graph.search(self.space(), query, search, accept) {
                    return found;
                }
            }
        }
        self.scan(config, query, k, accept)
    }

    /// The exact top `k`: an int8 first pass with f32 rescoring when configured, else one f32
    /// pass.
    pub fn scan(
        &self,
        config: &IndexConfig,
        query: &[f32],
        k: usize,
        accept: &mut impl FnMut(u32) -> bool,
    ) -> Vec<Scored> {
        scan(&self.store, self.codes.as_ref(), config, query, k, accept)
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

    pub fn memory_bytes(&self) -> usize {
        self.store.memory_bytes()
            + self.codes.as_ref().map_or(0, Int8Codes::memory_bytes)
            + self.graph.as_ref().map_or(0, Hnsw::memory_bytes)
    }
}

/// The exact top `k` of `store` (through `codes` first when given).
pub(crate) fn scan(
    store: &VectorStore,
    codes: Option<&Int8Codes>,
    config: &IndexConfig,
    query: &[f32],
    k: usize,
    accept: &mut impl FnMut(u32) -> bool,
) -> Vec<Scored> {
    if k == 0 || store.len() == 0 {
        return Vec::new();
    }
    if let Some(codes) = codes {
        return codes.search(store, query, k, config.rescore_factor, accept);
    }
    scan_f32(store, query, k, accept)
}

fn scan_f32(
    store: &VectorStore,
    query: &[f32],
    k: usize,
    accept: &mut impl FnMut(u32) -> bool,
) -> Vec<Scored> {
    let mut top = TopK::new(k);
    let rows = store.data().chunks_exact(store.dimensions());
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

fn params(config: &IndexConfig) -> HnswParams {
    HnswParams {
        m: config.hnsw_m.max(2),
        ef_construction: config.ef_construction.max(1),
        seed: config.seed,
    }
}
