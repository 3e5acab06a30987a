//! Reading a harness transcript for the summary pipeline: Claude Code JSONL, Codex JSONL,
//! JSONL of `{role|speaker, content}` records, or plain text.

use std::io::Read;
use std::path::Path;

use serde_json::Value;

use crate::error::{CoreError, Result};

/// Most bytes read from a transcript file (the rest is ignored: the job keeps
/// [`MAX_TRANSCRIPT_CHARS`] anyway).
pub const MAX_READ_BYTES: u64 = 32 * 1024 * 1024;

/// Most characters queued; longer transcripts are cut, with `\n[truncated]`.
pub const MAX_TRANSCRIPT_CHARS: usize = 100_000;

/// Shorter transcripts are not worth summarising.
pub const MIN_TRANSCRIPT_CHARS: usize = 500;

/// The file names a transcript may have: what harnesses write (`.jsonl`, `.json`) and plain
/// text. Anything else (`id_rsa`, `.env`, `credentials`, a database) is refused, so a token
/// holder cannot have the daemon read arbitrary files of its user into a summary job.
const TRANSCRIPT_EXTENSIONS: [&str; 5] = ["jsonl", "json", "txt", "md", "log"];

/// Reads the transcript at `path`: it must be a regular file the daemon can read, named
/// `*.jsonl`, `*.json`, `*.txt`, `*.md` or `*.log` (anything else is refused with 400,
/// naming `transcriptPath`); at most [`MAX_READ_BYTES`] are read.
pub fn read(path: &Path) -> Result<String> {
    let refuse = |why: &str| CoreError::Invalid(format!("transcriptPath {why}"));
    let named = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| TRANSCRIPT_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()));
    let meta = std::fs::metadata(path).map_err(|_| refuse("does not exist or is not readable"))?;
    if !meta.is_file() {
        return Err(refuse("is not a regular file"));
    }
    if !named {
        return Err(refuse("must name a .jsonl, .json, .txt, .md or .log file"));
    }
    let file = std::fs::File::open(path).map_err(|_| refuse("is not readable"))?;
    let mut bytes = Vec::new();
    file.take(MAX_READ_BYTES)
        .read_to_end(&mut bytes)
        .map_err(|_| refuse("is not readable"))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// The transcript as `User: …` / `Assistant: …` lines (JSONL), or the raw text.
pub fn normalize(raw: &str, harness: &str) -> String {
    if harness == "codex" {
        return codex(raw);
    }
    let lines: Vec<&str> = raw.lines().filter(|l| !l.trim().is_empty()).collect();
    let records: Vec<Value> = lines
        .iter()
        .filter_map(|l| serde_json::from_str::<Value>(l.trim()).ok())
        .filter(Value::is_object)
        .collect();
    if lines.is_empty() || records.len() * 10 < lines.len() * 6 {
        return raw.trim().to_owned();
    }
    records
        .iter()
        .filter_map(turn)
        .collect::<Vec<_>>()
        .join("\n")
}

/// Codex's events: user messages and completed agent messages.
fn codex(raw: &str) -> String {
    // `holder` (the event's `payload` or `item`) of type `kind`: its first text of `keys`,
    // said by `who`.
    let said = |holder: Option<&Value>, kind: &str, keys: [&str; 2], who: &str| {
        let h = holder?;
        (h.get("type")?.as_str()? == kind)
            .then(|| h.get(keys[0]).or(h.get(keys[1])))
            .flatten()
            .and_then(Value::as_str)
            .map(|t| format!("{who}: {}", t.trim()))
    };
    raw.lines()
        .filter_map(|l| serde_json::from_str::<Value>(l.trim()).ok())
        .filter_map(|e| match e.get("type").and_then(Value::as_str) {
            Some("event_msg") => said(
                e.get("payload"),
                "user_message",
                ["message", "text"],
                "User",
            ),
            Some("item.completed") => said(
                e.get("item"),
                "agent_message",
                ["text", "message"],
                "Assistant",
            ),
            _ => None,
        })
        .filter(|l| !l.ends_with(": "))
        .collect::<Vec<_>>()
        .join("\n")
}

