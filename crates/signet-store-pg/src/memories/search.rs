//! Keyword search over the `tsv` column (GIN index), forget candidates, the legacy search and
//! the filters they share.
//!
//! # The keyword query as SQL
//!
//! No user text ever reaches `to_tsquery`'s syntax. Each term of the [`KeywordQuery`] is bound
//! as a parameter and becomes `phraseto_tsquery('simple', signet_fts_text($n))`: PostgreSQL's
//! own parser splits it into lexemes and joins them as a phrase (`<->`), so quotes, `&`, `|`,
//! `!`, `:*` or parentheses in the text are words or separators, never operators. The
//! connectives are SQL, not tsquery: a term is the test `m.tsv @@ <its tsquery>`, a run of
//! `And` terms their `AND`, a `Not` group `AND NOT (...)`, and `Or` an `OR` of the groups, which
//! is the precedence [`signet_model::keyword`] documents. A term PostgreSQL finds no lexeme in
//! (only symbols such as `½`) is an empty tsquery, which matches nothing, as on SQLite.
//!
//! Terms holding Chinese, Japanese or Korean text (one "word" to the parser, whole sentences
//! long) match as case-insensitive substrings of the content instead, as SQLite's trigram
//! index does.
//!
//! # Ranking
//!
//! BM25-like: each positive term (not under a `Not`) adds `idf * ts_rank_cd(tsv, term, 1)`,
//! with `idf = ln(1 + (N - df + 0.5) / (df + 0.5))` over the table's rows (deleted ones too, as
//! FTS5's statistics count them; `N` the planner's row estimate, `df` one index probe per
//! term, both computed once per statement in the `s` row) — so a memory holding more of the query's terms, and rarer
//! ones, ranks first — and `ts_rank_cd`'s cover density with length normalisation (1: divided
//! by 1 + log(length)) standing in for BM25's saturated term frequency. The hit's `bm25` is
//! the negated score (negative, best first), as the trait asks.

use postgres::GenericClient;
use signet_model::keyword::{Connective, KeywordQuery, is_cjk};
use signet_model::memories::{
    CandidateQuery, ForgetCandidate, KeywordHit, LegacyQuery, RecallFilters,
};
use signet_model::{Result, StoreError};

use crate::error::PgResultExt;
use crate::sql::{Params, count};

/// A keyword query rendered for one statement: its statistics, its match test and its score,
/// over the alias `m` and the one-row statistics `s`, with the terms bound in the statement's
/// [`Params`].
pub(crate) struct Rendered {
    /// `WITH s AS MATERIALIZED (...) `: the row count and each positive term's document
    /// count, computed once per statement; the statement joins `s` (`CROSS JOIN s`).
    pub(crate) with: String,
    /// A boolean SQL expression: the memory matches the query.
    pub(crate) matches: String,
    /// A double precision SQL expression, larger for a better match (positive for a match).
    pub(crate) score: String,
}

/// One term's SQL.
struct Term {
    /// The memory `m` matches the term.
    test: String,
    /// How many rows of `memories` match it.
    df: String,
    /// The term's weight in `m` (its term-frequency part).
    rank: String,
}

fn term_sql(term: &str, params: &mut Params) -> Term {
    let p = params.bind(term.to_owned());
    if term.chars().any(is_cjk) {
        let test = format!("(strpos(lower(m.content), lower({p}::text)) > 0)");
        return Term {
            df: format!(
                "(SELECT count(*) FROM memories x WHERE strpos(lower(x.content), lower({p}::text)) > 0)"
            ),
            rank: format!("(CASE WHEN {test} THEN 0.1 ELSE 0 END)"),
            test,
        };
    }
    let tq = format!("phraseto_tsquery('simple', signet_fts_text({p}::text))");
    Term {
        test: format!("(m.tsv @@ {tq})"),
        df: format!("(SELECT count(*) FROM memories x WHERE x.tsv @@ {tq})"),
        rank: format!("ts_rank_cd(m.tsv, {tq}, 1)::float8"),
    }
}

/// The row count BM25's idf needs: the planner's estimate (`pg_class.reltuples`, kept by
/// autovacuum) when there is one, so a search never counts the table; else an exact count
/// (a table never analyzed, which is a small one).
const ROWS: &str = "(SELECT CASE WHEN c.reltuples > 0 THEN c.reltuples::float8 \
    ELSE (SELECT count(*) FROM memories)::float8 END \
    FROM pg_class c WHERE c.oid = 'memories'::regclass)";

