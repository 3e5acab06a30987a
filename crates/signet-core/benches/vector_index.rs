//! Figures for the in-memory vector index: build time, memory, search latency and recall.
//!
//! ```text
//! cargo bench -p signet-core --bench vector_index                # 10k, 100k, 300k × 384-d
//! VECTOR_BENCH_SIZES=20000 VECTOR_BENCH_DIM=768 cargo bench -p signet-core --bench vector_index
//! ```
//!
//! For each data set (random unit vectors; clustered vectors) and size it prints, single
//! threaded: the exact f32 scan, the int8 first pass with f32 rescoring, and the HNSW graph
//! (unfiltered, with a filter passing 50%, and with one passing 2% which falls back to the
//! scan). Recall@10 is measured against the exact scan. Queries come from the same
//! distribution as the data.

// Test code may unwrap (the workspace denies `unwrap_used` elsewhere).
#![allow(clippy::unwrap_used)]

use std::collections::HashSet;
use std::time::{Duration, Instant};

use signet_core::vector::{IndexConfig, VectorIndex};

fn main() {
    let sizes = env_list("VECTOR_BENCH_SIZES", &[10_000, 100_000, 300_000]);
    let dim = env_list("VECTOR_BENCH_DIM", &[384])[0];
    let queries_wanted = env_list("VECTOR_BENCH_QUERIES", &[200])[0];
    let only = std::env::var("VECTOR_BENCH_ONLY").unwrap_or_default();
    println!("vector index benchmark: {dim}-d, single thread, recall@10 vs exact scan");
    for &n in &sizes {
        for kind in [DataKind::Random, DataKind::Clustered] {
            let mut rng = Lcg::new(n as u64 ^ kind as u64);
            let data = kind.generate(&mut rng, n + queries_wanted, dim);
            let (vectors, queries) = data.split_at(n);
            println!("\n== {} {n} × {dim} ==", kind.name());
            let exact = run_exact(vectors, queries);
            if only.is_empty() || only.contains("int8") {
                run_int8(vectors, queries, &exact);
            }
            if only.is_empty() || only.contains("hnsw") {
                run_hnsw(vectors, queries, &exact);
            }
        }
    }
}

/// Exact results per query: the recall baseline.
struct Exact {
    top: Vec<HashSet<String>>,
    half: Vec<HashSet<String>>,
}

fn run_exact(vectors: &[Vec<f32>], queries: &[Vec<f32>]) -> Exact {
    let config = IndexConfig {
        ann_threshold: usize::MAX,
        ..IndexConfig::default()
    };
    let (index, build) = build(vectors, config);
    report_memory("exact f32", &index, build);
    let (top, times) = timed_searches(&index, queries, |_| true, true);
    report_latency("exact f32", &times, None);
    let (half, _) = timed_searches(&index, queries, half_filter, true);
    Exact { top, half }
}

fn run_int8(vectors: &[Vec<f32>], queries: &[Vec<f32>], exact: &Exact) {
    let config = IndexConfig {
        ann_threshold: usize::MAX,
        int8_prefilter: true,
        ..IndexConfig::default()
    };
    let (index, build) = build(vectors, config);
    report_memory("int8+rescore", &index, build);
    let (found, times) = timed_searches(&index, queries, |_| true, false);
    report_latency("int8+rescore", &times, Some(recall(&found, &exact.top)));
}

fn run_hnsw(vectors: &[Vec<f32>], queries: &[Vec<f32>], exact: &Exact) {
    let config = IndexConfig {
        ann_threshold: vectors.len(),
        ..hnsw_overrides()
    };
    println!(
        "  hnsw params: M={} ef_construction={} ef_search={}..{} target_recall={}",
        config.hnsw_m,
        config.ef_construction,
        config.ef_search,
        config.max_ef_search,
        config.target_recall
    );
    let (index, elapsed) = build(vectors, config.clone());
    report_memory("hnsw", &index, elapsed);
    if !index.is_approximate() {
        println!("  hnsw declined: no ef <= max reaches the target on this data; searches scan");
        if vectors.len() <= 10_000 {
            // Show what the graph would have given, at the smallest calibrated beam.
            let forced = IndexConfig {
                target_recall: 0.0,
                ..config
            };
            let (index, elapsed) = build(vectors, forced);
            report_memory("hnsw forced", &index, elapsed);
            let (found, times) = timed_searches(&index, queries, |_| true, false);
            let label = format!("hnsw forced ef={}", index.search_ef().unwrap_or(0));
            report_latency(&label, &times, Some(recall(&found, &exact.top)));
        }
        return;
    }
    run_hnsw_searches(index, vectors, queries, exact);
}

fn run_hnsw_searches(
    mut index: VectorIndex,
    vectors: &[Vec<f32>],
    queries: &[Vec<f32>],
    exact: &Exact,
) {
    println!("  hnsw calibrated ef = {}", index.search_ef().unwrap_or(0));
    let (found, times) = timed_searches(&index, queries, |_| true, false);
    report_latency("hnsw", &times, Some(recall(&found, &exact.top)));
    let (found, times) = timed_searches(&index, queries, half_filter, false);
    report_latency("hnsw filter 50%", &times, Some(recall(&found, &exact.half)));
    let (_, times) = timed_searches(&index, queries, |id| id.ends_with("00"), false);
    report_latency("hnsw filter 1% (exact)", &times, None);

    // Churn: remove 2% of the vectors, then measure recall against a fresh exact scan.
    let removed: Vec<String> = (0..vectors.len())
        .step_by(50)
        .map(|i| format!("m{i}"))
        .collect();
    let started = Instant::now();
    for id in &removed {
        index.remove(id);
    }
    let per_removal = started.elapsed() / removed.len() as u32;
    let baseline: Vec<HashSet<String>> = queries
        .iter()
        .map(|q| ids(&index.search_exact(q, 10, |_| true).unwrap()))
        .collect();
    let (found, _) = timed_searches(&index, queries, |_| true, false);
    println!(
        "  hnsw after removing {} ({:.2} ms each): recall@10 {:.4}",
        removed.len(),
        ms(per_removal),
        recall(&found, &baseline)
    );
}

