//! The index answers exactly what FTS5 answers: same hits, same scores to the bit, through
//! inserts, edits, access bumps, soft and hard deletes, non-ASCII text and writes by another
//! connection.

use std::time::{Duration, Instant};

use rusqlite::{Connection, params};

use super::*;
use crate::Store;
use crate::memories::search;
use signet_model::MemoryStore as _;

const WORDS: &[&str] = &[
    "user", "prefers", "dark", "mode", "deploy", "server", "database", "backup", "release", "rust",
    "python", "docker", "kettle", "attic", "coffee", "Café", "naïve", "東京", "on", "the", "a",
    "is", "vim", "emacs", "keyboard", "meeting", "friday", "budget",
];

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn word(&mut self) -> &'static str {
        let a = self.below(WORDS.len());
        let b = self.below(WORDS.len());
        WORDS[a.min(b)]
    }
    fn text(&mut self) -> String {
        let n = 1 + self.below(14);
        (0..n).map(|_| self.word()).collect::<Vec<_>>().join(" ")
    }
}

fn insert(c: &Connection, id: &str, content: &str, who: &str) {
    c.execute(
        "INSERT INTO memories (id, content, who, created_at, updated_at)
         VALUES (?1, ?2, ?3, '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z')",
        params![id, content, who],
    )
    .unwrap();
}

