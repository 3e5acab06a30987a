//! Export and import across backends: a workspace exported from SQLite imports into
//! PostgreSQL and back without losing a column, a history row or a vector bit; a dry run
//! writes nothing; a second import finds every memory already there.

use serde_json::Value;
use signet_model::export::{ExportItem, ExportStore, ImportItem, ImportOutcome};
use signet_model::memories::{
    Actor, Change, EmbeddingJob, MemoryPatch, Mutation, NewMemory, WriteOptions,
};
use signet_model::{JsonRow, MemoryStore};
use signet_store::Store;

use super::support::fresh;

const T0: &str = "2026-03-02T12:00:00.000Z";
const T1: &str = "2026-03-02T13:00:00.000Z";

fn memory(id: &str, content: &str) -> NewMemory {
    NewMemory {
        content_hash: format!("hash-of-{}", content.to_lowercase()),
        tags: Some("a,b".into()),
        why: "export".into(),
        project: Some("p1".into()),
        importance: 0.7,
        scope_user: Some("u1".into()),
        ..super::support::memory(id, content, T0)
    }
}

/// A small workspace with every kind of row: plain, pinned, edited, deleted, with a vector.
fn fill(store: &dyn MemoryStore) {
    let actor = Actor {
        changed_by: "operator".into(),
        actor_type: Some("operator".into()),
        session_id: Some("s1".into()),
        request_id: Some("r1".into()),
    };
    let mut pinned = memory("pinned", "Pinned rule: always lint");
    pinned.pinned = true;
    pinned.importance = 1.0;
    pinned.source_id = Some("doc-9".into());
    for m in [
        memory("plain", "A plain memory"),
        pinned,
        memory("edited", "First wording"),
        memory("gone", "Deleted later"),
    ] {
        store
            .remember(&m, WriteOptions::default(), &actor)
            .expect("remember");
    }
    let edit = MemoryPatch {
        content: Some((
            "Second wording".into(),
            "second wording".into(),
            "hash-of-second wording".into(),
        )),
        ..MemoryPatch::default()
    };
    for (id, change) in [
        ("edited", Change::Modify(edit)),
        ("gone", Change::Forget { force: false }),
    ] {
        let m = Mutation {
            id: id.into(),
            if_version: None,
            reason: "export test".into(),
            actor: actor.clone(),
            now: T1.into(),
            change,
        };
        store.mutate(m).expect("mutate");
    }
    let job = EmbeddingJob {
        memory_id: "plain".into(),
        content: "A plain memory".into(),
        content_hash: "hash-of-a plain memory".into(),
    };
    let blob: Vec<u8> = [0.25_f32, -1.5, 3.0e-7]
        .iter()
        .flat_map(|f| f.to_le_bytes())
        .collect();
    let saved = store.save_embeddings(&[(job, blob)], 3, "model-x", T1);
    assert_eq!(saved.expect("save"), [true]);
}

fn export_all(store: &dyn ExportStore) -> Vec<ExportItem> {
    let mut out = Vec::new();
    let mut after = 0;
    loop {
        let page = store
            .export_page(after, 2, true, true)
            .expect("export_page");
        out.extend(page.items);
        match page.next {
            Some(n) => after = n,
            None => return out,
        }
    }
}

fn import_all(store: &dyn ExportStore, items: &[ExportItem], dry_run: bool) -> Vec<ImportOutcome> {
    let items: Vec<ImportItem> = items
        .iter()
        .map(|i| ImportItem {
            memory: Some(i.memory.clone()),
            target: None,
            history: i.history.clone(),
            vector: i.vector.clone(),
        })
        .collect();
    let done = store
        .import_batch(items, T1, dry_run)
        .expect("import_batch");
    done.into_iter().map(|d| d.outcome).collect()
}

/// Numbers compared as numbers (1 and 1.0 are the same importance).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

fn assert_rows_equal(what: &str, a: &JsonRow, b: &JsonRow) {
    let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
    keys.sort();
    keys.dedup();
    for k in keys {
        let (x, y) = (a.get(k), b.get(k));
        let equal = match (x, y) {
            (Some(x), Some(y)) => same(x, y),
            (None, Some(Value::Null)) | (Some(Value::Null), None) => true,
            _ => false,
        };
        assert!(equal, "{what}: column {k}: {x:?} vs {y:?}");
    }
}

fn assert_same_workspace(from: &[ExportItem], to: &[ExportItem]) {
    assert_eq!(from.len(), to.len());
    for (a, b) in from.iter().zip(to) {
        let id = a.memory["id"].as_str().unwrap_or_default();
        assert_rows_equal(id, &a.memory, &b.memory);
        assert_eq!(a.history.len(), b.history.len(), "{id}: history");
        for (ha, hb) in a.history.iter().zip(&b.history) {
            assert_rows_equal(&format!("{id} history"), ha, hb);
        }
        assert_eq!(a.vector, b.vector, "{id}: vector");
    }
}

#[test]
fn a_workspace_moves_from_sqlite_to_postgres_and_back_losslessly() {
    let Some(pg) = fresh() else { return };
    let dir = tempfile::tempdir().expect("temp dir");
    let sqlite = Store::open(&dir.path().join("memories.db"), 1).expect("open SQLite");
    fill(&sqlite);
    let original = export_all(&sqlite);
    assert_eq!(original.len(), 4, "tombstones are exported when asked");
    assert!(original.iter().any(|i| i.vector.is_some()));

    let inserted = |outcomes: &[ImportOutcome]| {
        outcomes
            .iter()
            .all(|o| matches!(o, ImportOutcome::Inserted { .. }))
    };
    let dry = import_all(&pg.store, &original, true);
    assert!(inserted(&dry), "{dry:?}");
    assert!(export_all(&pg.store).is_empty(), "a dry run writes nothing");

    let outcomes = import_all(&pg.store, &original, false);
    assert!(inserted(&outcomes), "{outcomes:?}");
    let on_postgres = export_all(&pg.store);
    assert_same_workspace(&original, &on_postgres);
    assert!(pg.store.live_detail("pinned").expect("detail").is_some());
    for id in ["plain", "pinned", "edited", "gone"] {
        let read = |s: &dyn MemoryStore| s.history(id, 10).expect("history");
        assert_eq!(
            read(&pg.store),
            read(&sqlite),
            "{id}: the same history on both"
        );
    }

    let again = import_all(&pg.store, &original, false);
    assert!(
        again
            .iter()
            .all(|o| matches!(o, ImportOutcome::Duplicate { .. })),
        "{again:?}"
    );

    let back_dir = tempfile::tempdir().expect("temp dir");
    let back = Store::open(&back_dir.path().join("memories.db"), 1).expect("open SQLite");
    let outcomes = import_all(&back, &on_postgres, false);
    assert!(inserted(&outcomes), "{outcomes:?}");
    assert_same_workspace(&original, &export_all(&back));
}
