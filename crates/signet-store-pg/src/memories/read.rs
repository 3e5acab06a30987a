//! Reads of single memories, history, the listing and its counts, recall rows and the
//! operational signals.

use postgres::{GenericClient, Row};
use serde_json::Value;
use signet_model::memories::{
    HistoryEvent, ListedMemoryItem, MemoryListStats, MemoryScope, MutationSignals, OpsCounts,
    RecallRow, ScopeFilter,
};
use signet_model::{JsonRow, Result};

use crate::error::PgResultExt;

/// How a detail column is turned into JSON.
#[derive(Clone, Copy)]
enum Kind {
    Text,
    Int,
    Float,
    /// A boolean, answered as upstream's 0/1 integer.
    Flag,
    /// Always null (upstream's `session_id`).
    Null,
}

/// The columns `GET /api/memory/:id` returns, in upstream's order (`scope_user` is not one).
const DETAIL: [(&str, Kind); 22] = [
    ("id", Kind::Text),
    ("content", Kind::Text),
    ("type", Kind::Text),
    ("importance", Kind::Float),
    ("tags", Kind::Text),
    ("pinned", Kind::Flag),
    ("who", Kind::Text),
    ("source_id", Kind::Text),
    ("source_type", Kind::Text),
    ("project", Kind::Text),
    ("session_id", Kind::Null),
    ("confidence", Kind::Float),
    ("access_count", Kind::Int),
    ("last_accessed", Kind::Text),
    ("is_deleted", Kind::Flag),
    ("deleted_at", Kind::Text),
    ("extraction_status", Kind::Text),
    ("embedding_model", Kind::Text),
    ("version", Kind::Int),
    ("created_at", Kind::Text),
    ("updated_at", Kind::Text),
    ("updated_by", Kind::Text),
];

/// One live memory as a JSON object of its column values (flags as 0/1 integers).
pub(crate) fn live_detail(c: &mut impl GenericClient, id: &str) -> Result<Option<JsonRow>> {
    let cols: Vec<&str> = DETAIL
        .iter()
        .map(|(name, kind)| match kind {
            Kind::Null => "NULL::text",
            _ => name,
        })
        .collect();
    let sql = format!(
        "SELECT {} FROM memories WHERE id = $1 AND is_deleted IS NOT TRUE",
        cols.join(", ")
    );
    let Some(row) = c.query_opt(&sql, &[&id]).pg()? else {
        return Ok(None);
    };
    let mut map = JsonRow::with_capacity(DETAIL.len());
    for (i, (name, kind)) in DETAIL.iter().enumerate() {
        map.insert((*name).to_owned(), cell(&row, i, *kind));
    }
    Ok(Some(map))
}

fn cell(row: &Row, i: usize, kind: Kind) -> Value {
    match kind {
        Kind::Text => row
            .get::<_, Option<String>>(i)
            .map_or(Value::Null, Value::from),
        Kind::Int => row
            .get::<_, Option<i64>>(i)
            .map_or(Value::Null, Value::from),
        Kind::Float => row
            .get::<_, Option<f64>>(i)
            .and_then(serde_json::Number::from_f64)
            .map_or(Value::Null, Value::Number),
        Kind::Flag => row
            .get::<_, Option<bool>>(i)
            .map_or(Value::Null, |b| Value::from(i64::from(b))),
        Kind::Null => Value::Null,
    }
}

/// Whether a row with this id exists at all (deleted or not).
pub(crate) fn exists(c: &mut impl GenericClient, id: &str) -> Result<bool> {
    let row = c
        .query_opt("SELECT 1 FROM memories WHERE id = $1", &[&id])
        .pg()?;
    Ok(row.is_some())
}

/// History of one memory, oldest first: its `created` event made from the row when the row
/// carries its creator (SQLite's migration 1005 keeps the actor there; such rows arrive here by
/// import), then the rows of `memory_history`.
pub(crate) fn history(
    c: &mut impl GenericClient,
    id: &str,
    limit: i64,
) -> Result<Vec<HistoryEvent>> {
    let Some(mut created) = created_event(c, id)? else {
        return history_rows(c, id, limit);
    };
    if limit <= 0 {
        return Ok(Vec::new());
    }
    // The content at creation: what the first change replaced, else what the row holds now.
    let rows = history_rows(c, id, i64::MAX)?;
    if let Some(before) = rows.iter().find_map(|e| e.old_content.clone()) {
        created.new_content = Some(before);
    }
    let keep = usize::try_from(limit - 1).unwrap_or(usize::MAX);
    let mut out = Vec::with_capacity(rows.len().min(keep) + 1);
    out.push(created);
    out.extend(rows.into_iter().take(keep));
    Ok(out)
}

