//! The keyword query's SQLite rendering. The query value ([`KeywordQuery`], [`Connective`])
//! is backend-neutral and lives in `signet_model::keyword` (re-exported here at its old path);
//! [`fts5`] turns it into an FTS5 `MATCH` string of quoted phrases, so no user text ever
//! reaches FTS5 as query syntax.

pub use signet_model::keyword::{Connective, KeywordQuery, is_cjk};

/// Whether any term holds a Chinese, Japanese or Korean character: such a query is answered
/// by the trigram index `memories_cjk` (migration 1004), where a term matches as a substring.
pub fn has_cjk(q: &KeywordQuery) -> bool {
    q.terms().iter().any(|(_, t)| t.chars().any(is_cjk))
}

/// The query in FTS5 syntax for the trigram index: a term of three or more characters is a
/// quoted phrase (a substring match); a shorter one, which no trigram equals, becomes the OR of
/// the indexed trigrams starting with it (`expand`; the index pads every text with two spaces,
/// so each character starts one) or, with none, a phrase that matches nothing. Runs joined by
/// `And` are parenthesised and joined by an explicit `AND` (FTS5 does not allow an implicit AND
/// next to a group), which keeps the precedence [`KeywordQuery`] documents.
pub fn trigram<E>(q: &KeywordQuery, mut expand: E) -> std::result::Result<String, crate::StoreError>
where
    E: FnMut(&str) -> std::result::Result<Vec<String>, crate::StoreError>,
{
    let quote = |t: &str| format!("\"{}\"", t.replace('"', "\"\""));
    let mut out = String::new();
    for (i, (c, term)) in q.terms().iter().enumerate() {
        if i > 0 {
            out.push_str(match c {
                Connective::And => " AND ",
                Connective::Or => ") OR (",
                Connective::Not => ") NOT (",
            });
        } else {
            out.push('(');
        }
        let term = term.to_lowercase();
        let grams = if term.chars().count() >= 3 {
            Vec::new()
        } else {
            expand(&term)?
        };
        if grams.is_empty() {
            out.push_str(&quote(&term));
        } else {
            let alts: Vec<String> = grams.iter().map(|g| quote(g)).collect();
            out.push('(');
            out.push_str(&alts.join(" OR "));
            out.push(')');
        }
    }
    if !out.is_empty() {
        out.push(')');
    }
    Ok(out)
}

/// The query in FTS5 syntax: each term a quoted phrase (inner `"` doubled), joined by a space
/// (implicit AND), ` OR ` or ` NOT `.
pub fn fts5(q: &KeywordQuery) -> String {
    let mut out = String::new();
    for (i, (c, term)) in q.terms().iter().enumerate() {
        if i > 0 {
            out.push_str(match c {
                Connective::And => " ",
                Connective::Or => " OR ",
                Connective::Not => " NOT ",
            });
        }
        out.push('"');
        out.push_str(&term.replace('"', "\"\""));
        out.push('"');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn renders_quoted_phrases_and_operators() {
        let mut q = KeywordQuery::all(["vim", "key\"bindings"]);
        q.push(Connective::Or, "emacs");
        q.push(Connective::Not, "nano");
        assert_eq!(fts5(&q), r#""vim" "key""bindings" OR "emacs" NOT "nano""#);
        let q = KeywordQuery::any(["", "!!", "a\0b"]);
        assert_eq!(fts5(&q), r#""a b""#);
    }

    #[test]
    fn trigram_rendering_groups_and_runs_and_expands_short_terms() {
        let mut q = KeywordQuery::all(["東京タワー", "猫"]);
        q.push(Connective::Or, "서울");
        q.push(Connective::Not, "Python");
        let r = trigram(&q, |t| {
            Ok(match t {
                "猫" => vec!["猫が好".to_owned(), "猫  ".to_owned()],
                _ => Vec::new(),
            })
        })
        .unwrap();
        assert_eq!(
            r,
            r#"("東京タワー" AND ("猫が好" OR "猫  ")) OR ("서울") NOT ("python")"#
        );
    }

    thread_local! {
        static FTS: rusqlite::Connection = {
            let c = rusqlite::Connection::open_in_memory().unwrap();
            c.execute_batch(
                "CREATE VIRTUAL TABLE t USING fts5(content); \
                 INSERT INTO t VALUES ('vim keybindings'), ('the OR AND NOT \"quoted\" words');",
            )
            .unwrap();
            c
        };
    }

    fn connective() -> impl Strategy<Value = Connective> {
        prop_oneof![
            Just(Connective::And),
            Just(Connective::Or),
            Just(Connective::Not)
        ]
    }

    proptest! {
        /// Whatever the terms hold — quotes, FTS operators, stars, carets, colons, NUL and
        /// other control characters, any Unicode — the rendering is valid FTS5 (run against a
        /// real FTS5 table).
        #[test]
        fn fts5_rendering_always_parses(
            terms in proptest::collection::vec(
                (connective(), "(\\PC|[\"*^:()\\-+{}\\[\\]\u{0}\u{1}\u{1b}\u{7f} ]|OR|AND|NOT|NEAR){0,12}"),
                0..8,
            )
        ) {
            let mut q = KeywordQuery::default();
            for (c, t) in &terms {
                q.push(*c, t);
            }
            prop_assume!(!q.is_empty());
            let rendered = fts5(&q);
            FTS.with(|c| {
                c.query_row("SELECT count(*) FROM t WHERE t MATCH ?1", [&rendered], |r| {
                    r.get::<_, i64>(0)
                })
            })
            .map_err(|e| TestCaseError::fail(format!("{rendered:?}: {e}")))?;
        }
    }
}
