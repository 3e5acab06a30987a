//! Recovering one JSON value from a model's prose answer (upstream-facts §8.3 step 4).

use serde_json::Value;

use crate::llm::strip_think;

/// The body of the first fenced code block (```` ```json ```` or bare ```` ``` ````), if any.
pub(crate) fn first_fence(text: &str) -> Option<&str> {
    let start = text.find("```")?;
    let after = &text[start + 3..];
    // Skip an info string (`json`, `JSON`, …) that ends the opening line.
    let line_end = after.find('\n').unwrap_or(after.len());
    let body = if after[..line_end].contains(['{', '[']) {
        after
    } else {
        after.get(line_end + 1..).unwrap_or("")
    };
    let end = body.find("```").unwrap_or(body.len());
    Some(body[..end].trim())
}

/// The first balanced `{…}` in `text`, string-aware (braces inside strings do not count).
pub(crate) fn first_object(text: &str) -> Option<&str> {
    let start = text.find('{')?;
    let mut depth = 0usize;
    let mut in_str = false;
    let mut escaped = false;
    for (i, c) in text[start..].char_indices() {
        if in_str {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_str = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_str = true,
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(&text[start..start + i + 1]);
                }
            }
            _ => {}
        }
    }
    None
}

/// `text` with every comma that is followed (after whitespace) by `}` or `]` removed, outside
/// strings.
pub(crate) fn strip_trailing_commas(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut in_str = false;
    let mut escaped = false;
    for (i, &c) in chars.iter().enumerate() {
        if in_str {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_str = false,
                _ => {}
            }
        } else if c == '"' {
            in_str = true;
        } else if c == ',' {
            let next = chars[i + 1..].iter().find(|c| !c.is_whitespace());
            if matches!(next, Some('}' | ']')) {
                continue;
            }
        }
        out.push(c);
    }
    out
}

/// Parses `s` as-is, then with trailing commas removed; a JSON string is parsed once more
/// (models sometimes return the object as an escaped string).
fn parse_candidate(s: &str) -> Option<Value> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    let v = serde_json::from_str::<Value>(s)
        .ok()
        .or_else(|| serde_json::from_str::<Value>(&strip_trailing_commas(s)).ok())?;
    match v {
        Value::String(inner) => serde_json::from_str::<Value>(inner.trim())
            .ok()
            .or_else(|| serde_json::from_str::<Value>(&strip_trailing_commas(&inner)).ok()),
        v => Some(v),
    }
}

/// The first JSON value found in `raw`: `<think>` blocks stripped and the first fence taken;
/// then tried as the whole text, the first balanced `{…}` in it, and the first balanced `{…}`
/// in the raw text, each as-is and without trailing commas.
pub(crate) fn recover(raw: &str) -> Option<Value> {
    let thoughtless = strip_think(raw);
    let stripped = first_fence(&thoughtless).unwrap_or(&thoughtless);
    parse_candidate(stripped)
        .or_else(|| first_object(stripped).and_then(parse_candidate))
        .or_else(|| first_object(raw).and_then(parse_candidate))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fence_with_and_without_info_string() {
        assert_eq!(
            first_fence("x\n```json\n{\"a\":1}\n```\ny"),
            Some("{\"a\":1}")
        );
        assert_eq!(first_fence("```\n{\"a\":1}\n```"), Some("{\"a\":1}"));
        assert_eq!(first_fence("```{\"a\":1}```"), Some("{\"a\":1}"));
        assert_eq!(first_fence("no fence"), None);
    }

    #[test]
    fn balanced_object_ignores_braces_in_strings() {
        let t = r#"Sure: {"a": "}{", "b": {"c": "\"}"}} and more {"#;
        assert_eq!(first_object(t), Some(r#"{"a": "}{", "b": {"c": "\"}"}}"#));
        assert_eq!(first_object("{ unclosed"), None);
    }

    #[test]
    fn trailing_commas_outside_strings_only() {
        assert_eq!(
            strip_trailing_commas(r#"{"a": [1, 2, ], "b": ",}", }"#),
            r#"{"a": [1, 2 ], "b": ",}" }"#
        );
    }

    #[test]
    fn recovers_from_prose_fences_think_and_strings() {
        assert_eq!(recover(r#"{"a":1}"#), Some(json!({"a":1})));
        assert_eq!(
            recover("Here you go:\n{\"a\":1}\nHope it helps"),
            Some(json!({"a":1}))
        );
        assert_eq!(
            recover("<think>{\"no\":0}</think>```json\n{\"a\":1,}\n```"),
            Some(json!({"a":1}))
        );
        assert_eq!(recover(r#""{\"a\":1}""#), Some(json!({"a":1})));
        assert_eq!(recover("{\"a\":1} trailing}"), Some(json!({"a":1})));
        assert_eq!(recover("not json at all"), None);
        assert_eq!(
            recover("<think>only thinking {\"a\":1}"),
            Some(json!({"a":1}))
        );
    }
}
