//! The in-memory inverted index: postings per term (document numbers ascending, with term
//! frequencies), document lengths, and FTS5's BM25 computed the way FTS5 computes it.
//!
//! Every row of `memories` is a document, soft-deleted ones included, because `memories_fts`
//! indexes them too and its statistics (row count, average length, documents per term) count
//! them: scores here equal `bm25(memories_fts)` to the last bit. Deleted documents are only
//! left out of results. A changed row is removed (its number retired) and added again under a
//! new number, so postings stay sorted by appending; retired numbers are compacted away once
//! they are a quarter of all.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap};

use super::tokenize::Tokens;

const K1: f64 = 1.2;
const B: f64 = 0.75;

#[derive(Debug, Default)]
struct Postings {
    docs: Vec<u32>,
    tfs: Vec<u32>,
    /// Documents holding the term that are not retired (FTS5's `nHit`).
    live: u64,
}

/// A memory's id as the index holds it: 16 bytes for the lowercase hyphenated UUIDs memories
/// are given, the string itself for any other id (an import's, a test's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DocId {
    Uuid(uuid::Uuid),
    Text(Box<str>),
}

impl DocId {
    pub(crate) fn new(id: &str) -> Self {
        if let Ok(u) = uuid::Uuid::try_parse(id) {
            let mut buf = [0u8; uuid::fmt::Hyphenated::LENGTH];
            if u.hyphenated().encode_lower(&mut buf) == id {
                return Self::Uuid(u);
            }
        }
        Self::Text(id.into())
    }

    fn is(&self, id: &str) -> bool {
        match self {
            Self::Text(t) => **t == *id,
            Self::Uuid(u) => {
                let mut buf = [0u8; uuid::fmt::Hyphenated::LENGTH];
                u.hyphenated().encode_lower(&mut buf) == id
            }
        }
    }
}

impl std::fmt::Display for DocId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Uuid(u) => u.hyphenated().fmt(f),
            Self::Text(t) => f.write_str(t),
        }
    }
}

#[derive(Debug)]
struct Doc {
    rowid: i64,
    /// The memory's id (a row keeps its id: a different one means the rowid was reused).
    id: DocId,
    len: u32,
    /// A hash of the content, to tell a content change from any other update of the row.
    hash: u64,
    deleted: bool,
    retired: bool,
    /// The document's distinct terms (to retire it without its old text).
    terms: Box<[u32]>,
}

/// How a query's terms combine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    All,
    Any,
}

#[derive(Debug, Default)]
pub(crate) struct Index {
    docs: Vec<Doc>,
    by_rowid: HashMap<i64, u32>,
    term_ids: HashMap<Box<str>, u32>,
    postings: Vec<Postings>,
    /// Per document number, what scoring reads: its length, or [`SKIP`]. Dense (4 bytes a
    /// document) so that the documents a search visits stay in cache.
    scoring: Vec<u32>,
    /// Documents not retired (FTS5's row count).
    rows: u64,
    /// Tokens of documents not retired (FTS5's total column size).
    tokens: u64,
    retired: usize,
}

/// One scored hit: `bm25` is FTS5's (negative; lower is better); `doc` is its document
/// number ([`Index::id`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Hit {
    pub rowid: i64,
    pub bm25: f64,
    pub doc: u32,
}

/// Best first: the lowest bm25, ties by the lower document number (the earlier indexed).
fn better(a: &Hit, b: &Hit) -> Ordering {
    a.bm25.total_cmp(&b.bm25).then(a.doc.cmp(&b.doc))
}

/// [`Index::scoring`]'s mark of a document that is never a hit (retired or deleted).
const SKIP: u32 = u32::MAX;

/// A heap entry ordered so that the heap's top is the worst kept hit.
struct Worst(Hit);
impl PartialEq for Worst {
    fn eq(&self, o: &Self) -> bool {
        better(&self.0, &o.0) == Ordering::Equal
    }
}
impl Eq for Worst {}
impl PartialOrd for Worst {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Worst {
    fn cmp(&self, o: &Self) -> Ordering {
        better(&self.0, &o.0)
    }
}

impl Index {
    /// Documents (soft-deleted ones included), for status.
    pub(crate) fn len(&self) -> u64 {
        self.rows
    }

    /// Approximate heap bytes held.
    pub(crate) fn bytes(&self) -> usize {
        let postings: usize = self
            .postings
            .iter()
            .map(|p| p.docs.capacity() * 8 + std::mem::size_of::<Postings>())
            .sum();
        let docs: usize = self
            .docs
            .iter()
            .map(|d| {
                let id = match &d.id {
                    DocId::Text(t) => t.len(),
                    DocId::Uuid(_) => 0,
                };
                std::mem::size_of::<Doc>() + d.terms.len() * 4 + id
            })
            .sum();
        let terms: usize = self.term_ids.keys().map(|k| k.len() + 32).sum();
        postings + docs + terms + self.by_rowid.capacity() * 16
    }