fn ready(store: &Store) {
    let t = Instant::now();
    while store.fulltext.status().is_none() {
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "the index never built"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Both answers, or `None` when the index declined.
fn both(
    store: &Store,
    q: &KeywordQuery,
    f: &RecallFilters,
    limit: usize,
) -> Option<(Vec<KeywordHit>, Vec<KeywordHit>)> {
    store.pool().check_external_if_idle();
    store
        .pool()
        .read(|c| {
            let ours = store.fulltext.search(c, q, f, limit)?;
            let fts = search::keyword_search(c, q, f, limit)?;
            Ok(ours.map(|o| (o, fts)))
        })
        .unwrap()
}

/// Same scores in order, bit for bit; the same ids wherever the score is not tied with the
/// last one kept (which of several tied rows makes the cut is unspecified).
fn assert_same(q: &KeywordQuery, ours: &[KeywordHit], fts: &[KeywordHit]) {
    let s = |h: &[KeywordHit]| h.iter().map(|h| h.bm25.to_bits()).collect::<Vec<_>>();
    assert_eq!(s(ours), s(fts), "{q:?}\nours {ours:?}\nfts {fts:?}");
    if let Some(last) = fts.last().map(|h| h.bm25) {
        let ids = |h: &[KeywordHit]| {
            let mut v: Vec<String> = h
                .iter()
                .filter(|h| h.bm25 != last)
                .map(|h| h.id.clone())
                .collect();
            v.sort();
            v
        };
        assert_eq!(ids(ours), ids(fts), "{q:?}");
    }
}

fn queries(rng: &mut Rng) -> Vec<KeywordQuery> {
    let mut out = Vec::new();
    for _ in 0..60 {
        let n = 1 + rng.below(3);
        let words: Vec<String> = (0..n).map(|_| rng.word().to_lowercase()).collect();
        out.push(KeywordQuery::all(words.iter().map(String::as_str)));
        out.push(KeywordQuery::any(words.iter().map(String::as_str)));
    }
    out.push(KeywordQuery::all(["USER", "Prefers"]));
    out.push(KeywordQuery::all(["nothing-matches-this"]));
    out
}

#[test]
fn answers_equal_fts5_through_every_kind_of_change() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("memories.db");
    let store = Store::open(&db, 2).unwrap();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    store
        .pool()
        .write({
            let texts: Vec<String> = (0..600).map(|_| rng.text()).collect();
            move |tx| {
                for (i, t) in texts.iter().enumerate() {
                    insert(
                        tx,
                        &format!("m{i}"),
                        t,
                        if i % 3 == 0 { "alice" } else { "bob" },
                    );
                }
                Ok(())
            }
        })
        .unwrap();
    ready(&store);
    let alice = RecallFilters {
        who: Some("alice".into()),
        ..Default::default()
    };
    let check = |store: &Store, rng: &mut Rng| {
        let mut answered = 0;
        for q in queries(rng) {
            for (f, limit) in [
                (RecallFilters::default(), 10),
                (RecallFilters::default(), 50),
                (alice.clone(), 10),
            ] {
                if let Some((ours, fts)) = both(store, &q, &f, limit) {
                    assert_same(&q, &ours, &fts);
                    answered += 1;
                }
            }
        }
        assert!(answered > 200, "the index answered only {answered} queries");
    };
    check(&store, &mut rng);

    // Edits, access bumps, soft deletes and restores, hard deletes, through the store's writer.
    let edits: Vec<String> = (0..80).map(|_| rng.text()).collect();
    store
        .pool()
        .write(move |tx| {
            for (i, t) in edits.iter().enumerate() {
                tx.execute("UPDATE memories SET content = ?2 WHERE id = ?1", params![format!("m{}", i * 7), t])?;
                tx.execute(
                    "UPDATE memories SET access_count = COALESCE(access_count, 0) + 1 WHERE id = ?1",
                    [format!("m{}", i * 5)],
                )?;
                tx.execute("UPDATE memories SET is_deleted = 1 WHERE id = ?1", [format!("m{}", i * 3 + 1)])?;
                tx.execute("DELETE FROM memories WHERE id = ?1", [format!("m{}", i * 3 + 2)])?;
            }
            tx.execute("UPDATE memories SET is_deleted = 0 WHERE id = 'm4'", [])?;
            Ok(())
        })
        .unwrap();
    // Access bumps through the store's own path are untracked: nothing more to re-read.
    let queued = || store.fulltext.pending.lock().unwrap().rowids.len();
    let before = queued();
    let bumped: Vec<(String, u32)> = (0..50).map(|i| (format!("m{}", i * 11), 1)).collect();
    store
        .touch_accessed(&bumped, "2026-01-02T00:00:00.000Z")
        .unwrap();
    assert_eq!(queued(), before, "an access bump queues no re-read");
    check(&store, &mut rng);

    // A bulk load: a background thread patches the index; answers stay exact meanwhile.
    let bulk: Vec<String> = (0..5000).map(|_| rng.text()).collect();
    store
        .pool()
        .write(move |tx| {
            for (i, t) in bulk.iter().enumerate() {
                insert(tx, &format!("bulk{i}"), t, "bob");
            }
            Ok(())
        })
        .unwrap();
    check(&store, &mut rng);

    // The newest row deleted and its rowid reused by another memory with the same text: the
    // index answers with the new memory's id, not the old one's.
    let (old, content) = store
        .pool()
        .write(|tx| {
            let (rowid, old, content): (i64, String, String) = tx.query_row(
                "SELECT rowid, id, content FROM memories ORDER BY rowid DESC LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )?;
            tx.execute("DELETE FROM memories WHERE rowid = ?1", [rowid])?;
            insert(tx, "reused", &content, "bob");
            let again: i64 =
                tx.query_row("SELECT rowid FROM memories WHERE id = 'reused'", [], |r| {
                    r.get(0)
                })?;
            assert_eq!(
                again, rowid,
                "SQLite reuses the largest rowid once it is gone"
            );
            Ok((old, content))
        })
        .unwrap();
    let words: Vec<String> = content
        .split_whitespace()
        .map(|w| w.to_lowercase())
        .collect();
    let q = KeywordQuery::all(words.iter().map(String::as_str));
    let (ours, fts) = both(&store, &q, &RecallFilters::default(), 50).expect("answered");
    assert_same(&q, &ours, &fts);
    let ids: Vec<&str> = ours.iter().map(|h| h.id.as_str()).collect();
    assert!(
        ids.contains(&"reused") && !ids.contains(&old.as_str()),
        "{ids:?}"
    );

    // A rolled-back write changes nothing.
    let rolled = store.pool().write(|tx| {
        insert(tx, "ghost", "kettle kettle kettle attic", "bob");
        Err::<(), _>(crate::StoreError::Invalid("no".into()))
    });
    assert!(rolled.is_err());
    check(&store, &mut rng);

    // Another connection (another process) writes: the index notices and rebuilds.
    let other = Connection::open(&db).unwrap();
    insert(&other, "outside", "kettle attic kettle", "bob");
    let q = KeywordQuery::all(["kettle", "attic"]);
    let t = Instant::now();
    loop {
        store.pool().check_external_if_idle();
        let fts = store
            .pool()
            .read(|c| search::keyword_search(c, &q, &RecallFilters::default(), 5))
            .unwrap();
        assert_eq!(fts[0].id, "outside");
        let ours = store
            .keyword_search(&q, &RecallFilters::default(), 5)
            .unwrap();
        assert_eq!(
            ours[0].id, "outside",
            "through the store, the answer is always current"
        );
        if store.fulltext.status().is_some()
            && let Some((ours, fts)) = both(&store, &q, &RecallFilters::default(), 5)
        {
            assert_same(&q, &ours, &fts);
            break;
        }
        assert!(t.elapsed() < Duration::from_secs(30));
        std::thread::sleep(Duration::from_millis(5));
    }
    check(&store, &mut rng);
}

#[test]
fn queries_only_fts5_can_answer_exactly_are_declined() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("memories.db"), 1).unwrap();
    store
        .pool()
        .write(|tx| {
            insert(tx, "a", "the kettle is in the attic", "bob");
            Ok(())
        })
        .unwrap();
    ready(&store);
    let none = RecallFilters::default();
    let declined = |q: KeywordQuery| {
        store
            .pool()
            .read(|c| store.fulltext.search(c, &q, &none, 5))
            .unwrap()
            .is_none()
    };
    assert!(
        declined(KeywordQuery::all(["kettle attic"])),
        "a phrase of two tokens"
    );
    assert!(declined(KeywordQuery::all(["東京"])), "non-ASCII");
    let mut not = KeywordQuery::all(["kettle"]);
    not.push(Connective::Not, "attic");
    assert!(declined(not), "NOT");
    let mut mixed = KeywordQuery::all(["kettle", "attic"]);
    mixed.push(Connective::Or, "cellar");
    assert!(declined(mixed), "mixed connectives");
    assert!(!declined(KeywordQuery::all(["kettle", "attic"])));
}

#[test]
fn switched_off_by_the_environment_variable_it_declines_everything() {
    // Not set here (tests run in parallel): the index is on by default.
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("memories.db"), 1).unwrap();
    assert!(store.fulltext.enabled);
}
