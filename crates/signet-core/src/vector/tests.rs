//! Behaviour of the public index: exact search against brute force, filters, the swap-remove
//! bookkeeping, and recall of the HNSW path.

use std::collections::HashSet;

use super::testutil::{Lcg, clustered};
use super::*;

const DIM: usize = 32;

fn filled(n: usize, seed: u64) -> (VectorIndex, Vec<Vec<f32>>) {
    let mut rng = Lcg::new(seed);
    let mut index = VectorIndex::new(DIM);
    let vectors: Vec<Vec<f32>> = (0..n).map(|_| rng.vector(DIM)).collect();
    for (i, v) in vectors.iter().enumerate() {
        index.upsert(&format!("m{i}"), v).unwrap();
    }
    (index, vectors)
}

/// Brute-force cosine top-k in f64 over (id, vector) pairs.
fn brute_force<'a>(
    items: impl Iterator<Item = (String, &'a Vec<f32>)>,
    query: &[f32],
    k: usize,
) -> Vec<(String, f64)> {
    let norm = |v: &[f32]| v.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>().sqrt();
    let mut all: Vec<(String, f64)> = items
        .map(|(id, v)| {
            let d: f64 = v
                .iter()
                .zip(query)
                .map(|(a, b)| f64::from(*a) * f64::from(*b))
                .sum();
            (id, d / (norm(v) * norm(query)))
        })
        .collect();
    all.sort_by(|a, b| b.1.total_cmp(&a.1));
    all.truncate(k);
    all
}

fn ids(results: &[(String, f32)]) -> Vec<&str> {
    results.iter().map(|(id, _)| id.as_str()).collect()
}

#[test]
fn exact_search_matches_brute_force() {
    let (index, vectors) = filled(2_000, 1);
    let mut rng = Lcg::new(99);
    for _ in 0..20 {
        let query = rng.vector(DIM);
        let got = index.search(&query, 10, |_| true).unwrap();
        let want = brute_force(
            vectors
                .iter()
                .enumerate()
                .map(|(i, v)| (format!("m{i}"), v)),
            &query,
            10,
        );
        assert_eq!(
            ids(&got),
            want.iter().map(|(id, _)| id.as_str()).collect::<Vec<_>>()
        );
        for ((_, g), (_, w)) in got.iter().zip(&want) {
            assert!((f64::from(*g) - w).abs() < 1e-5, "{g} vs {w}");
        }
    }
}

#[test]
fn results_are_best_first_and_capped_at_len() {
    let (index, _) = filled(5, 2);
    let got = index
        .search(&Lcg::new(3).vector(DIM), 10, |_| true)
        .unwrap();
    assert_eq!(got.len(), 5);
    assert!(got.windows(2).all(|w| w[0].1 >= w[1].1));
    assert!(index.search(&[1.0; DIM], 0, |_| true).unwrap().is_empty());
    assert!(
        VectorIndex::new(DIM)
            .search(&[1.0; DIM], 3, |_| true)
            .unwrap()
            .is_empty()
    );
}

#[test]
fn identical_vector_scores_one_whatever_its_length() {
    let mut index = VectorIndex::new(3);
    index.upsert("a", &[3.0, 0.0, 4.0]).unwrap();
    index.upsert("b", &[0.0, 1.0, 0.0]).unwrap();
    let got = index.search(&[0.6, 0.0, 0.8], 2, |_| true).unwrap();
    assert_eq!(got[0].0, "a");
    assert!((got[0].1 - 1.0).abs() < 1e-6);
    assert!(got[1].1.abs() < 1e-6);
}

#[test]
fn filtered_search_still_returns_k_passing_ids() {
    let (index, vectors) = filled(3_000, 4);
    let allowed: HashSet<String> = (0..3_000)
        .filter(|i| i % 37 == 0)
        .map(|i| format!("m{i}"))
        .collect();
    let query = Lcg::new(5).vector(DIM);
    let got = index.search(&query, 10, |id| allowed.contains(id)).unwrap();
    assert_eq!(got.len(), 10);
    assert!(got.iter().all(|(id, _)| allowed.contains(id)));
    let want = brute_force(
        vectors
            .iter()
            .enumerate()
            .map(|(i, v)| (format!("m{i}"), v))
            .filter(|(id, _)| allowed.contains(id)),
        &query,
        10,
    );
    assert_eq!(
        ids(&got),
        want.iter().map(|(id, _)| id.as_str()).collect::<Vec<_>>()
    );
    assert!(index.search(&query, 10, |_| false).unwrap().is_empty());
}

