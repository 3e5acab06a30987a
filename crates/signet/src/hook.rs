//! `signet hook <event> --harness <name>`: the command a harness's lifecycle hook runs (what
//! `signet connect` writes into Claude Code's and Codex's hook configuration).
//!
//! It reads the hook's JSON from stdin (Claude Code and Codex send `session_id`,
//! `transcript_path`, `cwd`, `hook_event_name`, and per event `prompt`, `source`, `reason`,
//! `trigger`), maps it onto the daemon's `/api/hooks/*` request (the harness from `--harness`,
//! `sessionKey` = the session id, `project` = cwd, runtime path `plugin`), POSTs it and prints
//! what the harness reads back on stdout. For session start and each prompt that is the
//! `inject` text as `{"hookSpecificOutput": {"hookEventName": …, "additionalContext": …}}`,
//! the form both harnesses document for adding context (Claude Code: "hooks" reference,
//! SessionStart / UserPromptSubmit decision control; Codex: codex-rs/hooks/schema/generated/
//! session-start.command.output.schema.json and user-prompt-submit.command.output.schema.json,
//! whose `additionalProperties: false` also rules out printing anything else). The other
//! events print nothing.
//!
//! A hook must never break the user's session: when the daemon is down, slow (a 5 s budget;
//! 15 s for session end, which reads the transcript), refuses the call or answers something
//! unexpected, the command prints nothing on stdout, one line on stderr, and exits 0.
//! `SIGNET_NO_HOOKS=1` (set on the harness CLIs the daemon itself spawns) or `SIGNET_BYPASS=1`
//! skips the hook silently, as upstream's CLI does.

use std::io::{IsTerminal, Read, Write};
use std::time::Duration;

use anyhow::{Context, Result, anyhow};
use clap::{Args, ValueEnum};
use serde_json::{Map, Value, json};
use signet_api::hooks::{
    PreCompactionRequest, SessionEndRequest, SessionStartRequest, UserPromptRequest,
};
use signet_client::{Client, Method};

use crate::cli::Global;

/// Most stdin read (a hook's JSON is small; a runaway producer is cut off).
const MAX_INPUT: u64 = 4 * 1024 * 1024;
/// The daemon's budget for the hooks a user waits on.
const TIMEOUT: Duration = Duration::from_secs(5);
/// Session end reads and queues the transcript.
const SESSION_END_TIMEOUT: Duration = Duration::from_secs(15);
/// Upstream's runtime path for connector-driven hooks.
const RUNTIME_PATH: &str = "plugin";

/// `signet hook` arguments.
#[derive(Debug, Args)]
pub struct HookArgs {
    /// The lifecycle event.
    #[arg(value_enum)]
    pub event: HookEvent,
    /// The harness calling (`claude-code`, `codex`, ...); it names the session's source.
    #[arg(long, short = 'H', value_name = "NAME")]
    pub harness: String,
    /// The project; default: the `cwd` of the hook's input.
    #[arg(long, value_name = "PATH")]
    pub project: Option<String>,
}

/// The events a harness hook forwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum HookEvent {
    /// A session starts (or resumes): prints the context to inject.
    SessionStart,
    /// The user submitted a prompt: prints the memories recalled for it.
    UserPromptSubmit,
    /// The context is about to be compacted: the daemon checkpoints the session.
    PreCompaction,
    /// The session ended: the daemon queues its transcript for summarising.
    SessionEnd,
}

impl HookEvent {
    /// The daemon route.
    fn path(self) -> &'static str {
        match self {
            Self::SessionStart => "/api/hooks/session-start",
            Self::UserPromptSubmit => "/api/hooks/user-prompt-submit",
            Self::PreCompaction => "/api/hooks/pre-compaction",
            Self::SessionEnd => "/api/hooks/session-end",
        }
    }

    /// The command-line name (`session-start`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Self::SessionStart => "session-start",
            Self::UserPromptSubmit => "user-prompt-submit",
            Self::PreCompaction => "pre-compaction",
            Self::SessionEnd => "session-end",
        }
    }

    /// The harness event whose output carries `additionalContext`, for the events that inject.
    fn context_event(self) -> Option<&'static str> {
        match self {
            Self::SessionStart => Some("SessionStart"),
            Self::UserPromptSubmit => Some("UserPromptSubmit"),
            Self::PreCompaction | Self::SessionEnd => None,
        }
    }

    fn timeout(self) -> Duration {
        match self {
            Self::SessionEnd => SESSION_END_TIMEOUT,
            _ => TIMEOUT,
        }
    }
}

/// Runs the hook; never fails the harness (errors become one stderr line, exit 0).
pub async fn run(g: &Global, args: HookArgs) -> Result<()> {
    let set = |name: &str| std::env::var(name).is_ok_and(|v| v.trim() == "1");
    if set("SIGNET_NO_HOOKS") || set("SIGNET_BYPASS") {
        return Ok(());
    }
    let event = args.event;
    match forward(g, &args).await {
        Ok(Some(text)) => {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{text}").and_then(|()| out.flush());
        }
        Ok(None) => {}
        Err(e) => eprintln!("signet hook {}: skipped: {e:#}", event.name()),
    }
    Ok(())
}

/// Reads stdin, calls the daemon, and returns what to print (if anything).
async fn forward(g: &Global, args: &HookArgs) -> Result<Option<String>> {
    let input = read_input()?;
    let body = request(args, &Input(&input))?;
    let client = client(g)?;
    let call = client.request_json(Method::POST, args.event.path(), Some(&body));
    let answer = tokio::time::timeout(args.event.timeout(), call)
        .await
        .map_err(|_| {
            anyhow!(
                "the daemon did not answer within {:?}",
                args.event.timeout()
            )
        })??;
    Ok(output(args.event, &answer))
}

