//! Choosing `ef` for a freshly built graph by measuring its recall on the data itself.
//!
//! HNSW recall depends on the data far more than on its size: on clustered vectors (what text
//! embeddings look like) a beam of 64 finds the exact top 10, while on isotropic random
//! 384-d vectors a graph needs a beam of thousands — more work than the exact scan. So
//! instead of trusting a fixed `ef`, the index measures leave-one-out recall@10 (stored vectors
//! as queries, each excluded from its own results) against the exact scan, and doubles `ef`
//! until the target is met. When no `ef` up to the ceiling meets it, the graph is not worth
//! having and the index keeps scanning.

use super::hnsw::Hnsw;
use super::kernel::dot;
use super::store::VectorStore;
use super::topk::{Scored, TopK};

/// Queries sampled for a measurement: 50 × 10 results resolves recall to 0.002.
const QUERIES: usize = 50;
const K: usize = 10;

/// Twice the smallest `ef` in `start, 2*start, ...` up to `max` whose recall@10 reaches
/// `target` (with a margin), or `None`.
pub(crate) fn tune_ef(
    graph: &Hnsw,
    store: &VectorStore,
    start: usize,
    max: usize,
    target: f64,
) -> Option<usize> {
    let n = store.len();
    let queries: Vec<u32> = (0..QUERIES.min(n))
        .map(|i| (i * n / QUERIES.min(n)) as u32)
        .collect();
    let truth: Vec<Vec<Scored>> = queries.iter().map(|&q| exact_without(store, q)).collect();
    let wanted: usize = truth.iter().map(Vec::len).sum();
    // Aim halfway between the target and 1: the sample is small and real queries are not
    // stored vectors, so the measured recall needs a margin.
    let aim = target * (1.0 + (1.0 - target) / 2.0);
    let mut ef = start.max(K);
    while ef <= max.max(start) {
        let mut hits = 0;
        for (&q, want) in queries.iter().zip(&truth) {
            let mut others = |slot: u32| slot != q;
            let found = graph
                .search(store, store.vector(q), K, ef, usize::MAX, &mut others)
                .unwrap_or_default();
            // Ties at the 10th score make "which ten" arbitrary (text vectors repeat): a hit is
            // a result scoring at least the exact 10th, not the exact scan's pick among equals.
            let floor = want.last().map_or(f32::MIN, |w| w.score) - TIE_EPSILON;
            hits += found
                .iter()
                .filter(|s| s.score >= floor)
                .count()
                .min(want.len());
        }
        if hits as f64 >= aim * wanted as f64 {
            // Queries that are not stored vectors (a question rather than a memory) sit off
            // the data and need a wider beam; twice the measured `ef` covers them.
            return Some(ef * 2);
        }
        ef *= 2;
    }
    None
}

/// Scores this close to the exact 10th count as ties with it.
const TIE_EPSILON: f32 = 1e-6;

/// The exact top 10 for the vector in slot `q`, excluding `q`.
fn exact_without(store: &VectorStore, q: u32) -> Vec<Scored> {
    let query = store.vector(q);
    let mut top = TopK::new(K);
    for slot in 0..store.len() as u32 {
        let score = dot(query, store.vector(slot));
        if slot != q && top.admits(score) {
            top.push(Scored { score, index: slot });
        }
    }
    top.into_sorted()
}
