//! Recall: the keyword leg (FTS5 BM25), score normalisation, the rehearsal boost and result
//! shaping. The response leaves room for the vector leg (`source` per result, `method`).

use std::collections::HashSet;

use chrono::Utc;
use serde_json::{Map, Value};
use signet_api::{
    FilterQuery, RecallExplain, RecallMethod, RecallResponse, RecallResult, SearchQuery,
};
use signet_model::MemoryStore;
use signet_model::memories::{KeywordHit, RecallFilters, RecallRow, RowKey};

use super::{Memories, MemoryPolicy, input};
use crate::error::{CoreError, Result};
use crate::text;

/// A validated recall request: the body of `POST /api/memory/recall`
/// (`TryFrom<&Value>`) or the query of `GET /api/memory/search` (`TryFrom<&SearchQuery>`).
#[derive(Debug, Clone, Default)]
pub struct RecallInput {
    /// The text the vector leg embeds (and the keyword leg searches, without `keywordQuery`).
    pub query: String,
    /// Keywords for the keyword leg instead of `query`.
    pub keyword_query: Option<String>,
    /// Most results.
    pub limit: usize,
    pub filters: RecallFilters,
    /// Which legs run: `hybrid` (default), `keyword` or `vector` (an extension of ours).
    pub mode: RecallMode,
    /// Whether each result carries the parts of its score (`explain`, an extension of ours).
    pub explain: bool,
    /// The body's unknown fields, answered as `warnings`.
    pub warnings: Vec<String>,
}

/// The legs a recall runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum RecallMode {
    #[default]
    Hybrid,
    Keyword,
    Vector,
}

fn mode_from(obj: &Map<String, Value>) -> Result<RecallMode> {
    match input::opt_trimmed(obj, "mode")?.as_deref() {
        None | Some("hybrid") => Ok(RecallMode::Hybrid),
        Some("keyword") => Ok(RecallMode::Keyword),
        Some("vector") => Ok(RecallMode::Vector),
        Some(_) => Err(CoreError::Invalid(
            "mode must be hybrid, keyword or vector".into(),
        )),
    }
}

/// Largest `limit` a recall may ask for.
pub const MAX_RECALL_LIMIT: usize = 1000;

impl RecallInput {
    /// The body fields recall reads.
    pub const FIELDS: &'static [&'static str] = &[
        "query",
        "keywordQuery",
        "limit",
        "mode",
        "type",
        "tags",
        "who",
        "pinned",
        "importance_min",
        "since",
        "until",
        "project",
        "explain",
    ];
}

/// Reads the body of `POST /api/memory/recall`.
impl TryFrom<&Value> for RecallInput {
    type Error = CoreError;

    fn try_from(body: &Value) -> Result<Self> {
        let obj = input::object(body)?;
        let query = input::required_text(obj, "query")?;
        Ok(Self {
            query,
            keyword_query: input::opt_trimmed(obj, "keywordQuery")?,
            limit: input::limit(obj.get("limit"), "limit", 10, MAX_RECALL_LIMIT)?,
            filters: filters_from(obj)?,
            mode: mode_from(obj)?,
            explain: input::opt_bool(obj.get("explain"), "explain")?.unwrap_or(false),
            warnings: input::unknown_fields(obj, Self::FIELDS),
        })
    }
}

/// Reads the query of `GET /api/memory/search` (`q`, or `query`; unknown keys are ignored).
impl TryFrom<&SearchQuery> for RecallInput {
    type Error = CoreError;

    fn try_from(q: &SearchQuery) -> Result<Self> {
        let query =
            q.q.as_deref()
                .or(q.query.as_deref())
                .map(str::trim)
                .unwrap_or("");
        if query.is_empty() {
            return Err(CoreError::Invalid("q is required".into()));
        }
        let own = [("limit", q.limit.as_deref()), ("mode", q.mode.as_deref())];
        let obj = input::query_object(own.into_iter().chain(filter_pairs(&q.filters)));
        Ok(Self {
            query: query.to_owned(),
            keyword_query: None,
            limit: input::limit(obj.get("limit"), "limit", 10, MAX_RECALL_LIMIT)?,
            filters: filters_from(&obj)?,
            mode: mode_from(&obj)?,
            explain: false,
            warnings: Vec::new(),
        })
    }
}

