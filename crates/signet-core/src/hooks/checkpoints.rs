//! `GET /api/checkpoints*`: continuity checkpoints, read-only, with secrets redacted.

use std::sync::LazyLock;

use regex::Regex;
use signet_api::{CheckpointList, CheckpointParams};
use signet_model::sessions::{Checkpoint, CheckpointQuery};

use super::Hooks;
use crate::error::{CoreError, Result};
use crate::memory::input;

/// Most checkpoints one answer holds.
const MAX_CHECKPOINTS: usize = 100;

/// Compiles a literal pattern (a pattern that fails is a bug the unit tests catch).
fn re(pattern: &str) -> Regex {
    Regex::new(pattern).expect("a valid literal pattern")
}

/// `NAME_KEY=value` / `token: value` assignments.
static ASSIGNMENT: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r#"(?i)\b([A-Z0-9_]*(?:API[_-]?KEY|SECRET|TOKEN|PASSWORD|PASSWD|CREDENTIALS?)[A-Z0-9_]*)(\s*[=:]\s*)("[^"]*"|'[^']*'|[^\s,;]+)"#,
    )
});
/// `Bearer <token>`.
static BEARER: LazyLock<Regex> = LazyLock::new(|| re(r"(?i)\bbearer\s+[A-Za-z0-9._~+/=-]{8,}"));
/// Well-known key formats (OpenAI, GitHub, Slack, AWS, Google).
static KNOWN: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"\b(?:sk-[A-Za-z0-9_-]{16,}|ghp_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}|xox[abpr]-[A-Za-z0-9-]{10,}|AKIA[0-9A-Z]{16}|AIza[0-9A-Za-z_-]{30,})",
    )
});

/// Replaces API-key-like values with `[REDACTED]` (the names stay).
pub fn redact(text: &str) -> String {
    let t = BEARER.replace_all(text, "Bearer [REDACTED]");
    let t = ASSIGNMENT.replace_all(&t, "$1$2[REDACTED]");
    KNOWN.replace_all(&t, "[REDACTED]").into_owned()
}

/// The checkpoint with its digest and JSON columns redacted.
fn redacted(mut c: Checkpoint) -> Checkpoint {
    c.digest = redact(&c.digest);
    c.memory_queries = c.memory_queries.map(|s| redact(&s));
    c.recent_remembers = c.recent_remembers.map(|s| redact(&s));
    c
}

/// Which checkpoints a request asks for.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckpointRequest(CheckpointQuery);

impl CheckpointRequest {
    /// `GET /api/checkpoints?project=&limit=`: `project` required (its real path when it
    /// exists), `limit` 1 to 100, default 10.
    pub fn project(q: &CheckpointParams) -> Result<Self> {
        let project = q
            .project
            .as_deref()
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .ok_or_else(|| CoreError::Invalid("project is required".into()))?;
        let project = std::fs::canonicalize(project)
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_else(|_| project.to_owned());
        let limit = input::query_limit(q.limit.as_deref(), "limit", 10, MAX_CHECKPOINTS)?;
        Ok(Self(CheckpointQuery::Project { project, limit }))
    }

    /// `GET /api/checkpoints/{sessionKey}`: the session's, newest first (at most 100).
    pub fn session(key: &str) -> Self {
        Self(CheckpointQuery::Session {
            session_key: key.to_owned(),
            limit: MAX_CHECKPOINTS,
        })
    }
}

impl Hooks {
    /// Checkpoints as asked, newest first, redacted.
    pub async fn checkpoints(&self, req: CheckpointRequest) -> Result<CheckpointList> {
        let store = self.memories.store().clone();
        let found = crate::blocking::run(move || Ok(store.checkpoints(&req.0)?)).await?;
        let checkpoints: Vec<Checkpoint> = found.into_iter().map(redacted).collect();
        Ok(CheckpointList {
            count: checkpoints.len(),
            checkpoints,
            extra: Default::default(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_like_values_are_redacted_and_names_kept() {
        assert_eq!(
            redact("export OPENAI_API_KEY=sk-abc123 and run"),
            "export OPENAI_API_KEY=[REDACTED] and run"
        );
        assert_eq!(redact("password: \"hunter2\""), "password: [REDACTED]");
        assert_eq!(
            redact("Authorization: Bearer abcdefgh12345"),
            "Authorization: Bearer [REDACTED]"
        );
        assert_eq!(
            redact("used ghp_abcdefghijklmnopqrstuvwx today"),
            "used [REDACTED] today"
        );
        assert_eq!(redact("nothing secret here"), "nothing secret here");
    }
}
