//! Vectors: round trip, the content-hash guard on save, stale vectors after an edit, models and
//! dimensions in gaps and stats, orphans, and tombstones keeping their vector.

use super::support::{
    HOUR, MINUTE, T0, at, content_patch, forget, ids, insert, job, memory, mutate, mutation,
    recover,
};
use crate::MemoryStore;
use crate::memories::{Change, EmbeddingJob, EmbeddingStats, MutationOutcome, StoredVector};

/// Little-endian f32 bytes, the blob format.
fn blob(floats: &[f32]) -> Vec<u8> {
    floats.iter().flat_map(|f| f.to_le_bytes()).collect()
}

/// The gaps for `model` / `dims` (stale included or not), at most 10.
fn gaps(store: &dyn MemoryStore, model: &str, dims: usize, stale: bool) -> Vec<EmbeddingJob> {
    let found = store.embedding_gaps(model, dims, stale, 10);
    found.expect("embedding_gaps")
}

fn gap_ids(store: &dyn MemoryStore, model: &str, dims: usize, stale: bool) -> Vec<String> {
    let jobs = gaps(store, model, dims, stale);
    jobs.into_iter().map(|j| j.memory_id).collect()
}

fn save(
    store: &dyn MemoryStore,
    items: &[(EmbeddingJob, Vec<u8>)],
    dims: usize,
    model: &str,
) -> Vec<bool> {
    store
        .save_embeddings(items, dims, model, T0)
        .expect("save_embeddings")
}

fn vector(store: &dyn MemoryStore, id: &str, model: &str, dims: usize) -> Option<Vec<u8>> {
    store.vector_of(id, model, dims).expect("vector_of")
}

/// Two memories `a` (created at `T0`) and `b` (a minute later).
fn two_memories(store: &dyn MemoryStore) {
    let mut a = memory("a", "vector memory a");
    a.tags = Some("x, y".into());
    insert(store, a);
    let mut b = memory("b", "vector memory b");
    b.created_at = at(MINUTE);
    insert(store, b);
}

/// A saved vector comes back bit for bit (subnormals, negative zero, NaN payloads), only for
/// its model and dimensions, and the memory leaves the gaps.
pub fn embeddings_round_trip_bit_for_bit(store: &dyn MemoryStore) {
    two_memories(store);
    let jobs = gaps(store, "model-a", 4, false);
    assert_eq!(
        jobs,
        [job("b", "vector memory b"), job("a", "vector memory a")]
    );
    let floats = [
        f32::MIN_POSITIVE / 2.0,
        -0.0,
        f32::from_bits(0x7fc0_1234),
        1.5,
    ];
    let bytes = blob(&floats);
    assert_eq!(
        save(store, &[(jobs[1].clone(), bytes.clone())], 4, "model-a"),
        [true]
    );

    let stored = StoredVector {
        memory_id: "a".into(),
        blob: bytes.clone(),
    };
    assert_eq!(
        store.load_vectors("model-a", 4).expect("load_vectors"),
        [stored]
    );
    assert_eq!(vector(store, "a", "model-a", 4), Some(bytes));
    assert_eq!(vector(store, "a", "model-b", 4), None);
    assert_eq!(vector(store, "a", "model-a", 8), None);
    assert!(
        store
            .load_vectors("model-a", 8)
            .expect("load_vectors")
            .is_empty()
    );
    assert!(
        store
            .load_vectors("model-b", 4)
            .expect("load_vectors")
            .is_empty()
    );
    assert_eq!(gap_ids(store, "model-a", 4, false), ids(&["b"]));
    let detail = store.live_detail("a").expect("live_detail").expect("live");
    assert_eq!(detail["embedding_model"], "model-a");

    let (rows, total) = store.list_embeddings(10, 0, true).expect("list_embeddings");
    assert_eq!((rows.len(), total), (1, 1));
    let rows = as_json(&rows);
    let row = &rows[0];
    assert_eq!(row["memoryId"], "a");
    assert_eq!(row["content"], "vector memory a");
    assert_eq!(row["text"], "vector memory a");
    assert_eq!(row["tags"], serde_json::json!(["x", "y"]));
    let listed = row["vector"]
        .as_array()
        .expect("with_vectors lists the floats");
    assert_eq!(listed.len(), 4);
    assert_eq!(listed[3], 1.5);
    let (rows, _) = store
        .list_embeddings(10, 0, false)
        .expect("list_embeddings");
    let rows = as_json(&rows);
    assert!(
        rows[0].get("vector").is_none(),
        "no floats without with_vectors"
    );
}