/// Renders `q` (not empty) into statistics, a match test and a score.
pub(crate) fn render(q: &KeywordQuery, params: &mut Params) -> Rendered {
    // Or-groups of Not-separated runs of And-joined terms.
    let mut groups: Vec<Vec<Vec<Term>>> = Vec::new();
    for (c, term) in q.terms() {
        let sql = term_sql(term, params);
        match (c, groups.last_mut()) {
            (Connective::Or, _) | (_, None) => groups.push(vec![vec![sql]]),
            (Connective::Not, Some(g)) => g.push(vec![sql]),
            (Connective::And, Some(g)) => match g.last_mut() {
                Some(run) => run.push(sql),
                None => g.push(vec![sql]),
            },
        }
    }
    let mut ors = Vec::with_capacity(groups.len());
    let (mut stats, mut scores) = (vec![format!("{ROWS} AS n")], Vec::new());
    for group in &groups {
        let mut parts = Vec::with_capacity(group.len());
        for (i, run) in group.iter().enumerate() {
            let all: Vec<&str> = run.iter().map(|t| t.test.as_str()).collect();
            let all = format!("({})", all.join(" AND "));
            if i > 0 {
                parts.push(format!("NOT {all}"));
                continue;
            }
            parts.push(all);
            for t in run {
                let d = format!("s.d{}", scores.len());
                stats.push(format!("{}::float8 AS d{}", t.df, scores.len()));
                // idf = ln(1 + (N - df + 0.5) / (df + 0.5)), N never below df (an estimate
                // can lag behind the table).
                scores.push(format!(
                    "(ln(1.0 + (GREATEST(s.n, {d}) - {d} + 0.5) / ({d} + 0.5)) * {})",
                    t.rank
                ));
            }
        }
        ors.push(format!("({})", parts.join(" AND ")));
    }
    Rendered {
        with: format!("WITH s AS MATERIALIZED (SELECT {}) ", stats.join(", ")),
        matches: format!("({})", ors.join(" OR ")),
        score: format!("({})", scores.join(" + ")),
    }
}

/// Appends `AND ...` on `m` for every set filter, binding the values.
pub(crate) fn push_filters(filters: &RecallFilters, sql: &mut String, params: &mut Params) {
    if let Some(t) = &filters.memory_type {
        sql.push_str(&format!(" AND m.type = {}", params.bind(t.clone())));
    }
    for tag in &filters.tags {
        let p = params.bind(format!("%{}%", escape_like(tag)));
        sql.push_str(&format!(" AND m.tags ILIKE {p} ESCAPE '\\'"));
    }
    if let Some(w) = &filters.who {
        sql.push_str(&format!(" AND m.who = {}", params.bind(w.clone())));
    }
    if filters.pinned_only {
        sql.push_str(" AND m.pinned = true");
    }
    if let Some(i) = filters.importance_min {
        sql.push_str(&format!(" AND m.importance >= {}", params.bind(i)));
    }
    if let Some(s) = &filters.since {
        sql.push_str(&format!(" AND m.created_at >= {}", params.bind(s.clone())));
    }
    if let Some(u) = &filters.until {
        sql.push_str(&format!(" AND m.created_at <= {}", params.bind(u.clone())));
    }
    if let Some(p) = &filters.project {
        sql.push_str(&format!(" AND m.project = {}", params.bind(p.clone())));
    }
    if let Some(s) = &filters.source_type {
        sql.push_str(&format!(" AND m.source_type = {}", params.bind(s.clone())));
    }
    if let Some(u) = &filters.scope_user {
        sql.push_str(&format!(" AND m.scope_user = {}", params.bind(u.clone())));
    }
}

