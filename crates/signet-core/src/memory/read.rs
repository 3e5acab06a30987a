//! Read endpoints of the memory domain: one memory, its history, the listing, legacy search.

use serde_json::Value;
use signet_api::{
    HistoryQuery, HistoryResponse, LegacySearchQuery, LegacySearchResponse, ListQuery,
    MemoryDetail, MemoryList, MemoryListStats,
};
use signet_model::KeywordQuery;
use signet_model::memories::{LegacyQuery, RecallFilters};

use super::recall::{filter_pairs, filters_from};
use super::{Memories, check_owner, input, pin_filters, scope_filter};
use crate::auth::Scope;
use crate::error::{CoreError, Result};
use crate::text;

/// The validated query of `GET /api/memories` (and the arguments of the MCP `memory_list`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListParams {
    /// Most memories to return (1 to 1000; default 100).
    pub limit: i64,
    /// Memories to skip, newest first.
    pub offset: i64,
    /// Only memories of this type (the MCP tool's `type`; the HTTP listing has no filter).
    pub memory_type: Option<String>,
}

impl TryFrom<&ListQuery> for ListParams {
    type Error = CoreError;

    fn try_from(q: &ListQuery) -> Result<Self> {
        let limit = input::query_limit(q.limit.as_deref(), "limit", 100, 1000)?;
        Ok(Self {
            limit: limit as i64,
            offset: input::query_offset(q.offset.as_deref())?,
            memory_type: None,
        })
    }
}

/// The validated query of `GET /api/memory/{id}/history`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HistoryParams {
    /// Most events to return (1 to 1000; default 200).
    pub limit: i64,
}

impl TryFrom<&HistoryQuery> for HistoryParams {
    type Error = CoreError;

    fn try_from(q: &HistoryQuery) -> Result<Self> {
        let limit = input::query_limit(q.limit.as_deref(), "limit", 200, 1000)?;
        Ok(Self {
            limit: limit as i64,
        })
    }
}

/// The validated query of the legacy `GET /memory/search`.
#[derive(Debug)]
pub enum LegacySearch {
    /// `distinct=who`: every agent that wrote a live memory (the other keys are ignored).
    DistinctWho,
    /// A keyword or filter search.
    Search(Box<LegacySearchParams>),
}

/// A legacy keyword or filter search.
#[derive(Debug)]
pub struct LegacySearchParams {
    /// Whether `q` was given (non-empty after trimming).
    pub has_text: bool,
    /// `q`'s searchable words, if it has any.
    pub keywords: Option<KeywordQuery>,
    /// The filter keys (the caller's scope is pinned by the search).
    pub filters: RecallFilters,
    /// The limit (default 20 with keywords, 50 without), or why it is invalid: reported only
    /// when a search runs, since a request that finds nothing to search answers an empty
    /// result without reading it (as upstream does).
    pub limit: Result<usize>,
}

impl TryFrom<&LegacySearchQuery> for LegacySearch {
    type Error = CoreError;

    fn try_from(q: &LegacySearchQuery) -> Result<Self> {
        if q.distinct.as_deref() == Some("who") {
            return Ok(Self::DistinctWho);
        }
        let filters = filters_from(&input::query_object(filter_pairs(&q.filters)))?;
        let text = q.q.as_deref().map(str::trim).filter(|s| !s.is_empty());
        let keywords = text.and_then(text::keyword_query);
        let default = if keywords.is_some() { 20 } else { 50 };
        let limit = input::query_limit(q.limit.as_deref(), "limit", default, 1000);
        Ok(Self::Search(Box::new(LegacySearchParams {
            has_text: text.is_some(),
            keywords,
            filters,
            limit,
        })))
    }
}

