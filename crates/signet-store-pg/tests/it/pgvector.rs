//! The pgvector path (`capability.rs`, `pgvector.rs`) against a real server with the
//! extension: the one `scripts/test.sh` starts from `scripts/fetch-pgvector-server.sh` and
//! names in `SIGNET_TEST_PGVECTOR_URL`. "Without the extension" is the Debian server of
//! `SIGNET_TEST_PG_URL`. Searches are checked against an exact scan over the stored blobs.

use std::collections::HashSet;

use postgres::NoTls;
use signet_model::memories::{Actor, Change, EmbeddingJob, Mutation, NewMemory, WriteOptions};
use signet_model::{MemoryStore, StoreError};
use signet_store_pg::{DatabaseUrl, PGVECTOR, PgConfig, PgStore, PgvectorMode};

use super::support::{Scratch, pgvector_url, server_url};

const T0: &str = "2026-03-02T12:00:00.000Z";
const MODEL: &str = "test-model";

/// A scratch schema on the pgvector server.
fn scratch() -> Option<Scratch> {
    let url = pgvector_url()?;
    let schema = format!("t_{}", uuid::Uuid::new_v4().simple());
    Some(Scratch { url, schema })
}

/// A whole database of its own on the pgvector server (the extension is per database), dropped
/// afterwards: for the checks that need one without the extension first.
struct ScratchDb {
    admin: DatabaseUrl,
    name: String,
    url: DatabaseUrl,
}

impl ScratchDb {
    fn new() -> Option<Self> {
        let admin = pgvector_url()?;
        let name = format!("pgv_{}", uuid::Uuid::new_v4().simple());
        let mut c = admin
            .config()
            .expect("config")
            .connect(NoTls)
            .expect("connect");
        c.batch_execute(&format!("CREATE DATABASE {name}"))
            .expect("create a scratch database");
        let text = std::env::var("SIGNET_TEST_PGVECTOR_URL").expect("url");
        let base = text.rsplit_once('/').map_or(text.as_str(), |(b, _)| b);
        let url = DatabaseUrl::parse(&format!("{base}/{name}")).expect("scratch url");
        Some(Self { admin, name, url })
    }

    fn config(&self) -> PgConfig {
        PgConfig {
            url: self.url.clone(),
            pool: 2,
            schema: None,
        }
    }

    fn extension(&self) -> Option<String> {
        let mut c = self
            .url
            .config()
            .expect("config")
            .connect(NoTls)
            .expect("connect");
        c.query_opt(
            "SELECT extversion FROM pg_extension WHERE extname = 'vector'",
            &[],
        )
        .expect("pg_extension")
        .map(|r| r.get(0))
    }
}

impl Drop for ScratchDb {
    fn drop(&mut self) {
        if let Ok(mut c) = self.admin.config().map(|c| c.connect(NoTls))
            && let Ok(c) = c.as_mut()
        {
            let _ = c.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ));
        }
    }
}

/// A small deterministic generator (xorshift64*), so every run checks the same vectors.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> f32 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let x = self.0.wrapping_mul(0x2545_F491_4F6C_DD1D);
        (x >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0
    }

    fn vector(&mut self, dims: usize) -> Vec<f32> {
        (0..dims).map(|_| self.next()).collect()
    }
}

fn memory(id: &str) -> NewMemory {
    super::support::memory(id, &format!("memory {id}"), T0)
}

fn blob(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|f| f.to_le_bytes()).collect()
}

/// Remembers `n` memories `m0..` and saves a random vector of `dims` for each under `model`;
/// returns the vectors by id.
fn fill(
    store: &PgStore,
    rng: &mut Rng,
    n: usize,
    dims: usize,
    model: &str,
) -> Vec<(String, Vec<f32>)> {
    let mut out = Vec::with_capacity(n);
    let mut items = Vec::with_capacity(n);
    for i in 0..n {
        let m = memory(&format!("m{i}"));
        store
            .remember(&m, WriteOptions::default(), &Actor::default())
            .expect("remember");
        let v = rng.vector(dims);
        let job = EmbeddingJob {
            memory_id: m.id.clone(),
            content: m.content.clone(),
            content_hash: m.content_hash.clone(),
        };
        items.push((job, blob(&v)));
        out.push((m.id, v));
    }
    for chunk in items.chunks(100) {
        let saved = store
            .save_embeddings(chunk, dims, model, T0)
            .expect("save_embeddings");
        assert!(saved.iter().all(|s| *s));
    }
    out
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let na: f32 = a.iter().map(|x| x * x).sum::<f32>().sqrt();
    let nb: f32 = b.iter().map(|x| x * x).sum::<f32>().sqrt();
    dot / (na * nb)
}

