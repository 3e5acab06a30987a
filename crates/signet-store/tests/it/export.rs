//! [`ExportStore`] on SQLite: pages in a stable order without tombstones unless asked, and an
//! import that dedups by id and content, by source and by content hash, keeps free ids,
//! renames taken ones, writes history only for what it inserts, stores a vector only for a
//! live memory with that content, and writes nothing in a dry run.

use serde_json::{Value, json};
use signet_model::JsonRow;
use signet_model::export::{ExportStore, ImportItem, ImportOutcome, StoredEmbedding};
use signet_store::Store;

const AT: &str = "2026-01-01T00:00:00.000Z";

fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open(&dir.path().join("memories.db"), 1).unwrap();
    (dir, s)
}

fn row(id: &str, hash: &str, extra: Value) -> JsonRow {
    let mut r = json!({"id": id, "content": format!("content {hash}"), "content_hash": hash,
        "normalized_content": format!("content {hash}"), "type": "fact", "is_deleted": 0,
        "created_at": AT, "updated_at": AT, "embedding_model": "stale-model"});
    if let (Some(o), Value::Object(x)) = (r.as_object_mut(), extra) {
        o.extend(x);
    }
    r.as_object().unwrap().clone()
}

fn item(memory: JsonRow) -> ImportItem {
    ImportItem {
        memory: Some(memory),
        ..ImportItem::default()
    }
}

fn history(id: &str, memory_id: &str) -> JsonRow {
    json!({"id": id, "memory_id": memory_id, "event": "created", "changed_by": "t",
           "created_at": AT})
    .as_object()
    .unwrap()
    .clone()
}

fn outcomes(s: &Store, items: Vec<ImportItem>, dry: bool) -> Vec<ImportOutcome> {
    s.import_batch(items, AT, dry)
        .unwrap()
        .into_iter()
        .map(|i| i.outcome)
        .collect()
}

fn ids(s: &Store, include_deleted: bool) -> Vec<String> {
    let mut out = Vec::new();
    let mut after = 0;
    loop {
        let page = s.export_page(after, 2, include_deleted, false).unwrap();
        assert!(page.items.len() <= 2);
        out.extend(
            page.items
                .iter()
                .map(|i| i.memory["id"].as_str().unwrap().to_owned()),
        );
        match page.next {
            Some(n) => after = n,
            None => return out,
        }
    }
}

#[test]
fn import_dedups_keeps_free_ids_and_renames_taken_ones() {
    let (_d, s) = store();
    let mut first = item(row(
        "a",
        "ha",
        json!({"source_type": "doc", "source_id": "s1"}),
    ));
    first.history = vec![history("h1", "a")];
    let got = outcomes(
        &s,
        vec![first.clone(), item(row("b", "hb", json!({})))],
        false,
    );
    assert_eq!(
        got,
        [
            ImportOutcome::Inserted { id: "a".into() },
            ImportOutcome::Inserted { id: "b".into() }
        ]
    );
    let again = s.import_batch(vec![first], AT, false).unwrap();
    assert_eq!(
        again[0].outcome,
        ImportOutcome::Duplicate { id: "a".into() }
    );
    assert_eq!(again[0].history, 0, "no history for a duplicate");

    let got = outcomes(
        &s,
        vec![
            // The same source under another id and content.
            item(row(
                "c",
                "hc",
                json!({"source_type": "doc", "source_id": "s1"}),
            )),
            // The same content under another id.
            item(row("d", "hb", json!({}))),
            // A taken id with other content: inserted under a new id.
            item(row("a", "he", json!({}))),
            // A tombstone of live content is no duplicate of it.
            item(row("f", "hb", json!({"is_deleted": 1, "deleted_at": AT}))),
        ],
        false,
    );
    assert_eq!(got[0], ImportOutcome::Duplicate { id: "a".into() });
    assert_eq!(got[1], ImportOutcome::Duplicate { id: "b".into() });
    let ImportOutcome::Inserted { id } = &got[2] else {
        panic!("{got:?}");
    };
    assert_ne!(id, "a");
    assert_eq!(got[3], ImportOutcome::Inserted { id: "f".into() });
    assert_eq!(ids(&s, false).len(), 3);
    assert_eq!(ids(&s, true).len(), 4);
}

#[test]
fn pages_hold_every_column_and_history_in_a_stable_order() {
    let (_d, s) = store();
    let items: Vec<ImportItem> = (0..5)
        .map(|i| {
            let mut it = item(row(
                &format!("m{i}"),
                &format!("h{i}"),
                json!({"importance": 0.1 + 0.2, "tags": "x,y", "pinned": 1}),
            ));
            it.history = vec![history(&format!("hist{i}"), &format!("m{i}"))];
            it
        })
        .collect();
    let done = s.import_batch(items, AT, false).unwrap();
    assert!(done.iter().all(|d| d.history == 1));
    assert_eq!(ids(&s, false), ["m0", "m1", "m2", "m3", "m4"]);
    let page = s.export_page(0, 10, false, true).unwrap();
    let m = &page.items[1];
    assert_eq!(m.memory["importance"], json!(0.1 + 0.2), "floats exactly");
    assert_eq!(m.memory["tags"], "x,y");
    assert_eq!(m.memory["pinned"], 1);
    assert_eq!(
        m.memory["embedding_model"],
        Value::Null,
        "no vector, no model"
    );
    assert!(m.memory.contains_key("scope_user"), "every column");
    assert_eq!(m.history[0]["id"], "hist1");
    assert!(m.vector.is_none());
}

#[test]
fn a_vector_is_stored_for_live_memories_with_its_content_only() {
    let (_d, s) = store();
    let v = |hash: &str| StoredEmbedding {
        model: "m".into(),
        dimensions: 2,
        content_hash: hash.into(),
        blob: [1.0f32, 0.0].iter().flat_map(|f| f.to_le_bytes()).collect(),
    };
    let mut live = item(row("a", "ha", json!({})));
    live.vector = Some(v("ha"));
    let mut stale = item(row("b", "hb", json!({})));
    stale.vector = Some(v("other"));
    let mut gone = item(row("c", "hc", json!({"is_deleted": 1})));
    gone.vector = Some(v("hc"));
    let done = s.import_batch(vec![live, stale, gone], AT, false).unwrap();
    let saved: Vec<bool> = done.iter().map(|d| d.vector_saved).collect();
    assert_eq!(saved, [true, false, false]);
    let page = s.export_page(0, 10, true, true).unwrap();
    assert_eq!(page.items[0].vector, Some(v("ha")));
    assert_eq!(page.items[0].memory["embedding_model"], "m");
    assert!(page.items[1].vector.is_none() && page.items[2].vector.is_none());
}

#[test]
fn a_dry_run_counts_and_writes_nothing() {
    let (_d, s) = store();
    let got = outcomes(&s, vec![item(row("a", "ha", json!({})))], true);
    assert_eq!(got, [ImportOutcome::Inserted { id: "a".into() }]);
    assert!(ids(&s, true).is_empty());
    let got = outcomes(
        &s,
        vec![item(json!({"id": "x"}).as_object().unwrap().clone())],
        false,
    );
    assert!(matches!(got[0], ImportOutcome::Skipped { .. }), "{got:?}");
}