    /// Whether `rowid` is indexed as memory `id` with content of this hash.
    pub(crate) fn same_content(&self, rowid: i64, id: &str, hash: u64) -> bool {
        self.by_rowid.get(&rowid).is_some_and(|&d| {
            let doc = &self.docs[d as usize];
            doc.hash == hash && doc.id.is(id)
        })
    }

    /// The memory id of a hit's document.
    pub(crate) fn id(&self, doc: u32) -> String {
        self.docs[doc as usize].id.to_string()
    }

    /// Marks `rowid` deleted or live without touching its postings (a soft delete or a
    /// restore leaves the text, and FTS5's statistics, as they were).
    pub(crate) fn set_deleted(&mut self, rowid: i64, deleted: bool) {
        if let Some(&d) = self.by_rowid.get(&rowid) {
            let doc = &mut self.docs[d as usize];
            doc.deleted = deleted;
            self.scoring[d as usize] = if deleted { SKIP } else { doc.len };
        }
    }

    /// Adds (or replaces) the document of `rowid`.
    pub(crate) fn upsert(
        &mut self,
        rowid: i64,
        id: DocId,
        hash: u64,
        deleted: bool,
        tokens: Tokens,
    ) {
        self.remove(rowid);
        let no = self.docs.len() as u32;
        let mut terms = Vec::with_capacity(tokens.terms.len());
        for (term, tf) in tokens.terms {
            let next = self.postings.len() as u32;
            let id = *self.term_ids.entry(term.into_boxed_str()).or_insert(next);
            if id == next {
                self.postings.push(Postings::default());
            }
            let p = &mut self.postings[id as usize];
            p.docs.push(no);
            p.tfs.push(tf);
            p.live += 1;
            terms.push(id);
        }
        self.scoring.push(if deleted { SKIP } else { tokens.len });
        self.docs.push(Doc {
            rowid,
            id,
            len: tokens.len,
            hash,
            deleted,
            retired: false,
            terms: terms.into_boxed_slice(),
        });
        self.by_rowid.insert(rowid, no);
        self.rows += 1;
        self.tokens += u64::from(tokens.len);
    }

    /// Removes the document of `rowid` (a hard delete, or before re-adding changed text).
    pub(crate) fn remove(&mut self, rowid: i64) {
        let Some(no) = self.by_rowid.remove(&rowid) else {
            return;
        };
        let doc = &mut self.docs[no as usize];
        doc.retired = true;
        self.scoring[no as usize] = SKIP;
        for &t in doc.terms.iter() {
            self.postings[t as usize].live -= 1;
        }
        self.rows -= 1;
        self.tokens -= u64::from(doc.len);
        self.retired += 1;
        if self.retired > 1024 && self.retired * 4 > self.docs.len() {
            self.compact();
        }
    }

    /// Drops retired documents and renumbers the rest (order kept, so postings stay sorted).
    fn compact(&mut self) {
        let mut renumber = vec![u32::MAX; self.docs.len()];
        let mut docs = Vec::with_capacity(self.docs.len() - self.retired);
        for (old, d) in std::mem::take(&mut self.docs).into_iter().enumerate() {
            if !d.retired {
                renumber[old] = docs.len() as u32;
                docs.push(d);
            }
        }
        for p in &mut self.postings {
            let mut w = 0;
            for r in 0..p.docs.len() {
                let n = renumber[p.docs[r] as usize];
                if n != u32::MAX {
                    p.docs[w] = n;
                    p.tfs[w] = p.tfs[r];
                    w += 1;
                }
            }
            p.docs.truncate(w);
            p.tfs.truncate(w);
            p.docs.shrink_to_fit();
            p.tfs.shrink_to_fit();
        }
        for (no, d) in docs.iter().enumerate() {
            self.by_rowid.insert(d.rowid, no as u32);
        }
        self.scoring = docs
            .iter()
            .map(|d| if d.deleted { SKIP } else { d.len })
            .collect();
        self.docs = docs;
        self.retired = 0;
    }

    /// FTS5's IDF of a term held by `hits` documents.
    fn idf(&self, hits: u64) -> f64 {
        let n = self.rows as i64;
        let h = hits as i64;
        let idf = (((n - h) as f64 + 0.5) / (h as f64 + 0.5)).ln();
        if idf <= 0.0 { 1e-6 } else { idf }
    }

