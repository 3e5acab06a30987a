//! Pure text rules of the write and search paths: normalisation and hashing, the `critical:`
//! and `[tags]:` prefixes, type inference, sentence chunking and safe FTS5 query building.

use sha2::{Digest, Sha256};
use signet_model::{Connective, KeywordQuery};

/// JavaScript's `\s` also matches U+FEFF; Rust's `char::is_whitespace` does not.
fn is_js_space(c: char) -> bool {
    c.is_whitespace() || c == '\u{feff}'
}

/// The three forms of a memory's text the database keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Normalized {
    /// Trimmed, every whitespace run collapsed to one space: what `content` stores.
    pub storage: String,
    /// Lowercased storage form without one trailing run of `.,!?;:`.
    pub normalized: String,
    /// sha256 (lowercase hex) of the normalised form: the dedup key.
    pub hash: String,
}

/// Normalises `raw`; `None` when nothing but whitespace is left.
pub fn normalize(raw: &str) -> Option<Normalized> {
    let storage = raw
        .split(is_js_space)
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    if storage.is_empty() {
        return None;
    }
    let lower = storage.to_lowercase();
    let normalized = lower
        .trim_end_matches(['.', ',', '!', '?', ';', ':'])
        .trim_matches(is_js_space)
        .to_owned();
    let basis = if normalized.is_empty() {
        lower
    } else {
        normalized
    };
    let hash = hex::encode(Sha256::digest(basis.as_bytes()));
    Some(Normalized {
        storage,
        normalized: basis,
        hash,
    })
}

/// What the prefixes of a remembered text say.
#[derive(Debug, Clone, PartialEq)]
pub struct Prefixed {
    pub content: String,
    pub pinned: bool,
    pub importance: f64,
    pub tags: Option<String>,
}

/// Parses `critical:` (pins, importance 1.0) and then `[a, b]:` (lowercased tags).
pub fn parse_prefixes(raw: &str) -> Prefixed {
    let mut content = raw.trim();
    let critical = content
        .get(..9)
        .is_some_and(|p| p.eq_ignore_ascii_case("critical:"));
    if critical {
        content = content[9..].trim();
    }
    let mut tags = None;
    if let Some((list, rest)) = split_tag_prefix(content) {
        tags = Some(list);
        content = rest;
    }
    Prefixed {
        content: content.to_owned(),
        pinned: critical,
        importance: if critical { 1.0 } else { 0.8 },
        tags,
    }
}

/// `[a, B ,]: rest` → ("a,b", "rest"); `None` when the text has no such prefix.
fn split_tag_prefix(s: &str) -> Option<(String, &str)> {
    let inner_end = s.strip_prefix('[')?.find(']')? + 1;
    let inner = &s[1..inner_end];
    let rest = s[inner_end + 1..].strip_prefix(':')?.trim_start();
    if inner.is_empty() || rest.is_empty() {
        return None;
    }
    Some((clean_tags(inner.split(','), true)?, rest.trim()))
}

/// Trims each tag, drops empty ones, joins with `,`; `None` when none is left.
pub fn clean_tags<'a>(parts: impl Iterator<Item = &'a str>, lowercase: bool) -> Option<String> {
    let tags: Vec<String> = parts
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(|t| {
            if lowercase {
                t.to_lowercase()
            } else {
                t.to_owned()
            }
        })
        .collect();
    (!tags.is_empty()).then(|| tags.join(","))
}

/// Infers a memory type from keywords, first match wins (upstream's table, substrings and all).
pub fn infer_type(content: &str) -> &'static str {
    const RULES: [(&[&str], &str); 5] = [
        (&["prefer", "likes", "want"], "preference"),
        (&["decided", "agreed", "will use"], "decision"),
        (&["learned", "discovered", "til "], "learning"),
        (&["bug", "issue", "broken"], "issue"),
        (&["never", "always", "must"], "rule"),
    ];
    let lower = content.to_lowercase();
    RULES
        .iter()
        .find(|(words, _)| words.iter().any(|w| lower.contains(w)))
        .map_or("fact", |(_, t)| t)
}

/// Splits long text into chunks of about `target` characters along sentence ends.
pub fn chunk_sentences(text: &str, target: usize) -> Vec<String> {
    let target = target.max(1);
    let mut pieces = Vec::new();
    for sentence in split_sentences(text) {
        if sentence.chars().count() > 2 * target {
            pieces.extend(split_words(sentence, target));
        } else {
            pieces.push(sentence.to_owned());
        }
    }
    let mut chunks: Vec<String> = Vec::new();
    let mut current = String::new();
    for piece in pieces {
        let joined_len = current.chars().count() + 1 + piece.chars().count();
        if !current.is_empty() && joined_len > target {
            chunks.push(std::mem::take(&mut current));
        }
        if !current.is_empty() {
            current.push(' ');
        }
        current.push_str(&piece);
    }
    chunks.push(current);
    chunks
        .into_iter()
        .map(|c| c.trim().to_owned())
        .filter(|c| !c.is_empty())
        .collect()
}