#[test]
fn upsert_replaces_the_vector_of_an_existing_id() {
    let mut index = VectorIndex::new(2);
    index.upsert("a", &[1.0, 0.0]).unwrap();
    index.upsert("b", &[0.0, 1.0]).unwrap();
    index.upsert("a", &[0.0, -1.0]).unwrap();
    assert_eq!(index.len(), 2);
    let got = index.search(&[0.0, -1.0], 1, |_| true).unwrap();
    assert_eq!(got[0].0, "a");
    assert!((got[0].1 - 1.0).abs() < 1e-6);
}

#[test]
fn remove_keeps_every_other_vector_findable() {
    let (mut index, vectors) = filled(300, 6);
    // Remove a scattered third, including the first and last slots.
    let removed: HashSet<usize> = (0..300).filter(|i| i % 3 == 0 || *i == 299).collect();
    for &i in &removed {
        assert!(index.remove(&format!("m{i}")));
    }
    assert!(!index.remove("m0"), "second removal is a no-op");
    assert_eq!(index.len(), 300 - removed.len());
    for (i, v) in vectors.iter().enumerate() {
        let id = format!("m{i}");
        assert_eq!(index.contains(&id), !removed.contains(&i), "{id}");
        if !removed.contains(&i) {
            let got = index.search(v, 1, |_| true).unwrap();
            assert_eq!(got[0].0, id, "each survivor is its own nearest neighbour");
            assert!((got[0].1 - 1.0).abs() < 1e-5);
        }
    }
    for i in 0..300 {
        index.remove(&format!("m{i}"));
    }
    assert!(index.is_empty());
    assert!(index.search(&vectors[0], 5, |_| true).unwrap().is_empty());
}

#[test]
fn wrong_dimensions_and_degenerate_vectors_are_rejected() {
    let mut index = VectorIndex::new(4);
    assert_eq!(
        index.upsert("a", &[1.0, 2.0, 3.0]),
        Err(VectorError::Dimensions {
            expected: 4,
            got: 3
        })
    );
    assert_eq!(index.upsert("a", &[0.0; 4]), Err(VectorError::Degenerate));
    assert_eq!(
        index.upsert("a", &[f32::NAN, 1.0, 0.0, 0.0]),
        Err(VectorError::Degenerate)
    );
    assert!(index.is_empty());
    assert!(matches!(
        index.search(&[1.0; 5], 1, |_| true),
        Err(VectorError::Dimensions { .. })
    ));
    let core: CoreError = VectorError::Degenerate.into();
    assert!(matches!(core, CoreError::Invalid(_)));
}

#[test]
fn memory_stays_within_a_fifth_of_the_raw_vectors() {
    let (index, _) = filled(5_000, 7);
    assert_eq!(index.vector_bytes(), 5_000 * DIM * 4);
    // 32-d vectors are small, so per-id overhead weighs more here than at 384-d.
    assert!(
        index.memory_bytes() < index.vector_bytes() * 3 / 2,
        "{index:?}"
    );
}

#[test]
fn int8_prefilter_returns_exact_scores_and_order() {
    let config = IndexConfig {
        int8_prefilter: true,
        ..IndexConfig::default()
    };
    let mut quantized = VectorIndex::with_config(DIM, config);
    let (exact, vectors) = filled(3_000, 8);
    for (i, v) in vectors.iter().enumerate() {
        quantized.upsert(&format!("m{i}"), v).unwrap();
    }
    for i in (0..3_000).step_by(7) {
        quantized.remove(&format!("m{i}"));
    }
    let mut rng = Lcg::new(9);
    for _ in 0..20 {
        let query = rng.vector(DIM);
        let filter = |id: &str| !id.ends_with('3') && (id[1..].parse::<usize>().unwrap() % 7 != 0);
        assert_eq!(
            quantized.search(&query, 10, filter).unwrap(),
            exact.search(&query, 10, filter).unwrap()
        );
    }
}