fn escape_like(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// Live memories matching `query` and the filters, best first (none for an empty query).
pub(crate) fn keyword_search(
    c: &mut impl GenericClient,
    query: &KeywordQuery,
    filters: &RecallFilters,
    limit: usize,
) -> Result<Vec<KeywordHit>> {
    if query.is_empty() || limit == 0 {
        return Ok(Vec::new());
    }
    let mut params = Params::default();
    let q = render(query, &mut params);
    let mut sql = format!(
        "{with}SELECT m.id, -GREATEST({score}, 1e-12) AS bm25 FROM memories m CROSS JOIN s \
         WHERE m.is_deleted = false AND {matches}",
        with = q.with,
        score = q.score,
        matches = q.matches,
    );
    push_filters(filters, &mut sql, &mut params);
    sql.push_str(&format!(
        " ORDER BY bm25 ASC, m.id LIMIT {}",
        params.bind(count(limit))
    ));
    let rows = c.query(&sql, &params.refs()).map_err(search_error)?;
    Ok(rows
        .iter()
        .map(|r| KeywordHit {
            id: r.get(0),
            bm25: r.get(1),
            position: None,
        })
        .collect())
}

/// A search that fails is the store's failure: the rendering above cannot produce a syntax
/// error, so none is blamed on the query.
fn search_error(e: postgres::Error) -> StoreError {
    crate::error::map(e)
}

/// Candidates for batch forget: by ids (request order), by keyword query, or by filters.
pub(crate) fn forget_candidates(
    c: &mut impl GenericClient,
    q: &CandidateQuery,
) -> Result<Vec<ForgetCandidate>> {
    if !q.ids.is_empty() {
        return candidates_by_ids(c, q);
    }
    let mut params = Params::default();
    let keywords = q.keywords.as_ref().filter(|k| !k.is_empty());
    let (mut sql, order) = match keywords {
        Some(k) => {
            let r = render(k, &mut params);
            (
                format!(
                    "{}SELECT m.id, GREATEST({}, 1e-12) AS score, COALESCE(m.pinned, false), \
                     COALESCE(m.version, 1) FROM memories m CROSS JOIN s \
                     WHERE m.is_deleted = false AND {}",
                    r.with, r.score, r.matches
                ),
                " ORDER BY score DESC, m.id",
            )
        }
        None => (
            "SELECT m.id, 0.0::float8 AS score, COALESCE(m.pinned, false), COALESCE(m.version, 1) \
             FROM memories m WHERE m.is_deleted = false"
                .to_owned(),
            " ORDER BY m.pinned DESC NULLS LAST, m.importance DESC NULLS LAST, m.updated_at DESC, m.id",
        ),
    };
    push_filters(&q.filters, &mut sql, &mut params);
    sql.push_str(order);
    sql.push_str(&format!(" LIMIT {}", params.bind(count(q.limit))));
    let rows = c.query(&sql, &params.refs()).map_err(search_error)?;
    Ok(rows
        .iter()
        .map(|r| {
            let score: f64 = r.get(1);
            ForgetCandidate {
                id: r.get(0),
                score: if score == 0.0 {
                    0.0
                } else {
                    1.0 / (1.0 + score)
                },
                pinned: r.get(2),
                version: r.get(3),
            }
        })
        .collect())
}

fn candidates_by_ids(
    c: &mut impl GenericClient,
    q: &CandidateQuery,
) -> Result<Vec<ForgetCandidate>> {
    let wanted: Vec<String> = q.ids.iter().take(q.limit).cloned().collect();
    let mut params = Params::default();
    let mut sql = format!(
        "SELECT m.id, COALESCE(m.pinned, false), COALESCE(m.version, 1) FROM memories m \
         WHERE m.id = ANY({}) AND m.is_deleted = false",
        params.bind(wanted.clone())
    );
    push_filters(&q.filters, &mut sql, &mut params);
    let rows = c.query(&sql, &params.refs()).pg()?;
    let found: std::collections::HashMap<String, (bool, i64)> = rows
        .iter()
        .map(|r| (r.get(0), (r.get(1), r.get(2))))
        .collect();
    Ok(wanted
        .into_iter()
        .filter_map(|id| {
            let (pinned, version) = *found.get(&id)?;
            Some(ForgetCandidate {
                id,
                score: 0.0,
                pinned,
                version,
            })
        })
        .collect())
}

/// Legacy search rows (`score`: the negated keyword score, as SQLite's raw bm25, for text
/// queries; the decayed importance for filter-only ones).
pub(crate) fn legacy_search(
    c: &mut impl GenericClient,
    q: &LegacyQuery,
) -> Result<Vec<serde_json::Value>> {
    const COLS: &str = "m.id, m.content, m.created_at, m.who, m.importance, m.tags, m.type, \
        COALESCE(m.pinned, false)";
    let mut params = Params::default();
    let (mut sql, order) = match q.keywords.as_ref().filter(|k| !k.is_empty()) {
        Some(k) => {
            let r = render(k, &mut params);
            (
                format!(
                    "{}SELECT {COLS}, -GREATEST({}, 1e-12) AS score FROM memories m CROSS JOIN s \
                     WHERE m.is_deleted = false AND {}",
                    r.with, r.score, r.matches
                ),
                " ORDER BY score ASC, m.id",
            )
        }
        None => (
            format!(
                "SELECT {COLS}, CASE WHEN m.pinned THEN 1.0::float8 ELSE \
                 COALESCE(m.importance, 0.5) * GREATEST(0.1, power(0.95, floor( \
                   extract(epoch FROM now() - m.created_at::timestamptz) / 86400.0)))::float8 \
                 END AS score FROM memories m WHERE m.is_deleted = false"
            ),
            " ORDER BY score DESC, m.id",
        ),
    };
    push_filters(&q.filters, &mut sql, &mut params);
    sql.push_str(order);
    sql.push_str(&format!(" LIMIT {}", params.bind(count(q.limit))));
    let rows = c.query(&sql, &params.refs()).map_err(search_error)?;
    Ok(rows
        .iter()
        .map(|r| {
            serde_json::json!({
                "id": r.get::<_, String>(0),
                "content": r.get::<_, String>(1),
                "created_at": r.get::<_, String>(2),
                "who": r.get::<_, Option<String>>(3),
                "importance": r.get::<_, Option<f64>>(4),
                "tags": r.get::<_, Option<String>>(5),
                "type": r.get::<_, String>(6),
                "pinned": i64::from(r.get::<_, bool>(7)),
                "score": r.get::<_, f64>(8),
            })
        })
        .collect())
}

/// Ids of live memories matching `filters`.
pub(crate) fn filter_ids(
    c: &mut impl GenericClient,
    filters: &RecallFilters,
) -> Result<Vec<String>> {
    let mut sql = String::from("SELECT m.id FROM memories m WHERE m.is_deleted = false");
    let mut params = Params::default();
    push_filters(filters, &mut sql, &mut params);
    let rows = c.query(&sql, &params.refs()).pg()?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}