    /// The best `limit` live documents for `terms` (each one FTS5 phrase of one token), by
    /// FTS5's BM25, best first (ties by rowid), and how many live documents matched. With
    /// `prune`, documents that cannot make the cut may be skipped unseen (any-word queries),
    /// so the count is then only a lower bound.
    pub(crate) fn search(
        &self,
        terms: &[String],
        mode: Mode,
        limit: usize,
        prune: bool,
    ) -> (Vec<Hit>, usize) {
        if terms.is_empty() || limit == 0 || self.rows == 0 {
            return (Vec::new(), 0);
        }
        let lists: Vec<Option<&Postings>> = terms
            .iter()
            .map(|t| {
                self.term_ids
                    .get(t.as_str())
                    .map(|&id| &self.postings[id as usize])
            })
            .collect();
        if mode == Mode::All && lists.iter().any(Option::is_none) {
            return (Vec::new(), 0);
        }
        let idf: Vec<f64> = lists
            .iter()
            .map(|l| self.idf(l.map_or(0, |p| p.live)))
            .collect();
        let avgdl = self.tokens as f64 / self.rows as f64;
        let mut heap: BinaryHeap<Worst> = BinaryHeap::with_capacity(limit + 1);
        let mut matched = 0usize;
        let mut freq = vec![0f64; terms.len()];
        let mut score_doc = |no: u32, freq: &[f64], heap: &mut BinaryHeap<Worst>| {
            let len = self.scoring[no as usize];
            if len == SKIP {
                return;
            }
            matched += 1;
            let d = f64::from(len);
            let mut score = 0.0;
            for (i, f) in freq.iter().enumerate() {
                score += idf[i] * ((f * (K1 + 1.0)) / (f + K1 * (1.0 - B + B * d / avgdl)));
            }
            // The rowid is filled in for the hits kept, at the end.
            let hit = Hit {
                rowid: 0,
                bm25: -score,
                doc: no,
            };
            if heap.len() == limit
                && heap
                    .peek()
                    .is_some_and(|w| better(&hit, &w.0) != Ordering::Less)
            {
                return;
            }
            heap.push(Worst(hit));
            if heap.len() > limit {
                heap.pop();
            }
        };
        let mut cursors: Vec<usize> = vec![0; terms.len()];
        match mode {
            Mode::All => {
                let lists: Vec<&Postings> = lists.into_iter().flatten().collect();
                let lead = (0..lists.len())
                    .min_by_key(|&i| lists[i].docs.len())
                    .unwrap_or(0);
                'docs: for (at, &no) in lists[lead].docs.iter().enumerate() {
                    for (i, l) in lists.iter().enumerate() {
                        if i == lead {
                            freq[i] = f64::from(l.tfs[at]);
                            continue;
                        }
                        let c = &mut cursors[i];
                        *c += gallop(&l.docs[*c..], no);
                        if *c >= l.docs.len() {
                            break 'docs;
                        }
                        if l.docs[*c] != no {
                            continue 'docs;
                        }
                        freq[i] = f64::from(l.tfs[*c]);
                    }
                    score_doc(no, &freq, &mut heap);
                }
            }
            Mode::Any => {
                // MaxScore: a term's score is below `idf * (k1 + 1)`. Once the heap is full,
                // the cheapest terms whose bounds sum below the worst kept score cannot lift a
                // document in on their own: candidates come only from the other ("essential")
                // lists, and the cheap ones are only looked up for them.
                let ub: Vec<f64> = idf.iter().map(|x| x * (K1 + 1.0) * (1.0 + 1e-9)).collect();
                let mut order: Vec<usize> =
                    (0..terms.len()).filter(|&i| lists[i].is_some()).collect();
                order.sort_by(|&a, &b| ub[a].total_cmp(&ub[b]));
                let mut rank = vec![usize::MAX; terms.len()];
                for (r, &i) in order.iter().enumerate() {
                    rank[i] = r;
                }
                // Terms `order[..essential]` are not essential; `cheap` is their bounds' sum.
                let (mut essential, mut cheap) = (0, 0.0);
                loop {
                    if prune
                        && heap.len() == limit
                        && let Some(worst) = heap.peek()
                    {
                        let theta = -worst.0.bm25;
                        while essential < order.len() && cheap + ub[order[essential]] < theta {
                            cheap += ub[order[essential]];
                            essential += 1;
                        }
                    }
                    let next = order[essential..]
                        .iter()
                        .filter_map(|&i| lists[i].and_then(|p| p.docs.get(cursors[i]).copied()))
                        .min();
                    let Some(no) = next else { break };
                    for (i, l) in lists.iter().enumerate() {
                        freq[i] = 0.0;
                        let Some(p) = l else { continue };
                        if rank[i] < essential {
                            cursors[i] += gallop(&p.docs[cursors[i]..], no);
                        }
                        if p.docs.get(cursors[i]) == Some(&no) {
                            freq[i] = f64::from(p.tfs[cursors[i]]);
                            cursors[i] += 1;
                        }
                    }
                    score_doc(no, &freq, &mut heap);
                }
            }
        }
        let mut hits: Vec<Hit> = heap
            .into_iter()
            .map(|w| Hit {
                rowid: self.docs[w.0.doc as usize].rowid,
                ..w.0
            })
            .collect();
        hits.sort_by(better);
        (hits, matched)
    }
}

