//! The vector index on the `signet bench load` corpus, offline: build time, memory, calibrated
//! `ef`, and search latency and tie-aware recall@10 against the exact scan (optionally at other
//! beam widths), with the daemon's configuration.
//!
//! ```text
//! cargo run --release -p signet-core --example ann_corpus             # 100k × 384
//! ANN_N=1000000 ANN_QUERIES=500 ANN_EFS=64,128,256 cargo run --release -p signet-core --example ann_corpus
//! ANN_REPEAT=20 ...   # then only graph searches, repeated (for a profiler attached after "built")
//! ```
//!
//! The corpus is the bench's (`crates/signet/src/bench/corpus.rs`, included by path because
//! examples cannot depend on the binary crate): memories of 8-16 words from a 111-word vocabulary with a
//! Zipf-like skew plus a unique "(note i)" marker, queries of 2-3 words, embedded by the
//! word-hashing [`HashEmbedder`] (±1 per word in one of `dims` dimensions). Random bags of words
//! with no topic structure and many exact ties: a hard case for a graph.

// Example code may unwrap (the workspace denies `unwrap_used` elsewhere).
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use signet_core::semantic::{HashEmbedder, index_config};
use signet_core::vector::{IndexConfig, VectorIndex};

// The bench's own generator, compiled into this example from its one source file.
#[path = "../../signet/src/bench/corpus.rs"]
mod corpus;
use corpus::{Rng, memory, query};

fn main() {
    let n = env_usize("ANN_N", 100_000);
    let dims = env_usize("ANN_DIMS", 384);
    let queries = env_usize("ANN_QUERIES", 500);
    let repeat = env_usize("ANN_REPEAT", 0);
    let config = config_from_env(index_config());
    let embedder = HashEmbedder { dims };
    println!("ann_corpus: {n} memories × {dims}-d, {queries} queries, {config:?}");

    let started = Instant::now();
    let mut index = VectorIndex::with_config(dims, config);
    index.reserve(n);
    let mut rng = Rng::new(0x5eed);
    for i in 0..n {
        index
            .upsert(&format!("m{i}"), &embedder.vector(&memory(&mut rng, i)))
            .unwrap();
    }
    let loaded = started.elapsed();
    index.merge_now();
    let merged = started.elapsed();
    println!(
        "built: {} vectors ({} pending), {}, load {:.1} s, merges {:.1} s, {:.0} bytes/vector",
        index.len(),
        index.pending(),
        index
            .search_ef()
            .map_or("exact scan".to_owned(), |ef| format!("HNSW graph, ef {ef}")),
        loaded.as_secs_f64(),
        (merged - loaded).as_secs_f64(),
        index.memory_bytes() as f64 / index.len().max(1) as f64,
    );

    let mut rng = Rng::new(0xfeed);
    let qs: Vec<Vec<f32>> = (0..queries)
        .map(|_| embedder.vector(&query(&mut rng)))
        .collect();
    if repeat > 0 {
        let t = Instant::now();
        for _ in 0..repeat {
            for q in &qs {
                std::hint::black_box(index.search(q, 10, |_| true).unwrap());
            }
        }
        let per = t.elapsed() / (repeat * qs.len()) as u32;
        println!(
            "repeated {} searches: {:.3} ms each",
            repeat * qs.len(),
            ms(per)
        );
        return;
    }
    let mut exact_times = Vec::new();
    let want: Vec<Vec<(String, f32)>> = qs
        .iter()
        .map(|q| {
            let t = Instant::now();
            let r = index.search_exact(q, 10, |_| true).unwrap();
            exact_times.push(t.elapsed());
            r
        })
        .collect();
    println!("exact scan            {}", summary(&mut exact_times));
    let calibrated = index.search_ef();
    let mut efs: Vec<Option<usize>> = vec![calibrated];
    efs.extend(env_list("ANN_EFS").into_iter().map(Some));
    for ef in efs {
        if let Some(ef) = ef {
            index.set_search_ef(ef);
        }
        let (mut times, mut hits, mut wanted) = (Vec::new(), 0, 0);
        for (q, want) in qs.iter().zip(&want) {
            let t = Instant::now();
            let got = index.search(q, 10, |_| true).unwrap();
            times.push(t.elapsed());
            // Tie-aware, as `signet bench load`: a hit is a result scoring at least the 10th.
            let floor = want.last().map_or(f32::MIN, |w| w.1) - 1e-6;
            hits += got.iter().filter(|g| g.1 >= floor).count().min(want.len());
            wanted += want.len();
        }
        println!(
            "search ef {:<10} {}   recall@10 {:.4}",
            ef.map_or("-".to_owned(), |e| e.to_string()),
            summary(&mut times),
            hits as f64 / wanted.max(1) as f64
        );
    }
    if let Some(ef) = calibrated {
        index.set_search_ef(ef);
    }
}

/// `base` with `ANN_M`, `ANN_EFC`, `ANN_INT8` (0/1) and `ANN_MAX_EF` applied.
fn config_from_env(base: IndexConfig) -> IndexConfig {
    IndexConfig {
        hnsw_m: env_usize("ANN_M", base.hnsw_m),
        ef_construction: env_usize("ANN_EFC", base.ef_construction),
        max_ef_search: env_usize("ANN_MAX_EF", base.max_ef_search),
        int8_prefilter: env_usize("ANN_INT8", usize::from(base.int8_prefilter)) == 1,
        ..base
    }
}

fn summary(times: &mut [Duration]) -> String {
    times.sort();
    let pick = |p: f64| ms(times[((times.len() - 1) as f64 * p).round() as usize]);
    let mean = ms(times.iter().sum::<Duration>() / times.len().max(1) as u32);
    format!(
        "p50 {:>7.3} ms  p99 {:>7.3} ms  mean {mean:>7.3} ms",
        pick(0.5),
        pick(0.99)
    )
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).map_or(default, |v| v.trim().parse().expect(name))
}

fn env_list(name: &str) -> Vec<usize> {
    std::env::var(name)
        .map(|v| {
            v.split(',')
                .map(|s| s.trim().parse().expect(name))
                .collect()
        })
        .unwrap_or_default()
}