/// The filter parameters of a query string that are present, by key.
pub(crate) fn filter_pairs(f: &FilterQuery) -> impl Iterator<Item = (&'static str, Option<&str>)> {
    f.present().map(|(k, v)| (k, Some(v)))
}

/// Filters shared by recall and the search routes.
pub(crate) fn filters_from(obj: &Map<String, Value>) -> Result<RecallFilters> {
    let tags = input::opt_tags(obj.get("tags"), false)?.flatten();
    let importance_min = match obj.get("importance_min") {
        None | Some(Value::Null) => None,
        v => Some(
            v.and_then(|v| {
                v.as_f64()
                    .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
            })
            .filter(|f: &f64| f.is_finite())
            .ok_or_else(|| CoreError::Invalid("importance_min must be a number".into()))?,
        ),
    };
    Ok(RecallFilters {
        memory_type: input::opt_trimmed(obj, "type")?,
        tags: tags
            .map(|t| t.split(',').map(str::to_owned).collect())
            .unwrap_or_default(),
        who: input::opt_trimmed(obj, "who")?,
        pinned_only: input::opt_bool(obj.get("pinned"), "pinned")?.unwrap_or(false),
        importance_min,
        since: input::opt_time(obj, "since", false)?,
        until: input::opt_time(obj, "until", true)?,
        project: input::opt_trimmed(obj, "project")?,
        source_type: None,
        scope_user: None,
    })
}

/// One scored candidate: its score and the parts it was made of, in the order applied.
struct Scored {
    row: RecallRow,
    /// The current score: `fused`, times `rehearsal`, plus `graph`.
    score: f64,
    source: &'static str,
    /// The keyword leg's normalised score (0 when absent).
    keyword: f64,
    /// The vector leg's cosine (0 when absent).
    vector: f64,
    /// The legs fused, before any boost.
    fused: f64,
    /// The rehearsal factor applied (1 when none).
    rehearsal: f64,
    /// What the graph boost added (0 when none).
    graph: f64,
}

impl Scored {
    fn explain(&self) -> RecallExplain {
        RecallExplain {
            keyword: self.keyword,
            vector: self.vector,
            fused: self.fused,
            rehearsal: self.rehearsal,
            graph: self.graph,
            final_: self.score,
        }
    }
}

/// How the two legs' scores are combined.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Fusion {
    /// Each leg min-max normalised over its own candidates (its best 1, its worst 0, a
    /// candidate it did not return 0), then `vector_weight * vector + (1 - vector_weight) *
    /// keyword`. The default: BM25 normalised per query and a cosine that rarely exceeds 0.6
    /// are not on one scale, and blending them raw let the vector leg's flat scores decide
    /// (docs/PERFORMANCE.md). When only one leg returned anything, its scores stand as they are.
    MinMax { vector_weight: f64 },
    /// `alpha * vector + (1 - alpha) * bm25` where both legs hit (upstream's blend).
    Blend { alpha: f64 },
    /// Reciprocal-rank fusion: `sum 1 / (k + rank)`, rescaled so the best possible is 1.
    Rrf { k: f64 },
}

impl Fusion {
    /// The fusion `search.fusion` names, with its weight.
    pub fn from_settings(s: &crate::config::SearchSettings) -> Self {
        match s.fusion {
            crate::config::FusionKind::Minmax => Self::MinMax {
                vector_weight: s.vector_weight,
            },
            crate::config::FusionKind::Blend => Self::Blend { alpha: s.alpha },
            crate::config::FusionKind::Rrf => Self::Rrf { k: 60.0 },
        }
    }