/// Splits a sentence too long for one chunk into pieces of at most `target` characters at
/// word boundaries; only a single word longer than `target` is cut inside.
pub(crate) fn split_words(sentence: &str, target: usize) -> Vec<String> {
    let mut pieces = Vec::new();
    let mut current = String::new();
    let mut len = 0;
    for word in sentence.split(is_js_space).filter(|w| !w.is_empty()) {
        let n = word.chars().count();
        if len > 0 && len + 1 + n > target {
            pieces.push(std::mem::take(&mut current));
            len = 0;
        }
        if n > target {
            let chars: Vec<char> = word.chars().collect();
            let mut parts = chars.chunks(target).map(|c| c.iter().collect::<String>());
            let last = parts.next_back();
            pieces.extend(parts);
            current = last.unwrap_or_default();
            len = current.chars().count();
            continue;
        }
        if len > 0 {
            current.push(' ');
            len += 1;
        }
        current.push_str(word);
        len += n;
    }
    if !current.is_empty() {
        pieces.push(current);
    }
    pieces
}

/// Splits after `.`, `!` or `?` followed by whitespace (the whitespace is dropped).
pub(crate) fn split_sentences(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let next_is_space = chars.peek().is_some_and(|(_, n)| is_js_space(*n));
        if matches!(c, '.' | '!' | '?') && next_is_space {
            out.push(&text[start..i + c.len_utf8()]);
            while chars.peek().is_some_and(|(_, n)| is_js_space(*n)) {
                chars.next();
            }
            start = chars.peek().map_or(text.len(), |(j, _)| *j);
        }
    }
    if start < text.len() {
        out.push(&text[start..]);
    }
    out
}

/// The keyword query of user text, as upstream sanitises it: every word (split on whitespace
/// and control characters) becomes a phrase with `" : ( ) ^ *` removed, `OR` / `AND` / `NOT`
/// between words stay connectives, and a connective with no word on one side is dropped.
/// Being a value, it can never be a query syntax error in any backend. `None` = no words.
pub fn keyword_query(text: &str) -> Option<KeywordQuery> {
    let mut q = KeywordQuery::default();
    let mut pending = Connective::And;
    let separator = |c: char| is_js_space(c) || c.is_control();
    for token in text.split(separator).filter(|t| !t.is_empty()) {
        let connective = match token {
            "OR" => Some(Connective::Or),
            "AND" => Some(Connective::And),
            "NOT" => Some(Connective::Not),
            _ => None,
        };
        if let Some(c) = connective {
            pending = c;
            continue;
        }
        let word: String = token
            .chars()
            .filter(|c| !matches!(c, '"' | ':' | '(' | ')' | '^' | '*'))
            .collect();
        let before = q.terms().len();
        q.push(pending, &word);
        if q.terms().len() > before {
            pending = Connective::And;
        }
    }
    (!q.is_empty()).then_some(q)
}

/// Words too common to help a keyword search (used only by the any-word query).
pub(crate) const STOPWORDS: &[&str] = &[
    "a", "about", "an", "and", "are", "as", "at", "be", "but", "by", "can", "did", "do", "does",
    "for", "from", "had", "has", "have", "he", "her", "his", "how", "i", "if", "in", "is", "it",
    "its", "me", "my", "of", "on", "or", "our", "she", "so", "that", "the", "their", "them",
    "they", "this", "to", "was", "we", "were", "what", "when", "where", "which", "who", "why",
    "will", "with", "would", "you", "your",
];

/// An any-word query (`a OR b`) over the non-stopword words of `text`; BM25 then ranks
/// documents matching more (and rarer) words first. `None` when no word is left.
pub fn keyword_query_any(text: &str) -> Option<KeywordQuery> {
    let mut seen = std::collections::HashSet::new();
    let words: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric() && c != '\'' && c != '-')
        .map(|w| {
            w.trim_matches(|c: char| !c.is_alphanumeric())
                .to_lowercase()
        })
        .filter(|w| !w.is_empty() && !STOPWORDS.contains(&w.as_str()) && seen.insert(w.clone()))
        .collect();
    let q = KeywordQuery::any(words.iter().map(String::as_str));
    (!q.is_empty()).then_some(q)
}

