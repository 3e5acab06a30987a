//! Recall: the keyword leg (FTS5 BM25), score normalisation, the rehearsal boost and result
//! shaping. The response leaves room for the vector leg (`source` per result, `method`).

use chrono::Utc;
use serde_json::{Map, Value, json};
use signet_store::memories::{RecallFilters, RecallRow};

use super::{Memories, MemoryPolicy, input};
use crate::error::{CoreError, Result};
use crate::text;

/// A validated recall request.
#[derive(Debug, Clone, Default)]
pub struct RecallInput {
    pub query: String,
    pub keyword_query: Option<String>,
    pub limit: usize,
    pub filters: RecallFilters,
}

/// Largest `limit` a recall may ask for.
pub const MAX_RECALL_LIMIT: usize = 1000;

impl RecallInput {
    /// Reads the body of `POST /api/memory/recall`.
    pub fn from_json(body: &Value) -> Result<Self> {
        let obj = input::object(body)?;
        let query = match obj.get("query") {
            Some(Value::String(s)) if !s.trim().is_empty() => s.trim().to_owned(),
            Some(Value::String(_)) | None | Some(Value::Null) => {
                return Err(CoreError::Invalid("query is required".into()));
            }
            Some(_) => return Err(CoreError::Invalid("query must be a string".into())),
        };
        Ok(Self {
            query,
            keyword_query: input::opt_trimmed(obj, "keywordQuery")?,
            limit: input::limit(obj.get("limit"), "limit", 10, MAX_RECALL_LIMIT)?,
            filters: filters_from(obj)?,
        })
    }

    /// Reads query-string parameters (`q`, `limit`, filters) of the GET search routes.
    pub fn from_query(q: &std::collections::HashMap<String, String>) -> Result<Self> {
        let obj: Map<String, Value> = q
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        let query = obj
            .get("q")
            .or(obj.get("query"))
            .and_then(Value::as_str)
            .map(str::trim)
            .unwrap_or("");
        if query.is_empty() {
            return Err(CoreError::Invalid("q is required".into()));
        }
        Ok(Self {
            query: query.to_owned(),
            keyword_query: None,
            limit: input::limit(obj.get("limit"), "limit", 10, MAX_RECALL_LIMIT)?,
            filters: filters_from(&obj)?,
        })
    }
}

/// Filters shared by recall and the search routes.
pub fn filters_from(obj: &Map<String, Value>) -> Result<RecallFilters> {
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
        since: input::opt_trimmed(obj, "since")?,
        until: input::opt_trimmed(obj, "until")?,
        project: input::opt_trimmed(obj, "project")?,
        source_type: None,
    })
}

/// One scored candidate.
struct Scored {
    row: RecallRow,
    score: f64,
}

impl Memories {
    /// Recall: keyword candidates, normalised and boosted, shaped like upstream's response.
    pub async fn recall(&self, req: RecallInput) -> Result<Value> {
        let policy = self.policy();
        let Some(fts) = text::fts_query(req.keyword_query.as_deref().unwrap_or(&req.query)) else {
            return Ok(json!({"results": [], "query": req.query, "method": "keyword"}));
        };
        let candidates = policy.top_k.max(req.limit);
        let store = self.store.clone();
        let filters = req.filters.clone();
        let (hits, rows) = crate::blocking::run(move || {
            let hits = store.keyword_search(&fts, &filters, candidates)?;
            let ids: Vec<String> = hits.iter().map(|h| h.id.clone()).collect();
            let rows = store.recall_rows(&ids)?;
            Ok((hits, rows))
        })
        .await?;
        let max = hits.iter().map(|h| h.bm25.abs()).fold(0.0, f64::max);
        let max = if max > 0.0 { max } else { 1.0 };
        let bm25: std::collections::HashMap<&str, f64> =
            hits.iter().map(|h| (h.id.as_str(), h.bm25)).collect();
        let mut scored: Vec<Scored> = rows
            .into_iter()
            .filter_map(|row| {
                Some(Scored {
                    score: bm25.get(row.id.as_str())?.abs() / max,
                    row,
                })
            })
            .filter(|s| s.score >= policy.min_score)
            .collect();
        rehearse(&mut scored, &policy);
        scored.truncate(req.limit);
        self.access
            .record(scored.iter().map(|s| s.row.id.clone()).collect());
        let results: Vec<Value> = scored.iter().map(|s| result_json(s, &policy)).collect();
        Ok(json!({"results": results, "query": req.query, "method": "keyword"}))
    }
}

/// Applies the rehearsal boost and sorts best first.
fn rehearse(scored: &mut [Scored], policy: &MemoryPolicy) {
    if let Some(r) = policy.rehearsal.filter(|r| r.weight > 0.0) {
        let now = Utc::now();
        for s in scored.iter_mut().filter(|s| s.row.access_count > 0) {
            let days = s
                .row
                .last_accessed
                .as_deref()
                .and_then(signet_store::time::parse)
                .map_or(r.half_life_days, |t| {
                    (now - t).num_milliseconds().max(0) as f64 / 86_400_000.0
                });
            let boost = r.weight
                * ((s.row.access_count + 1) as f64).ln()
                * 0.5f64.powf(days / r.half_life_days);
            s.score *= 1.0 + boost;
        }
    }
    scored.sort_by(|a, b| b.score.total_cmp(&a.score));
}

fn result_json(s: &Scored, policy: &MemoryPolicy) -> Value {
    let (content, truncated) = text::truncate_chars(&s.row.content, policy.recall_truncate_chars);
    json!({
        "id": s.row.id,
        "content": content,
        "content_length": s.row.content.chars().count(),
        "truncated": truncated,
        "score": (s.score * 100.0).round() / 100.0,
        "source": "keyword",
        "type": s.row.memory_type,
        "tags": s.row.tags,
        "pinned": s.row.pinned,
        "importance": s.row.importance,
        "who": s.row.who,
        "project": s.row.project,
        "created_at": s.row.created_at,
    })
}
