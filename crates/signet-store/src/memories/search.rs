//! Keyword search (FTS5 / BM25), forget candidates and the legacy search, with filters.
//!
//! Callers pass a [`KeywordQuery`] value, rendered here into an FTS5 `MATCH` string of quoted
//! phrases ([`crate::keyword::fts5`]); everything else the user sends is bound as a parameter,
//! never spliced into SQL.

use rusqlite::Connection;
use rusqlite::types::Value;

use super::{CandidateQuery, ForgetCandidate, KeywordHit, LegacyQuery, RecallFilters};
use crate::error::{Result, StoreError};
use crate::keyword::{KeywordQuery, fts5};

/// Appends `AND ...` clauses on `m` (the `memories` alias) for every set filter, binding the
/// values into `params`: the SQL of the rules [`RecallFilters`] documents.
pub(crate) fn push_filters(filters: &RecallFilters, sql: &mut String, params: &mut Vec<Value>) {
    let mut add = |clause: &str, v: Value| {
        params.push(v);
        sql.push_str(&clause.replace('?', &format!("?{}", params.len())));
    };
    if let Some(t) = &filters.memory_type {
        add(" AND m.type = ?", Value::Text(t.clone()));
    }
    for tag in &filters.tags {
        add(
            " AND m.tags LIKE ? ESCAPE '\\'",
            Value::Text(format!("%{}%", escape_like(tag))),
        );
    }
    if let Some(w) = &filters.who {
        add(" AND m.who = ?", Value::Text(w.clone()));
    }
    if filters.pinned_only {
        add(" AND m.pinned = ?", Value::Integer(1));
    }
    if let Some(i) = filters.importance_min {
        add(" AND m.importance >= ?", Value::Real(i));
    }
    if let Some(s) = &filters.since {
        add(" AND m.created_at >= ?", Value::Text(s.clone()));
    }
    if let Some(u) = &filters.until {
        add(" AND m.created_at <= ?", Value::Text(u.clone()));
    }
    if let Some(p) = &filters.project {
        add(" AND m.project = ?", Value::Text(p.clone()));
    }
    if let Some(s) = &filters.source_type {
        add(" AND m.source_type = ?", Value::Text(s.clone()));
    }
    if let Some(u) = &filters.scope_user {
        add(" AND m.scope_user = ?", Value::Text(u.clone()));
    }
}

