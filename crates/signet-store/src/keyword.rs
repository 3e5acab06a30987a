//! The keyword query as a value. Callers (the core's query builders) say *what* to match —
//! plain phrases joined by AND, OR or NOT — and each backend renders it in its own syntax:
//! [`fts5`] for SQLite here, `tsquery` for PostgreSQL later. No user text ever reaches a backend
//! as query syntax, so no input can make a keyword search fail to parse.

/// How a term joins the terms before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Connective {
    /// Both must match (FTS5's implicit AND).
    And,
    /// Either may match.
    Or,
    /// The terms before must match and this one must not.
    Not,
}

/// A keyword query: phrases (each matched as a phrase of its words) with the connective that
/// joins each to the ones before it. The first term's connective is ignored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeywordQuery {
    terms: Vec<(Connective, String)>,
}

impl KeywordQuery {
    /// Adds `term` joined by `connective`. Control characters become spaces; a term with no
    /// letter or digit left is skipped (it could match nothing).
    pub fn push(&mut self, connective: Connective, term: &str) {
        let clean: String = term
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        let clean = clean.trim();
        if clean.chars().any(char::is_alphanumeric) {
            let connective = if self.terms.is_empty() {
                Connective::And
            } else {
                connective
            };
            self.terms.push((connective, clean.to_owned()));
        }
    }

    /// Every term must match.
    pub fn all<'a>(terms: impl IntoIterator<Item = &'a str>) -> Self {
        Self::joined(Connective::And, terms)
    }

    /// Any term may match (BM25 ranks documents matching more, and rarer, terms first).
    pub fn any<'a>(terms: impl IntoIterator<Item = &'a str>) -> Self {
        Self::joined(Connective::Or, terms)
    }

    fn joined<'a>(c: Connective, terms: impl IntoIterator<Item = &'a str>) -> Self {
        let mut q = Self::default();
        for t in terms {
            q.push(c, t);
        }
        q
    }

    /// Whether the query has no term (it would match nothing; backends are not asked).
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// The terms with their connectives, in order.
    pub fn terms(&self) -> &[(Connective, String)] {
        &self.terms
    }
}

/// The query in FTS5 syntax: each term a quoted phrase (inner `"` doubled), joined by a space
/// (implicit AND), ` OR ` or ` NOT `.
pub fn fts5(q: &KeywordQuery) -> String {
    let mut out = String::new();
    for (i, (c, term)) in q.terms.iter().enumerate() {
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
        assert!(KeywordQuery::all(["\0", " "]).is_empty());
        let mut q = KeywordQuery::default();
        q.push(Connective::Not, "first");
        assert_eq!(q.terms()[0].0, Connective::And);
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