    /// Every candidate's fused score, best first (ties by id, so the order is deterministic).
    fn fuse(self, legs: &Legs) -> Vec<(String, f64)> {
        let mut out: Vec<(String, f64)> = match self {
            Fusion::MinMax { vector_weight } => {
                let (kw, vec) = (
                    Range::of(legs, |s| s.keyword),
                    Range::of(legs, |s| s.vector),
                );
                legs.iter()
                    .map(|(id, b)| {
                        let (k, v) = (b.keyword, b.vector);
                        let score = match (kw, vec) {
                            (Some(kr), Some(vr)) => {
                                vector_weight * vr.norm(v) + (1.0 - vector_weight) * kr.norm(k)
                            }
                            _ => k.max(v),
                        };
                        (id.clone(), score)
                    })
                    .collect()
            }
            Fusion::Blend { alpha } => legs
                .iter()
                .map(|(id, b)| {
                    let (k, v) = (b.keyword, b.vector);
                    let score = if k > 0.0 && v > 0.0 {
                        alpha * v + (1.0 - alpha) * k
                    } else {
                        k.max(v)
                    };
                    (id.clone(), score)
                })
                .collect(),
            Fusion::Rrf { k } => rrf_ranks(legs)
                .into_iter()
                .map(|(id, ranks)| (id, rrf(ranks, k)))
                .collect(),
        };
        out.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        out
    }
}

/// The lowest and highest score one leg gave its candidates (absent = 0, not counted).
#[derive(Debug, Clone, Copy)]
struct Range {
    lo: f64,
    hi: f64,
}

impl Range {
    /// `None` when the leg returned nothing.
    fn of(legs: &Legs, pick: fn(&Both) -> f64) -> Option<Self> {
        let mut r: Option<Range> = None;
        for s in legs.values().map(pick).filter(|s| *s > 0.0) {
            r = Some(match r {
                None => Range { lo: s, hi: s },
                Some(r) => Range {
                    lo: r.lo.min(s),
                    hi: r.hi.max(s),
                },
            });
        }
        r
    }

    /// `s` mapped to [0, 1]: the leg's worst 0, its best 1 (1 for all when they are equal);
    /// a candidate the leg did not return (`s = 0`) is 0.
    fn norm(self, s: f64) -> f64 {
        if s <= 0.0 {
            0.0
        } else if self.hi > self.lo {
            (s - self.lo) / (self.hi - self.lo)
        } else {
            1.0
        }
    }
}

/// How often recall asks whether the graph has any mention; in between, a graph seen empty is taken to
/// stay so (the pipeline fills it in the background; a boost that starts a few seconds late
/// costs nothing).
const GRAPH_CHECK_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// A hash map keyed by memory id. Recall hashes a few dozen ids per request; the ids come
/// from the store, not from the caller, so a fast hash needs no flood resistance.
type IdMap<V> = std::collections::HashMap<String, V, foldhash::fast::RandomState>;

/// What each leg said of a candidate (a score of 0: the leg did not return it), and where
/// the keyword leg found its row ([`RowKey::position`]).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Both {
    keyword: f64,
    vector: f64,
    position: Option<i64>,
}

/// Candidate scores per id from both legs.
type Legs = IdMap<Both>;

/// One leg's candidates, best first: id, score in (0, 1], and the row's position when known.
type LegHits = Vec<(String, f64, Option<i64>)>;

