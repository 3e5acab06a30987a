//! The keyword leg's any-word query: what recall asks the keyword index when the all-words
//! query found little. Measured on the LoCoMo development set (docs/PERFORMANCE.md), matching
//! a question word's common English inflections (`painting` also finds `paint`, `paints`,
//! `painted`) raised keyword any@10 from 0.628 to 0.667 and MRR from 0.431 to 0.466.
//!
//! The variants are exact words, not prefix terms: every backend answers them, and the
//! in-memory keyword index in front of FTS5 can too. Text in Chinese, Japanese and Korean
//! (see [`signet_model::keyword::is_cjk`]) has no spaces to split on: a run of it longer than
//! three characters becomes its overlapping three-character windows (the unit of the
//! store's trigram index), so a question finds a memory sharing any part of it.

use std::collections::HashSet;

use signet_model::keyword::{KeywordQuery, is_cjk};

use crate::text::STOPWORDS;

/// Words shorter than this are matched as written (`kids` has too short a stem to guess at).
const MIN_INFLECTED_LEN: usize = 4;

/// An any-word query over the words of `text` (stopwords, possessives and one-character words
/// dropped), each with its inflections, CJK runs as their trigram windows. `None` when no word
/// is left.
pub(crate) fn any_word_query(text: &str) -> Option<KeywordQuery> {
    let mut seen = HashSet::new();
    let mut terms: Vec<String> = Vec::new();
    let mut add = |t: String| {
        if !t.is_empty() && seen.insert(t.clone()) {
            terms.push(t);
        }
    };
    for word in text.split(|c: char| !c.is_alphanumeric() && c != '\'' && c != '-') {
        let word = word
            .trim_matches(|c: char| !c.is_alphanumeric())
            .to_lowercase();
        let word = word.strip_suffix("'s").unwrap_or(&word);
        if word.is_empty() || STOPWORDS.contains(&word) {
            continue;
        }
        for (cjk, run) in script_runs(word) {
            if cjk {
                cjk_windows(run).into_iter().for_each(&mut add);
            } else if run.chars().count() > 1 {
                // A lone letter or digit (the `3` of `3階`) would match half the store.
                inflections(run).into_iter().for_each(&mut add);
            }
        }
    }
    let q = KeywordQuery::any(terms.iter().map(String::as_str));
    (!q.is_empty()).then_some(q)
}

/// `word` cut into maximal runs of CJK and of other characters, flagged `true` for CJK.
fn script_runs(word: &str) -> Vec<(bool, &str)> {
    let mut out: Vec<(bool, &str)> = Vec::new();
    let mut start = 0;
    let mut current = None;
    for (i, c) in word.char_indices() {
        let cjk = is_cjk(c);
        if current.is_some_and(|k| k != cjk) {
            out.push((current.unwrap_or(false), &word[start..i]));
            start = i;
        }
        current = Some(cjk);
    }
    if let Some(k) = current {
        out.push((k, &word[start..]));
    }
    out
}

/// A CJK run as search terms: itself when it has at most three characters, else its
/// overlapping three-character windows.
fn cjk_windows(run: &str) -> Vec<String> {
    let chars: Vec<char> = run.chars().collect();
    if chars.len() <= 3 {
        return vec![run.to_owned()];
    }
    chars.windows(3).map(|w| w.iter().collect()).collect()
}

