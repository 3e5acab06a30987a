//! Remember: insert, the two dedup rules, extraction jobs, chunk groups.

use super::support::{
    T0, forget, hash, ids, insert, is_live, memory, normalize, operator, remember,
};
use crate::MemoryStore;
use crate::memories::{ChunkGroup, DedupHit, NewMemory, RememberOutcome, WriteOptions};

/// A remember inserts a live memory at version 1 and records a `created` history row carrying
/// the actor.
pub fn remember_inserts_a_live_memory_with_a_created_history_row(store: &dyn MemoryStore) {
    let mut m = memory("m1", "the deploy key lives in the vault");
    m.tags = Some("ops,keys".into());
    m.project = Some("infra".into());
    insert(store, m);

    let detail = store.live_detail("m1").expect("live_detail");
    let detail = detail.expect("the memory is live");
    assert_eq!(detail["content"], "the deploy key lives in the vault");
    assert_eq!(detail["type"], "fact");
    assert_eq!(detail["tags"], "ops,keys");
    assert_eq!(detail["project"], "infra");
    assert_eq!(detail["who"], "tester");
    assert_eq!(detail["version"], 1);
    assert_eq!(detail["created_at"], T0);

    let history = store.history("m1", 10).expect("history");
    let history = history.expect("a memory has history");
    assert_eq!(history.len(), 1, "{history:?}");
    let created = &history[0];
    assert_eq!(created.event, "created");
    assert_eq!(
        created.new_content.as_deref(),
        Some("the deploy key lives in the vault")
    );
    assert_eq!(created.changed_by, operator().changed_by);
    assert_eq!(created.actor_type, operator().actor_type);
    assert_eq!(created.session_id, operator().session_id);
    assert_eq!(created.request_id, operator().request_id);
    assert_eq!(created.created_at, T0);
    assert_eq!(store.stats().expect("stats").total, 1);
}

/// A second remember of content a live memory holds (same content hash) writes nothing and
/// answers with the memory that holds it.
pub fn remember_dedups_by_content_hash_among_live_memories(store: &dyn MemoryStore) {
    let mut first = memory("first", "Use tabs, not spaces");
    first.tags = Some("style".into());
    first.pinned = true;
    first.importance = 0.8;
    insert(store, first);

    let mut again = memory("again", "use tabs,   NOT spaces");
    again.memory_type = "preference".into();
    assert_eq!(again.content_hash, hash("Use tabs, not spaces"));
    let expected = RememberOutcome::Deduped(DedupHit {
        id: "first".into(),
        memory_type: "fact".into(),
        tags: Some("style".into()),
        pinned: true,
        importance: 0.8,
        content: "Use tabs, not spaces".into(),
    });
    assert_eq!(remember(store, &again), expected);
    assert!(!is_live(store, "again"), "the duplicate was not inserted");
    assert_eq!(store.stats().expect("stats").total, 1);
    let history = store.history("first", 10).expect("history").expect("rows");
    assert_eq!(history.len(), 1, "a dedup writes no history");
}

/// With a source id, a live memory of the same `(source_type, source_id)` is the duplicate,
/// whatever the content, and it wins over a content-hash twin; another source type is another
/// source.
pub fn remember_dedups_by_source_before_content(store: &dyn MemoryStore) {
    let doc = from_book("doc", "chapter one, first draft", "import");
    insert(store, doc);
    insert(store, memory("twin", "an unrelated note"));
    let into_doc =
        |out: &RememberOutcome| matches!(out, RememberOutcome::Deduped(hit) if hit.id == "doc");

    let revised = from_book("revised", "chapter one, second draft", "import");
    let out = remember(store, &revised);
    assert!(into_doc(&out), "same source, other content: {out:?}");

    let both = from_book("both", "an unrelated note", "import");
    let out = remember(store, &both);
    assert!(
        into_doc(&out),
        "the source match comes before the content match: {out:?}"
    );

    let other_type = from_book("other-type", "chapter one, third draft", "sync");
    assert_eq!(remember(store, &other_type), RememberOutcome::Inserted);
    assert_eq!(store.stats().expect("stats").total, 3);
}

/// A memory from the source `(source_type, "book-1")`.
fn from_book(id: &str, content: &str, source_type: &str) -> NewMemory {
    NewMemory {
        source_type: source_type.into(),
        source_id: Some("book-1".into()),
        ..memory(id, content)
    }
}

/// Deleted memories never dedup: remembering a forgotten content (or source) inserts anew.
pub fn remember_ignores_deleted_memories_when_deduping(store: &dyn MemoryStore) {
    let mut old = memory("old", "the staging database is postgres");
    old.source_id = Some("note-7".into());
    insert(store, old);
    forget(store, "old", T0);

    let mut new = memory("new", "the staging database is postgres");
    new.source_id = Some("note-7".into());
    assert_eq!(remember(store, &new), RememberOutcome::Inserted);
    assert!(is_live(store, "new"));
    assert!(!is_live(store, "old"));
}

/// `enqueue_extraction` queues one pending `extract` job per inserted memory; without it, or
/// when the remember dedups, no job is queued.
pub fn remember_enqueues_extraction_only_when_asked(store: &dyn MemoryStore) {
    let jobs = |store: &dyn MemoryStore| store.ops_counts().expect("ops_counts").jobs;
    insert(store, memory("quiet", "no job for this one"));
    assert_eq!(jobs(store), Vec::<(String, i64)>::new());

    let opts = WriteOptions {
        enqueue_extraction: true,
        ..WriteOptions::default()
    };
    let queued = memory("queued", "extract facts from this one");
    let out = store
        .remember(&queued, opts, &operator())
        .expect("remember");
    assert_eq!(out, RememberOutcome::Inserted);
    assert_eq!(jobs(store), vec![("pending".to_owned(), 1)]);

    let twin = memory("twin", "extract facts from this one");
    let out = store.remember(&twin, opts, &operator()).expect("remember");
    assert!(matches!(out, RememberOutcome::Deduped(_)), "{out:?}");
    assert_eq!(
        jobs(store),
        vec![("pending".to_owned(), 1)],
        "a dedup queues nothing"
    );
}

/// A chunk group inserts its chunks in order, skipping any whose content a live memory or an
/// earlier chunk already holds; every inserted chunk is a live memory with its history row.
pub fn remember_chunks_inserts_a_group_and_skips_live_content(store: &dyn MemoryStore) {
    insert(store, memory("existing", "chunk two is already known"));
    let chunks = [
        ("c1", "chunk one of the long text"),
        ("c2", "chunk two is already known"),
        ("c3", "chunk three of the long text"),
        ("c4", "CHUNK ONE of the long text"),
    ];
    let group = ChunkGroup {
        group_id: "group-1".into(),
        chunks: chunks.iter().map(|(id, c)| memory(id, c)).collect(),
    };
    assert_eq!(normalize(chunks[0].1), normalize(chunks[3].1));
    let opts = WriteOptions {
        enqueue_extraction: true,
        ..WriteOptions::default()
    };
    let inserted = store.remember_chunks(&group, opts, &operator(), T0);
    assert_eq!(inserted.expect("remember_chunks"), ids(&["c1", "c3"]));
    assert!(is_live(store, "c1") && is_live(store, "c3"));
    assert!(!is_live(store, "c2") && !is_live(store, "c4"));
    let history = store.history("c3", 10).expect("history").expect("rows");
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].event, "created");
    let jobs = store.ops_counts().expect("ops_counts").jobs;
    assert_eq!(jobs, vec![("pending".to_owned(), 2)]);
    assert_eq!(store.stats().expect("stats").total, 3);
}