/// The exact top `k` of `rows` for `q` (optionally among `allowed`), best first.
fn exact(
    rows: &[(String, Vec<f32>)],
    q: &[f32],
    k: usize,
    allowed: Option<&HashSet<String>>,
) -> Vec<(String, f32)> {
    let mut scored: Vec<(String, f32)> = rows
        .iter()
        .filter(|(id, _)| allowed.is_none_or(|a| a.contains(id)))
        .map(|(id, v)| (id.clone(), cosine(q, v)))
        .collect();
    scored.sort_by(|a, b| b.1.total_cmp(&a.1));
    scored.truncate(k);
    scored
}

fn search(
    store: &PgStore,
    dims: usize,
    q: &[f32],
    k: usize,
    allowed: Option<&HashSet<String>>,
) -> Vec<(String, f32)> {
    store
        .vector_search()
        .expect("pgvector serves this store")
        .search(MODEL, dims, q, k, allowed)
        .expect("search")
}

fn forget(store: &PgStore, id: &str) {
    store
        .mutate(Mutation {
            id: id.to_owned(),
            if_version: None,
            reason: "test".to_owned(),
            actor: Actor::default(),
            now: T0.to_owned(),
            change: Change::Forget { force: true },
        })
        .expect("forget");
}

#[test]
fn pgvector_search_finds_what_an_exact_scan_over_the_blobs_finds() {
    let Some(scratch) = scratch() else { return };
    let store =
        PgStore::open_with(&scratch.config(2), PgvectorMode::On).expect("open with pgvector");
    let capability = store.vector_capability().expect("capability");
    assert!(capability.used, "{capability:?}");
    assert_eq!(capability.vector_index(), PGVECTOR);
    let dims = 384;
    let mut rng = Rng(0x5EED);
    let rows = fill(&store, &mut rng, 400, dims, MODEL);
    // The blobs the store returns are the ones searched: the exact scan reads them back.
    let stored: Vec<(String, Vec<f32>)> = store
        .load_vectors(MODEL, dims)
        .expect("load_vectors")
        .into_iter()
        .map(|r| {
            let v = r
                .blob
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect();
            (r.memory_id, v)
        })
        .collect();
    assert_eq!(stored.len(), rows.len());
    // The HNSW index for these dimensions was made when the first vectors were saved.
    let indexed: bool = scratch
        .client()
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM pg_indexes WHERE schemaname = current_schema() \
             AND indexname = 'embeddings_vec_hnsw_384')",
            &[],
        )
        .expect("pg_indexes")
        .get(0);
    assert!(indexed, "the HNSW index exists");

    let (mut found, mut wanted) = (0, 0);
    for _ in 0..20 {
        let q = rng.vector(dims);
        let want = exact(&stored, &q, 10, None);
        let got = search(&store, dims, &q, 10, None);
        assert_eq!(got.len(), 10);
        let got_ids: HashSet<&str> = got.iter().map(|(id, _)| id.as_str()).collect();
        wanted += want.len();
        found += want
            .iter()
            .filter(|(id, _)| got_ids.contains(id.as_str()))
            .count();
        // Scores are cosine similarities, as the in-process index reports them.
        for (id, s) in &got {
            let v = &stored.iter().find(|(i, _)| i == id).expect("a stored id").1;
            assert!(
                (cosine(&q, v) - s).abs() < 1e-4,
                "{id}: {s} vs {}",
                cosine(&q, v)
            );
        }
        assert!(
            got.windows(2).all(|w| w[0].1 >= w[1].1),
            "best first: {got:?}"
        );
    }
    let recall = found as f64 / wanted as f64;
    assert!(recall >= 0.98, "recall@10 {recall}");

    // An allow-list: exactly the best among those ids.
    let q = rng.vector(dims);
    let allowed: HashSet<String> = (0..400).step_by(7).map(|i| format!("m{i}")).collect();
    let want = exact(&stored, &q, 5, Some(&allowed));
    let got = search(&store, dims, &q, 5, Some(&allowed));
    let ids = |v: &[(String, f32)]| v.iter().map(|(id, _)| id.clone()).collect::<Vec<_>>();
    assert_eq!(ids(&got), ids(&want));
    assert!(search(&store, dims, &q, 5, Some(&HashSet::new())).is_empty());

    // A deleted memory is never found; the best live ones still fill k.
    let best = search(&store, dims, &q, 3, None);
    forget(&store, &best[0].0);
    let after = search(&store, dims, &q, 3, None);
    assert_eq!(after.len(), 3);
    assert!(after.iter().all(|(id, _)| *id != best[0].0), "{after:?}");
    assert_eq!(after[0].0, best[1].0);
    let restricted = search(&store, dims, &q, 3, Some(&[best[0].0.clone()].into()));
    assert!(restricted.is_empty(), "{restricted:?}");

    // Another model's vectors, or other dimensions, are not this search's.
    let other = store
        .vector_search()
        .expect("pgvector")
        .search("another-model", dims, &q, 3, None)
        .expect("search");
    assert!(other.is_empty(), "{other:?}");
    let small = rng.vector(8);
    assert!(search(&store, 8, &small, 3, None).is_empty());
    // A query of the wrong length is refused, not cast.
    let wrong = store
        .vector_search()
        .expect("pgvector")
        .search(MODEL, dims, &small, 3, None);
    assert!(matches!(wrong, Err(StoreError::Invalid(_))), "{wrong:?}");
}

