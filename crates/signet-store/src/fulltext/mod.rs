//! An in-memory keyword index in front of `memories_fts`, derived from `memories` the way
//! the vector index is derived from `embeddings`: SQLite stays the source of truth, and the
//! index answers exactly what [`crate::memories::search::keyword_search`] answers, without
//! asking FTS5 to score every matching row.
//!
//! Profiling keyword recall at 10k memories (docs/PERFORMANCE.md) put most of its
//! instructions in FTS5 computing `bm25()` for every match before `ORDER BY … LIMIT`. Here the
//! postings are intersected (galloping) or merged in memory, BM25 is computed with FTS5's own
//! formula and statistics (soft-deleted rows count, as they do in FTS5), and only the best
//! `limit` survive a bounded heap.
//!
//! **Keeping it exact.** The writer connection's update hook records the rowid of every
//! `memories` row a transaction touches; once the transaction has committed, and before any
//! writer in the group is answered, the pool hands those rowids here ([`FullText::changed`]).
//! The next search re-reads them on its reader connection and re-indexes the ones whose text
//! changed (a content hash tells an access-count bump from an edit). A write by another
//! process shows in the writer's `PRAGMA data_version`; then the index is rebuilt in the
//! background while searches go to FTS5. Queries the index cannot answer exactly (a phrase of
//! several tokens, `NOT`, mixed connectives, non-ASCII terms) and filtered queries whose
//! filters reject most candidates go to FTS5 as before. The index builds in the background at
//! start-up; until it is ready, FTS5 answers.
//!
//! `SIGNET_KEYWORD_INDEX=off` turns it off (for benchmarks comparing the two paths).

mod index;
mod tokenize;

use std::hash::{Hash as _, Hasher as _};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

use rusqlite::Connection;
use rusqlite::types::Value;

use self::index::{DocId, Index, Mode};
use self::tokenize::Exact;
use crate::error::Result;
use crate::keyword::{Connective, KeywordQuery};
use signet_model::memories::{KeywordHit, RecallFilters};

/// Above this many pending changes the index is rebuilt rather than patched row by row.
const MAX_PENDING: usize = 200_000;
/// At this many pending changes a background thread patches the index (a bulk load).
const APPLY_AT: usize = 4096;

/// The index, its pending changes, and how to rebuild it.
pub(crate) struct FullText {
    path: PathBuf,
    enabled: bool,
    state: RwLock<State>,
    pending: Mutex<Pending>,
    exact: Mutex<Option<Exact>>,
    /// A background patch is running.
    applying: std::sync::atomic::AtomicBool,
}

#[derive(Default)]
struct State {
    /// `None` while (re)building: FTS5 answers meanwhile.
    index: Option<Index>,
}

#[derive(Default)]
struct Pending {
    rowids: Vec<i64>,
    /// A build is running; it installs its index and then applies `rowids`.
    building: bool,
    /// Incremented per build, so a superseded build does not install its index.
    generation: u64,
}

/// What a search over the index found: the hits, or that FTS5 must answer.
pub(crate) type Answer = Option<Vec<KeywordHit>>;

impl FullText {
    /// The index for the database at `path`, built in the background.
    pub(crate) fn start(path: &Path) -> Arc<Self> {
        let enabled = !std::env::var("SIGNET_KEYWORD_INDEX")
            .is_ok_and(|v| v.eq_ignore_ascii_case("off") || v == "0");
        let ft = Arc::new(Self {
            path: path.to_path_buf(),
            enabled,
            state: RwLock::new(State::default()),
            pending: Mutex::new(Pending::default()),
            exact: Mutex::new(None),
            applying: Default::default(),
        });
        if enabled {
            ft.rebuild();
        }
        ft
    }

    /// Rowids of `memories` touched by a committed transaction of the writer.
    pub(crate) fn changed(self: &Arc<Self>, rowids: Vec<i64>) {
        if !self.enabled || rowids.is_empty() {
            return;
        }
        let (over, many) = {
            let mut p = self.pending.lock().unwrap_or_else(|e| e.into_inner());
            p.rowids.extend(rowids);
            (
                p.rowids.len() > MAX_PENDING && !p.building,
                p.rowids.len() >= APPLY_AT && !p.building,
            )
        };
        if over {
            self.rebuild();
        } else if many
            && !self
                .applying
                .swap(true, std::sync::atomic::Ordering::AcqRel)
        {
            // A bulk load: patch the index in the background, so that no search pays for it.
            let weak = Arc::downgrade(self);
            let spawned = std::thread::Builder::new()
                .name("signet-keyword-apply".into())
                .spawn(move || {
                    let Some(this) = weak.upgrade() else { return };
                    let res = crate::pool::open_reader(&this.path)
                        .and_then(|conn| this.apply_pending(&conn));
                    if let Err(e) = res {
                        tracing::debug!(target: "store", error = %e, "keyword index: background patch failed; the next search retries");
                    }
                    this.applying
                        .store(false, std::sync::atomic::Ordering::Release);
                });
            if spawned.is_err() {
                self.applying
                    .store(false, std::sync::atomic::Ordering::Release);
            }
        }
    }