/// The `created` event of a row that carries its creator (`created_by` set).
fn created_event(c: &mut impl GenericClient, id: &str) -> Result<Option<HistoryEvent>> {
    let row = c
        .query_opt(
            "SELECT created_by, created_actor_type, created_session_id, created_request_id, \
             created_at, content, source_type FROM memories WHERE id = $1 AND created_by IS NOT NULL",
            &[&id],
        )
        .pg()?;
    Ok(row.map(|r| {
        let source_type: Option<String> = r.get(6);
        let source = match source_type.as_deref() {
            Some("document") => "document",
            _ => "remember",
        };
        HistoryEvent {
            id: format!("{id}:created"),
            event: "created".into(),
            old_content: None,
            new_content: r.get(5),
            changed_by: r.get(0),
            actor_type: r.get(1),
            reason: None,
            metadata: serde_json::json!({"source": source, "sourceType": source_type}),
            created_at: r.get(4),
            session_id: r.get(2),
            request_id: r.get(3),
            extra: Default::default(),
        }
    }))
}

/// The `memory_history` rows of one memory, oldest first (equal times in the order written).
fn history_rows(c: &mut impl GenericClient, id: &str, limit: i64) -> Result<Vec<HistoryEvent>> {
    let rows = c
        .query(
            "SELECT id, event, old_content, new_content, changed_by, actor_type, reason, metadata, \
             created_at, session_id, request_id FROM memory_history WHERE memory_id = $1 \
             ORDER BY created_at ASC, seq ASC LIMIT $2",
            &[&id, &limit.max(0)],
        )
        .pg()?;
    Ok(rows
        .iter()
        .map(|r| HistoryEvent {
            id: r.get(0),
            event: r.get(1),
            old_content: r.get(2),
            new_content: r.get(3),
            changed_by: r.get(4),
            actor_type: r.get(5),
            reason: r.get(6),
            metadata: parse_metadata(r.get(7)),
            created_at: r.get(8),
            session_id: r.get(9),
            request_id: r.get(10),
            extra: Default::default(),
        })
        .collect())
}

fn parse_metadata(raw: Option<String>) -> Value {
    match raw {
        None => Value::Null,
        Some(s) => serde_json::from_str(&s).unwrap_or(Value::String(s)),
    }
}

/// The scope test on `memories` with the scope's three values as `$1..$3`.
const IN_SCOPE: &str = "is_deleted = false AND ($1::text IS NULL OR project = $1) \
     AND ($2::text IS NULL OR who = $2) AND ($3::text IS NULL OR scope_user = $3)";

/// Live memories inside `scope` (and of `memory_type`, when set), newest first, with the
/// scope's counts.
pub(crate) fn list(
    c: &mut impl GenericClient,
    limit: i64,
    offset: i64,
    scope: &ScopeFilter,
    memory_type: Option<&str>,
) -> Result<(Vec<ListedMemoryItem>, MemoryListStats)> {
    let sql = format!(
        "SELECT id, content, created_at, who, importance, tags, source_type, pinned, type \
         FROM memories WHERE {IN_SCOPE} AND ($4::text IS NULL OR type = $4) \
         ORDER BY created_at DESC, id LIMIT $5 OFFSET $6"
    );
    let rows = c
        .query(
            &sql,
            &[
                &scope.project,
                &scope.who,
                &scope.user,
                &memory_type,
                &limit.max(0),
                &offset.max(0),
            ],
        )
        .pg()?;
    let items = rows
        .iter()
        .map(|r| ListedMemoryItem {
            id: r.get(0),
            content: r.get(1),
            created_at: r.get(2),
            who: r.get(3),
            importance: r.get(4),
            tags: r.get(5),
            source_type: r.get(6),
            pinned: r.get::<_, Option<bool>>(7).unwrap_or(false),
            type_: r.get(8),
            extra: Default::default(),
        })
        .collect();
    Ok((items, stats(c, scope)?))
}