/// The offset of the first element of `docs` that is `>= target`: a few steps one by one
/// (lists of similar density meet within a few), then galloping, then binary.
fn gallop(docs: &[u32], target: u32) -> usize {
    for (i, &d) in docs.iter().take(LINEAR_STEPS).enumerate() {
        if d >= target {
            return i;
        }
    }
    if docs.len() <= LINEAR_STEPS {
        return docs.len();
    }
    let mut hi = LINEAR_STEPS;
    while hi < docs.len() && docs[hi] < target {
        hi *= 2;
    }
    let lo = hi / 2;
    let hi = hi.min(docs.len());
    lo + docs[lo..hi].partition_point(|&d| d < target)
}

/// How many postings [`gallop`] steps over one by one before it gallops.
const LINEAR_STEPS: usize = 4;

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(text: &str) -> Tokens {
        super::super::tokenize::counted(super::super::tokenize::ascii_tokens(text))
    }

    #[test]
    fn ids_keep_their_exact_text() {
        let uuid = "0b6e2c3a-91f4-4d5e-8a77-2f1c9d0e4b61";
        assert!(matches!(DocId::new(uuid), DocId::Uuid(_)));
        // Upper case, braces or no hyphens parse as a UUID but are not its canonical text.
        for id in [
            uuid,
            "0B6E2C3A-91F4-4D5E-8A77-2F1C9D0E4B61",
            "0b6e2c3a91f44d5e8a772f1c9d0e4b61",
            "{0b6e2c3a-91f4-4d5e-8a77-2f1c9d0e4b61}",
            "mem-1",
            "",
        ] {
            let d = DocId::new(id);
            assert_eq!(d.to_string(), id);
            assert!(d.is(id));
            assert!(!d.is("mem-2"));
        }
        assert!(matches!(DocId::new("mem-1"), DocId::Text(_)));
    }

    #[test]
    fn gallop_finds_the_first_not_below() {
        for n in [0, 1, 3, 4, 5, 7, 8, 9, 31, 100] {
            let docs: Vec<u32> = (0..n).map(|i| 1 + 2 * i).collect();
            for t in 0..2 * n + 4 {
                let want = docs.iter().position(|&d| d >= t).unwrap_or(docs.len());
                assert_eq!(gallop(&docs, t), want, "{n} docs, target {t}");
            }
        }
    }

    #[test]
    fn retiring_and_compacting_keep_statistics_and_results() {
        let mut ix = Index::default();
        for i in 0..3000 {
            ix.upsert(
                i,
                DocId::new(&format!("m{i}")),
                i as u64,
                false,
                toks(&format!("alpha beta{} gamma", i % 7)),
            );
        }
        for i in 0..2000 {
            ix.remove(i);
        }
        assert_eq!(ix.rows, 1000);
        assert!(ix.retired < 1025, "compacted once past a quarter");
        assert_eq!(ix.docs.len(), 1000 + ix.retired);
        let (hits, matched) = ix.search(&["alpha".into(), "beta3".into()], Mode::All, 5, false);
        assert_eq!(matched, (2000..3000).filter(|i| i % 7 == 3).count());
        assert_eq!(hits.len(), 5);
        assert!(
            hits.windows(2)
                .all(|w| better(&w[0], &w[1]) != Ordering::Greater)
        );
        ix.set_deleted(hits[0].rowid, true);
        let (again, _) = ix.search(&["alpha".into(), "beta3".into()], Mode::All, 5, false);
        assert!(!again.iter().any(|h| h.rowid == hits[0].rowid));
    }

    #[test]
    fn pruned_any_word_search_equals_the_full_merge() {
        let words = ["a", "b", "c", "d", "e", "f", "g", "h", "rare", "rarer"];
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = |n: usize| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x % n as u64) as usize
        };
        let mut ix = Index::default();
        for i in 0..5000 {
            let n = 1 + next(12);
            let text: Vec<&str> = (0..n)
                .map(|_| words[next(words.len()).min(next(words.len()))])
                .collect();
            ix.upsert(
                i,
                DocId::new(&format!("m{i}")),
                i as u64,
                i % 17 == 0,
                toks(&text.join(" ")),
            );
        }
        for q in 0..300 {
            let n = 1 + q % 4;
            let terms: Vec<String> = (0..n)
                .map(|_| words[next(words.len())].to_owned())
                .collect();
            for limit in [1, 10, 50] {
                let (full, _) = ix.search(&terms, Mode::Any, limit, false);
                let (pruned, _) = ix.search(&terms, Mode::Any, limit, true);
                assert_eq!(full, pruned, "{terms:?} limit {limit}");
            }
        }
    }
}