#[test]
fn a_changed_memory_is_found_by_its_new_vector_only() {
    let Some(scratch) = scratch() else { return };
    let store = PgStore::open_with(&scratch.config(2), PgvectorMode::On).expect("open");
    let dims = 16;
    let mut rng = Rng(7);
    let rows = fill(&store, &mut rng, 20, dims, MODEL);
    let (id, v) = &rows[0];
    assert_eq!(search(&store, dims, v, 1, None)[0].0, *id);
    // New content: the old vector is stale (another content hash) until re-embedded.
    let mut c = scratch.client();
    c.execute(
        "UPDATE memories SET content = 'changed', content_hash = 'hash-changed' WHERE id = $1",
        &[id],
    )
    .expect("change the content");
    let hits = search(&store, dims, v, 20, None);
    assert!(hits.iter().all(|(h, _)| h != id), "{hits:?}");
    let job = EmbeddingJob {
        memory_id: id.clone(),
        content: "changed".into(),
        content_hash: "hash-changed".into(),
    };
    let fresh = rng.vector(dims);
    store
        .save_embeddings(&[(job, blob(&fresh))], dims, MODEL, T0)
        .expect("save");
    assert_eq!(search(&store, dims, &fresh, 1, None)[0].0, *id);
}

#[test]
fn vectors_written_before_pgvector_are_searchable_once_it_is_there() {
    let Some(db) = ScratchDb::new() else { return };
    // A node with pgvector off: no extension is created, vectors are only blobs.
    let off = PgStore::open_with(&db.config(), PgvectorMode::Off).expect("open off");
    let capability = off.vector_capability().expect("capability");
    assert!(!capability.used, "{capability:?}");
    assert!(capability.available.is_some(), "{capability:?}");
    assert!(capability.reason.contains("off"), "{capability:?}");
    assert!(off.vector_search().is_none());
    assert_eq!(db.extension(), None);
    let dims = 32;
    let mut rng = Rng(11);
    let rows = fill(&off, &mut rng, 50, dims, MODEL);
    drop(off);
    // The next node, on auto, creates the extension; `vec` is filled for the old rows.
    let auto = PgStore::open(&db.config()).expect("open auto");
    let capability = auto.vector_capability().expect("capability");
    assert!(capability.used, "{capability:?}");
    assert!(db.extension().is_some());
    auto.vector_search()
        .expect("pgvector")
        .prepare(dims)
        .expect("prepare");
    for (id, v) in rows.iter().take(10) {
        assert_eq!(search(&auto, dims, v, 1, None)[0].0, *id);
    }
    // An `off` node on a database with pgvector still writes blobs that `vec` mirrors.
    let off = PgStore::open_with(&db.config(), PgvectorMode::Off).expect("open off again");
    assert!(off.vector_search().is_none());
    let m = memory("late");
    off.remember(&m, WriteOptions::default(), &Actor::default())
        .expect("remember");
    let v = rng.vector(dims);
    let job = EmbeddingJob {
        memory_id: m.id,
        content: m.content,
        content_hash: m.content_hash,
    };
    off.save_embeddings(&[(job, blob(&v))], dims, MODEL, T0)
        .expect("save");
    assert_eq!(search(&auto, dims, &v, 1, None)[0].0, "late");
}

#[test]
fn on_fails_closed_where_pgvector_cannot_be_used_and_auto_falls_back() {
    // Debian's server offers no extension.
    let Some(url) = server_url() else { return };
    let plain = Scratch {
        url,
        schema: format!("t_{}", uuid::Uuid::new_v4().simple()),
    };
    let err = PgStore::open_with(&plain.config(1), PgvectorMode::On).expect_err("on refuses");
    let message = err.to_string();
    assert!(message.contains("storage.pgvector"), "{message}");
    assert!(message.contains("does not offer"), "{message}");
    let auto = PgStore::open_with(&plain.config(1), PgvectorMode::Auto).expect("auto opens");
    let capability = auto.vector_capability().expect("capability");
    assert!(!capability.used, "{capability:?}");
    assert_eq!(capability.vector_index(), signet_store_pg::IN_PROCESS);
    assert!(
        capability.reason.contains("does not offer"),
        "{capability:?}"
    );
    assert!(auto.vector_search().is_none());
    // `off` on the server that has it: the in-process index, and the status says why.
    let Some(with) = scratch() else { return };
    let off = PgStore::open_with(&with.config(1), PgvectorMode::Off).expect("off opens");
    let capability = off.vector_capability().expect("capability");
    assert!(
        !capability.used && capability.available.is_some(),
        "{capability:?}"
    );
    assert!(
        capability.reason.contains("storage.pgvector is off"),
        "{capability:?}"
    );
    assert!(off.vector_search().is_none());
}