/// A vector whose job no longer matches the memory (content changed, memory deleted) is not
/// stored; the others of the batch are.
pub fn saving_a_vector_for_changed_content_is_refused(store: &dyn MemoryStore) {
    two_memories(store);
    insert(store, memory("d", "deleted before its vector"));
    let edit = Change::Modify(content_patch("vector memory a, edited"));
    mutate(store, mutation("a", edit, &at(HOUR)));
    forget(store, "d", &at(HOUR));
    let items = [
        (job("a", "vector memory a"), blob(&[1.0])),
        (job("b", "vector memory b"), blob(&[2.0])),
        (job("d", "deleted before its vector"), blob(&[3.0])),
    ];
    assert_eq!(save(store, &items, 1, "m"), [false, true, false]);
    assert_eq!(vector(store, "a", "m", 1), None);
    assert_eq!(vector(store, "d", "m", 1), None);
    let pending = gaps(store, "m", 1, false);
    assert_eq!(pending, [job("a", "vector memory a, edited")]);
}

/// A content edit drops the memory's vector: it needs embedding again (with the new content
/// and hash), and a vector for the new content is current again.
pub fn a_content_edit_drops_the_stale_vector(store: &dyn MemoryStore) {
    insert(store, memory("m", "before the edit"));
    assert_eq!(
        save(
            store,
            &[(job("m", "before the edit"), blob(&[1.0, 2.0]))],
            2,
            "m"
        ),
        [true]
    );
    let edit = Change::Modify(content_patch("after the edit"));
    let out = mutate(store, mutation("m", edit, &at(HOUR)));
    assert!(matches!(
        out,
        MutationOutcome::Updated {
            content_changed: true,
            ..
        }
    ));
    assert_eq!(vector(store, "m", "m", 2), None);
    assert!(store.load_vectors("m", 2).expect("load_vectors").is_empty());
    assert_eq!(gaps(store, "m", 2, false), [job("m", "after the edit")]);
    let stats = store.embedding_stats("m", 2).expect("embedding_stats");
    assert_eq!((stats.current, stats.missing), (0, 1));
    let detail = store.live_detail("m").expect("live_detail").expect("live");
    assert_eq!(detail["embedding_model"], serde_json::Value::Null);

    let fresh = blob(&[3.0, 4.0]);
    assert_eq!(
        save(
            store,
            &[(job("m", "after the edit"), fresh.clone())],
            2,
            "m"
        ),
        [true]
    );
    assert_eq!(vector(store, "m", "m", 2), Some(fresh));
    assert_eq!(
        store
            .embedding_stats("m", 2)
            .expect("embedding_stats")
            .current,
        1
    );
}

/// Gaps and coverage follow the model and dimensions: another model's (or size's) vector is
/// stale, not missing; `include_stale` lists stale memories too, most recently updated first.
pub fn embedding_gaps_and_stats_follow_the_model(store: &dyn MemoryStore) {
    two_memories(store);
    let mut c = memory("c", "vector memory c");
    c.created_at = at(2 * MINUTE);
    insert(store, c);
    let old = [
        (job("a", "vector memory a"), blob(&[1.0; 4])),
        (job("b", "vector memory b"), blob(&[2.0; 4])),
    ];
    assert_eq!(save(store, &old, 4, "old"), [true, true]);
    let stats = |model: &str, dims| store.embedding_stats(model, dims).expect("embedding_stats");
    let expect = |current, stale_model, dimensions: &[i64]| EmbeddingStats {
        live: 3,
        current,
        stale_model,
        missing: 1,
        orphans: 0,
        dimensions: dimensions.to_vec(),
    };
    assert_eq!(stats("old", 4), expect(2, 0, &[4]));
    assert_eq!(stats("new", 4), expect(0, 2, &[4]));
    assert_eq!(stats("old", 8), expect(0, 2, &[4]));
    assert_eq!(gap_ids(store, "new", 4, false), ids(&["c"]));
    assert_eq!(gap_ids(store, "new", 4, true), ids(&["c", "b", "a"]));
    let two = store
        .embedding_gaps("new", 4, true, 2)
        .expect("embedding_gaps");
    assert_eq!(two.len(), 2);

    let a_new = [(job("a", "vector memory a"), blob(&[5.0; 4]))];
    assert_eq!(save(store, &a_new, 4, "new"), [true]);
    let owners = |model: &str| -> Vec<String> {
        let vectors = store.load_vectors(model, 4).expect("load_vectors");
        vectors.into_iter().map(|v| v.memory_id).collect()
    };
    assert_eq!(owners("old"), ids(&["b"]));
    assert_eq!(owners("new"), ids(&["a"]));
    assert_eq!(stats("new", 4), expect(1, 1, &[4]));
    let b_wide = [(job("b", "vector memory b"), blob(&[6.0; 8]))];
    assert_eq!(save(store, &b_wide, 8, "new"), [true]);
    assert_eq!(stats("new", 8), expect(1, 1, &[4, 8]));
}

