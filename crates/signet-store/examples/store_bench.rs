//! Store-level benchmark (no HTTP): remember and keyword search against a temp database.
//! `cargo run --release -p signet-store --example store_bench -- 10000`

// Test code may unwrap (the workspace denies `unwrap_used` elsewhere).
#![allow(clippy::unwrap_used)]

use std::time::Instant;

use signet_store::memories::{Actor, NewMemory, RecallFilters, WriteOptions};
use signet_store::{KeywordQuery, MemoryStore, Store};

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(10_000);
    let dir = match std::env::var("BENCH_DIR") {
        Ok(d) => tempfile::tempdir_in(d).unwrap(),
        Err(_) => tempfile::tempdir().unwrap(),
    };
    let store = std::sync::Arc::new(Store::open(&dir.path().join("memories.db"), 4).unwrap());
    let bg = store.clone();
    std::thread::spawn(move || {
        loop {
            let _ = bg.pool().checkpoint_background(64 << 20);
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    });
    if std::env::var("NO_FTS").is_ok() {
        store
            .pool()
            .with_writer(|c| {
                c.execute_batch("DROP TRIGGER memories_ai; DROP TRIGGER memories_au;")?;
                Ok(())
            })
            .unwrap();
    }
    let actor = Actor {
        changed_by: "bench".into(),
        ..Default::default()
    };
    let words = [
        "user", "prefers", "vim", "deploy", "server", "database", "backup", "coffee", "team",
        "rust",
    ];
    let t = Instant::now();
    for i in 0..n {
        let content = format!(
            "{} {} {} {} note {i}",
            words[i % 10],
            words[(i / 10) % 10],
            words[(i / 100) % 10],
            words[(i * 7) % 10]
        );
        let m = NewMemory {
            id: format!("id-{i}"),
            normalized_content: content.to_lowercase(),
            content_hash: format!("{i:064x}"),
            content,
            memory_type: "fact".into(),
            tags: None,
            who: "bench".into(),
            why: "explicit".into(),
            project: None,
            importance: 0.5,
            pinned: false,
            source_type: "manual".into(),
            source_id: None,
            extraction_status: "pending".into(),
            created_at: "2026-11-27T00:00:00.000Z".into(),
            scope_user: None,
        };
        store
            .remember(
                &m,
                WriteOptions {
                    enqueue_extraction: true,
                    ..WriteOptions::default()
                },
                &actor,
            )
            .unwrap();
    }
    let el = t.elapsed();
    println!(
        "remember: {n} in {el:?} = {:.0}/s",
        n as f64 / el.as_secs_f64()
    );
    if std::env::var("SKIP_SEARCH").is_ok() {
        return;
    }
    let t = Instant::now();
    while store.keyword_index().is_none() && t.elapsed().as_secs() < 60 {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    match store.keyword_index() {
        Some((docs, bytes)) => println!(
            "keyword index: {docs} documents, {:.1} MiB ({:.0} bytes per document), ready after {:?}",
            bytes as f64 / (1 << 20) as f64,
            bytes as f64 / docs.max(1) as f64,
            t.elapsed()
        ),
        None => println!("keyword index: off (SIGNET_KEYWORD_INDEX=off), FTS5 answers"),
    }
    let f = RecallFilters::default();
    type Joined = fn([&'static str; 2]) -> KeywordQuery;
    let searches: [(&str, Joined); 2] = [("AND", KeywordQuery::all), ("OR", KeywordQuery::any)];
    for (name, query) in searches {
        let t = Instant::now();
        for i in 0..1000 {
            let q = query([words[i % 10], words[(i / 3) % 10]]);
            store.keyword_search(&q, &f, 20).unwrap();
        }
        println!("keyword {name} search: {:?} per query", t.elapsed() / 1000);
    }
}
