//! The text the hooks inject: the workspace's identity files, the date header, the layouts
//! of session start and of a prompt's recall, and the character budgets.

use std::path::Path;
use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use regex::Regex;

use crate::config::AgentInfo;

/// The first line of every session-start injection.
pub const ACTIVE_LINE: &str = "[memory active | /remember | /recall]";

/// Characters of memories session start injects.
pub const SESSION_START_BUDGET: usize = 2_000;

/// Characters of memories one prompt injects, and how many memories at most.
pub const PROMPT_BUDGET: usize = 500;
/// See [`PROMPT_BUDGET`].
pub const PROMPT_MAX_ITEMS: usize = 5;

/// A prompt's recall injects nothing unless its best score reaches this.
pub const SCORE_GATE: f64 = 0.4;

/// A workspace file read into the injection, with its cap in characters.
#[derive(Debug, Clone, Copy)]
pub struct WorkspaceFile {
    pub name: &'static str,
    pub cap: usize,
}

impl WorkspaceFile {
    const fn new(name: &'static str, cap: usize) -> Self {
        Self { name, cap }
    }
}

pub const AGENTS_MD: WorkspaceFile = WorkspaceFile::new("AGENTS.md", 12_000);
pub const MEMORY_MD: WorkspaceFile = WorkspaceFile::new("MEMORY.md", 10_000);
pub const SOUL_MD: WorkspaceFile = WorkspaceFile::new("SOUL.md", 4_000);
pub const IDENTITY_MD: WorkspaceFile = WorkspaceFile::new("IDENTITY.md", 2_000);
pub const USER_MD: WorkspaceFile = WorkspaceFile::new("USER.md", 6_000);

/// Bytes read of any workspace file at most (its cap in characters applies after).
const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// `text` cut to `cap` characters, with `\n[truncated]` when it was longer.
pub fn truncate(text: &str, cap: usize) -> String {
    match text.char_indices().nth(cap) {
        Some((i, _)) => format!("{}\n[truncated]", &text[..i]),
        None => text.to_owned(),
    }
}

/// The file `f` of `workspace`, trimmed and capped; `None` when missing or empty.
pub fn read_file(workspace: &Path, f: WorkspaceFile) -> Option<String> {
    use std::io::Read;
    let file = std::fs::File::open(workspace.join(f.name)).ok()?;
    if !file.metadata().ok()?.is_file() {
        return None;
    }
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES).read_to_end(&mut bytes).ok()?;
    let text = String::from_utf8_lossy(&bytes);
    let text = text.trim();
    (!text.is_empty()).then(|| truncate(text, f.cap))
}

/// Compiles a literal pattern (a pattern that fails is a bug the unit tests catch).
fn re(pattern: &str) -> Regex {
    Regex::new(pattern).expect("a valid literal pattern")
}

static NAME: LazyLock<Regex> = LazyLock::new(|| re(r"(?im)^[\s>*_-]*name\**:\**\s*(.+)$"));
static ROLE: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?im)^[\s>*_-]*(?:creature|role)\**:\**\s*(.+)$"));

/// The agent's name and description: `agent.name` / `agent.description`, else IDENTITY.md's
/// `name:` and `creature:` / `role:` lines, else "Agent".
pub fn identity(agent: &AgentInfo, identity_md: Option<&str>) -> (String, Option<String>) {
    if let Some(name) = agent.name.as_deref().filter(|n| !n.trim().is_empty()) {
        let description = agent.description.clone().filter(|d| !d.trim().is_empty());
        return (name.trim().to_owned(), description);
    }
    let capture = |r: &Regex| {
        identity_md
            .and_then(|t| r.captures(t))
            .map(|c| c[1].trim().trim_matches('*').trim().to_owned())
            .filter(|s| !s.is_empty())
    };
    match capture(&NAME) {
        Some(name) => (name, capture(&ROLE)),
        None => ("Agent".to_owned(), None),
    }
}

/// The IANA name of the machine's time zone: `TZ`, else `/etc/timezone`, else the
/// `/etc/localtime` link; `None` when none names one (the header then says UTC).
pub fn zone_name(tz_env: Option<&str>) -> Option<String> {
    let valid = |s: &str| {
        let s = s.trim().trim_start_matches(':');
        (!s.is_empty() && s.contains('/') && !s.starts_with('/') || s == "UTC")
            .then(|| s.to_owned())
    };
    if let Some(tz) = tz_env {
        return valid(tz);
    }
    if let Some(tz) = std::fs::read_to_string("/etc/timezone")
        .ok()
        .and_then(|s| valid(&s))
    {
        return Some(tz);
    }
    let link = std::fs::read_link("/etc/localtime").ok()?;
    let link = link.to_string_lossy();
    link.split_once("zoneinfo/").and_then(|(_, z)| valid(z))
}