/// The daemon client: `SIGNET_DAEMON_URL`, else the client commands' address; the bearer from
/// `--token` / `--token-file` or their variables.
fn client(g: &Global) -> Result<Client> {
    let url = std::env::var("SIGNET_DAEMON_URL")
        .ok()
        .map(|u| u.trim().trim_end_matches('/').to_owned())
        .filter(|u| !u.is_empty());
    let url = match url {
        Some(u) => u,
        None => crate::connect::url(g)?,
    };
    Ok(Client::new(url)?.with_token(g.bearer()?))
}

/// The hook's JSON object from stdin; anything else (a terminal, nothing, not JSON, not an
/// object) is `{}`.
fn read_input() -> Result<Map<String, Value>> {
    if std::io::stdin().is_terminal() {
        return Ok(Map::new());
    }
    let mut text = String::new();
    std::io::stdin()
        .take(MAX_INPUT)
        .read_to_string(&mut text)
        .context("reading the hook's input")?;
    Ok(match serde_json::from_str::<Value>(text.trim()) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    })
}

/// The hook input's fields, under the names harnesses use.
struct Input<'a>(&'a Map<String, Value>);

impl Input<'_> {
    /// The first of `keys` that holds a non-blank string.
    fn pick(&self, keys: &[&str]) -> Option<String> {
        keys.iter()
            .filter_map(|k| self.0.get(*k)?.as_str())
            .find(|v| !v.trim().is_empty())
            .map(str::to_owned)
    }

    fn session(&self) -> Option<String> {
        self.pick(&["session_key", "sessionKey", "session_id", "sessionId"])
    }

    fn cwd(&self) -> Option<String> {
        self.pick(&["cwd"])
    }
}

/// The daemon request for `args.event` built from the hook's input.
fn request(args: &HookArgs, input: &Input<'_>) -> Result<Value> {
    let harness = args.harness.trim().to_owned();
    if harness.is_empty() {
        return Err(anyhow!("--harness is empty"));
    }
    let project = args.project.clone().or_else(|| input.cwd());
    let runtime_path = Some(RUNTIME_PATH.to_owned());
    let session_key = input.session();
    let body = match args.event {
        HookEvent::SessionStart => serde_json::to_value(SessionStartRequest {
            harness,
            project,
            session_key,
            runtime_path,
            ..Default::default()
        }),
        HookEvent::UserPromptSubmit => serde_json::to_value(UserPromptRequest {
            harness,
            user_prompt: input.pick(&["prompt", "user_prompt", "userPrompt"]),
            last_assistant_message: input.pick(&["last_assistant_message", "lastAssistantMessage"]),
            project,
            session_key,
            runtime_path,
            ..Default::default()
        }),
        HookEvent::PreCompaction => serde_json::to_value(PreCompactionRequest {
            harness,
            session_key,
            runtime_path,
            ..Default::default()
        }),
        HookEvent::SessionEnd => serde_json::to_value(SessionEndRequest {
            harness,
            transcript_path: input.pick(&["transcript_path", "transcriptPath"]),
            session_id: session_key.clone(),
            session_key,
            cwd: project,
            reason: input.pick(&["reason"]),
            runtime_path,
        }),
    };
    Ok(body?)
}

/// What the harness gets on stdout: the `inject` text as additional context, for the events
/// that inject and only when there is text.
fn output(event: HookEvent, answer: &Value) -> Option<String> {
    let name = event.context_event()?;
    let inject = answer.get("inject")?.as_str()?;
    if inject.trim().is_empty() {
        return None;
    }
    let out = json!({"hookSpecificOutput": {"hookEventName": name, "additionalContext": inject}});
    Some(out.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(event: HookEvent) -> HookArgs {
        HookArgs {
            event,
            harness: "claude-code".into(),
            project: None,
        }
    }

    fn input(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => unreachable!(),
        }
    }

    #[test]
    fn claude_code_input_maps_onto_the_hook_requests() {
        let raw = input(json!({"session_id": "s1", "transcript_path": "/t.jsonl",
            "cwd": "/work/p", "hook_event_name": "UserPromptSubmit", "prompt": "why rust?"}));
        let body = request(&args(HookEvent::UserPromptSubmit), &Input(&raw)).unwrap();
        assert_eq!(
            body,
            json!({"harness": "claude-code", "userPrompt": "why rust?", "project": "/work/p",
                "sessionKey": "s1", "runtimePath": "plugin"})
        );
        let raw = input(json!({"session_id": "s1", "transcript_path": "/t.jsonl",
            "cwd": "/work/p", "reason": "clear"}));
        let body = request(&args(HookEvent::SessionEnd), &Input(&raw)).unwrap();
        assert_eq!(
            body,
            json!({"harness": "claude-code", "transcriptPath": "/t.jsonl", "sessionId": "s1",
                "sessionKey": "s1", "cwd": "/work/p", "reason": "clear", "runtimePath": "plugin"})
        );
        let body = request(&args(HookEvent::SessionStart), &Input(&Map::new())).unwrap();
        assert_eq!(
            body,
            json!({"harness": "claude-code", "runtimePath": "plugin"})
        );
    }

    #[test]
    fn only_injecting_events_print_and_only_with_text() {
        let answer = json!({"inject": "hello", "memories": []});
        let out = output(HookEvent::SessionStart, &answer).unwrap();
        let v: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["hookSpecificOutput"]["hookEventName"], "SessionStart");
        assert_eq!(v["hookSpecificOutput"]["additionalContext"], "hello");
        assert!(output(HookEvent::SessionStart, &json!({"inject": " "})).is_none());
        assert!(output(HookEvent::PreCompaction, &answer).is_none());
        assert!(output(HookEvent::SessionEnd, &answer).is_none());
    }
}