impl Memories {
    /// Recall: keyword and vector candidates fused, boosted, shaped like upstream's response.
    pub async fn recall(
        &self,
        mut req: RecallInput,
        scope: &crate::auth::Scope,
    ) -> Result<RecallResponse> {
        super::pin_filters(scope, &mut req.filters)?;
        let policy = self.policy();
        let candidates = policy.top_k.max(req.limit);
        let loading = req.mode != RecallMode::Keyword && self.semantic.index_loading();
        let keyword_text = Some(
            req.keyword_query
                .clone()
                .unwrap_or_else(|| req.query.clone()),
        )
        .filter(|_| req.mode != RecallMode::Vector || loading);
        if loading {
            req.warnings.push(
                "the vector index is still loading after start-up: this recall used keywords \
                 only (GET /api/embeddings/status shows index.state)"
                    .to_owned(),
            );
        }
        let want_vector = req.mode != RecallMode::Keyword && !loading;
        let (store, fusion) = (self.store.clone(), policy.fusion);
        // Each hop to the blocking pool costs two thread wake-ups: a keyword recall makes one
        // (leg, fusion and rows together), a hybrid one two (the keyword leg alongside the
        // query's embedding, then the vector leg, fusion and rows).
        let (vector_ran, mut scored) = if want_vector {
            let (keyword, query_vec) = tokio::join!(
                self.keyword_leg(keyword_text, req.filters.clone(), candidates),
                self.semantic.query_vector(&req.query),
            );
            let keyword = keyword?;
            let (semantic, filters) = (self.semantic.clone(), req.filters.clone());
            crate::blocking::run(move || {
                let vector = match query_vec {
                    Some(q) => Some(vector_hits(
                        store.as_ref(),
                        &semantic,
                        &q,
                        &filters,
                        candidates,
                    )?),
                    None => None,
                };
                let legs = merge_legs(&keyword, vector.as_deref().unwrap_or(&[]));
                Ok((
                    vector.is_some(),
                    scored_rows(store.as_ref(), &legs, fusion, candidates)?,
                ))
            })
            .await?
        } else {
            let filters = req.filters.clone();
            crate::blocking::run(move || {
                let keyword = keyword_hits(store.as_ref(), keyword_text, &filters, candidates)?;
                let legs = merge_legs(&keyword, &[]);
                Ok((
                    false,
                    scored_rows(store.as_ref(), &legs, fusion, candidates)?,
                ))
            })
            .await?
        };
        let method = match (req.mode, vector_ran) {
            (RecallMode::Vector, true) => RecallMethod::Vector,
            (_, true) => RecallMethod::Hybrid,
            _ => RecallMethod::Keyword,
        };
        scored.retain(|s| s.score >= policy.min_score);
        rehearse(&mut scored, &policy);
        self.graph_boost(&req.query, &mut scored, &policy).await;
        scored.truncate(req.limit);
        self.access
            .record(scored.iter().map(|s| s.row.id.clone()).collect());
        Ok(RecallResponse {
            results: scored
                .into_iter()
                .map(|s| result(s, &policy, req.explain))
                .collect(),
            query: req.query,
            method,
            warnings: req.warnings,
            extra: Default::default(),
        })
    }

    /// Upstream's graph boost (§4 step 6): scored memories linked to an entity the query
    /// names (or to its one-hop neighbours) move towards 1 by the boost weight; no memory is
    /// added. Bounded by the boost timeout: a slow graph leaves the scores as they were.
    async fn graph_boost(&self, query: &str, scored: &mut [Scored], policy: &MemoryPolicy) {
        let (Some(graph), Some(boost)) = (self.graph.clone(), policy.graph_boost) else {
            return;
        };
        let tokens = graph_tokens(query);
        if tokens.is_empty() || scored.is_empty() {
            return;
        }
        let checked = self.graph_checked.clone();
        let last = *checked.lock().unwrap_or_else(|p| p.into_inner());
        let fresh = last.filter(|(at, _)| at.elapsed() < GRAPH_CHECK_EVERY);
        if fresh.is_some_and(|(_, any)| !any) {
            return;
        }
        let lookup = crate::blocking::run(move || {
            if fresh.is_none() {
                let any = graph.graph_has_mentions()?;
                *checked.lock().unwrap_or_else(|p| p.into_inner()) =
                    Some((std::time::Instant::now(), any));
                if !any {
                    return Ok(Vec::new());
                }
            }
            Ok(graph.graph_memories(&tokens, 200)?)
        });
        let linked: HashSet<String> = match tokio::time::timeout(boost.timeout, lookup).await {
            Ok(Ok(ids)) => ids.into_iter().collect(),
            Ok(Err(e)) => {
                tracing::debug!(target: "memory", error = %e, "graph boost skipped");
                return;
            }
            Err(_) => return,
        };
        if linked.is_empty() {
            return;
        }
        for s in scored.iter_mut().filter(|s| linked.contains(&s.row.id)) {
            let boosted = (1.0 - boost.weight) * s.score + boost.weight;
            s.graph = boosted - s.score;
            s.score = boosted;
        }
        scored.sort_by(|a, b| b.score.total_cmp(&a.score));
    }

