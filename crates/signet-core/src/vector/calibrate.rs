//! Choosing `ef` for a freshly built graph by measuring its recall on the data itself.
//!
//! HNSW recall depends on the data far more than on its size: on clustered vectors (what text
//! embeddings look like) a beam of 64 finds the exact top 10, while on isotropic random
//! 384-d vectors a graph needs a beam of thousands — more work than the exact scan. So
//! instead of trusting a fixed `ef`, the index measures recall@10 against the exact scan on
//! queries drawn from the data (stored vectors, each excluded from its own results), doubles
//! `ef` until the target is met, then bisects back towards the last beam that missed it (ties
//! at the 10th score count as hits), and keeps a quarter more. When no `ef` up to the ceiling meets it, the graph is not
//! worth having and the index keeps scanning.

use super::IndexConfig;
use super::hnsw::{Hnsw, SearchParams};
use super::kernel;
use super::space::Space;
use super::store::VectorStore;
use super::topk::{Scored, TopK};

/// Stored vectors sampled as queries: 50 × 10 results resolve recall to 0.002.
const QUERIES: usize = 50;
const K: usize = 10;
/// Bisection steps between the last failing and the first passing doubling of `ef`.
const REFINE_STEPS: usize = 2;

/// A calibration query: its vector, the stored slot it must not find (a stored vector used as
/// a query), and its exact top 10.
struct Probe {
    vector: Vec<f32>,
    exclude: Option<u32>,
    truth: Vec<Scored>,
}

/// The smallest `ef` (doubling from `ef_search`, then bisected) whose measured recall@10
/// reaches `target_recall` with a margin, plus a quarter (at most `max_ef_search`); `None`
/// when none up to `max_ef_search` does.
///
/// The queries are stored vectors, each excluded from its own results.
pub(crate) fn tune_ef(graph: &Hnsw, space: Space<'_>, config: &IndexConfig) -> Option<usize> {
    let (start, max, target) = (config.ef_search, config.max_ef_search, config.target_recall);
    let probes = probes(space.store);
    // Aim halfway between the target and 1: the sample is small, so the measured recall needs
    // a margin.
    let aim = target * (1.0 + (1.0 - target) / 2.0);
    let passes = |ef: usize| recall(graph, space, config, &probes, ef) >= aim;
    let mut ef = start.max(K);
    let mut failed = ef;
    while !passes(ef) {
        if ef >= max.max(start) {
            return None;
        }
        failed = ef;
        ef = (ef * 2).min(max.max(start));
    }
    for _ in 0..REFINE_STEPS {
        let mid = failed + (ef - failed) / 2;
        if mid <= failed || mid >= ef {
            break;
        }
        if passes(mid) {
            ef = mid;
        } else {
            failed = mid;
        }
    }
    // Real queries are not stored vectors: a quarter more beam covers them (before: twice the
    // beam, which doubled every search's cost; on the bench corpus real queries need less
    // beam than stored vectors do).
    Some((ef + ef / 4).min(max.max(start)))
}

/// Tie-aware recall@10 of the graph at `ef` over `probes`.
fn recall(
    graph: &Hnsw,
    space: Space<'_>,
    config: &IndexConfig,
    probes: &[Probe],
    ef: usize,
) -> f64 {
    let (mut hits, mut wanted) = (0, 0);
    for probe in probes {
        let mut others = |slot: u32| Some(slot) != probe.exclude;
        let search = SearchParams {
            k: K,
            ef,
            rescore: K * config.rescore_factor,
            budget: usize::MAX,
        };
        let found = graph
            .search(space, &probe.vector, search, &mut others)
            .unwrap_or_default();
        // Ties at the 10th score make "which ten" arbitrary (text vectors repeat): a hit is a
        // result scoring at least the exact 10th, not the exact scan's pick among equals.
        let floor = probe.truth.last().map_or(f32::MIN, |w| w.score) - TIE_EPSILON;
        hits += found
            .iter()
            .filter(|s| s.score >= floor)
            .count()
            .min(probe.truth.len());
        wanted += probe.truth.len();
    }
    hits as f64 / wanted.max(1) as f64
}

/// Evenly spaced stored vectors.
///
/// Midpoints of two stored vectors were tried as probes "off the data" and dropped: on the
/// bench corpus at 1M no beam up to 512 found their top 10 (the graph was declined and every
/// search scanned) while real queries need a beam of ~128 at 100k.
fn probes(store: &VectorStore) -> Vec<Probe> {
    let n = store.len();
    let count = QUERIES.min(n);
    let mut probes = Vec::with_capacity(count);
    for i in 0..count {
        let q = (i * n / count) as u32;
        let vector = store.vector(q).to_vec();
        let truth = exact(store, &vector, Some(q));
        probes.push(Probe {
            vector,
            exclude: Some(q),
            truth,
        });
    }
    probes
}

/// Scores this close to the exact 10th count as ties with it.
const TIE_EPSILON: f32 = 1e-6;

/// The exact top 10 for `query`, excluding slot `exclude`.
fn exact(store: &VectorStore, query: &[f32], exclude: Option<u32>) -> Vec<Scored> {
    let mut top = TopK::new(K);
    for slot in 0..store.len() as u32 {
        let score = kernel::dot(query, store.vector(slot));
        if Some(slot) != exclude && top.admits(score) {
            top.push(Scored { score, index: slot });
        }
    }
    top.into_sorted()
}
