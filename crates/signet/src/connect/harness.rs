//! Where each harness reads its hook and MCP configuration, and what `signet connect` puts
//! there. The formats come from the harnesses' own documentation (cited at each writer); what
//! we add is recognisable (hook commands running `<…>/signet hook …`, the MCP server named
//! `signet`), so `signet disconnect` removes exactly that.

use std::path::PathBuf;

use clap::ValueEnum;

use super::edit::{FileEdit, Format, HookSpec, Part};
use super::json::Json;
use super::shell::quote;
use crate::hook::HookEvent;

/// The hooks Claude Code and Codex both run, with their shared event names and timeouts
/// (seconds); `session_end` is the harness's name for the event that ends a session.
fn hook_specs(session_end: &'static str) -> Vec<HookSpec> {
    vec![
        HookSpec::new("SessionStart", HookEvent::SessionStart, 10),
        HookSpec::new("UserPromptSubmit", HookEvent::UserPromptSubmit, 10),
        HookSpec::new("PreCompact", HookEvent::PreCompaction, 10),
        HookSpec::new(session_end, HookEvent::SessionEnd, 30),
    ]
}

/// The harnesses `signet connect` configures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Harness {
    /// Anthropic's Claude Code: hooks and the MCP server.
    ClaudeCode,
    /// OpenAI's Codex CLI: hooks and the MCP server.
    Codex,
    /// OpenCode: the MCP server (its hooks are JavaScript plugins).
    Opencode,
}

impl Harness {
    /// The name the daemon sees (`harness` in hook bodies, `SIGNET_HARNESS`).
    pub fn name(self) -> &'static str {
        match self {
            Self::ClaudeCode => "claude-code",
            Self::Codex => "codex",
            Self::Opencode => "opencode",
        }
    }
}

/// Which of the harness's configuration files: the user's (every project) or the current
/// directory's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Scope {
    User,
    Project,
}

/// How the harness reaches the MCP server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Transport {
    /// The harness spawns `signet mcp` (a bridge to the daemon).
    Stdio,
    /// The harness calls the daemon's `/mcp` URL (local mode only: no token in a config file).
    Http,
}

/// Everything the writers need: the paths, the binary, and the environment the spawned
/// commands get.
#[derive(Debug, Clone)]
pub struct Setup {
    pub harness: Harness,
    pub scope: Scope,
    pub transport: Transport,
    /// This binary, absolute (`std::env::current_exe`).
    pub exe: String,
    pub home: PathBuf,
    /// The current directory (the project scope's root).
    pub project: PathBuf,
    /// `$XDG_CONFIG_HOME`, else `~/.config` (OpenCode's global config lives under it).
    pub config_home: PathBuf,
    /// `$CODEX_HOME`, else `~/.codex`.
    pub codex_home: PathBuf,
    /// The daemon's `/mcp` URL with `?harness=` (the http transport).
    pub mcp_url: String,
    /// Variables for `signet mcp` (harness name, token file, workspace, daemon URL).
    pub mcp_env: Vec<(String, String)>,
    /// `NAME=value` assignments in front of each hook command (the workspace).
    pub hook_env: Vec<(String, String)>,
    /// Flags after `signet hook <event> --harness <name>` (`--token-file`, `--url`).
    pub hook_flags: Vec<String>,
}

impl Setup {
    /// The command line a hook runs for `event`.
    pub fn hook_command(&self, event: HookEvent) -> String {
        let mut words: Vec<String> = self
            .hook_env
            .iter()
            .map(|(k, v)| format!("{k}={}", quote(v)))
            .collect();
        words.push(quote(&self.exe));
        for w in ["hook", event.name(), "--harness", self.harness.name()] {
            words.push(w.to_owned());
        }
        words.extend(self.hook_flags.iter().map(|f| quote(f)));
        words.join(" ")
    }

    /// The files to edit for this harness and scope.
    pub fn files(&self) -> Vec<FileEdit> {
        match self.harness {
            Harness::ClaudeCode => self.claude_code(),
            Harness::Codex => self.codex(),
            Harness::Opencode => self.opencode(),
        }
    }

    fn env_object(&self) -> Json {
        Json::Object(
            self.mcp_env
                .iter()
                .map(|(k, v)| (k.clone(), Json::str(v)))
                .collect(),
        )
    }

