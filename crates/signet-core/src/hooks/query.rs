//! How a prompt becomes a recall query (upstream's `user-prompt-submit` shaping): untrusted
//! metadata blocks stripped, chat mentions removed, then the terms — hyphenated identifiers
//! first, then words of three letters or more that are not stopwords or numbers — plus a few
//! from the previous answer.

use std::collections::HashSet;
use std::sync::LazyLock;

use regex::Regex;

/// Most terms a prompt's query holds.
pub const MAX_TERMS: usize = 12;

/// Characters of the cleaned prompt the vector leg embeds.
pub const VECTOR_QUERY_CHARS: usize = 200;

/// Upstream's 103 stopwords.
const STOPWORDS: [&str; 103] = [
    "a",
    "about",
    "actually",
    "after",
    "all",
    "also",
    "am",
    "an",
    "and",
    "any",
    "are",
    "as",
    "at",
    "be",
    "been",
    "before",
    "but",
    "by",
    "can",
    "could",
    "did",
    "do",
    "does",
    "doing",
    "done",
    "for",
    "from",
    "get",
    "go",
    "had",
    "has",
    "have",
    "hey",
    "hi",
    "how",
    "i",
    "if",
    "in",
    "into",
    "is",
    "it",
    "its",
    "just",
    "kind",
    "like",
    "make",
    "me",
    "more",
    "my",
    "need",
    "now",
    "of",
    "ok",
    "okay",
    "on",
    "or",
    "our",
    "out",
    "please",
    "pretty",
    "really",
    "right",
    "say",
    "should",
    "so",
    "some",
    "something",
    "still",
    "sure",
    "thanks",
    "thank",
    "that",
    "the",
    "their",
    "them",
    "then",
    "there",
    "these",
    "they",
    "this",
    "to",
    "too",
    "uh",
    "um",
    "use",
    "very",
    "want",
    "was",
    "we",
    "well",
    "were",
    "what",
    "when",
    "which",
    "who",
    "why",
    "will",
    "with",
    "would",
    "yeah",
    "yes",
    "you",
    "your",
];

/// Compiles a literal pattern (a pattern that fails is a bug the unit tests catch).
fn re(pattern: &str) -> Regex {
    Regex::new(pattern).expect("a valid literal pattern")
}

static HYPHENATED: LazyLock<Regex> =
    LazyLock::new(|| re(r"[a-zA-Z][a-zA-Z0-9]*-[a-zA-Z0-9]+(?:-[a-zA-Z0-9]+)*"));
static NON_WORD: LazyLock<Regex> = LazyLock::new(|| re(r"\W+"));
static MENTION: LazyLock<Regex> = LazyLock::new(|| re(r"<@!?\d+>"));
static RECALL_MARKER: LazyLock<Regex> = LazyLock::new(|| re(r"\[signet:recall[^\]]*\]"));
static FEEDBACK_BLOCK: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?s)<memory-feedback>.*?</memory-feedback>"));
static UNTRUSTED_HEADER: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)conversation info \(untrusted metadata\):|sender \(untrusted[^)]*\):|chat history since last reply:|<<<EXTERNAL_UNTRUSTED_CONTENT|END_EXTERNAL_UNTRUSTED_CONTENT|untrusted context:",
    )
});

/// Removes each untrusted-metadata header together with a balanced `{…}` object right after
/// it (whitespace between allowed); the text before and after is re-joined with a blank line.
pub fn strip_untrusted(text: &str) -> String {
    let mut rest = text.to_owned();
    while let Some(m) = UNTRUSTED_HEADER.find(&rest) {
        let before = rest[..m.start()].trim_end();
        let mut after = &rest[m.end()..];
        let trimmed = after.trim_start();
        if trimmed.starts_with('{')
            && let Some(len) = balanced_object(trimmed)
        {
            after = &trimmed[len..];
        }
        let after = after.trim_start();
        rest = match (before.is_empty(), after.is_empty()) {
            (true, _) => after.to_owned(),
            (false, true) => before.to_owned(),
            (false, false) => format!("{before}\n\n{after}"),
        };
    }
    rest
}

/// The byte length of the balanced `{…}` that `s` starts with (strings and escapes
/// respected), or `None` when it never closes.
fn balanced_object(s: &str) -> Option<usize> {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for (i, c) in s.char_indices() {
        if in_string {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '{' => depth += 1,
            '}' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            _ => {}
        }
    }
    None
}

/// The prompt as the query sees it: metadata stripped, mentions removed, trimmed.
pub fn clean_prompt(text: &str) -> String {
    MENTION
        .replace_all(&strip_untrusted(text), "")
        .trim()
        .to_owned()
}