/// A pass over the gaps in batches (each batch continuing after the last job of the one before,
/// its vectors saved as the worker does) reaches every gap exactly once and ends with a short
/// batch; a memory written during the pass is found by the next pass.
pub fn a_pass_over_embedding_gaps_reaches_every_gap_once(store: &dyn MemoryStore) {
    for i in 0..7 {
        let mut m = memory(&format!("p{i}"), &format!("pass memory {i}"));
        m.created_at = at(i * MINUTE);
        insert(store, m);
    }
    let pass = |store: &dyn MemoryStore| -> Vec<String> {
        let mut seen = Vec::new();
        let mut after: Option<String> = None;
        for _ in 0..20 {
            let batch = store
                .embedding_gaps_after("m", 4, false, 3, after.as_deref(), None)
                .expect("embedding_gaps_after");
            let items: Vec<_> = batch.iter().map(|j| (j.clone(), blob(&[1.0; 4]))).collect();
            assert!(save(store, &items, 4, "m").iter().all(|ok| *ok));
            seen.extend(batch.iter().map(|j| j.memory_id.clone()));
            if batch.len() < 3 {
                return seen;
            }
            after = batch.last().map(|j| j.memory_id.clone());
        }
        panic!("a pass over 7 gaps in batches of 3 did not end: {seen:?}");
    };
    let mut first = pass(store);
    first.sort();
    let want: Vec<String> = (0..7).map(|i| format!("p{i}")).collect();
    assert_eq!(first, want, "every gap once");
    let mut late = memory("late", "written after the pass");
    late.created_at = at(HOUR);
    insert(store, late);
    assert_eq!(pass(store), ids(&["late"]));
    assert!(pass(store).is_empty());
}

/// A pass bounded by `above` (a position [`MemoryStore::newest_position`] gave) looks only at
/// memories inserted since: older gaps stay for an unbounded pass. A backend without positions
/// (`None`) has nothing to check here.
pub fn a_bounded_pass_sees_only_memories_inserted_since(store: &dyn MemoryStore) {
    insert(store, memory("old", "a gap from before the mark"));
    let Some(mark) = store.newest_position().expect("newest_position") else {
        return;
    };
    let gaps = |above: Option<i64>| -> Vec<String> {
        let batch = store
            .embedding_gaps_after("m", 4, false, 10, None, above)
            .expect("embedding_gaps_after");
        batch.into_iter().map(|j| j.memory_id).collect()
    };
    assert!(
        gaps(Some(mark)).is_empty(),
        "nothing inserted since the mark"
    );
    insert(store, memory("new", "a gap written after the mark"));
    let newer = store.newest_position().expect("newest_position");
    assert!(newer.is_some_and(|n| n > mark), "{newer:?} after {mark}");
    assert_eq!(gaps(Some(mark)), ids(&["new"]));
    assert_eq!(
        gaps(None),
        ids(&["new", "old"]),
        "an unbounded pass, newest first"
    );
}

/// A deleted memory's vector is an orphan: counted, and removed by the clean-up (which leaves
/// live memories' vectors alone).
pub fn orphan_vectors_are_counted_and_cleaned(store: &dyn MemoryStore) {
    two_memories(store);
    let items = [
        (job("a", "vector memory a"), blob(&[1.0])),
        (job("b", "vector memory b"), blob(&[2.0])),
    ];
    assert_eq!(save(store, &items, 1, "m"), [true, true]);
    forget(store, "b", &at(HOUR));
    assert_eq!(
        store
            .embedding_stats("m", 1)
            .expect("embedding_stats")
            .orphans,
        1
    );
    assert_eq!(store.clean_orphan_embeddings().expect("clean"), 1);
    assert_eq!(store.clean_orphan_embeddings().expect("clean"), 0);
    let stats = store.embedding_stats("m", 1).expect("embedding_stats");
    assert_eq!((stats.orphans, stats.current), (0, 1));
    assert_eq!(vector(store, "b", "m", 1), None);
    assert_eq!(vector(store, "a", "m", 1), Some(blob(&[1.0])));
    assert_eq!(store.stats().expect("stats").with_embeddings, 1);
}

/// A tombstone keeps its vector (out of `load_vectors`), so a recover brings the memory back
/// with it and nothing to re-embed.
pub fn a_deleted_memory_keeps_its_vector_for_recover(store: &dyn MemoryStore) {
    insert(store, memory("m", "kept vector"));
    let bytes = blob(&[0.25, 0.5]);
    assert_eq!(
        save(store, &[(job("m", "kept vector"), bytes.clone())], 2, "m"),
        [true]
    );
    forget(store, "m", &at(HOUR));
    assert!(store.load_vectors("m", 2).expect("load_vectors").is_empty());
    assert_eq!(vector(store, "m", "m", 2), Some(bytes.clone()));
    let out = recover(store, "m", &at(2 * HOUR));
    assert!(matches!(out, MutationOutcome::Recovered { .. }), "{out:?}");
    let stored = StoredVector {
        memory_id: "m".into(),
        blob: bytes,
    };
    assert_eq!(store.load_vectors("m", 2).expect("load_vectors"), [stored]);
    assert!(gaps(store, "m", 2, false).is_empty());
}

/// Listing rows under their serialised (wire) names.
fn as_json(rows: &[crate::memories::EmbeddingRow]) -> Vec<serde_json::Value> {
    rows.iter()
        .map(|r| serde_json::to_value(r).expect("a row serialises"))
        .collect()
}