/// Counts of live memories inside `scope`, their vectors and the critical (importance ≥ 0.9)
/// ones.
pub(crate) fn stats(c: &mut impl GenericClient, scope: &ScopeFilter) -> Result<MemoryListStats> {
    let sql = format!(
        "SELECT count(*), \
           (SELECT count(*) FROM embeddings e WHERE e.source_type = 'memory' AND e.source_id IN \
              (SELECT id FROM memories WHERE {IN_SCOPE})), \
           count(*) FILTER (WHERE importance >= 0.9) \
         FROM memories WHERE {IN_SCOPE}"
    );
    let r = c
        .query_one(&sql, &[&scope.project, &scope.who, &scope.user])
        .pg()?;
    Ok(MemoryListStats {
        total: r.get(0),
        with_embeddings: r.get(1),
        critical: r.get(2),
        extra: Default::default(),
    })
}

/// Rows for recall results, in the order of `ids`; deleted and unknown rows are left out.
pub(crate) fn recall_rows(c: &mut impl GenericClient, ids: &[String]) -> Result<Vec<RecallRow>> {
    let rows = c
        .query(
            "SELECT id, content, type, tags, COALESCE(pinned, false), COALESCE(importance, 0.5), \
             who, project, created_at, COALESCE(access_count, 0), last_accessed \
             FROM memories WHERE id = ANY($1) AND is_deleted = false",
            &[&ids],
        )
        .pg()?;
    let found: std::collections::HashMap<String, RecallRow> = rows
        .iter()
        .map(|r| {
            let row = RecallRow {
                id: r.get(0),
                content: r.get(1),
                memory_type: r.get(2),
                tags: r.get(3),
                pinned: r.get(4),
                importance: r.get(5),
                who: r.get(6),
                project: r.get(7),
                created_at: r.get(8),
                access_count: r.get(9),
                last_accessed: r.get(10),
            };
            (row.id.clone(), row)
        })
        .collect();
    // In the order asked, once per time asked (as SQLite's one lookup per id answers).
    Ok(ids.iter().filter_map(|id| found.get(id).cloned()).collect())
}

/// The distinct `who` values of live memories, in byte order.
pub(crate) fn distinct_who(c: &mut impl GenericClient) -> Result<Vec<String>> {
    let rows = c
        .query(
            "SELECT DISTINCT who COLLATE \"C\" AS w FROM memories \
             WHERE who IS NOT NULL AND is_deleted = false ORDER BY w",
            &[],
        )
        .pg()?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

/// Memories by state and jobs by status.
pub(crate) fn ops_counts(c: &mut impl GenericClient) -> Result<OpsCounts> {
    let r = c
        .query_one(
            "SELECT count(*) FILTER (WHERE is_deleted = false), \
                    count(*) FILTER (WHERE is_deleted IS TRUE) FROM memories",
            &[],
        )
        .pg()?;
    let jobs = c
        .query(
            "SELECT status COLLATE \"C\" AS s, count(*) FROM memory_jobs GROUP BY s ORDER BY s",
            &[],
        )
        .pg()?;
    Ok(OpsCounts {
        live: r.get(0),
        deleted: r.get(1),
        jobs: jobs.iter().map(|j| (j.get(0), j.get(1))).collect(),
    })
}

/// Deletes and recovers recorded in history since `since`.
pub(crate) fn mutation_signals(c: &mut impl GenericClient, since: &str) -> Result<MutationSignals> {
    let r = c
        .query_one(
            "SELECT count(*) FILTER (WHERE event = 'recovered'), \
                    count(*) FILTER (WHERE event = 'deleted') \
             FROM memory_history WHERE created_at >= $1",
            &[&since],
        )
        .pg()?;
    Ok(MutationSignals {
        recent_recovers: r.get(0),
        recent_deletes: r.get(1),
    })
}

/// Type, project, who, user and version of a memory, deleted or not.
pub(crate) fn memory_scope(c: &mut impl GenericClient, id: &str) -> Result<Option<MemoryScope>> {
    let row = c
        .query_opt(
            "SELECT type, project, who, scope_user, COALESCE(version, 1) FROM memories WHERE id = $1",
            &[&id],
        )
        .pg()?;
    Ok(row.map(|r| MemoryScope {
        memory_type: r.get(0),
        project: r.get(1),
        who: r.get(2),
        scope_user: r.get(3),
        version: r.get(4),
    }))
}