/// `Wednesday, December 2, 2026 at 1:47 AM (Europe/Berlin)`: en-US full date and short time
/// in the machine's zone (chrono's `Local`) when its IANA name is known, else in UTC.
pub fn date_line(now: DateTime<Utc>, zone: Option<&str>) -> String {
    const FORMAT: &str = "%A, %B %-d, %Y at %-I:%M %p";
    match zone.filter(|z| *z != "UTC") {
        Some(z) => format!("{} ({z})", now.with_timezone(&chrono::Local).format(FORMAT)),
        None => format!("{} (UTC)", now.format(FORMAT)),
    }
}

/// The header both session start and prompts inject.
pub fn date_header(date: &str) -> String {
    format!("# Current Date & Time\n{date}\n")
}

/// `Dec 2, 2026` of an ISO timestamp (the timestamp itself if it does not parse).
pub fn short_date(iso: &str) -> String {
    signet_model::time::parse(iso)
        .map(|t| t.format("%b %-d, %Y").to_string())
        .unwrap_or_else(|| iso.to_owned())
}

/// One memory line of session start: `- <content>[ [tags]] (<Mon D, YYYY>)`.
pub fn memory_line(content: &str, tags: Option<&str>, created_at: &str) -> String {
    let tags = tags
        .filter(|t| !t.is_empty())
        .map(|t| format!(" [{t}]"))
        .unwrap_or_default();
    format!("- {content}{tags} ({})", short_date(created_at))
}

/// Takes items in order while their contents' cumulative length stays within `budget`
/// (and at most `max_items`): how many.
pub fn within_budget<'a>(
    contents: impl IntoIterator<Item = &'a str>,
    budget: usize,
    max_items: usize,
) -> usize {
    let mut used = 0;
    let mut taken = 0;
    for c in contents.into_iter().take(max_items) {
        used += c.chars().count();
        if used > budget {
            break;
        }
        taken += 1;
    }
    taken
}

/// What session start puts together.
#[derive(Debug, Default)]
pub struct SessionStartText<'a> {
    pub date: &'a str,
    pub name: &'a str,
    pub description: Option<&'a str>,
    pub agents: Option<&'a str>,
    pub soul: Option<&'a str>,
    pub identity: Option<&'a str>,
    pub user: Option<&'a str>,
    pub memory_md: Option<&'a str>,
    /// The memory lines (already formatted).
    pub memories: &'a [String],
    /// The checkpoint digest to recover from, if any.
    pub recovery: Option<&'a str>,
    /// Characters of it kept (`memory.pipelineV2.continuity.recoveryBudgetChars`).
    pub recovery_budget: usize,
    /// `hooks.sessionStart.includeIdentity`.
    pub include_identity: bool,
    /// `hooks.sessionStart.maxInjectChars`.
    pub max_chars: usize,
}

/// Session start's layout (upstream's order; sections joined with `\n`), cut to
/// `max_chars` minus the recovery section's room with `\n[context truncated]`, then the
/// recovery section.
pub fn session_start(t: &SessionStartText<'_>) -> String {
    let mut parts = vec![ACTIVE_LINE.to_owned(), format!("\n{}", date_header(t.date))];
    if t.include_identity {
        parts.push(match t.agents {
            Some(a) => format!("## Agent Instructions\n{a}"),
            None => match t.description {
                Some(d) => format!("You are {}, {d}.", t.name),
                None => format!("You are {}.", t.name),
            },
        });
        let sections = [
            ("Soul", t.soul),
            ("Identity", t.identity),
            ("About Your User", t.user),
        ];
        for (title, body) in sections {
            if let Some(b) = body {
                parts.push(format!("\n## {title}\n{b}"));
            }
        }
    }
    if let Some(m) = t.memory_md {
        parts.push(format!("\n## Working Memory\n{m}"));
    }
    if !t.memories.is_empty() {
        parts.push(format!(
            "\n## Relevant Memories (auto-loaded | scored by importance x recency | {} results)",
            t.memories.len()
        ));
        parts.extend(t.memories.iter().cloned());
    }
    let recovery = t.recovery.map(|r| {
        format!(
            "\n\n## Session Recovery Context\n{}",
            truncate(r, t.recovery_budget)
        )
    });
    let room = t
        .max_chars
        .saturating_sub(recovery.as_deref().map_or(0, |r| r.chars().count()));
    let body = parts.join("\n");
    let mut text = match body.char_indices().nth(room) {
        Some((i, _)) => format!("{}\n[context truncated]", &body[..i]),
        None => body,
    };
    if let Some(r) = recovery {
        text.push_str(&r);
    }
    text
}

/// A prompt's recall: the date header, the recall line, one line per memory and, with a
/// session key, the feedback request naming the ids.
pub fn prompt_recall(
    date: &str,
    terms: &str,
    engine: &str,
    lines: &[String],
    ids: &[&str],
    feedback: bool,
) -> String {
    let mut parts = vec![
        date_header(date),
        format!(
            "\n[signet:recall | query=\"{terms}\" | results={} | engine={engine}]",
            lines.len()
        ),
    ];
    parts.extend(lines.iter().cloned());
    if feedback && !ids.is_empty() {
        parts.push(format!(
            "<memory-feedback>Rate how relevant each memory above was with \
             mcp__signet__memory_feedback (ratings from -1 to 1 by id). IDs: {}</memory-feedback>",
            ids.join(", ")
        ));
    }
    parts.join("\n")
}

