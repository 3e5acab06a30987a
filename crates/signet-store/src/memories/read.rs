//! Reads of single memories, history and the listing.

use rusqlite::types::ValueRef;
use rusqlite::{Connection, OptionalExtension, params};

use super::{HistoryEvent, ListedMemoryItem, MemoryListStats, RecallRow, RowKey, ScopeFilter};
use crate::error::Result;

/// The columns `GET /api/memory/:id` returns, in upstream's order. `scope_user` (our migration
/// 1001) is deliberately not among them: upstream's response has no such field, and the parity
/// test against captured upstream responses compares every key.
const DETAIL_COLUMNS: &str = "id, content, type, importance, tags, pinned, who, source_id, \
    source_type, project, NULL AS session_id, confidence, access_count, last_accessed, is_deleted, \
    deleted_at, extraction_status, embedding_model, version, created_at, updated_at, updated_by";

/// One live memory as a JSON object of its raw column values (0/1 integers stay integers).
pub fn live_detail(
    conn: &Connection,
    id: &str,
) -> Result<Option<serde_json::Map<String, serde_json::Value>>> {
    let sql = format!(
        "SELECT {DETAIL_COLUMNS} FROM memories WHERE id = ?1 AND (is_deleted = 0 OR is_deleted IS NULL)"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let names: Vec<String> = stmt.column_names().map(|s| s.to_string()).collect();
    Ok(stmt
        .query_row([id], |r| {
            let mut map = serde_json::Map::with_capacity(names.len());
            for (i, name) in names.iter().enumerate() {
                map.insert(name.clone(), value_to_json(r.get_ref(i)?));
            }
            Ok(map)
        })
        .optional()?)
}

/// Converts an SQLite value to JSON without changing it (blobs become their length).
pub fn value_to_json(v: ValueRef<'_>) -> serde_json::Value {
    match v {
        ValueRef::Null => serde_json::Value::Null,
        ValueRef::Integer(i) => i.into(),
        ValueRef::Real(f) => {
            serde_json::Number::from_f64(f).map_or(serde_json::Value::Null, Into::into)
        }
        ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned().into(),
        ValueRef::Blob(b) => serde_json::json!({"blobBytes": b.len()}),
    }
}

/// Whether a row with this id exists at all (deleted or not).
pub fn exists(conn: &Connection, id: &str) -> Result<bool> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM memories WHERE id = ?1")?
        .query_row([id], |_| Ok(()))
        .optional()?
        .is_some())
}

/// History of one memory, oldest first: its `created` event (made from the row when the write
/// kept its actor there, migration 1005) and then the rows of `memory_history`.
pub fn history(conn: &Connection, id: &str, limit: i64) -> Result<Vec<HistoryEvent>> {
    let Some(mut created) = created_event(conn, id)? else {
        return history_rows(conn, id, limit);
    };
    if limit <= 0 {
        return Ok(Vec::new());
    }
    // The content at creation: what the first change replaced, else what the row holds now.
    let rows = history_rows(conn, id, i64::MAX)?;
    if let Some(before) = rows.iter().find_map(|e| e.old_content.clone()) {
        created.new_content = Some(before);
    }
    let mut out = Vec::with_capacity(rows.len().min(limit as usize) + 1);
    out.push(created);
    out.extend(rows.into_iter().take(limit as usize - 1));
    Ok(out)
}