    /// Another process wrote: forget the index and build it again.
    pub(crate) fn invalidate(self: &Arc<Self>) {
        if self.enabled {
            tracing::debug!(target: "store", "keyword index: the database changed outside this process; rebuilding");
            self.rebuild();
        }
    }

    /// Whether the index is built and answering, with its size in documents and bytes.
    pub(crate) fn status(&self) -> Option<(u64, usize)> {
        let s = self.state.read().unwrap_or_else(|e| e.into_inner());
        s.index.as_ref().map(|i| (i.len(), i.bytes()))
    }

    fn rebuild(self: &Arc<Self>) {
        let generation = {
            let mut p = self.pending.lock().unwrap_or_else(|e| e.into_inner());
            p.rowids.clear();
            p.building = true;
            p.generation += 1;
            p.generation
        };
        self.state.write().unwrap_or_else(|e| e.into_inner()).index = None;
        let path = self.path.clone();
        // The thread holds a weak reference: a store dropped mid-build discards the result.
        let weak = Arc::downgrade(self);
        let spawned = std::thread::Builder::new()
            .name("signet-keyword-index".into())
            .spawn(move || {
                let started = std::time::Instant::now();
                let built = build(&path);
                let Some(this) = weak.upgrade() else { return };
                match built {
                    Ok(index) => {
                        let docs = index.len();
                        if this.install(generation, index) {
                            tracing::debug!(target: "store", docs, ms = started.elapsed().as_millis() as u64, "keyword index ready");
                        }
                    }
                    Err(e) => {
                        tracing::warn!(target: "store", error = %e, "keyword index: build failed; FTS5 answers keyword search");
                        this.pending.lock().unwrap_or_else(|e| e.into_inner()).building = false;
                    }
                }
            });
        if spawned.is_err() {
            self.pending
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .building = false;
        }
    }

    fn install(&self, generation: u64, index: Index) -> bool {
        let mut state = self.state.write().unwrap_or_else(|e| e.into_inner());
        let mut p = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        if p.generation != generation {
            return false;
        }
        p.building = false;
        state.index = Some(index);
        true
    }

    /// Answers `keyword_search` from the index when it can, exactly as FTS5 would.
    pub(crate) fn search(
        &self,
        conn: &Connection,
        query: &KeywordQuery,
        filters: &RecallFilters,
        limit: usize,
    ) -> Result<Answer> {
        if !self.enabled || limit == 0 {
            return Ok(None);
        }
        let Some((terms, mode)) = plan(query) else {
            return Ok(None);
        };
        if filters.is_empty() && !self.has_pending() {
            // Nothing to re-read and no filter to check: the index alone answers, no SQL.
            return self.search_in(conn, &terms, mode, filters, limit);
        }
        crate::memories::read::in_read_txn(conn, || {
            self.search_in(conn, &terms, mode, filters, limit)
        })
    }

    /// Whether committed changes wait to be applied (a search then re-reads them first).
    fn has_pending(&self) -> bool {
        let p = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        !p.rowids.is_empty() && !p.building
    }

    /// [`Self::search`] inside its read transaction.
    fn search_in(
        &self,
        conn: &Connection,
        terms: &[String],
        mode: Mode,
        filters: &RecallFilters,
        limit: usize,
    ) -> Result<Answer> {
        self.apply_pending(conn)?;
        let state = self.state.read().unwrap_or_else(|e| e.into_inner());
        let Some(index) = state.index.as_ref() else {
            return Ok(None);
        };
        let want = if filters.is_empty() {
            limit
        } else {
            limit * 4 + 16
        };
        // Pruning skips matches unseen: only when no filter needs the full count.
        let (hits, matched) = index.search(terms, mode, want, filters.is_empty());
        let hit = |h: &index::Hit| KeywordHit {
            id: index.id(h.doc),
            bm25: h.bm25,
            position: Some(h.rowid),
        };
        if filters.is_empty() {
            // Every hit is live: the index leaves deleted documents out, and it holds every
            // change committed before this search began (`apply_pending` above).
            return Ok(Some(hits.iter().take(limit).map(hit).collect()));
        }
        let hits: Vec<KeywordHit> = hits.iter().map(hit).collect();
        drop(state);
        let passing = rows_passing(conn, &hits, filters)?;
        let out: Vec<KeywordHit> = hits
            .iter()
            .filter(|h| h.position.is_some_and(|p| passing.contains(&p)))
            .take(limit)
            .cloned()
            .collect();
        // Filters rejected candidates: exact only if every match was looked at.
        let complete = out.len() == limit || hits.len() == matched;
        if !complete {
            return Ok(None);
        }
        Ok(Some(out))
    }