#[test]
fn a_graph_walked_in_int8_returns_exact_f32_scores() {
    let mut rng = Lcg::new(14);
    let vectors = clustered(&mut rng, 2_000, DIM, 40, 0.4);
    let config = IndexConfig {
        int8_prefilter: true,
        ..ann_config(1_000)
    };
    let mut index = VectorIndex::with_config(DIM, config);
    load(&mut index, &vectors);
    assert!(index.is_approximate());
    let unit = |v: &[f32]| {
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        v.iter().map(|x| x / norm).collect::<Vec<f32>>()
    };
    for query in near_queries(&mut rng, &vectors, 20) {
        let got = index.search(&query, 10, |_| true).unwrap();
        assert_eq!(got.len(), 10);
        assert!(got.windows(2).all(|w| w[0].1 >= w[1].1), "best first");
        let q = unit(&query);
        for (id, score) in got {
            let v = unit(&vectors[id[1..].parse::<usize>().unwrap()]);
            let exact: f32 = q.iter().zip(&v).map(|(a, b)| a * b).sum();
            assert!(
                (score - exact).abs() < 1e-5,
                "{id}: {score} vs exact {exact}"
            );
        }
    }
}

fn is_send_sync<T: Send + Sync>() {}

#[test]
fn index_is_send_and_sync() {
    is_send_sync::<VectorIndex>();
}

// --- HNSW -----------------------------------------------------------------------------------

/// A lowered threshold and a lighter graph than the defaults, so debug builds stay quick.
fn ann_config(threshold: usize) -> IndexConfig {
    IndexConfig {
        ann_threshold: threshold,
        hnsw_m: 8,
        ef_construction: 32,
        ..IndexConfig::default()
    }
}

/// Queries from the data's own distribution: stored vectors plus noise.
fn near_queries(rng: &mut Lcg, vectors: &[Vec<f32>], n: usize) -> Vec<Vec<f32>> {
    (0..n)
        .map(|i| {
            vectors[(i * 7919) % vectors.len()]
                .iter()
                .map(|x| x + 0.5 * rng.gaussian())
                .collect()
        })
        .collect()
}

/// Mean recall@10 of `index.search` against `index.search_exact` over `queries`.
fn recall_at_10(
    index: &VectorIndex,
    queries: &[Vec<f32>],
    filter: impl Fn(&str) -> bool + Copy,
) -> f64 {
    let mut hits = 0;
    let mut total = 0;
    for q in queries {
        let want: HashSet<String> = index
            .search_exact(q, 10, filter)
            .unwrap()
            .into_iter()
            .map(|r| r.0)
            .collect();
        let got = index.search(q, 10, filter).unwrap();
        assert!(got.iter().all(|(id, _)| filter(id)));
        hits += got.iter().filter(|(id, _)| want.contains(id)).count();
        total += want.len();
    }
    hits as f64 / total as f64
}

fn load(index: &mut VectorIndex, vectors: &[Vec<f32>]) {
    index.reserve(vectors.len());
    for (i, v) in vectors.iter().enumerate() {
        index.upsert(&format!("m{i}"), v).unwrap();
    }
    index.merge_now();
}

#[test]
fn hnsw_recall_on_random_and_clustered_vectors() {
    let n = 2_000;
    let mut rng = Lcg::new(10);
    let datasets = [
        (
            "random",
            (0..n).map(|_| rng.vector(DIM)).collect::<Vec<_>>(),
        ),
        ("clustered", clustered(&mut rng, n, DIM, 50, 0.4)),
    ];
    for ((name, vectors), int8) in datasets.iter().flat_map(|d| [(d, false), (d, true)]) {
        let config = IndexConfig {
            int8_prefilter: int8,
            ..ann_config(1_000)
        };
        let mut index = VectorIndex::with_config(DIM, config);
        load(&mut index, vectors);
        assert!(index.is_approximate(), "{name} int8 {int8}");
        let queries = near_queries(&mut rng, vectors, 50);
        let recall = recall_at_10(&index, &queries, |_| true);
        assert!(recall >= 0.98, "{name} int8 {int8}: recall@10 {recall}");
        let half = recall_at_10(&index, &queries, |id: &str| {
            id.ends_with(['0', '2', '4', '6', '8'])
        });
        assert!(
            half >= 0.98,
            "{name} int8 {int8} filtered: recall@10 {half}"
        );
    }
}

#[test]
fn hnsw_survives_removals_upserts_and_selective_filters() {
    hnsw_survives_churn(false);
}

#[test]
fn int8_hnsw_survives_removals_upserts_and_selective_filters() {
    hnsw_survives_churn(true);
}