    /// Claude Code. Hooks: `hooks.<Event>[] = {matcher?, hooks: [{type: "command", command,
    /// timeout (seconds)}]}` in `~/.claude/settings.json` (user) or `.claude/settings.json`
    /// (project); the hook gets the event's JSON on stdin (`session_id`, `transcript_path`,
    /// `cwd`, `hook_event_name`, `prompt`, `source`, `reason`, `trigger`); SessionStart and
    /// UserPromptSubmit add `hookSpecificOutput.additionalContext` to the context (docs:
    /// code.claude.com/docs/en/hooks, "Configuration" and "Hook input and output"; no matcher
    /// means every source/trigger). MCP: `mcpServers.<name> = {type: "stdio", command, args,
    /// env}` or `{type: "http", url}` in `~/.claude.json` (user scope, what `claude mcp add
    /// --scope user` writes) or `.mcp.json` at the project root (project scope) (docs:
    /// code.claude.com/docs/en/mcp, "MCP installation scopes").
    fn claude_code(&self) -> Vec<FileEdit> {
        let (settings, mcp) = match self.scope {
            Scope::User => (
                self.home.join(".claude/settings.json"),
                self.home.join(".claude.json"),
            ),
            Scope::Project => (
                self.project.join(".claude/settings.json"),
                self.project.join(".mcp.json"),
            ),
        };
        let hooks = hook_specs("SessionEnd");
        let entry = match self.transport {
            Transport::Stdio => Json::obj([
                ("type", Json::str("stdio")),
                ("command", Json::str(&self.exe)),
                ("args", Json::Array(vec![Json::str("mcp")])),
            ]),
            Transport::Http => Json::obj([
                ("type", Json::str("http")),
                ("url", Json::str(&self.mcp_url)),
            ]),
        };
        vec![
            FileEdit::new(settings, Format::Json, vec![Part::Hooks(hooks)]),
            FileEdit::new(
                mcp,
                Format::Json,
                vec![Part::JsonMcp {
                    container: "mcpServers",
                    entry: self.with_env(entry, "env"),
                }],
            ),
        ]
    }

    /// Codex. Hooks: `~/.codex/hooks.json` (or `<repo>/.codex/hooks.json`), the same
    /// `hooks.<Event>[] = {matcher?, hooks: [{type: "command", command, timeout}]}` shape;
    /// Codex's events are SessionStart, UserPromptSubmit, PreCompact, PostCompact, Stop (no
    /// session end: upstream's connector runs `hook session-end` on Stop, and so do we), with
    /// the same stdin fields and `hookSpecificOutput.additionalContext` (docs:
    /// developers.openai.com/codex/hooks; schemas in codex-rs/hooks/schema/generated). MCP:
    /// `[mcp_servers.<name>]` with `command`, `args`, `env` (stdio) or `url` (streamable HTTP)
    /// in `~/.codex/config.toml` or `<repo>/.codex/config.toml` (docs:
    /// developers.openai.com/codex/mcp, "config.toml"); `CODEX_HOME` moves `~/.codex`.
    fn codex(&self) -> Vec<FileEdit> {
        let dir = match self.scope {
            Scope::User => self.codex_home.clone(),
            Scope::Project => self.project.join(".codex"),
        };
        let hooks = hook_specs("Stop");
        let mcp = match self.transport {
            Transport::Stdio => Part::TomlMcp {
                command: Some(self.exe.clone()),
                args: vec!["mcp".to_owned()],
                env: self.mcp_env.clone(),
                url: None,
                comment: self.comment(),
            },
            Transport::Http => Part::TomlMcp {
                command: None,
                args: Vec::new(),
                env: Vec::new(),
                url: Some(self.mcp_url.clone()),
                comment: self.comment(),
            },
        };
        vec![
            FileEdit::new(
                dir.join("hooks.json"),
                Format::Json,
                vec![Part::Hooks(hooks)],
            ),
            FileEdit::new(dir.join("config.toml"), Format::Toml, vec![mcp]),
        ]
    }

    /// OpenCode: `mcp.<name> = {type: "local", command: [program, args…], environment,
    /// enabled}` or `{type: "remote", url, enabled}` in `~/.config/opencode/opencode.json`
    /// (global) or `opencode.json` at the project root (docs: opencode.ai/docs/mcp-servers and
    /// /docs/config; OpenCode 2 keeps reading this V1 shape, docs /docs/migrate-v1). OpenCode
    /// has no command hooks: its lifecycle events reach JavaScript plugins only (docs:
    /// /docs/plugins), so only the MCP tools are wired.
    fn opencode(&self) -> Vec<FileEdit> {
        let path = match self.scope {
            Scope::User => self.config_home.join("opencode/opencode.json"),
            Scope::Project => self.project.join("opencode.json"),
        };
        let entry = match self.transport {
            Transport::Stdio => Json::obj([
                ("type", Json::str("local")),
                (
                    "command",
                    Json::Array(vec![Json::str(&self.exe), Json::str("mcp")]),
                ),
                ("enabled", Json::Bool(true)),
            ]),
            Transport::Http => Json::obj([
                ("type", Json::str("remote")),
                ("url", Json::str(&self.mcp_url)),
                ("enabled", Json::Bool(true)),
            ]),
        };
        vec![FileEdit::new(
            path,
            Format::Json,
            vec![Part::JsonMcp {
                container: "mcp",
                entry: self.with_env(entry, "environment"),
            }],
        )]
    }

    /// `entry` with the MCP environment under `key`, for the stdio transport.
    fn with_env(&self, mut entry: Json, key: &str) -> Json {
        if self.transport == Transport::Stdio
            && !self.mcp_env.is_empty()
            && let Some(o) = entry.as_object_mut()
        {
            o.insert(key.to_owned(), self.env_object());
        }
        entry
    }

    /// The comment above the TOML table.
    fn comment(&self) -> String {
        let h = self.harness.name();
        format!("# Written by `signet connect {h}`; `signet disconnect {h}` removes it.")
    }
}
