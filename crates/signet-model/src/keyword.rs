//! The keyword query as a value. Callers (the core's query builders) say *what* to match —
//! plain phrases joined by AND, OR or NOT — and each backend renders it in its own syntax:
//! `signet_store::keyword::fts5` for SQLite, `tsquery` for PostgreSQL. No user text ever
//! reaches a backend as query syntax, so no input can make a keyword search fail to parse.
//!
//! # What a query matches
//!
//! A term matches a memory whose content holds the term's words consecutively, in order,
//! ignoring case (a phrase; words are runs of letters and digits, punctuation separates them).
//! Terms combine as FTS5 combines the SQLite rendering (`"a" "b"`, the implicit AND, for `And`;
//! `OR`; `NOT`), the first backend's behaviour: a run of terms joined by `And` groups first
//! (one conjunction), then `Not` (left-associative: the group before must match and the
//! group after must not), then `Or`. So `a OR b c` is `a OR (b AND c)`, `a OR b NOT c` is
//! `a OR (b AND NOT c)`, `a NOT b c` is `a AND NOT (b AND c)`, `a NOT b NOT c` is
//! `a AND NOT b AND NOT c`, and `a NOT b OR c` is `(a AND NOT b) OR c`. The conformance suite
//! checks each of these against every backend.

/// How a term joins the terms before it (with the precedence the module describes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Connective {
    /// Both must match (FTS5's implicit AND); binds tightest.
    And,
    /// Either side may match; binds loosest.
    Or,
    /// The group before must match and the group after must not.
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

    /// The terms with their connectives, in order; the first connective is always `And`.
    pub fn terms(&self) -> &[(Connective, String)] {
        &self.terms
    }
}

/// Whether `c` belongs to a script written without spaces between words — Han, Hiragana,
/// Katakana — or, like Hangul, with particles glued to its words: text that a word tokenizer
/// (FTS5's `unicode61`) cannot split into searchable words. Backends match terms holding such
/// characters as substrings (SQLite: a trigram index of the memories holding any).
pub fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x1100..=0x11FF      // Hangul Jamo
        | 0x3040..=0x30FF    // Hiragana, Katakana
        | 0x3130..=0x318F    // Hangul compatibility Jamo
        | 0x3400..=0x4DBF    // CJK unified ideographs extension A
        | 0x4E00..=0x9FFF    // CJK unified ideographs
        | 0xAC00..=0xD7AF    // Hangul syllables
        | 0xF900..=0xFAFF    // CJK compatibility ideographs
        | 0xFF66..=0xFF9F) // half-width Katakana
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cjk_scripts_are_recognised() {
        for c in ['東', '京', 'ひ', 'カ', '서', '울', 'ｶ'] {
            assert!(is_cjk(c), "{c}");
        }
        for c in ['a', 'é', 'ß', '1', ' ', '。', 'Я'] {
            assert!(!is_cjk(c), "{c}");
        }
    }

    #[test]
    fn terms_are_cleaned_and_empty_ones_skipped() {
        let q = KeywordQuery::any(["", "!!", "a\0b", " vim "]);
        let terms: Vec<_> = q.terms().iter().map(|(_, t)| t.as_str()).collect();
        assert_eq!(terms, ["a b", "vim"]);
        assert_eq!(q.terms()[1].0, Connective::Or);
        assert!(KeywordQuery::all(["\0", " "]).is_empty());
    }

    #[test]
    fn the_first_connective_is_always_and() {
        let mut q = KeywordQuery::default();
        q.push(Connective::Not, "first");
        q.push(Connective::Not, "second");
        assert_eq!(q.terms()[0], (Connective::And, "first".to_owned()));
        assert_eq!(q.terms()[1].0, Connective::Not);
    }
}