/// `word` and its likely English inflections: the stem (`-ing`, `-ed`, `-es`, `-s`, `-ies`
/// removed) with `-s`, `-es`, `-ed`, `-ing`, a silent `-e`, `y`/`ies`, and a doubled final
/// consonant (`plan` → `planned`). Words that are not plain ASCII letters, or shorter than
/// [`MIN_INFLECTED_LEN`], are returned alone.
pub(crate) fn inflections(word: &str) -> Vec<String> {
    if word.len() < MIN_INFLECTED_LEN || !word.bytes().all(|b| b.is_ascii_lowercase()) {
        return vec![word.to_owned()];
    }
    let s = stem(word);
    let mut out = vec![word.to_owned(), s.clone()];
    for suffix in ["s", "ed", "ing"] {
        out.push(format!("{s}{suffix}"));
    }
    match s.strip_suffix('e') {
        Some(base) => {
            out.push(format!("{base}ing"));
            out.push(format!("{s}d"));
        }
        None => {
            out.push(format!("{s}es"));
            out.push(format!("{s}e"));
        }
    }
    if let Some(base) = s.strip_suffix('y') {
        out.push(format!("{base}ies"));
        out.push(format!("{base}ied"));
    }
    let b = s.as_bytes();
    if let [.., c1, v, c2] = b
        && !is_vowel(*c1)
        && is_vowel(*v)
        && !is_vowel(*c2)
        && !matches!(c2, b'w' | b'x' | b'y')
    {
        let last = *c2 as char;
        out.push(format!("{s}{last}ing"));
        out.push(format!("{s}{last}ed"));
    }
    let mut seen = HashSet::new();
    out.retain(|w| seen.insert(w.clone()));
    out
}

fn is_vowel(b: u8) -> bool {
    matches!(b, b'a' | b'e' | b'i' | b'o' | b'u')
}

/// A light suffix-stripping stem: the first of `-ing`, `-ed`, `-ies` (→ `y`), `-es`, `-s`
/// that leaves at least three letters; a doubled final consonant before `-ing`/`-ed` is
/// undone (`running` → `run`).
fn stem(word: &str) -> String {
    for suffix in ["ing", "ed", "ies", "es", "s"] {
        if let Some(base) = word.strip_suffix(suffix)
            && base.len() >= 3
        {
            let mut base = base.to_owned();
            if suffix == "ies" {
                base.push('y');
            }
            let b = base.as_bytes();
            if matches!(suffix, "ing" | "ed")
                && b.len() >= 4
                && b[b.len() - 1] == b[b.len() - 2]
                && !matches!(b[b.len() - 1], b'l' | b's' | b'z')
            {
                base.pop();
            }
            return base;
        }
    }
    word.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(text: &str) -> Vec<String> {
        any_word_query(text)
            .map(|q| q.terms().iter().map(|(_, t)| t.clone()).collect())
            .unwrap_or_default()
    }

    #[test]
    fn inflections_cover_common_forms() {
        let p = inflections("painting");
        for w in ["painting", "paint", "paints", "painted"] {
            assert!(p.contains(&w.to_owned()), "{w} in {p:?}");
        }
        let m = inflections("moved");
        assert!(
            m.contains(&"move".to_owned()) && m.contains(&"moving".to_owned()),
            "{m:?}"
        );
        let r = inflections("running");
        assert!(
            r.contains(&"run".to_owned()) && r.contains(&"runs".to_owned()),
            "{r:?}"
        );
        let h = inflections("hobbies");
        assert!(h.contains(&"hobby".to_owned()), "{h:?}");
        assert!(inflections("cats").contains(&"cat".to_owned()));
        assert_eq!(inflections("kid"), ["kid"]);
        assert_eq!(inflections("c++"), ["c++"]);
    }

    #[test]
    fn stopwords_and_possessives_are_dropped() {
        let t = terms("What did Caroline's kids do?");
        assert!(
            !t.contains(&"what".to_owned()) && !t.contains(&"did".to_owned()),
            "{t:?}"
        );
        assert!(
            t.contains(&"caroline".to_owned()) && t.contains(&"kids".to_owned()),
            "{t:?}"
        );
        assert!(!t.iter().any(|w| w.contains('\'')), "{t:?}");
        assert!(any_word_query("what is the").is_none());
    }

    #[test]
    fn cjk_runs_become_trigram_windows() {
        assert_eq!(terms("東京"), ["東京"]);
        assert_eq!(terms("東京タワー"), ["東京タ", "京タワ", "タワー"]);
        let mixed = terms("我喜欢Python");
        assert!(mixed.contains(&"我喜欢".to_owned()), "{mixed:?}");
        assert!(mixed.contains(&"python".to_owned()), "{mixed:?}");
        assert_eq!(terms("서울에서 살아요"), ["서울에", "울에서", "살아요"]);
        assert_eq!(terms("会議室は3階"), ["会議室", "議室は", "階"]);
    }
}