/// The stub session start answers a session it already served.
pub fn repeated_session_start(date: &str) -> String {
    format!("{ACTIVE_LINE}\n# Current Date & Time\n{date}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(iso: &str) -> DateTime<Utc> {
        signet_model::time::parse(iso).unwrap()
    }

    #[test]
    fn the_date_header_is_en_us_in_utc_without_a_zone() {
        let line = date_line(at("2026-12-02T13:05:00.000Z"), None);
        assert_eq!(line, "Wednesday, December 2, 2026 at 1:05 PM (UTC)");
        assert_eq!(
            date_header(&line),
            format!("# Current Date & Time\n{line}\n")
        );
        assert_eq!(short_date("2026-03-09T00:00:00.000Z"), "Mar 9, 2026");
    }

    #[test]
    fn zone_names_come_from_tz() {
        assert_eq!(
            zone_name(Some("Europe/Berlin")).as_deref(),
            Some("Europe/Berlin")
        );
        assert_eq!(
            zone_name(Some(":America/New_York")).as_deref(),
            Some("America/New_York")
        );
        assert_eq!(zone_name(Some("UTC")).as_deref(), Some("UTC"));
        assert_eq!(zone_name(Some("/etc/weird")), None);
    }

    #[test]
    fn identity_prefers_agent_yaml_then_identity_md() {
        let yaml = AgentInfo {
            name: Some("Nova".into()),
            description: Some("a careful helper".into()),
            created: None,
        };
        let md = "# Identity\n- **name:** Echo\n- role: research assistant\n";
        assert_eq!(
            identity(&yaml, Some(md)),
            ("Nova".into(), Some("a careful helper".into()))
        );
        let none = AgentInfo::default();
        assert_eq!(
            identity(&none, Some(md)),
            ("Echo".into(), Some("research assistant".into()))
        );
        assert_eq!(identity(&none, Some("no fields")), ("Agent".into(), None));
        assert_eq!(identity(&none, None), ("Agent".into(), None));
    }

    #[test]
    fn files_are_capped_with_a_marker() {
        assert_eq!(truncate("abcdef", 3), "abc\n[truncated]");
        assert_eq!(truncate("abc", 3), "abc");
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("SOUL.md"), "s".repeat(5_000)).unwrap();
        let soul = read_file(dir.path(), SOUL_MD).unwrap();
        assert_eq!(soul.chars().count(), 4_000 + "\n[truncated]".len());
        assert_eq!(read_file(dir.path(), USER_MD), None);
    }

    #[test]
    fn budgets_stop_at_the_first_item_that_does_not_fit() {
        let items = ["a".repeat(300), "b".repeat(200), "c".repeat(10)];
        let refs = || items.iter().map(String::as_str);
        assert_eq!(within_budget(refs(), 500, 5), 2);
        assert_eq!(within_budget(refs(), 499, 5), 1);
        assert_eq!(within_budget(refs(), 2_000, 1), 1);
    }

    #[test]
    fn the_session_start_layout_is_upstreams() {
        let memories = vec![memory_line(
            "use pnpm",
            Some("tooling"),
            "2026-01-05T10:00:00.000Z",
        )];
        let t = SessionStartText {
            date: "D",
            name: "Nova",
            description: Some("a helper"),
            soul: Some("kind"),
            memory_md: Some("working notes"),
            memories: &memories,
            include_identity: true,
            max_chars: 24_000,
            ..Default::default()
        };
        assert_eq!(
            session_start(&t),
            "[memory active | /remember | /recall]\n\n# Current Date & Time\nD\n\n\
             You are Nova, a helper.\n\n## Soul\nkind\n\n## Working Memory\nworking notes\n\n\
             ## Relevant Memories (auto-loaded | scored by importance x recency | 1 results)\n\
             - use pnpm [tooling] (Jan 5, 2026)"
        );
        let small = SessionStartText {
            max_chars: 100,
            recovery: Some("last digest"),
            recovery_budget: 2_000,
            ..t
        };
        let text = session_start(&small);
        assert!(text.starts_with("[memory active"), "{text}");
        assert!(text.contains("\n[context truncated]\n\n## Session Recovery Context\nlast digest"));
    }

    #[test]
    fn the_prompt_layout_has_the_recall_line_and_the_feedback_ids() {
        let lines = vec!["- a (Jan 1, 2026)".to_owned()];
        let text = prompt_recall("D", "alpha beta", "hybrid", &lines, &["id1"], true);
        assert_eq!(
            text,
            "# Current Date & Time\nD\n\n\n[signet:recall | query=\"alpha beta\" | results=1 | engine=hybrid]\n\
             - a (Jan 1, 2026)\n<memory-feedback>Rate how relevant each memory above was with \
             mcp__signet__memory_feedback (ratings from -1 to 1 by id). IDs: id1</memory-feedback>"
        );
        assert_eq!(
            repeated_session_start("D"),
            "[memory active | /remember | /recall]\n# Current Date & Time\nD"
        );
    }
}