/// Cuts `s` to `max` characters, appending " [truncated]" when it was longer.
pub fn truncate_chars(s: &str, max: usize) -> (String, bool) {
    if s.len() <= max {
        // No more bytes than `max`, so no more characters.
        return (s.to_owned(), false);
    }
    match s.char_indices().nth(max) {
        Some((i, _)) => (format!("{} [truncated]", &s[..i]), true),
        None => (s.to_owned(), false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use signet_store::keyword::fts5;

    /// The SQLite rendering of the query builders (the store renders them this way).
    fn fts_query(text: &str) -> Option<String> {
        keyword_query(text).map(|q| fts5(&q))
    }

    fn fts_query_any(text: &str) -> Option<String> {
        keyword_query_any(text).map(|q| fts5(&q))
    }

    #[test]
    fn control_characters_never_reach_fts() {
        assert_eq!(fts_query("vim\0keys").as_deref(), Some("\"vim\" \"keys\""));
        assert_eq!(fts_query("\0\u{1}\u{7f}"), None);
        for q in [fts_query("a\0b\u{1b}c"), fts_query_any("a\0b\u{1b}c")] {
            assert!(!q.unwrap().chars().any(char::is_control));
        }
    }

    #[test]
    fn normalizes_like_upstream() {
        let n = normalize("  Hello\n\tWorld!!  ").unwrap();
        assert_eq!(n.storage, "Hello World!!");
        assert_eq!(n.normalized, "hello world");
        assert_eq!(n.hash, hex::encode(Sha256::digest(b"hello world")));
        assert_eq!(normalize(" \u{feff}\n ").map(|n| n.storage), None);
        // Only punctuation: the hash basis falls back to the lowercased storage form.
        assert_eq!(normalize("?!").unwrap().normalized, "?!");
        assert_eq!(normalize("a\u{feff}b").unwrap().storage, "a b");
    }

    #[test]
    fn dedup_key_ignores_case_spacing_and_trailing_punctuation() {
        let a = normalize("The coffee machine is named Brewster.").unwrap();
        let b = normalize("the  COFFEE machine is named brewster!!").unwrap();
        assert_eq!(a.hash, b.hash);
        assert_ne!(a.storage, b.storage);
    }

    #[test]
    fn parses_prefixes() {
        let p = parse_prefixes("CRITICAL: [Security, OPS ,]: rotate keys");
        assert_eq!(
            p,
            Prefixed {
                content: "rotate keys".into(),
                pinned: true,
                importance: 1.0,
                tags: Some("security,ops".into())
            }
        );
        let q = parse_prefixes("[家族,Familie]: note");
        assert_eq!(q.tags.as_deref(), Some("家族,familie"));
        assert!(!q.pinned);
        assert_eq!(q.importance, 0.8);
        let r = parse_prefixes("[not a prefix] text");
        assert_eq!(r.content, "[not a prefix] text");
        assert_eq!(parse_prefixes("[ , ]: x").tags, None);
        assert_eq!(parse_prefixes("critical").content, "critical");
        assert_eq!(parse_prefixes("critical:").content, "");
    }

    #[test]
    fn infers_types_with_upstream_substring_quirks() {
        assert_eq!(infer_type("User prefers vim"), "preference");
        assert_eq!(infer_type("We decided to use Postgres"), "decision");
        assert_eq!(infer_type("wait until friday"), "learning");
        assert_eq!(infer_type("how to debug it"), "issue");
        assert_eq!(infer_type("mustard is yellow"), "rule");
        assert_eq!(infer_type("The sky is blue"), "fact");
    }

    #[test]
    fn chunks_on_sentences() {
        let text = "One two three. Four five six! Seven eight nine? Ten.";
        assert_eq!(
            chunk_sentences(text, 30),
            vec!["One two three. Four five six!", "Seven eight nine? Ten."]
        );
        let long = "x".repeat(70);
        let c = chunk_sentences(&long, 30);
        assert_eq!(
            c.iter().map(|s| s.len()).collect::<Vec<_>>(),
            vec![30, 30, 10]
        );
        assert!(chunk_sentences("   ", 10).is_empty());
        // A long sentence is cut between words, never inside one.
        let words = "alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima";
        let c = chunk_sentences(words, 20);
        assert!(c.iter().all(|p| p.chars().count() <= 20), "{c:?}");
        assert_eq!(c.join(" "), words);
        for p in &c {
            assert!(
                p.split(' ').all(|w| words.split(' ').any(|x| x == w)),
                "{p:?}"
            );
        }
        assert_eq!(
            chunk_sentences("e.g.x done. Next", 12),
            vec!["e.g.x done.", "Next"]
        );
    }

    #[test]
    fn fts_queries_are_always_quoted() {
        assert_eq!(
            fts_query(r#"user's "vim" setup:"#).unwrap(),
            r#""user's" "vim" "setup""#
        );
        assert_eq!(fts_query("vim OR emacs").unwrap(), r#""vim" OR "emacs""#);
        assert_eq!(fts_query("OR vim NOT").unwrap(), r#""vim""#);
        assert_eq!(fts_query("*** ( ) :"), None);
        assert_eq!(fts_query("NEAR(a b)").unwrap(), r#""NEARa" "b""#);
        assert_eq!(fts_query("a\"b").unwrap(), r#""ab""#);
    }

    #[test]
    fn any_word_queries_drop_stopwords() {
        assert_eq!(
            fts_query_any("What did Caroline research?").unwrap(),
            r#""caroline" OR "research""#
        );
        assert_eq!(fts_query_any("the and of"), None);
        assert_eq!(fts_query_any("vim vim \"x\"").unwrap(), r#""vim" OR "x""#);
    }

    #[test]
    fn truncates_on_char_boundaries() {
        assert_eq!(truncate_chars("héllo", 2), ("hé [truncated]".into(), true));
        assert_eq!(truncate_chars("hi", 2), ("hi".into(), false));
    }
}