/// The previous answer without recall markers and feedback blocks.
pub fn clean_assistant(text: &str) -> String {
    let t = FEEDBACK_BLOCK.replace_all(text, "");
    let t = RECALL_MARKER.replace_all(&t, "");
    MENTION.replace_all(&t, "").trim().to_owned()
}

/// The terms of one text, in order: hyphenated identifiers (lowercased), then words.
pub fn terms_of(text: &str) -> Vec<String> {
    let mut seen = HashSet::new();
    let hyphenated = HYPHENATED
        .find_iter(text)
        .map(|m| m.as_str().to_lowercase());
    let words = NON_WORD
        .split(text)
        .map(str::to_lowercase)
        .filter(|w| w.chars().count() >= 3)
        .filter(|w| !STOPWORDS.contains(&w.as_str()))
        .filter(|w| !w.chars().all(|c| c.is_ascii_digit()));
    hyphenated
        .chain(words)
        .filter(|t| seen.insert(t.clone()))
        .collect()
}

/// A prompt's query: the terms for the keyword leg, the text for the vector leg.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PromptQuery {
    /// At most [`MAX_TERMS`]: the prompt's, then up to `max(2, prompt terms)` of the answer's.
    pub terms: Vec<String>,
    /// The first [`VECTOR_QUERY_CHARS`] characters of the cleaned prompt.
    pub vector_text: String,
}

/// Shapes the query of one prompt (`prompt` already chosen: `userMessage`, else
/// `userPrompt`), widened by the previous answer.
pub fn shape(prompt: &str, last_assistant: Option<&str>) -> PromptQuery {
    let cleaned = clean_prompt(prompt);
    let mut terms = terms_of(&cleaned);
    terms.truncate(MAX_TERMS);
    if let Some(answer) = last_assistant {
        let extra = terms.len().max(2);
        let have: HashSet<String> = terms.iter().cloned().collect();
        let more = terms_of(&clean_assistant(answer))
            .into_iter()
            .filter(|t| !have.contains(t))
            .take(extra);
        terms.extend(more);
        terms.truncate(MAX_TERMS);
    }
    PromptQuery {
        terms,
        vector_text: cleaned.chars().take(VECTOR_QUERY_CHARS).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hyphenated_identifiers_come_first_then_words_without_stopwords_or_numbers() {
        let t = terms_of("Please fix the Signet-Core build in 2026, it's broken on x86-64 ok");
        assert_eq!(
            t,
            [
                "signet-core",
                "x86-64",
                "fix",
                "signet",
                "core",
                "build",
                "broken",
                "x86"
            ]
        );
    }

    #[test]
    fn there_are_103_distinct_stopwords() {
        let set: HashSet<&str> = STOPWORDS.into_iter().collect();
        assert_eq!(set.len(), 103);
        assert!(terms_of("what would you really want to say").is_empty());
    }

    #[test]
    fn untrusted_headers_go_with_the_object_after_them() {
        let text = "hello\nConversation info (untrusted metadata): {\"a\": {\"b\": \"}\"}}\nreal question here";
        assert_eq!(strip_untrusted(text), "hello\n\nreal question here");
        let text = "<<<EXTERNAL_UNTRUSTED_CONTENT\nsome text END_EXTERNAL_UNTRUSTED_CONTENT tail";
        assert_eq!(strip_untrusted(text), "some text\n\ntail");
        assert_eq!(strip_untrusted("UNTRUSTED CONTEXT: {unclosed"), "{unclosed");
        assert_eq!(strip_untrusted("nothing to strip"), "nothing to strip");
    }

    #[test]
    fn mentions_markers_and_feedback_blocks_are_removed() {
        assert_eq!(clean_prompt("<@!123> deploy database"), "deploy database");
        let answer =
            "[signet:recall | query=\"x\"] use postgres <memory-feedback>IDs: a</memory-feedback>";
        assert_eq!(clean_assistant(answer), "use postgres");
    }

    #[test]
    fn the_answer_adds_up_to_as_many_terms_as_the_prompt_has_and_twelve_in_all() {
        let q = shape("database", Some("postgres migration schema vacuum"));
        assert_eq!(q.terms, ["database", "postgres", "migration"]);
        let long = (0..20)
            .map(|i| format!("word{i}"))
            .collect::<Vec<_>>()
            .join(" ");
        let q = shape(&long, Some("another extra"));
        assert_eq!(q.terms.len(), MAX_TERMS);
        assert_eq!(q.vector_text.chars().count(), long.chars().count().min(200));
    }
}
