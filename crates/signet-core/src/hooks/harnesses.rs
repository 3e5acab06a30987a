//! `GET /api/harnesses`: the harnesses upstream knows, where their integration lives, and
//! when each last called a hook.

use std::path::Path;

use signet_api::{HarnessInfo, HarnessList};

use super::Hooks;

impl Hooks {
    /// Claude Code (`~/.claude/settings.json`), OpenCode (`~/.config/opencode/AGENTS.md`)
    /// and OpenClaw (the workspace's AGENTS.md), then any other harness seen calling, by name.
    pub fn harnesses(&self, home: Option<&Path>) -> HarnessList {
        let seen = self.sessions.harnesses();
        let last_seen = |id: &str| seen.iter().find(|(h, _)| h == id).map(|(_, t)| t.clone());
        let known = [
            (
                "Claude Code",
                "claude-code",
                home.map(|h| h.join(".claude/settings.json")),
            ),
            (
                "OpenCode",
                "opencode",
                home.map(|h| h.join(".config/opencode/AGENTS.md")),
            ),
            (
                "OpenClaw",
                "openclaw",
                Some(self.workspace.join("AGENTS.md")),
            ),
        ];
        let mut harnesses: Vec<HarnessInfo> = known
            .into_iter()
            .map(|(name, id, path)| HarnessInfo {
                name: name.to_owned(),
                id: id.to_owned(),
                exists: path.as_deref().is_some_and(Path::exists),
                path: path.map(|p| p.to_string_lossy().into_owned()),
                last_seen: last_seen(id),
            })
            .collect();
        for (id, at) in &seen {
            if !harnesses.iter().any(|h| &h.id == id) {
                harnesses.push(HarnessInfo {
                    name: id.clone(),
                    id: id.clone(),
                    path: None,
                    exists: false,
                    last_seen: Some(at.clone()),
                });
            }
        }
        HarnessList {
            harnesses,
            extra: Default::default(),
        }
    }
}