    /// The memories most like `text` for the pipeline's decisions: both legs of recall,
    /// fused with the recall policy, without `exclude`, at or above `search.min_score`, best
    /// first, at most `k`. Not a recall: no access is recorded.
    pub(crate) async fn candidates(
        &self,
        text: &str,
        exclude: &str,
        filters: RecallFilters,
        k: usize,
    ) -> Result<Vec<(RecallRow, f64)>> {
        let policy = self.policy();
        let wide = k.saturating_mul(2).max(10);
        let (keyword, query_vec) = tokio::join!(
            self.keyword_leg(Some(text.to_owned()), filters.clone(), wide),
            self.semantic.query_vector(text),
        );
        let keyword = keyword?;
        let vector = match query_vec {
            Some(q) => self.vector_leg(q, filters, wide).await?,
            None => Vec::new(),
        };
        let mut scored = self
            .score(merge_legs(&keyword, &vector), policy.fusion, wide)
            .await?;
        scored.retain(|s| s.row.id != exclude && s.score >= policy.min_score);
        scored.sort_by(|a, b| b.score.total_cmp(&a.score));
        scored.truncate(k);
        Ok(scored.into_iter().map(|s| (s.row, s.score)).collect())
    }

    /// [`keyword_hits`] on the blocking pool.
    async fn keyword_leg(
        &self,
        text: Option<String>,
        filters: RecallFilters,
        k: usize,
    ) -> Result<LegHits> {
        if text.is_none() {
            return Ok(Vec::new());
        }
        let store = self.store.clone();
        crate::blocking::run(move || keyword_hits(store.as_ref(), text, &filters, k)).await
    }

    /// [`vector_hits`] on the blocking pool.
    async fn vector_leg(
        &self,
        query: Vec<f32>,
        filters: RecallFilters,
        k: usize,
    ) -> Result<LegHits> {
        let (store, semantic) = (self.store.clone(), self.semantic.clone());
        crate::blocking::run(move || vector_hits(store.as_ref(), &semantic, &query, &filters, k))
            .await
    }

    /// [`scored_rows`] on the blocking pool.
    async fn score(&self, legs: Legs, fusion: Fusion, keep: usize) -> Result<Vec<Scored>> {
        let store = self.store.clone();
        crate::blocking::run(move || scored_rows(store.as_ref(), &legs, fusion, keep)).await
    }
}

/// BM25 hits, normalised so the best is 1: all words first; when that finds fewer than
/// `fill_below` (a quarter of `k`, at least one), documents matching any (non-stopword)
/// word or one of its inflections ([`super::keywords`]) fill up the list, ranked below. Scoring
/// every document that holds any common word is the slow part of keyword recall, so it only
/// runs when the strict query found little. Blocks (SQLite).
fn keyword_hits(
    store: &dyn MemoryStore,
    text: Option<String>,
    filters: &RecallFilters,
    k: usize,
) -> Result<LegHits> {
    let fill_below = (k / 4).max(1);
    let Some(text) = text else {
        return Ok(Vec::new());
    };
    let Some(all) = text::keyword_query(&text) else {
        return Ok(Vec::new());
    };
    let strict = store.keyword_search(&all, filters, k)?;
    // The any-word query (with its word forms) is built only when it will run.
    let any = (strict.len() < fill_below)
        .then(|| super::keywords::any_word_query(&text))
        .flatten();
    let loose = match any {
        Some(any) => store.keyword_search(&any, filters, k)?,
        None => Vec::new(),
    };
    Ok(normalise_keyword(strict, loose, k))
}