fn escape_like(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// BM25 over live memories matching `query` and the filters, best first (none for an empty
/// query). A query holding Chinese, Japanese or Korean text is answered by the trigram index
/// ([`super::cjk`]).
///
/// Fast path: rank inside FTS5 and join only the best `limit * 4 + 16` matches to
/// `memories` (deleted rows and filters applied there). When that leaves fewer than `limit`
/// rows although FTS had more matches than it looked at, the full join runs, so the answer is
/// always exact.
pub fn keyword_search(
    conn: &Connection,
    query: &KeywordQuery,
    filters: &RecallFilters,
    limit: usize,
) -> Result<Vec<KeywordHit>> {
    if query.is_empty() {
        return Ok(Vec::new());
    }
    if crate::keyword::has_cjk(query) {
        return super::cjk::keyword_search(conn, query, filters, limit);
    }
    let fts_match = &fts5(query);
    let overfetch = limit * 4 + 16;
    let hits = ranked(conn, fts_match, filters, limit, Some(overfetch))?;
    if hits.len() >= limit || match_count(conn, fts_match, overfetch + 1)? <= overfetch {
        return Ok(hits);
    }
    ranked(conn, fts_match, filters, limit, None)
}

/// How many rows match, counting at most `cap`.
fn match_count(conn: &Connection, fts_match: &str, cap: usize) -> Result<usize> {
    let n: i64 = conn
        .prepare_cached("SELECT COUNT(*) FROM (SELECT 1 FROM memories_fts WHERE memories_fts MATCH ?1 LIMIT ?2)")?
        .query_row(rusqlite::params![fts_match, cap as i64], |r| r.get(0))
        .map_err(fts_error)?;
    Ok(n as usize)
}

/// The ranked query; with `inner`, only the best `inner` FTS matches are considered.
fn ranked(
    conn: &Connection,
    fts_match: &str,
    filters: &RecallFilters,
    limit: usize,
    inner: Option<usize>,
) -> Result<Vec<KeywordHit>> {
    let mut params = vec![Value::Text(fts_match.to_owned())];
    let source = match inner {
        Some(n) => {
            params.push(Value::Integer(n as i64));
            "(SELECT rowid, bm25(memories_fts) AS s FROM memories_fts WHERE memories_fts MATCH ?1 \
             ORDER BY s LIMIT ?2) f"
        }
        None => {
            "(SELECT rowid, bm25(memories_fts) AS s FROM memories_fts WHERE memories_fts MATCH ?1) f"
        }
    };
    let mut sql = format!(
        "SELECT m.id, f.s, m.rowid FROM {source} JOIN memories m ON m.rowid = f.rowid WHERE m.is_deleted = 0"
    );
    push_filters(filters, &mut sql, &mut params);
    params.push(Value::Integer(limit as i64));
    sql.push_str(&format!(" ORDER BY f.s LIMIT ?{}", params.len()));
    hits(conn, &sql, params)
}

/// Runs a ranked query whose rows are `(id, bm25, rowid)`, best first.
pub(crate) fn hits(conn: &Connection, sql: &str, params: Vec<Value>) -> Result<Vec<KeywordHit>> {
    let mut stmt = conn.prepare_cached(sql)?;
    let rows = stmt
        .query_map(rusqlite::params_from_iter(params), |r| {
            Ok(KeywordHit {
                id: r.get(0)?,
                bm25: r.get(1)?,
                position: Some(r.get(2)?),
            })
        })
        .map_err(fts_error)?;
    rows.collect::<rusqlite::Result<_>>().map_err(fts_error)
}

/// A full-text error is the query's fault (400), anything else the store's.
pub(crate) fn fts_error(e: rusqlite::Error) -> StoreError {
    let msg = e.to_string();
    if msg.contains("fts5") || msg.contains("MATCH") {
        StoreError::Invalid(format!("keyword query: {msg}"))
    } else {
        e.into()
    }
}

/// Candidates for batch forget: by ids (request order), by keyword query, or by filters.
pub fn forget_candidates(conn: &Connection, q: &CandidateQuery) -> Result<Vec<ForgetCandidate>> {
    if !q.ids.is_empty() {
        return candidates_by_ids(conn, q);
    }
    let mut params = Vec::new();
    let fts_match = match q.keywords.as_ref().filter(|k| !k.is_empty()) {
        Some(k) => Some(super::cjk::index_and_match(conn, k)?),
        None => None,
    };
    let mut sql = match &fts_match {
        Some((fts, m)) => {
            params.push(Value::Text(m.clone()));
            format!(
                "SELECT m.id, bm25({fts}) AS s, m.pinned, COALESCE(m.version, 1) \
                 FROM {fts} JOIN memories m ON m.rowid = {fts}.rowid \
                 WHERE {fts} MATCH ?1 AND m.is_deleted = 0",
            )
        }
        None => String::from(
            "SELECT m.id, 0.0 AS s, m.pinned, COALESCE(m.version, 1) FROM memories m WHERE m.is_deleted = 0",
        ),
    };
    let order = match fts_match {
        Some(_) => " ORDER BY s",
        None => " ORDER BY m.pinned DESC, m.importance DESC, m.updated_at DESC",
    };
    filter_order_limit(&mut sql, &mut params, &q.filters, order, q.limit);
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt
        .query_map(rusqlite::params_from_iter(params), |r| {
            let raw: f64 = r.get(1)?;
            Ok(ForgetCandidate {
                id: r.get(0)?,
                score: if raw == 0.0 {
                    0.0
                } else {
                    1.0 / (1.0 + raw.abs())
                },
                pinned: r.get::<_, Option<i64>>(2)?.unwrap_or(0) != 0,
                version: r.get(3)?,
            })
        })
        .map_err(fts_error)?;
    rows.collect::<rusqlite::Result<_>>().map_err(fts_error)
}

fn candidates_by_ids(conn: &Connection, q: &CandidateQuery) -> Result<Vec<ForgetCandidate>> {
    let mut sql = String::from(
        "SELECT m.id, m.pinned, COALESCE(m.version, 1) FROM memories m WHERE m.id = ?1 AND m.is_deleted = 0",
    );
    let mut extra = vec![Value::Null];
    push_filters(&q.filters, &mut sql, &mut extra);
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut out = Vec::new();
    for id in q.ids.iter().take(q.limit) {
        extra[0] = Value::Text(id.clone());
        let mut rows = stmt.query(rusqlite::params_from_iter(extra.iter()))?;
        if let Some(r) = rows.next()? {
            out.push(ForgetCandidate {
                id: r.get(0)?,
                score: 0.0,
                pinned: r.get::<_, Option<i64>>(1)?.unwrap_or(0) != 0,
                version: r.get(2)?,
            });
        }
    }
    Ok(out)
}

/// Legacy search rows as JSON objects (`score` is raw BM25 for text queries, decayed
/// importance for filter-only queries).
pub fn legacy_search(conn: &Connection, q: &LegacyQuery) -> Result<Vec<serde_json::Value>> {
    const COLS: &str =
        "m.id, m.content, m.created_at, m.who, m.importance, m.tags, m.type, m.pinned";
    let mut params = Vec::new();
    let fts_match = match q.keywords.as_ref().filter(|k| !k.is_empty()) {
        Some(k) => Some(super::cjk::index_and_match(conn, k)?),
        None => None,
    };
    let mut sql = match &fts_match {
        Some((fts, m)) => {
            params.push(Value::Text(m.clone()));
            format!(
                "SELECT {COLS}, bm25({fts}) AS score FROM {fts} \
                 JOIN memories m ON m.rowid = {fts}.rowid WHERE {fts} MATCH ?1 AND m.is_deleted = 0"
            )
        }
        None => format!(
            "SELECT {COLS}, CASE WHEN m.pinned = 1 THEN 1.0 ELSE COALESCE(m.importance, 0.5) * \
             MAX(0.1, POWER(0.95, CAST(julianday('now') - julianday(m.created_at) AS INTEGER))) END AS score \
             FROM memories m WHERE m.is_deleted = 0"
        ),
    };
    let order = match fts_match {
        Some(_) => " ORDER BY score ASC",
        None => " ORDER BY score DESC",
    };
    filter_order_limit(&mut sql, &mut params, &q.filters, order, q.limit);
    let mut stmt = conn.prepare_cached(&sql)?;
    let names: Vec<String> = stmt.column_names().map(|s| s.to_string()).collect();
    let rows = stmt
        .query_map(rusqlite::params_from_iter(params), |r| {
            let mut map = serde_json::Map::new();
            for (i, name) in names.iter().enumerate() {
                map.insert(name.clone(), super::read::value_to_json(r.get_ref(i)?));
            }
            Ok(serde_json::Value::Object(map))
        })
        .map_err(fts_error)?;
    rows.collect::<rusqlite::Result<_>>().map_err(fts_error)
}

/// Ends a search's SQL: the filters, `order`, then `LIMIT` bound as the last parameter.
fn filter_order_limit(
    sql: &mut String,
    params: &mut Vec<Value>,
    filters: &RecallFilters,
    order: &str,
    limit: usize,
) {
    push_filters(filters, sql, params);
    sql.push_str(order);
    params.push(Value::Integer(limit as i64));
    sql.push_str(&format!(" LIMIT ?{}", params.len()));
}

/// Distinct non-null `who` values of live memories, sorted.
pub fn distinct_who(conn: &Connection) -> Result<Vec<String>> {
    let mut stmt = conn.prepare_cached(
        "SELECT DISTINCT who FROM memories WHERE who IS NOT NULL AND is_deleted = 0 ORDER BY who",
    )?;
    let rows = stmt.query_map([], |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Ids of live memories matching `filters` (the vector leg's allow-list).
pub fn filter_ids(conn: &Connection, filters: &RecallFilters) -> Result<Vec<String>> {
    let mut sql = String::from("SELECT m.id FROM memories m WHERE m.is_deleted = 0");
    let mut params = Vec::new();
    push_filters(filters, &mut sql, &mut params);
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(rusqlite::params_from_iter(params), |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
