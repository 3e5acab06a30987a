//! Keyword search for queries holding Chinese, Japanese or Korean text, over the trigram index
//! `memories_cjk` (migration 1004) instead of `memories_fts`, whose `unicode61` tokenizer
//! cannot split those scripts into words.
//!
//! Every term matches as a substring of a memory's content (case-insensitively). A term of one
//! or two characters, shorter than a trigram, is looked up in the index's term list
//! (`memories_cjk_vocab`, a range scan) and becomes the OR of the trigrams starting with it.
//! The index holds only memories with CJK text; for an any-word query the terms without CJK
//! are also asked of `memories_fts`, so `東京 OR python` still finds English memories about
//! python. Filters, scopes and the deleted flag apply exactly as in the main keyword search.

use rusqlite::Connection;
use rusqlite::types::Value;

use super::search::push_filters;
use super::{KeywordHit, RecallFilters};
use crate::error::Result;
use crate::keyword::{Connective, KeywordQuery, is_cjk, trigram};

/// Most trigrams one short term expands to (the commonest characters start thousands).
const MAX_EXPANSION: usize = 200;

/// Hits for `query` (which [`crate::keyword::has_cjk`]), best first, at most `limit`.
pub fn keyword_search(
    conn: &Connection,
    query: &KeywordQuery,
    filters: &RecallFilters,
    limit: usize,
) -> Result<Vec<KeywordHit>> {
    let fts_match = trigram(query, |t| expand(conn, t))?;
    let mut hits = ranked(conn, &fts_match, filters, limit)?;
    let any_word = query.terms()[1..].iter().all(|(c, _)| *c == Connective::Or);
    if any_word {
        let latin = KeywordQuery::any(
            query
                .terms()
                .iter()
                .map(|(_, t)| t.as_str())
                .filter(|t| !t.chars().any(is_cjk)),
        );
        if !latin.is_empty() {
            let more = super::search::keyword_search(conn, &latin, filters, limit)?;
            merge(&mut hits, more, limit);
        }
    }
    Ok(hits)
}

/// The full-text table that answers `query` and its `MATCH` string: the trigram index for a
/// query with CJK terms, `memories_fts` otherwise (for batch forget and the legacy search,
/// which rank one table's BM25 and do not merge the two).
pub(crate) fn index_and_match(
    conn: &Connection,
    query: &KeywordQuery,
) -> Result<(&'static str, String)> {
    Ok(if crate::keyword::has_cjk(query) {
        ("memories_cjk", trigram(query, |t| expand(conn, t))?)
    } else {
        ("memories_fts", crate::keyword::fts5(query))
    })
}

/// Adds `more` to `hits` (ids already there keep their place), best `|bm25|` first.
fn merge(hits: &mut Vec<KeywordHit>, more: Vec<KeywordHit>, limit: usize) {
    let seen: std::collections::HashSet<String> = hits.iter().map(|h| h.id.clone()).collect();
    hits.extend(more.into_iter().filter(|h| !seen.contains(&h.id)));
    hits.sort_by(|a, b| b.bm25.abs().total_cmp(&a.bm25.abs()));
    hits.truncate(limit);
}

/// The indexed trigrams starting with `prefix` (a one- or two-character term).
fn expand(conn: &Connection, prefix: &str) -> Result<Vec<String>> {
    let upper = format!("{prefix}{}", char::MAX);
    let mut stmt = conn.prepare_cached(
        "SELECT term FROM memories_cjk_vocab WHERE term >= ?1 AND term < ?2 LIMIT ?3",
    )?;
    let rows = stmt.query_map(
        rusqlite::params![prefix, upper, MAX_EXPANSION as i64],
        |r| r.get(0),
    )?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

fn ranked(
    conn: &Connection,
    fts_match: &str,
    filters: &RecallFilters,
    limit: usize,
) -> Result<Vec<KeywordHit>> {
    let mut params = vec![Value::Text(fts_match.to_owned())];
    let mut sql = String::from(
        "SELECT m.id, bm25(memories_cjk) AS s, m.rowid FROM memories_cjk \
         JOIN memories m ON m.rowid = memories_cjk.rowid \
         WHERE memories_cjk MATCH ?1 AND m.is_deleted = 0",
    );
    push_filters(filters, &mut sql, &mut params);
    params.push(Value::Integer(limit as i64));
    sql.push_str(&format!(" ORDER BY s LIMIT ?{}", params.len()));
    super::search::hits(conn, &sql, params)
}