impl Memories {
    /// One live memory with upstream's columns, plus `sessionId` when the source is a session.
    pub async fn get(&self, id: String, scope: &Scope) -> Result<MemoryDetail> {
        let (store, scope) = (self.store.clone(), scope.clone());
        let row = crate::blocking::run(move || {
            check_owner(store.as_ref(), &id, &scope)?;
            Ok(store.live_detail(&id)?)
        })
        .await?;
        let mut row = row.ok_or_else(|| CoreError::NotFound("not found".into()))?;
        let session = row
            .get("session_id")
            .filter(|v| !v.is_null())
            .cloned()
            .or_else(|| {
                let from_session = row
                    .get("source_type")
                    .and_then(Value::as_str)
                    .is_some_and(|t| t.starts_with("session"));
                from_session
                    .then(|| row.get("source_id").cloned())
                    .flatten()
            });
        if let Some(s) = session.filter(|s| !s.is_null()) {
            row.insert("sessionId".into(), s);
        }
        Ok(MemoryDetail { row })
    }

    /// History events of a memory (deleted memories keep theirs), oldest first.
    pub async fn history(
        &self,
        id: String,
        params: HistoryParams,
        scope: &Scope,
    ) -> Result<HistoryResponse> {
        let limit = params.limit;
        let (store, scope) = (self.store.clone(), scope.clone());
        let key = id.clone();
        let events = crate::blocking::run(move || {
            check_owner(store.as_ref(), &key, &scope)?;
            Ok(store.history(&key, limit)?)
        })
        .await?;
        let Some(events) = events else {
            return Err(CoreError::NotFound("Not found".into()));
        };
        Ok(HistoryResponse {
            memory_id: id,
            count: events.len(),
            history: events,
            extra: Default::default(),
        })
    }

    /// Live memories, newest first, with stats.
    pub async fn list(&self, params: ListParams, scope: &Scope) -> Result<MemoryList> {
        let scope = scope_filter(scope);
        let ListParams {
            limit,
            offset,
            memory_type,
        } = params;
        let store = self.store.clone();
        let (memories, stats) = crate::blocking::run(move || {
            Ok(store.list(limit, offset, &scope, memory_type.as_deref())?)
        })
        .await?;
        Ok(MemoryList {
            memories,
            stats,
            extra: Default::default(),
        })
    }

    /// The legacy `GET /memory/search` (keyword or filter-only, or `distinct=who`).
    pub async fn legacy_search(
        &self,
        q: LegacySearch,
        scope: &Scope,
    ) -> Result<LegacySearchResponse> {
        let store = self.store.clone();
        let mut p = match q {
            LegacySearch::DistinctWho => {
                if !scope.is_empty() {
                    return Err(CoreError::Forbidden(
                        "distinct=who lists every agent; it is not available to scope-restricted tokens"
                            .into(),
                    ));
                }
                let values = crate::blocking::run(move || Ok(store.distinct_who()?)).await?;
                return Ok(LegacySearchResponse::Values { values });
            }
            LegacySearch::Search(p) => *p,
        };
        pin_filters(scope, &mut p.filters)?;
        if p.keywords.is_none() && (p.has_text || p.filters.is_empty()) {
            return Ok(LegacySearchResponse::Results {
                results: Vec::new(),
            });
        }
        let query = LegacyQuery {
            keywords: p.keywords,
            filters: p.filters,
            limit: p.limit?,
        };
        let rows = crate::blocking::run(move || Ok(store.legacy_search(&query)?)).await?;
        let results = rows
            .into_iter()
            .filter_map(|row| match row {
                Value::Object(row) => Some(row),
                _ => None,
            })
            .collect();
        Ok(LegacySearchResponse::Results { results })
    }

    /// Whether the database answers (for `/health`).
    pub async fn ping(&self) -> bool {
        let store = self.store.clone();
        crate::blocking::run(move || Ok(store.ping()?))
            .await
            .is_ok()
    }

    /// Memory counts (for `/api/status`).
    pub async fn stats(&self) -> Result<MemoryListStats> {
        let store = self.store.clone();
        crate::blocking::run(move || Ok(store.stats()?)).await
    }
}
