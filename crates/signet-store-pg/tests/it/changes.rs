//! The change sequence: every committed change to a memory is recorded with the node that
//! wrote it (remember, forget, recover, a content change, a stored vector; never an access
//! count), the listener hears other nodes' commits, a page never passes a hole a running
//! transaction may still fill, and a pruned feed says so.

use std::time::Duration;

use signet_model::memories::{EmbeddingJob, NewMemory, WriteOptions};
use signet_model::{ChangeFeed, ChangeKind, MemoryStore};
use signet_store_pg::PgStore;

use super::support::Scratch;

const NOW: &str = "2026-03-02T12:00:00.000Z";

fn memory(id: &str, content: &str) -> NewMemory {
    super::support::memory(id, content, NOW)
}

fn feed(store: &PgStore) -> &dyn ChangeFeed {
    store.change_feed().expect("PostgreSQL has a change feed")
}

/// `(memory, kind, event, origin)` of every change after `after`.
fn read(store: &PgStore, after: i64) -> Vec<(String, ChangeKind, Option<String>, Option<String>)> {
    let page = feed(store).changes_after(after, 100).expect("changes");
    assert!(!page.gap);
    page.changes
        .into_iter()
        .map(|c| (c.memory_id, c.kind, c.event, c.origin))
        .collect()
}

#[test]
fn every_change_is_recorded_with_the_node_that_wrote_it() {
    let Some(scratch) = Scratch::new() else {
        return;
    };
    let a = PgStore::open(&scratch.config(2)).expect("node a");
    let b = PgStore::open(&scratch.config(2)).expect("node b");
    let start = feed(&b).head().unwrap();
    a.remember(
        &memory("m1", "Ada runs the deploys"),
        WriteOptions::default(),
        &Default::default(),
    )
    .unwrap();
    let job = EmbeddingJob {
        memory_id: "m1".into(),
        content: "Ada runs the deploys".into(),
        content_hash: "hash-m1".into(),
    };
    let saved = b
        .save_embeddings(&[(job, vec![0u8; 8])], 2, "test-model", NOW)
        .unwrap();
    assert_eq!(saved, vec![true]);
    // An access is not a change.
    b.touch_accessed(&[("m1".into(), 1)], NOW).unwrap();
    let mut c = scratch.client();
    c.batch_execute(
        "UPDATE memories SET is_deleted = true, deleted_at = '2026-03-02T12:01:00.000Z', \
         version = version + 1 WHERE id = 'm1'",
    )
    .unwrap();
    let (na, nb) = (Some(a.node().to_owned()), Some(b.node().to_owned()));
    let s = |v: &str| Some(v.to_owned());
    assert_eq!(
        read(&a, start),
        vec![
            ("m1".into(), ChangeKind::Upsert, s("created"), na),
            ("m1".into(), ChangeKind::Vector, None, nb),
            ("m1".into(), ChangeKind::Delete, s("deleted"), None),
        ]
    );
    let head = feed(&a).head().unwrap();
    assert!(read(&a, head).is_empty(), "the head is past every change");

    // Pruned changes: a reader behind them is told to rebuild.
    assert_eq!(feed(&a).prune("2999-01-01T00:00:00.000Z").unwrap(), 3);
    let page = feed(&b).changes_after(start, 100).unwrap();
    assert!(page.gap && page.changes.is_empty(), "{page:?}");
    assert!(!feed(&b).changes_after(page.next, 100).unwrap().gap);
}

#[test]
fn a_listener_hears_the_writing_node() {
    let Some(scratch) = Scratch::new() else {
        return;
    };
    let a = PgStore::open(&scratch.config(1)).expect("node a");
    let b = PgStore::open(&scratch.config(1)).expect("node b");
    let mut listener = feed(&b).listen().expect("listen");
    a.remember(
        &memory("m1", "one"),
        WriteOptions::default(),
        &Default::default(),
    )
    .unwrap();
    let mut heard = Vec::new();
    for _ in 0..30 {
        heard.extend(listener.wait(Duration::from_secs(1)).expect("wait"));
        if !heard.is_empty() {
            break;
        }
    }
    assert!(!heard.is_empty(), "no notification");
    assert!(heard.iter().all(|n| n == a.node()), "{heard:?}");
}

#[test]
fn changes_are_sequenced_in_commit_order() {
    let Some(scratch) = Scratch::new() else {
        return;
    };
    let a = PgStore::open(&scratch.config(2)).expect("node a");
    let start = feed(&a).head().unwrap();
    // A transaction writes first and commits last: its change comes after the other's, so a
    // reader that has passed the other's never misses it.
    let mut slow = scratch.client();
    let mut tx = slow.transaction().unwrap();
    tx.batch_execute(
        "INSERT INTO memories (id, content, created_at, updated_at, content_hash) \
         VALUES ('slow', 'the slow one', '2026-03-02T12:00:00.000Z', '2026-03-02T12:00:00.000Z', 'h-slow')",
    )
    .unwrap();
    a.remember(
        &memory("fast", "the fast one"),
        WriteOptions::default(),
        &Default::default(),
    )
    .unwrap();
    let page = feed(&a).changes_after(start, 100).unwrap();
    let ids: Vec<&str> = page.changes.iter().map(|c| c.memory_id.as_str()).collect();
    assert_eq!(ids, vec!["fast"]);
    tx.commit().unwrap();
    let ids: Vec<String> = read(&a, page.next).into_iter().map(|c| c.0).collect();
    assert_eq!(ids, vec!["slow".to_owned()]);

    // A rolled-back transaction records nothing.
    let after = feed(&a).head().unwrap();
    let mut tx = slow.transaction().unwrap();
    tx.batch_execute(
        "INSERT INTO memories (id, content, created_at, updated_at, content_hash) \
         VALUES ('gone', 'rolled back', '2026-03-02T12:00:00.000Z', '2026-03-02T12:00:00.000Z', 'h-gone')",
    )
    .unwrap();
    tx.rollback().unwrap();
    a.remember(
        &memory("later", "the later one"),
        WriteOptions::default(),
        &Default::default(),
    )
    .unwrap();
    let ids: Vec<String> = read(&a, after).into_iter().map(|c| c.0).collect();
    assert_eq!(ids, vec!["later".to_owned()]);
}