/// Nearest vectors among live memories passing every filter (cosine, clamped at 0). Blocks
/// (SQLite, for the filters' allow-list).
fn vector_hits(
    store: &dyn MemoryStore,
    semantic: &crate::semantic::Semantic,
    query: &[f32],
    filters: &RecallFilters,
    k: usize,
) -> Result<LegHits> {
    let allowed: Option<HashSet<String>> = if filters.is_empty() {
        None
    } else {
        Some(store.filter_ids(filters)?.into_iter().collect())
    };
    let hits = semantic.search(query, k, allowed.as_ref());
    Ok(hits
        .into_iter()
        .map(|(id, s)| (id, f64::from(s).max(0.0), None))
        .filter(|(_, s, _)| *s > 0.0)
        .collect())
}

/// Fuses the legs, keeps the best `keep` and loads their rows (deleted ones drop out). Blocks.
fn scored_rows(
    store: &dyn MemoryStore,
    legs: &Legs,
    fusion: Fusion,
    keep: usize,
) -> Result<Vec<Scored>> {
    let mut fused = fusion.fuse(legs);
    fused.truncate(keep);
    let keys: Vec<RowKey> = fused
        .iter()
        .map(|(id, _)| RowKey {
            id: id.clone(),
            position: legs.get(id).and_then(|b| b.position),
        })
        .collect();
    // The rows come in the order asked, the deleted ones left out.
    let mut rows = store.recall_rows(&keys)?.into_iter().peekable();
    Ok(fused
        .into_iter()
        .filter_map(|(id, score)| {
            let row = rows.next_if(|r| r.id == id)?;
            let both = *legs.get(&id)?;
            let (kw, vec) = (both.keyword, both.vector);
            let source = match (kw > 0.0, vec > 0.0) {
                (true, true) => "hybrid",
                (false, true) => "vector",
                _ => "keyword",
            };
            Some(Scored {
                row,
                score,
                source,
                keyword: kw,
                vector: vec,
                fused: score,
                rehearsal: 1.0,
                graph: 0.0,
            })
        })
        .collect())
}

/// All-word hits score in (0.5, 1]; any-word hits fill the rest of the list in (0, 0.5].
fn normalise_keyword(strict: Vec<KeywordHit>, loose: Vec<KeywordHit>, k: usize) -> LegHits {
    let norm = |hits: &[KeywordHit]| {
        hits.iter()
            .map(|h| h.bm25.abs())
            .fold(0.0, f64::max)
            .max(f64::MIN_POSITIVE)
    };
    let (ms, ml) = (norm(&strict), norm(&loose));
    let half = if loose.is_empty() || strict.is_empty() {
        1.0
    } else {
        0.5
    };
    let mut out = Vec::with_capacity(k.max(strict.len()));
    for h in strict {
        let s = h.bm25.abs() / ms;
        let score = if half < 1.0 { 0.5 + 0.5 * s } else { s };
        out.push((h.id, score, h.position));
    }
    if loose.is_empty() {
        return out;
    }
    let mut seen: HashSet<String> = out.iter().map(|(id, _, _)| id.clone()).collect();
    for h in loose {
        if out.len() >= k {
            break;
        }
        if seen.insert(h.id.clone()) {
            out.push((h.id, half * h.bm25.abs() / ml, h.position));
        }
    }
    out
}

fn merge_legs(
    keyword: &[(String, f64, Option<i64>)],
    vector: &[(String, f64, Option<i64>)],
) -> Legs {
    let mut legs: Legs =
        IdMap::with_capacity_and_hasher(keyword.len() + vector.len(), Default::default());
    for (id, s, position) in keyword {
        let both = legs.entry(id.clone()).or_default();
        both.keyword = *s;
        both.position = *position;
    }
    for (id, s, _) in vector {
        legs.entry(id.clone()).or_default().vector = *s;
    }
    legs
}

