//! Tokens exactly as `memories_fts` (FTS5, `unicode61`, `remove_diacritics 1`) sees them.
//!
//! ASCII text is tokenized here: FTS5's ASCII token characters are `[0-9A-Za-z]`, everything
//! else separates, and `A-Z` fold to lowercase. Text with any non-ASCII byte goes through FTS5
//! itself, on a private in-memory database (`fts5vocab` lists the tokens of one row), so
//! Unicode categories, case folding and diacritics are FTS5's own, never an approximation.

use std::collections::HashMap;

use rusqlite::Connection;

use crate::error::Result;

/// A document's tokens: each distinct term with its count, and the total number of tokens
/// (FTS5's column size).
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Tokens {
    pub terms: Vec<(String, u32)>,
    pub len: u32,
}

/// Tokenizes `text` as FTS5 does; `exact` tokenizes non-ASCII text with FTS5 itself.
pub(crate) fn tokens(text: &str, exact: &Exact) -> Result<Tokens> {
    Ok(if text.is_ascii() {
        counted(ascii_tokens(text))
    } else {
        counted(exact.tokens(text)?.into_iter())
    })
}

/// Each distinct token with its count, and how many there were.
pub(crate) fn counted(tokens: impl Iterator<Item = String>) -> Tokens {
    let mut counts: HashMap<String, u32> = HashMap::new();
    let mut len = 0u32;
    for t in tokens {
        len += 1;
        *counts.entry(t).or_default() += 1;
    }
    let mut terms: Vec<(String, u32)> = counts.into_iter().collect();
    terms.sort_unstable();
    Tokens { terms, len }
}

/// FTS5 `unicode61`'s tokens of ASCII text, lowercased.
pub(crate) fn ascii_tokens(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|t| !t.is_empty())
        .map(|t| t.to_ascii_lowercase())
}

/// FTS5's own tokenizer, on a private in-memory table.
pub(crate) struct Exact {
    conn: Connection,
}

impl Exact {
    pub(crate) fn new() -> Result<Self> {
        let conn = Connection::open_in_memory()?;
        conn.execute_batch(
            "CREATE VIRTUAL TABLE t USING fts5(content);
             CREATE VIRTUAL TABLE v USING fts5vocab(t, 'instance');",
        )?;
        Ok(Self { conn })
    }

    /// Every token of `text`, in order, as `memories_fts` stores it.
    pub(crate) fn tokens(&self, text: &str) -> Result<Vec<String>> {
        let tx = self.conn.unchecked_transaction()?;
        tx.prepare_cached("INSERT INTO t(rowid, content) VALUES (1, ?1)")?
            .execute([text])?;
        let out = tx
            .prepare_cached("SELECT term FROM v ORDER BY \"offset\"")?
            .query_map([], |r| r.get::<_, String>(0))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        // Rolled back: the table stays empty, ready for the next text.
        drop(tx);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sqlite_tokens(text: &str) -> Vec<String> {
        Exact::new().unwrap().tokens(text).unwrap()
    }

    #[test]
    fn ascii_tokens_are_fts5s() {
        for text in [
            "Hello, World! user_prefers dark-mode; v1.2.3 (note 42)",
            "don't  stop\tme\nnow -- e-mail@example.com #tag $100 50%",
            "",
            "   ",
            "ALLCAPS MiXeD 0x1F",
        ] {
            let ours: Vec<String> = ascii_tokens(text).collect();
            assert_eq!(ours, sqlite_tokens(text), "{text:?}");
        }
    }

    #[test]
    fn non_ascii_text_goes_through_fts5_itself() {
        let exact = Exact::new().unwrap();
        let t = tokens("Café naïve CAFÉ 東京 straße", &exact).unwrap();
        assert_eq!(
            t.len,
            sqlite_tokens("Café naïve CAFÉ 東京 straße").len() as u32
        );
        assert!(t.terms.contains(&("cafe".into(), 2)), "{t:?}");
        assert!(t.terms.contains(&("naive".into(), 1)), "{t:?}");
        // The table is empty again after each call.
        let n: i64 = exact
            .conn
            .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 0);
    }
}