    /// Re-reads the rows changed since the last search and patches the index.
    fn apply_pending(&self, conn: &Connection) -> Result<()> {
        let rowids = {
            let mut p = self.pending.lock().unwrap_or_else(|e| e.into_inner());
            if p.rowids.is_empty() || p.building {
                return Ok(());
            }
            std::mem::take(&mut p.rowids)
        };
        let mut state = self.state.write().unwrap_or_else(|e| e.into_inner());
        let Some(index) = state.index.as_mut() else {
            return Ok(());
        };
        let mut exact = self.exact.lock().unwrap_or_else(|e| e.into_inner());
        let mut stmt =
            conn.prepare_cached("SELECT content, is_deleted, id FROM memories WHERE rowid = ?1")?;
        let mut rowids = rowids;
        rowids.sort_unstable();
        rowids.dedup();
        for rowid in rowids {
            let row = stmt
                .query_row([rowid], |r| {
                    Ok((
                        r.get::<_, Option<String>>(0)?,
                        r.get::<_, Option<i64>>(1)?,
                        r.get::<_, Option<String>>(2)?.unwrap_or_default(),
                    ))
                })
                .map(Some)
                .or_else(|e| match e {
                    rusqlite::Error::QueryReturnedNoRows => Ok(None),
                    e => Err(e),
                })?;
            match row {
                None => index.remove(rowid),
                Some((content, deleted, id)) => {
                    let content = content.unwrap_or_default();
                    let deleted = deleted.unwrap_or(0) != 0;
                    let hash = hash(&content);
                    if index.same_content(rowid, &id, hash) {
                        index.set_deleted(rowid, deleted);
                    } else {
                        let exact = exact_tokenizer(&mut exact)?;
                        let tokens = tokenize::tokens(&content, exact)?;
                        index.upsert(rowid, DocId::new(&id), hash, deleted, tokens);
                    }
                }
            }
        }
        Ok(())
    }
}

fn exact_tokenizer(slot: &mut Option<Exact>) -> Result<&Exact> {
    if slot.is_none() {
        *slot = Some(Exact::new()?);
    }
    Ok(slot.as_ref().expect("just set"))
}

fn hash(content: &str) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    content.hash(&mut h);
    h.finish()
}

/// The index's reading of `query`: its terms, each exactly one token, and how they combine;
/// `None` when only FTS5 can answer exactly.
fn plan(query: &KeywordQuery) -> Option<(Vec<String>, Mode)> {
    let mut mode = None;
    let mut terms = Vec::new();
    for (i, (c, term)) in query.terms().iter().enumerate() {
        if i > 0 {
            let m = match c {
                Connective::And => Mode::All,
                Connective::Or => Mode::Any,
                Connective::Not => return None,
            };
            if mode.is_some_and(|x| x != m) {
                return None;
            }
            mode = Some(m);
        }
        if !term.is_ascii() {
            return None;
        }
        let mut tokens = tokenize::ascii_tokens(term);
        let (Some(t), None) = (tokens.next(), tokens.next()) else {
            return None;
        };
        terms.push(t);
    }
    if terms.is_empty() {
        return None;
    }
    Some((terms, mode.unwrap_or(Mode::All)))
}

/// The rowids of the hits that are live and pass `filters`.
fn rows_passing(
    conn: &Connection,
    hits: &[KeywordHit],
    filters: &RecallFilters,
) -> Result<std::collections::HashSet<i64>> {
    if hits.is_empty() {
        return Ok(Default::default());
    }
    let list = serde_json::Value::from(hits.iter().filter_map(|h| h.position).collect::<Vec<_>>());
    let mut params = vec![Value::Text(list.to_string())];
    let mut sql = String::from(
        "SELECT m.rowid FROM memories m \
         WHERE m.rowid IN (SELECT value FROM json_each(?1)) AND m.is_deleted = 0",
    );
    crate::memories::search::push_filters(filters, &mut sql, &mut params);
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(rusqlite::params_from_iter(params), |r| r.get::<_, i64>(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Every row of `memories`, tokenized, as of one read transaction.
fn build(path: &Path) -> Result<Index> {
    let conn = crate::pool::open_reader(path)?;
    let exact = Exact::new()?;
    let mut index = Index::default();
    let tx = conn.unchecked_transaction()?;
    let mut stmt =
        tx.prepare("SELECT rowid, content, is_deleted, id FROM memories ORDER BY rowid")?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let rowid: i64 = r.get(0)?;
        let content: String = r.get::<_, Option<String>>(1)?.unwrap_or_default();
        let deleted = r.get::<_, Option<i64>>(2)?.unwrap_or(0) != 0;
        // A NULL id (upstream declares `id TEXT PRIMARY KEY`, which SQLite lets be NULL)
        // is indexed as "": no row is found under it.
        let id = DocId::new(
            r.get_ref(3)?
                .as_str_or_null()
                .map_err(rusqlite::Error::from)?
                .unwrap_or_default(),
        );
        let tokens = tokenize::tokens(&content, &exact)?;
        index.upsert(rowid, id, hash(&content), deleted, tokens);
    }
    Ok(index)
}

#[cfg(test)]
mod tests;