fn hnsw_survives_churn(int8: bool) {
    let mut rng = Lcg::new(11);
    // Held-out points of the same clusters serve as queries.
    let mut vectors = clustered(&mut rng, 3_040, DIM, 20, 0.5);
    let queries = vectors.split_off(3_000);
    let mut index = VectorIndex::with_config(
        DIM,
        IndexConfig {
            rebuild_ratio: 0.5,
            int8_prefilter: int8,
            ..ann_config(1_500)
        },
    );
    load(&mut index, &vectors);
    // Churn: remove every fifth, re-point every seventh at another stored vector plus noise.
    for i in (0..3_000).step_by(5) {
        assert!(index.remove(&format!("m{i}")));
    }
    for i in (1..3_000).step_by(7) {
        if i % 5 != 0 {
            let moved = near_queries(&mut rng, &vectors[i / 2..], 1).remove(0);
            index.upsert(&format!("m{i}"), &moved).unwrap();
        }
    }
    assert!(
        index.is_approximate(),
        "no rebuild below the ratio, no drop above the threshold"
    );
    assert_eq!(index.len(), 3_000 - 600);
    let recall = recall_at_10(&index, &queries, |_| true);
    assert!(recall >= 0.98, "recall@10 {recall} before the merge");
    assert!(
        !index.wants_merge(),
        "343 changed vectors are not worth a merge yet"
    );
    let plan = index.force_merge();
    index.finish_merge(plan.build());
    assert!(index.is_approximate());
    assert_eq!(index.pending(), 0, "the merge took the delta");
    assert_eq!(index.len(), 3_000 - 600);
    let recall = recall_at_10(&index, &queries, |_| true);
    assert!(recall >= 0.98, "recall@10 {recall}");
    // A filter passing ~1% takes the exact path and must still return exact results.
    let rare = |id: &str| id.ends_with("01");
    assert_eq!(recall_at_10(&index, &queries, rare), 1.0);
    // Removed ids never come back.
    let got = index.search(&vectors[0], 50, |_| true).unwrap();
    assert!(got.iter().all(|(id, _)| id != "m0"));
}

#[test]
fn graph_is_built_at_the_threshold_and_dropped_below_it() {
    let mut rng = Lcg::new(12);
    let vectors: Vec<Vec<f32>> = (0..1_000).map(|_| rng.vector(DIM)).collect();
    let mut index = VectorIndex::with_config(DIM, ann_config(1_000));
    load(&mut index, &vectors[..999]);
    assert!(!index.is_approximate());
    index.upsert("m999", &vectors[999]).unwrap();
    assert!(index.wants_merge());
    index.merge_now();
    assert!(index.is_approximate());
    for i in 0..101 {
        index.remove(&format!("m{i}"));
    }
    index.merge_now();
    assert!(!index.is_approximate());
    let got = index.search(&vectors[500], 1, |_| true).unwrap();
    assert_eq!(got[0].0, "m500");
}

#[test]
fn data_that_misses_the_recall_target_keeps_the_exact_scan() {
    let mut rng = Lcg::new(13);
    let vectors: Vec<Vec<f32>> = (0..1_000).map(|_| rng.vector(DIM)).collect();
    let unreachable = IndexConfig {
        target_recall: 1.01,
        ..ann_config(500)
    };
    let mut index = VectorIndex::with_config(DIM, unreachable);
    load(&mut index, &vectors);
    assert!(!index.is_approximate());
    let queries = near_queries(&mut rng, &vectors, 10);
    assert_eq!(recall_at_10(&index, &queries, |_| true), 1.0);
}

// --- merges and loads -----------------------------------------------------------------------

/// The reference: what the index must hold, as a map.
type Model = std::collections::BTreeMap<String, Vec<f32>>;

/// Every id of `model` is found by its own vector, and nothing else is indexed.
fn assert_matches(index: &VectorIndex, model: &Model) {
    assert_eq!(index.len(), model.len(), "{index:?}");
    for (id, v) in model {
        assert!(index.contains(id), "{id} missing");
        let got = index.search_exact(v, 1, |other| other == id).unwrap();
        assert_eq!(got.len(), 1, "{id} not searchable");
        assert!(got[0].1 > 0.999, "{id} has a stale vector: {}", got[0].1);
    }
    let everything = index.search_exact(&[1.0; DIM], model.len() + 5, |_| true);
    let found: HashSet<String> = everything.unwrap().into_iter().map(|r| r.0).collect();
    let want: HashSet<String> = model.keys().cloned().collect();
    assert_eq!(
        found, want,
        "a removed id came back or a live one is missing"
    );
}

