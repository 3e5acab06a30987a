//! Read endpoints of the memory domain: one memory, its history, the listing, legacy search.

use std::collections::HashMap;

use serde_json::{Value, json};
use signet_api::{HistoryEvent, HistoryResponse, ListedMemoryItem, MemoryList, MemoryListStats};
use signet_store::memories::{HistoryEntry, LegacyQuery, ListedMemory, MemoryStats};

use super::recall::filters_from;
use super::{Memories, check_owner, input, pin_filters, scope_filter};
use crate::auth::Scope;
use crate::error::{CoreError, Result};
use crate::text;

/// The store's history row as the wire type, field for field.
fn history_event(e: HistoryEntry) -> HistoryEvent {
    HistoryEvent {
        id: e.id,
        event: e.event,
        old_content: e.old_content,
        new_content: e.new_content,
        changed_by: e.changed_by,
        actor_type: e.actor_type,
        reason: e.reason,
        metadata: e.metadata,
        created_at: e.created_at,
        session_id: e.session_id,
        request_id: e.request_id,
        extra: Default::default(),
    }
}

fn listed_item(m: ListedMemory) -> ListedMemoryItem {
    ListedMemoryItem {
        id: m.id,
        content: m.content,
        created_at: m.created_at,
        who: m.who,
        importance: m.importance,
        tags: m.tags,
        source_type: m.source_type,
        pinned: m.pinned,
        type_: m.memory_type,
        extra: Default::default(),
    }
}

fn list_stats(s: MemoryStats) -> MemoryListStats {
    MemoryListStats {
        total: s.total,
        with_embeddings: s.with_embeddings,
        critical: s.critical,
        extra: Default::default(),
    }
}

impl Memories {
    /// One live memory with upstream's columns, plus `sessionId` when the source is a session.
    pub async fn get(&self, id: String, scope: &Scope) -> Result<Value> {
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
        Ok(Value::Object(row))
    }

    /// History events of a memory (deleted memories keep theirs), oldest first.
    pub async fn history(
        &self,
        id: String,
        limit: Option<&str>,
        scope: &Scope,
    ) -> Result<HistoryResponse> {
        let limit = input::limit(
            limit.map(|s| Value::String(s.into())).as_ref(),
            "limit",
            200,
            1000,
        )? as i64;
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
            history: events.into_iter().map(history_event).collect(),
            extra: Default::default(),
        })
    }

    /// Live memories, newest first, with stats.
    pub async fn list(&self, q: &HashMap<String, String>, scope: &Scope) -> Result<MemoryList> {
        let scope = scope_filter(scope);
        let limit = input::limit(
            q.get("limit").map(|s| Value::String(s.clone())).as_ref(),
            "limit",
            100,
            1000,
        )? as i64;
        let offset = match q.get("offset").map(|s| s.trim().parse::<i64>()) {
            None => 0,
            Some(Ok(n)) if n >= 0 => n,
            Some(_) => {
                return Err(CoreError::Invalid(
                    "offset must be a non-negative integer".into(),
                ));
            }
        };
        let store = self.store.clone();
        let (memories, stats) =
            crate::blocking::run(move || Ok(store.list(limit, offset, &scope)?)).await?;
        Ok(MemoryList {
            memories: memories.into_iter().map(listed_item).collect(),
            stats: list_stats(stats),
            extra: Default::default(),
        })
    }

    /// The legacy `GET /memory/search` (keyword or filter-only, or `distinct=who`).
    pub async fn legacy_search(&self, q: &HashMap<String, String>, scope: &Scope) -> Result<Value> {
        let store = self.store.clone();
        if q.get("distinct").map(String::as_str) == Some("who") {
            if !scope.is_empty() {
                return Err(CoreError::Forbidden(
                    "distinct=who lists every agent; it is not available to scope-restricted tokens"
                        .into(),
                ));
            }
            let values = crate::blocking::run(move || Ok(store.distinct_who()?)).await?;
            return Ok(json!({"values": values}));
        }
        let obj: serde_json::Map<String, Value> = q
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        let mut filters = filters_from(&obj)?;
        pin_filters(scope, &mut filters)?;
        let text_query = q.get("q").map(|s| s.trim()).filter(|s| !s.is_empty());
        let keywords = text_query.and_then(text::keyword_query);
        if keywords.is_none() && (text_query.is_some() || filters.is_empty()) {
            return Ok(json!({"results": []}));
        }
        let default = if keywords.is_some() { 20 } else { 50 };
        let limit = input::limit(obj.get("limit"), "limit", default, 1000)?;
        let query = LegacyQuery {
            keywords,
            filters,
            limit,
        };
        let results = crate::blocking::run(move || Ok(store.legacy_search(&query)?)).await?;
        Ok(json!({"results": results}))
    }

    /// Whether the database answers (for `/health`).
    pub async fn ping(&self) -> bool {
        let store = self.store.clone();
        crate::blocking::run(move || Ok(store.ping()?))
            .await
            .is_ok()
    }

    /// Memory counts (for `/api/status`).
    pub async fn stats(&self) -> Result<signet_store::memories::MemoryStats> {
        let store = self.store.clone();
        crate::blocking::run(move || Ok(store.stats()?)).await
    }
}