/// The `created` event of a memory written with its actor on the row (`created_by` set), with
/// the row's current content; `None` for rows written by upstream or before migration 1005,
/// whose `created` event (if any) is a `memory_history` row.
fn created_event(conn: &Connection, id: &str) -> Result<Option<HistoryEvent>> {
    let mut stmt = conn.prepare_cached(
        "SELECT created_by, created_actor_type, created_session_id, created_request_id, \
         created_at, content, source_type FROM memories WHERE id = ?1 AND created_by IS NOT NULL",
    )?;
    let event = stmt.query_row([id], |r| {
        let source_type: Option<String> = r.get(6)?;
        // Which write path made it, as the `created` row used to say.
        let source = match source_type.as_deref() {
            Some("document") => "document",
            _ => "remember",
        };
        Ok(HistoryEvent {
            id: format!("{id}:created"),
            event: "created".into(),
            old_content: None,
            new_content: r.get(5)?,
            changed_by: r.get(0)?,
            actor_type: r.get(1)?,
            reason: None,
            metadata: serde_json::json!({"source": source, "sourceType": source_type}),
            created_at: r.get(4)?,
            session_id: r.get(2)?,
            request_id: r.get(3)?,
            extra: Default::default(),
        })
    });
    Ok(event.optional()?)
}