/// `IndexConfig::default()` with `VECTOR_BENCH_M`, `_EFC`, `_EF` applied.
fn hnsw_overrides() -> IndexConfig {
    let d = IndexConfig::default();
    IndexConfig {
        hnsw_m: env_list("VECTOR_BENCH_M", &[d.hnsw_m])[0],
        ef_construction: env_list("VECTOR_BENCH_EFC", &[d.ef_construction])[0],
        ef_search: env_list("VECTOR_BENCH_EF", &[d.ef_search])[0],
        ..d
    }
}

fn half_filter(id: &str) -> bool {
    id.ends_with(['0', '2', '4', '6', '8'])
}

fn build(vectors: &[Vec<f32>], config: IndexConfig) -> (VectorIndex, Duration) {
    let started = Instant::now();
    let mut index = VectorIndex::with_config(vectors[0].len(), config);
    index.reserve(vectors.len());
    for (i, v) in vectors.iter().enumerate() {
        index.upsert(&format!("m{i}"), v).unwrap();
    }
    (index, started.elapsed())
}

fn timed_searches(
    index: &VectorIndex,
    queries: &[Vec<f32>],
    filter: impl Fn(&str) -> bool + Copy,
    exact: bool,
) -> (Vec<HashSet<String>>, Vec<Duration>) {
    let mut found = Vec::with_capacity(queries.len());
    let mut times = Vec::with_capacity(queries.len());
    for q in queries {
        let started = Instant::now();
        let result = if exact {
            index.search_exact(q, 10, filter)
        } else {
            index.search(q, 10, filter)
        };
        times.push(started.elapsed());
        found.push(ids(&result.unwrap()));
    }
    (found, times)
}

fn ids(results: &[(String, f32)]) -> HashSet<String> {
    results.iter().map(|(id, _)| id.clone()).collect()
}

fn recall(found: &[HashSet<String>], want: &[HashSet<String>]) -> f64 {
    let hits: usize = found
        .iter()
        .zip(want)
        .map(|(f, w)| f.intersection(w).count())
        .sum();
    let total: usize = want.iter().map(HashSet::len).sum();
    hits as f64 / total.max(1) as f64
}

fn report_memory(label: &str, index: &VectorIndex, build: Duration) {
    println!(
        "  {label:<24} build {:>9.1} ms   index {:>7.1} MiB = {:.3}× raw {:.1} MiB",
        ms(build),
        index.memory_bytes() as f64 / 1048576.0,
        index.memory_bytes() as f64 / index.vector_bytes() as f64,
        index.vector_bytes() as f64 / 1048576.0,
    );
}

fn report_latency(label: &str, times: &[Duration], recall: Option<f64>) {
    let mut sorted = times.to_vec();
    sorted.sort();
    let pick = |p: f64| sorted[((sorted.len() - 1) as f64 * p).round() as usize];
    let recall = recall.map_or(String::new(), |r| format!("   recall@10 {r:.4}"));
    println!(
        "  {label:<24} p50 {:>7.3} ms   p99 {:>7.3} ms{recall}",
        ms(pick(0.5)),
        ms(pick(0.99))
    );
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn env_list(name: &str, default: &[usize]) -> Vec<usize> {
    match std::env::var(name) {
        Ok(v) => v
            .split(',')
            .map(|s| s.trim().parse().expect(name))
            .collect(),
        Err(_) => default.to_vec(),
    }
}

#[derive(Clone, Copy)]
enum DataKind {
    Random = 1,
    Clustered = 2,
}

impl DataKind {
    fn name(self) -> &'static str {
        match self {
            DataKind::Random => "random",
            DataKind::Clustered => "clustered",
        }
    }

    /// Random: isotropic directions. Clustered: `n / 100` centres, each point a centre plus
    /// noise of 60% of the centre's norm, the way topic clusters look in embedding space.
    fn generate(self, rng: &mut Lcg, n: usize, dim: usize) -> Vec<Vec<f32>> {
        match self {
            DataKind::Random => (0..n).map(|_| rng.vector(dim)).collect(),
            DataKind::Clustered => {
                let centres: Vec<Vec<f32>> =
                    (0..(n / 100).max(1)).map(|_| rng.vector(dim)).collect();
                (0..n)
                    .map(|_| {
                        let c = &centres[(rng.next_u64() % centres.len() as u64) as usize];
                        c.iter().map(|x| x + 0.6 * rng.gaussian()).collect()
                    })
                    .collect()
            }
        }
    }
}

/// A 64-bit linear congruential generator; deterministic data without a `rand` dependency.
struct Lcg(u64);

impl Lcg {
    fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0
    }

    /// Roughly normal (sum of four uniforms).
    fn gaussian(&mut self) -> f32 {
        (0..4)
            .map(|_| (self.next_u64() >> 40) as f32 / (1u64 << 23) as f32 - 1.0)
            .sum::<f32>()
            * 0.866
    }

    fn vector(&mut self, dim: usize) -> Vec<f32> {
        (0..dim).map(|_| self.gaussian()).collect()
    }
}