/// One JSONL record as a line: Claude Code's `{type, message: {role, content}}` or a plain
/// `{role | speaker, content | text | message}`; other records (tool calls, metadata) give
/// nothing.
fn turn(r: &Value) -> Option<String> {
    let message = r.get("message").filter(|m| m.is_object());
    let role = message
        .and_then(|m| m.get("role"))
        .or_else(|| r.get("role"))
        .or_else(|| r.get("speaker"))
        .or_else(|| r.get("type"))
        .and_then(Value::as_str)?;
    let label = match role {
        "user" | "human" => "User",
        "assistant" | "agent" => "Assistant",
        _ => return None,
    };
    let content = message
        .and_then(|m| m.get("content"))
        .or_else(|| r.get("content"))
        .or_else(|| r.get("text"))
        .or_else(|| r.get("message").filter(|m| m.is_string()))?;
    let text = content_text(content)?;
    Some(format!("{label}: {text}"))
}

/// A content value's text: a string, or the `text` parts of an array of blocks.
fn content_text(v: &Value) -> Option<String> {
    let text = match v {
        Value::String(s) => s.trim().to_owned(),
        Value::Array(parts) => parts
            .iter()
            .filter(|p| p.get("type").and_then(Value::as_str) == Some("text"))
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .collect::<Vec<_>>()
            .join("\n"),
        _ => return None,
    };
    (!text.is_empty()).then_some(text)
}

/// Cuts a transcript to [`MAX_TRANSCRIPT_CHARS`], marking the cut.
pub fn cap(text: String) -> String {
    match text.char_indices().nth(MAX_TRANSCRIPT_CHARS) {
        Some((i, _)) => format!("{}\n[truncated]", &text[..i]),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claude_code_records_become_turns_and_tool_records_are_skipped() {
        let raw = [
            r#"{"type":"summary","summary":"x"}"#,
            r#"{"type":"user","message":{"role":"user","content":"fix the build"}}"#,
            r#"{"type":"assistant","message":{"role":"assistant","content":[{"type":"text","text":"Done."},{"type":"tool_use","name":"Bash"}]}}"#,
            r#"{"type":"user","message":{"role":"user","content":[{"type":"tool_result","content":"ok"}]}}"#,
        ]
        .join("\n");
        assert_eq!(
            normalize(&raw, "claude-code"),
            "User: fix the build\nAssistant: Done."
        );
    }

    #[test]
    fn codex_events_give_user_and_agent_messages() {
        let raw = [
            r#"{"type":"event_msg","payload":{"type":"user_message","message":"hello"}}"#,
            r#"{"type":"event_msg","payload":{"type":"token_count"}}"#,
            r#"{"type":"item.completed","item":{"type":"agent_message","text":"hi there"}}"#,
            r#"{"type":"item.completed","item":{"type":"reasoning","text":"hmm"}}"#,
        ]
        .join("\n");
        assert_eq!(normalize(&raw, "codex"), "User: hello\nAssistant: hi there");
    }

    #[test]
    fn mostly_plain_text_stays_raw_and_role_records_are_read() {
        let raw = "just some notes\n{\"role\":\"user\",\"content\":\"x\"}\nmore notes";
        assert_eq!(normalize(raw, "opencode"), raw);
        let raw = "{\"speaker\":\"user\",\"text\":\"q\"}\n{\"role\":\"assistant\",\"content\":\"a\"}\nnot json";
        assert_eq!(normalize(raw, "opencode"), "User: q\nAssistant: a");
    }

    #[test]
    fn long_transcripts_are_cut_and_marked() {
        let long = "x".repeat(MAX_TRANSCRIPT_CHARS + 10);
        let cut = cap(long);
        assert!(cut.ends_with("\n[truncated]"));
        assert_eq!(
            cut.chars().count(),
            MAX_TRANSCRIPT_CHARS + "\n[truncated]".len()
        );
        assert_eq!(cap("short".into()), "short");
    }

    #[test]
    fn only_regular_files_are_read() {
        let dir = tempfile::tempdir().unwrap();
        assert!(read(dir.path()).is_err());
        assert!(read(&dir.path().join("missing")).is_err());
        let file = dir.path().join("t.txt");
        std::fs::write(&file, "hello").unwrap();
        assert_eq!(read(&file).unwrap(), "hello");
        let key = dir.path().join("id_rsa");
        std::fs::write(&key, "-----BEGIN KEY-----").unwrap();
        let refused = read(&key).unwrap_err().to_string();
        assert_eq!(
            refused,
            "transcriptPath must name a .jsonl, .json, .txt, .md or .log file"
        );
    }
}