#[derive(Debug, Clone)]
enum Op {
    Upsert(u8, u64),
    Remove(u8),
    BeginMerge,
    FinishMerge,
}

fn op() -> impl proptest::strategy::Strategy<Value = Op> {
    use proptest::prelude::*;
    prop_oneof![
        6 => (any::<u8>(), any::<u64>()).prop_map(|(i, s)| Op::Upsert(i % 40, s)),
        3 => any::<u8>().prop_map(|i| Op::Remove(i % 40)),
        1 => Just(Op::BeginMerge),
        1 => Just(Op::FinishMerge),
    ]
}

proptest::proptest! {
    #![proptest_config(proptest::test_runner::Config::with_cases(64))]
    /// Writes made while a merge is being built are never lost: after any interleaving of
    /// upserts, removals and merges (graph-backed once past the threshold), the index holds
    /// exactly the last vector of every live id and no removed id.
    #[test]
    fn merges_replay_every_write_made_while_they_built(
        ops in proptest::collection::vec(op(), 1..160),
        int8 in proptest::bool::ANY,
    ) {
        let config = IndexConfig { ann_threshold: 16, hnsw_m: 4, ef_construction: 16,
            target_recall: 0.0, max_merge: 5, int8_prefilter: int8, ..IndexConfig::default() };
        let mut index = VectorIndex::with_config(DIM, config);
        let mut model = Model::new();
        let mut plan = None;
        for op in ops {
            match op {
                Op::Upsert(i, seed) => {
                    let v = Lcg::new(seed).vector(DIM);
                    index.upsert(&format!("m{i}"), &v).unwrap();
                    model.insert(format!("m{i}"), v);
                }
                Op::Remove(i) => {
                    let had = model.remove(&format!("m{i}")).is_some();
                    proptest::prop_assert_eq!(index.remove(&format!("m{i}")), had);
                }
                Op::BeginMerge => {
                    if plan.is_none() {
                        // Force a plan even when the policy would wait: every path gets tried.
                        plan = index.begin_merge().or_else(|| Some(index.force_merge()));
                    }
                }
                Op::FinishMerge => {
                    if let Some(p) = plan.take() {
                        index.finish_merge(p.build());
                    }
                }
            }
        }
        if let Some(p) = plan.take() {
            index.finish_merge(p.build());
        }
        assert_matches(&index, &model);
    }
}

#[test]
fn a_load_installs_the_stored_vectors_and_writes_made_meanwhile_win() {
    let mut rng = Lcg::new(21);
    let vectors: Vec<Vec<f32>> = (0..500).map(|_| rng.vector(DIM)).collect();
    let mut index = VectorIndex::new(DIM);
    let mut loader = index.begin_load();
    // Meanwhile: m1 gets a new vector, m2 is deleted, m900 is new.
    let (new1, new900) = (rng.vector(DIM), rng.vector(DIM));
    index.upsert("m1", &new1).unwrap();
    assert!(!index.remove("m2"), "not loaded yet");
    index.upsert("m900", &new900).unwrap();
    loader.reserve(vectors.len());
    for (i, v) in vectors.iter().enumerate() {
        assert!(loader.push(&format!("m{i}"), v));
    }
    assert!(!loader.push("m0", &vectors[0]), "a repeated id is skipped");
    assert!(!loader.push("bad", &[1.0]), "a wrong length is skipped");
    assert!(
        !loader.push("zero", &[0.0; DIM]),
        "a degenerate vector is skipped"
    );
    assert!(
        !loader.push("nan", &[f32::NAN; DIM]),
        "a degenerate vector is skipped"
    );
    // m2's deletion reached the index after the rows were read: it must still win.
    index.remove("m2");
    index.finish_merge(loader.finish());
    let mut model: Model = vectors
        .iter()
        .enumerate()
        .map(|(i, v)| (format!("m{i}"), v.clone()))
        .collect();
    model.insert("m1".into(), new1);
    model.remove("m2");
    model.insert("m900".into(), new900);
    assert_matches(&index, &model);
}

#[test]
fn an_aborted_merge_leaves_the_index_as_it_was() {
    let (mut index, vectors) = filled(300, 22);
    let plan = index.force_merge();
    index.remove("m3");
    index.abort_merge();
    drop(plan);
    assert_eq!(index.len(), 299);
    assert!(!index.contains("m3"));
    assert!(index.contains("m4"));
    let got = index.search(&vectors[4], 1, |_| true).unwrap();
    assert_eq!(got[0].0, "m4");
}