/// The `memory_history` rows of one memory, oldest first.
fn history_rows(conn: &Connection, id: &str, limit: i64) -> Result<Vec<HistoryEvent>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, event, old_content, new_content, changed_by, actor_type, reason, metadata, \
         created_at, session_id, request_id FROM memory_history WHERE memory_id = ?1 \
         ORDER BY created_at ASC, rowid ASC LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![id, limit], |r| {
        let metadata: Option<String> = r.get(7)?;
        Ok(HistoryEvent {
            id: r.get(0)?,
            event: r.get(1)?,
            old_content: r.get(2)?,
            new_content: r.get(3)?,
            changed_by: r.get(4)?,
            actor_type: r.get(5)?,
            reason: r.get(6)?,
            metadata: parse_metadata(metadata),
            created_at: r.get(8)?,
            session_id: r.get(9)?,
            request_id: r.get(10)?,
            extra: Default::default(),
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

fn parse_metadata(raw: Option<String>) -> serde_json::Value {
    match raw {
        None => serde_json::Value::Null,
        Some(s) => serde_json::from_str(&s).unwrap_or(serde_json::Value::String(s)),
    }
}

/// Live memories inside `scope` (and of `memory_type`, when set), newest first, with counts
/// (of the scope).
pub fn list(
    conn: &Connection,
    limit: i64,
    offset: i64,
    scope: &ScopeFilter,
    memory_type: Option<&str>,
) -> Result<(Vec<ListedMemoryItem>, MemoryListStats)> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, content, created_at, who, importance, tags, source_type, pinned, type \
         FROM memories WHERE is_deleted = 0 AND (?3 IS NULL OR project = ?3) \
         AND (?4 IS NULL OR who = ?4) AND (?5 IS NULL OR scope_user = ?5) \
         AND (?6 IS NULL OR type = ?6) \
         ORDER BY created_at DESC LIMIT ?1 OFFSET ?2",
    )?;
    let params = params![
        limit,
        offset,
        scope.project,
        scope.who,
        scope.user,
        memory_type
    ];
    let rows = stmt
        .query_map(params, |r| {
            Ok(ListedMemoryItem {
                id: r.get(0)?,
                content: r.get(1)?,
                created_at: r.get(2)?,
                who: r.get(3)?,
                importance: r.get(4)?,
                tags: r.get(5)?,
                source_type: r.get(6)?,
                pinned: r.get::<_, Option<i64>>(7)?.unwrap_or(0) != 0,
                type_: r.get(8)?,
                extra: Default::default(),
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok((rows, stats(conn, scope)?))
}

/// Counts of live memories inside `scope` (all when it is empty), their embeddings and the
/// critical (importance ≥ 0.9) ones.
pub fn stats(conn: &Connection, scope: &ScopeFilter) -> Result<MemoryListStats> {
    const IN_SCOPE: &str = "is_deleted = 0 AND (?1 IS NULL OR project = ?1) \
         AND (?2 IS NULL OR who = ?2) AND (?3 IS NULL OR scope_user = ?3)";
    let sql = format!(
        "SELECT COUNT(*), \
           (SELECT COUNT(*) FROM embeddings e WHERE e.source_type = 'memory' AND e.source_id IN \
              (SELECT id FROM memories WHERE {IN_SCOPE})), \
           COALESCE(SUM(importance >= 0.9), 0) \
         FROM memories WHERE {IN_SCOPE}"
    );
    Ok(conn.prepare_cached(&sql)?.query_row(
        params![scope.project, scope.who, scope.user],
        |r| {
            Ok(MemoryListStats {
                total: r.get(0)?,
                with_embeddings: r.get(1)?,
                critical: r.get(2)?,
                extra: Default::default(),
            })
        },
    )?)
}

/// Runs `f` inside one read transaction on `conn` (a pool reader, not in a transaction).
///
/// Each statement outside a transaction is a read transaction of its own: a recall's few dozen
/// rowid and id lookups took and released the WAL read lock (and the database file's shared
/// lock, `fcntl` each) a few dozen times. One snapshot also keeps the lookups consistent.
pub(crate) fn in_read_txn<T>(conn: &Connection, f: impl FnOnce() -> Result<T>) -> Result<T> {
    conn.prepare_cached("BEGIN")?.execute([])?;
    let out = f();
    // A read transaction has nothing to keep: COMMIT and ROLLBACK both just end it.
    let end = conn
        .prepare_cached("COMMIT")
        .and_then(|mut s| s.execute([]));
    if let Err(e) = end {
        if !conn.is_autocommit() {
            let _ = conn.execute_batch("ROLLBACK");
        }
        out?;
        return Err(e.into());
    }
    out
}

/// Rows for recall results, in the order of `keys`; deleted rows are left out.
pub fn recall_rows(conn: &Connection, keys: &[RowKey]) -> Result<Vec<RecallRow>> {
    in_read_txn(conn, || recall_rows_in(conn, keys))
}

/// The columns of a [`RecallRow`], in the order `recall_rows_in` decodes them.
const RECALL_COLUMNS: &str = "id, content, type, tags, COALESCE(pinned, 0), \
     COALESCE(importance, 0.5), who, project, created_at, COALESCE(access_count, 0), last_accessed";

fn recall_rows_in(conn: &Connection, keys: &[RowKey]) -> Result<Vec<RecallRow>> {
    let mut by_id = conn.prepare_cached(&format!(
        "SELECT {RECALL_COLUMNS} FROM memories WHERE id = ?1 AND is_deleted = 0"
    ))?;
    // A keyword hit knows its rowid: one b-tree descent instead of the id index's and then
    // the table's.
    let mut at = conn.prepare_cached(&format!(
        "SELECT {RECALL_COLUMNS} FROM memories WHERE rowid = ?1 AND is_deleted = 0"
    ))?;
    let mut out = Vec::with_capacity(keys.len());
    // By position rather than through `row::decode` (the same conversions): this runs for
    // every candidate of every recall.
    let decode = |r: &rusqlite::Row<'_>| {
        Ok(RecallRow {
            id: r.get(0)?,
            content: r.get(1)?,
            memory_type: r.get(2)?,
            tags: r.get(3)?,
            pinned: r.get(4)?,
            importance: r.get(5)?,
            who: r.get(6)?,
            project: r.get(7)?,
            created_at: r.get(8)?,
            access_count: r.get(9)?,
            last_accessed: r.get(10)?,
        })
    };
    for key in keys {
        if let Some(position) = key.position {
            // Only the row of the key's id counts: a rowid reused since the hint was taken
            // holds another memory.
            // A miss (deleted since, or moved) is asked again by id.
            let mut rows = at.query([position])?;
            if let Some(r) = rows.next()?
                && matches!(r.get_ref(0)?, ValueRef::Text(t) if t == key.id.as_bytes())
            {
                out.push(decode(r)?);
                continue;
            }
        }
        out.extend(by_id.query_row([&key.id], decode).optional()?);
    }
    Ok(out)
}

/// `SELECT 1`: the database answers.
pub fn ping(conn: &Connection) -> Result<()> {
    conn.prepare_cached("SELECT 1")?.query_row([], |_| Ok(()))?;
    Ok(())
}