/// 1-based ranks of each id in each leg (0 = absent).
fn rrf_ranks(legs: &Legs) -> IdMap<(usize, usize)> {
    let rank = |pick: fn(&Both) -> f64| -> std::collections::HashMap<&String, usize> {
        let mut v: Vec<(&String, f64)> = legs
            .iter()
            .map(|(id, s)| (id, pick(s)))
            .filter(|(_, s)| *s > 0.0)
            .collect();
        v.sort_by(|a, b| b.1.total_cmp(&a.1));
        v.into_iter()
            .enumerate()
            .map(|(i, (id, _))| (id, i + 1))
            .collect()
    };
    let (kw, vec) = (rank(|s| s.keyword), rank(|s| s.vector));
    legs.keys()
        .map(|id| {
            (
                id.clone(),
                (
                    kw.get(id).copied().unwrap_or(0),
                    vec.get(id).copied().unwrap_or(0),
                ),
            )
        })
        .collect()
}

fn rrf((kw, vec): (usize, usize), k: f64) -> f64 {
    let part = |r: usize| if r == 0 { 0.0 } else { 1.0 / (k + r as f64) };
    (part(kw) + part(vec)) / (2.0 / (k + 1.0))
}

/// Applies the rehearsal boost and sorts best first.
/// The query's graph tokens (upstream's): lowercase, anything but `[a-z0-9\s]` a space,
/// tokens of 2+ characters.
fn graph_tokens(query: &str) -> Vec<String> {
    let cleaned: String = query
        .to_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c.is_whitespace() {
                c
            } else {
                ' '
            }
        })
        .collect();
    let mut out: Vec<String> = Vec::new();
    for t in cleaned.split_whitespace().filter(|t| t.len() >= 2) {
        if !out.iter().any(|o| o == t) {
            out.push(t.to_owned());
        }
    }
    out
}

fn rehearse(scored: &mut [Scored], policy: &MemoryPolicy) {
    if let Some(r) = policy.rehearsal.filter(|r| r.weight > 0.0) {
        let now = Utc::now();
        for s in scored.iter_mut().filter(|s| s.row.access_count > 0) {
            let days = s
                .row
                .last_accessed
                .as_deref()
                .and_then(signet_model::time::parse)
                .map_or(r.half_life_days, |t| {
                    (now - t).num_milliseconds().max(0) as f64 / 86_400_000.0
                });
            let boost = r.weight
                * ((s.row.access_count + 1) as f64).ln()
                * 0.5f64.powf(days / r.half_life_days);
            s.rehearsal = 1.0 + boost;
            s.score *= s.rehearsal;
        }
    }
    scored.sort_by(|a, b| b.score.total_cmp(&a.score));
}

fn result(s: Scored, policy: &MemoryPolicy, explain: bool) -> RecallResult {
    let explain = explain.then(|| s.explain());
    let content_length = s.row.content.chars().count();
    let (content, truncated) = if content_length > policy.recall_truncate_chars {
        text::truncate_chars(&s.row.content, policy.recall_truncate_chars)
    } else {
        (s.row.content, false)
    };
    RecallResult {
        id: s.row.id,
        content,
        content_length,
        truncated,
        score: (s.score * 100.0).round() / 100.0,
        source: s.source.to_owned(),
        type_: s.row.memory_type,
        tags: s.row.tags,
        pinned: s.row.pinned,
        importance: Some(s.row.importance),
        who: s.row.who,
        project: s.row.project,
        created_at: s.row.created_at,
        explain,
        extra: Default::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn legs(items: &[(&str, f64, f64)]) -> Legs {
        items
            .iter()
            .map(|(id, k, v)| {
                let both = Both {
                    keyword: *k,
                    vector: *v,
                    position: None,
                };
                ((*id).to_owned(), both)
            })
            .collect()
    }

    fn order(fused: &[(String, f64)]) -> Vec<&str> {
        fused.iter().map(|(id, _)| id.as_str()).collect()
    }

    #[test]
    fn minmax_puts_both_legs_on_one_scale() {
        // The vector leg's cosines are flat (0.50..0.56) and the keyword leg's spread (0.2..1):
        // raw, the blend lets the flat cosines decide; min-max stretches each leg to [0, 1].
        let l = legs(&[
            ("kw-best", 1.0, 0.50),
            ("vec-best", 0.2, 0.56),
            ("middle", 0.6, 0.53),
        ]);
        let fused = Fusion::MinMax { vector_weight: 0.4 }.fuse(&l);
        assert_eq!(order(&fused), ["kw-best", "middle", "vec-best"]);
        let close = |a: f64, b: f64| (a - b).abs() < 1e-9;
        assert!(close(fused[0].1, 0.6), "{fused:?}"); // 0.4 * 0 + 0.6 * 1
        assert!(close(fused[1].1, 0.4 * 0.5 + 0.6 * 0.5), "{fused:?}");
        assert!(close(fused[2].1, 0.4), "{fused:?}"); // 0.4 * 1 + 0.6 * 0
        let raw = Fusion::Blend { alpha: 0.7 }.fuse(&l);
        assert_eq!(order(&raw)[0], "kw-best");
        assert_eq!(order(&raw)[2], "vec-best");
    }

    #[test]
    fn minmax_scores_a_missing_leg_as_its_worst() {
        let l = legs(&[
            ("both", 0.5, 0.6),
            ("kw-only", 1.0, 0.0),
            ("vec-only", 0.0, 0.9),
            ("kw-low", 0.25, 0.0),
        ]);
        let fused = Fusion::MinMax { vector_weight: 0.5 }.fuse(&l);
        let score: std::collections::HashMap<&str, f64> =
            fused.iter().map(|(i, s)| (i.as_str(), *s)).collect();
        assert!((score["kw-only"] - 0.5).abs() < 1e-9, "{fused:?}");
        assert!((score["vec-only"] - 0.5).abs() < 1e-9, "{fused:?}");
        assert!((score["both"] - (0.5 * (1.0 / 3.0) + 0.5 * 0.0)).abs() < 1e-9);
        assert_eq!(score["kw-low"], 0.0);
        // Ties break by id: the order never depends on hash iteration.
        assert_eq!(order(&fused)[..2], ["kw-only", "vec-only"]);
    }

    #[test]
    fn one_leg_keeps_its_own_scores() {
        let l = legs(&[("a", 0.8, 0.0), ("b", 0.3, 0.0)]);
        let fused = Fusion::MinMax { vector_weight: 0.4 }.fuse(&l);
        assert_eq!(fused, [("a".to_owned(), 0.8), ("b".to_owned(), 0.3)]);
        let single = legs(&[("a", 0.7, 0.0), ("b", 0.0, 0.4)]);
        let fused = Fusion::MinMax { vector_weight: 0.4 }.fuse(&single);
        // Each leg has one candidate: both normalise to 1 and weigh in by their weight.
        assert_eq!(order(&fused), ["a", "b"]);
        assert!((fused[0].1 - 0.6).abs() < 1e-9 && (fused[1].1 - 0.4).abs() < 1e-9);
    }

    #[test]
    fn rrf_and_blend_are_unchanged() {
        let l = legs(&[("a", 1.0, 0.5), ("b", 0.5, 0.9)]);
        let rrf = Fusion::Rrf { k: 60.0 }.fuse(&l);
        // Each is first in one leg and second in the other: equal, ties by id.
        assert_eq!(order(&rrf), ["a", "b"]);
        assert!((rrf[0].1 - rrf[1].1).abs() < 1e-12);
        let blend = Fusion::Blend { alpha: 0.7 }.fuse(&l);
        assert!((blend[0].1 - (0.7 * 0.9 + 0.3 * 0.5)).abs() < 1e-9);
        assert_eq!(order(&blend), ["b", "a"]);
    }
}
