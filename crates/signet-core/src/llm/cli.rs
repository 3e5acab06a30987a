//! The CLI providers: `claude` (claude-code) and `codex`, run as subprocesses.
//!
//! Each call spawns the program with the prompt as an argument, under a process-wide
//! semaphore (`SIGNET_MAX_LLM_CONCURRENCY`, default 4). On timeout the child gets SIGTERM,
//! then SIGKILL after [`KILL_GRACE`]; a dropped call kills it too (`kill_on_drop`). A
//! non-zero exit, empty stdout or output that is not the CLI's JSON is a
//! [`LlmError::Process`] / [`LlmError::Malformed`] (not retried); only a timeout is retryable.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::{Child, Command};
use tokio::sync::Semaphore;

use super::http::{malformed, tokens};
use super::{BoxFuture, LlmError, LlmProvider, LlmRequest, LlmResponse, Usage};
use crate::config::EnvVars;

/// Default cap on concurrent CLI calls.
pub const DEFAULT_MAX_CONCURRENCY: usize = 4;

/// Time between SIGTERM and SIGKILL of a timed-out child.
pub const KILL_GRACE: Duration = Duration::from_secs(2);

/// Timeout of the `--version` availability check.
pub const VERSION_TIMEOUT: Duration = Duration::from_secs(10);

/// Stderr quoted in errors is cut to this many characters.
const STDERR_EXCERPT: usize = 300;

/// `SIGNET_MAX_LLM_CONCURRENCY` (a positive integer), else [`DEFAULT_MAX_CONCURRENCY`].
pub fn max_concurrency(env: &EnvVars) -> usize {
    env.non_empty("SIGNET_MAX_LLM_CONCURRENCY")
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|n| *n > 0)
        .unwrap_or(DEFAULT_MAX_CONCURRENCY)
}

/// The process-wide semaphore, sized from `env` by whichever provider is built first.
pub fn shared_semaphore(env: &EnvVars) -> Arc<Semaphore> {
    static SHARED: OnceLock<Arc<Semaphore>> = OnceLock::new();
    SHARED
        .get_or_init(|| Arc::new(Semaphore::new(max_concurrency(env))))
        .clone()
}

/// What every CLI call shares: the program, the child's environment and the semaphore.
#[derive(Clone, Debug)]
struct Runner {
    program: PathBuf,
    /// The child's whole environment (the parent's, scrubbed); values are never logged.
    env: Vec<(String, String)>,
    permits: Arc<Semaphore>,
}

impl Runner {
    fn new(program: PathBuf, env: &EnvVars, extra: &[(&str, &str)]) -> Self {
        let mut vars: Vec<(String, String)> = env
            .iter()
            .filter(|(k, _)| *k != "CLAUDECODE" && !k.starts_with("CLAUDE_CODE_"))
            .filter(|(k, _)| !extra.iter().any(|(e, _)| e == k))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        vars.extend(
            extra
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        Self {
            program,
            env: vars,
            permits: shared_semaphore(env),
        }
    }

    /// Runs the program with `args` within `timeout`; returns its stdout and wall time.
    async fn run(
        &self,
        provider: &str,
        args: Vec<OsString>,
        timeout: Duration,
    ) -> Result<(String, Duration), LlmError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|e| process(provider, e))?;
        let started = Instant::now();
        let mut child = Command::new(&self.program)
            .args(args)
            .env_clear()
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| {
                process(
                    provider,
                    format!("cannot run {}: {e}", self.program.display()),
                )
            })?;
        let stdout = child.stdout.take();
        let stderr = child.stderr.take();
        let finished = tokio::time::timeout(timeout, async {
            let (out, err, status) = tokio::join!(read_all(stdout), read_all(stderr), child.wait());
            (out, err, status)
        })
        .await;
        let (out, err, status) = match finished {
            Ok(done) => done,
            Err(_) => {
                terminate(&mut child).await;
                return Err(LlmError::Timeout {
                    provider: provider.to_owned(),
                    ms: timeout.as_millis(),
                });
            }
        };
        let duration = started.elapsed();
        let status = status.map_err(|e| process(provider, e))?;
        if !status.success() {
            let err: String = err.trim().chars().take(STDERR_EXCERPT).collect();
            return Err(process(provider, format!("exited with {status}: {err}")));
        }
        if out.trim().is_empty() {
            return Err(process(provider, "printed nothing"));
        }
        Ok((out, duration))
    }

    /// `<program> --version` exits 0 and prints something (upstream's start-up check).
    async fn available(&self, provider: &str) -> bool {
        self.run(provider, vec![OsString::from("--version")], VERSION_TIMEOUT)
            .await
            .is_ok()
    }
}

async fn read_all(pipe: Option<impl AsyncRead + Unpin>) -> String {
    let mut buf = Vec::new();
    if let Some(mut pipe) = pipe {
        // A read error leaves what was read; the exit status tells the rest.
        let _ = pipe.read_to_end(&mut buf).await;
    }
    String::from_utf8_lossy(&buf).into_owned()
}

/// SIGTERM, then SIGKILL if the child has not exited within [`KILL_GRACE`].
async fn terminate(child: &mut Child) {
    #[cfg(unix)]
    if let Some(pid) = child
        .id()
        .and_then(|id| i32::try_from(id).ok())
        .and_then(rustix::process::Pid::from_raw)
    {
        let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
        if tokio::time::timeout(KILL_GRACE, child.wait()).await.is_ok() {
            return;
        }
    }
    let _ = child.kill().await;
}

fn process(provider: &str, e: impl std::fmt::Display) -> LlmError {
    LlmError::Process {
        provider: provider.to_owned(),
        message: e.to_string(),
    }
}

/// `claude -p <prompt> --model <m> --no-session-persistence --output-format json`.
#[derive(Clone, Debug)]
pub struct ClaudeCode {
    model: String,
    runner: Runner,
}

impl ClaudeCode {
    /// Runs `program` (normally `claude`) for `model`, with `env` (the daemon's environment)
    /// minus `CLAUDECODE` / `CLAUDE_CODE_*`, plus `NO_COLOR=1` and `SIGNET_NO_HOOKS=1`.
    pub fn new(program: impl Into<PathBuf>, model: &str, env: &EnvVars) -> Self {
        Self {
            model: model.to_owned(),
            runner: Runner::new(
                program.into(),
                env,
                &[("NO_COLOR", "1"), ("SIGNET_NO_HOOKS", "1")],
            ),
        }
    }

    /// Replaces the process-wide semaphore (tests of the cap).
    pub fn with_semaphore(mut self, permits: Arc<Semaphore>) -> Self {
        self.runner.permits = permits;
        self
    }

    /// Whether the CLI runs: `--version` exits 0 within [`VERSION_TIMEOUT`].
    pub async fn available(&self) -> bool {
        self.runner.available("claude-code").await
    }

    async fn call(&self, req: &LlmRequest) -> Result<LlmResponse, LlmError> {
        let args: Vec<OsString> = [
            "-p",
            &req.prompt,
            "--model",
            &self.model,
            "--no-session-persistence",
            "--output-format",
            "json",
        ]
        .iter()
        .map(OsString::from)
        .collect();
        let (out, duration) = self.runner.run("claude-code", args, req.timeout).await?;
        parse_claude(&out, duration)
    }
}

/// `{"result": ..., "is_error": false, "usage": {"input_tokens", "output_tokens"}}`.
fn parse_claude(out: &str, duration: Duration) -> Result<LlmResponse, LlmError> {
    let v: Value = serde_json::from_str(out.trim()).map_err(|e| malformed("claude-code", e))?;
    let text = v["result"]
        .as_str()
        .ok_or_else(|| malformed("claude-code", "no result"))?;
    if v["is_error"] == true {
        let message: String = text.chars().take(STDERR_EXCERPT).collect();
        return Err(process("claude-code", message));
    }
    Ok(LlmResponse {
        text: text.to_owned(),
        usage: Usage {
            input_tokens: tokens(&v["usage"]["input_tokens"]),
            output_tokens: tokens(&v["usage"]["output_tokens"]),
        },
        duration,
    })
}

impl LlmProvider for ClaudeCode {
    fn name(&self) -> &str {
        "claude-code"
    }
    fn model(&self) -> &str {
        &self.model
    }
    fn complete<'a>(&'a self, req: &'a LlmRequest) -> BoxFuture<'a, Result<LlmResponse, LlmError>> {
        Box::pin(self.call(req))
    }
}

/// `codex exec --skip-git-repo-check --json --sandbox read-only -C <dir> --model <m> <prompt>`.
#[derive(Clone, Debug)]
pub struct Codex {
    model: String,
    workdir: PathBuf,
    runner: Runner,
}

impl Codex {
    /// Runs `program` (normally `codex`) for `model` in `workdir` (upstream: the home
    /// directory), with `SIGNET_NO_HOOKS=1` and `SIGNET_CODEX_BYPASS_WRAPPER=1` set.
    pub fn new(program: impl Into<PathBuf>, model: &str, workdir: &Path, env: &EnvVars) -> Self {
        Self {
            model: model.to_owned(),
            workdir: workdir.to_owned(),
            runner: Runner::new(
                program.into(),
                env,
                &[
                    ("NO_COLOR", "1"),
                    ("SIGNET_NO_HOOKS", "1"),
                    ("SIGNET_CODEX_BYPASS_WRAPPER", "1"),
                ],
            ),
        }
    }

    /// Replaces the process-wide semaphore (tests of the cap).
    pub fn with_semaphore(mut self, permits: Arc<Semaphore>) -> Self {
        self.runner.permits = permits;
        self
    }

    /// Whether the CLI runs: `--version` exits 0 within [`VERSION_TIMEOUT`].
    pub async fn available(&self) -> bool {
        self.runner.available("codex").await
    }

    async fn call(&self, req: &LlmRequest) -> Result<LlmResponse, LlmError> {
        let mut args: Vec<OsString> = [
            "exec",
            "--skip-git-repo-check",
            "--json",
            "--sandbox",
            "read-only",
            "-C",
        ]
        .iter()
        .map(OsString::from)
        .collect();
        args.push(self.workdir.clone().into_os_string());
        args.extend(["--model", &self.model, &req.prompt].map(OsString::from));
        let (out, duration) = self.runner.run("codex", args, req.timeout).await?;
        parse_codex(&out, duration)
    }
}

/// JSONL events: the text of every `item.completed` whose item is an `agent_message`
/// (joined with `\n`), the usage of `turn.completed`. Lines that are not JSON are skipped.
fn parse_codex(out: &str, duration: Duration) -> Result<LlmResponse, LlmError> {
    let mut texts = Vec::new();
    let mut usage = Usage::default();
    for line in out.lines() {
        let Ok(event) = serde_json::from_str::<Value>(line.trim()) else {
            continue;
        };
        match event["type"].as_str() {
            Some("item.completed") if event["item"]["type"] == "agent_message" => {
                if let Some(t) = event["item"]["text"].as_str() {
                    texts.push(t.to_owned());
                }
            }
            Some("turn.completed") => {
                let u = &event["usage"];
                usage.input_tokens += tokens(&u["input_tokens"]);
                usage.output_tokens += tokens(&u["output_tokens"]);
            }
            _ => {}
        }
    }
    if texts.is_empty() {
        return Err(malformed("codex", "no agent_message in the output"));
    }
    Ok(LlmResponse {
        text: texts.join("\n"),
        usage,
        duration,
    })
}

impl LlmProvider for Codex {
    fn name(&self) -> &str {
        "codex"
    }
    fn model(&self) -> &str {
        &self.model
    }
    fn complete<'a>(&'a self, req: &'a LlmRequest) -> BoxFuture<'a, Result<LlmResponse, LlmError>> {
        Box::pin(self.call(req))
    }
}

#[cfg(test)]
#[cfg(unix)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    /// Writes an executable `sh` script named `name` into `dir`.
    fn stub(dir: &Path, name: &str, body: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path
    }

    fn req(timeout_ms: u64) -> LlmRequest {
        LlmRequest::new("extract facts").with_timeout(Duration::from_millis(timeout_ms))
    }

    #[tokio::test]
    async fn claude_code_parses_json_and_scrubs_env() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().display();
        let program = stub(
            dir.path(),
            "claude",
            &format!(
                "printf '%s\\n' \"$@\" > {d}/args\n\
                 env > {d}/env\n\
                 echo '{{\"type\":\"result\",\"is_error\":false,\"result\":\"{{\\\"facts\\\":[]}}\",\
                 \"usage\":{{\"input_tokens\":11,\"output_tokens\":3}}}}'"
            ),
        );
        let env = EnvVars::default()
            .with("PATH", "/usr/bin:/bin")
            .with("CLAUDECODE", "1")
            .with("CLAUDE_CODE_ENTRYPOINT", "cli")
            .with("KEEP_ME", "yes");
        let p = ClaudeCode::new(program, "haiku", &env);
        let r = p.complete(&req(10_000)).await.unwrap();
        assert_eq!(r.text, r#"{"facts":[]}"#);
        assert_eq!(
            r.usage,
            Usage {
                input_tokens: 11,
                output_tokens: 3
            }
        );
        let args = std::fs::read_to_string(dir.path().join("args")).unwrap();
        assert_eq!(
            args.lines().collect::<Vec<_>>(),
            [
                "-p",
                "extract facts",
                "--model",
                "haiku",
                "--no-session-persistence",
                "--output-format",
                "json"
            ]
        );
        let child_env = std::fs::read_to_string(dir.path().join("env")).unwrap();
        assert!(child_env.contains("KEEP_ME=yes"));
        assert!(child_env.contains("NO_COLOR=1"));
        assert!(child_env.contains("SIGNET_NO_HOOKS=1"));
        assert!(!child_env.contains("CLAUDECODE"));
        assert!(!child_env.contains("CLAUDE_CODE_"));
    }

    #[tokio::test]
    async fn codex_reads_agent_messages_and_turn_usage() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().display();
        let program = stub(
            dir.path(),
            "codex",
            &format!(
                "printf '%s\\n' \"$@\" > {d}/args\n\
                 echo '{{\"type\":\"thread.started\",\"thread_id\":\"t1\"}}'\n\
                 echo 'not json'\n\
                 echo '{{\"type\":\"item.completed\",\"item\":{{\"type\":\"reasoning\",\"text\":\"hmm\"}}}}'\n\
                 echo '{{\"type\":\"item.completed\",\"item\":{{\"type\":\"agent_message\",\"text\":\"answer\"}}}}'\n\
                 echo '{{\"type\":\"turn.completed\",\"usage\":{{\"input_tokens\":20,\"output_tokens\":7}}}}'"
            ),
        );
        let p = Codex::new(program, "gpt-5.3-codex", dir.path(), &EnvVars::default());
        let r = p.complete(&req(10_000)).await.unwrap();
        assert_eq!(r.text, "answer");
        assert_eq!(r.usage.input_tokens, 20);
        assert_eq!(r.usage.output_tokens, 7);
        let args = std::fs::read_to_string(dir.path().join("args")).unwrap();
        let home = dir.path().display().to_string();
        assert_eq!(
            args.lines().collect::<Vec<_>>(),
            [
                "exec",
                "--skip-git-repo-check",
                "--json",
                "--sandbox",
                "read-only",
                "-C",
                home.as_str(),
                "--model",
                "gpt-5.3-codex",
                "extract facts"
            ]
        );
    }

    #[tokio::test]
    async fn failures_are_not_retryable_but_timeouts_are() {
        let dir = tempfile::tempdir().unwrap();
        let env = EnvVars::default();
        let failing = stub(dir.path(), "fail", "echo boom >&2\nexit 1");
        let e = ClaudeCode::new(failing, "haiku", &env)
            .complete(&req(10_000))
            .await
            .unwrap_err();
        assert!(matches!(&e, LlmError::Process { message, .. } if message.contains("boom")));
        assert!(!e.is_retryable());

        let silent = stub(dir.path(), "silent", "exit 0");
        let e = ClaudeCode::new(silent, "haiku", &env)
            .complete(&req(10_000))
            .await
            .unwrap_err();
        assert!(matches!(e, LlmError::Process { .. }));

        let garbage = stub(dir.path(), "garbage", "echo '{not json'");
        let e = ClaudeCode::new(garbage, "haiku", &env)
            .complete(&req(10_000))
            .await
            .unwrap_err();
        assert!(matches!(e, LlmError::Malformed { .. }));

        let missing = dir.path().join("no-such-cli");
        let e = Codex::new(missing, "m", dir.path(), &env)
            .complete(&req(10_000))
            .await
            .unwrap_err();
        assert!(matches!(e, LlmError::Process { .. }));
        assert!(!e.is_retryable());
    }

    #[tokio::test]
    async fn a_slow_cli_is_terminated_at_the_timeout() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().display();
        // Exits on SIGTERM after noting it; `exec sleep` would not run the trap.
        let program = stub(
            dir.path(),
            "slow",
            &format!("trap 'echo term > {d}/got; exit 0' TERM\nwhile :; do sleep 0.05; done"),
        );
        let started = Instant::now();
        let e = ClaudeCode::new(program, "haiku", &EnvVars::default())
            .complete(&req(300))
            .await
            .unwrap_err();
        assert!(matches!(e, LlmError::Timeout { .. }));
        assert!(e.is_retryable());
        assert!(started.elapsed() < KILL_GRACE);
        assert!(dir.path().join("got").exists());
    }

    #[tokio::test]
    async fn a_cli_ignoring_sigterm_is_killed_after_the_grace() {
        let dir = tempfile::tempdir().unwrap();
        let program = stub(
            dir.path(),
            "stubborn",
            "trap '' TERM\nwhile :; do sleep 0.05; done",
        );
        let started = Instant::now();
        let e = ClaudeCode::new(program, "haiku", &EnvVars::default())
            .complete(&req(200))
            .await
            .unwrap_err();
        assert!(matches!(e, LlmError::Timeout { .. }));
        let took = started.elapsed();
        assert!(took >= KILL_GRACE && took < KILL_GRACE * 3, "{took:?}");
    }

    #[tokio::test]
    async fn the_semaphore_caps_concurrent_calls() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().display();
        // Each call records the peak number of running stubs via lock-free marker files.
        let program = stub(
            dir.path(),
            "claude",
            &format!(
                "touch {d}/run.$$\n\
                 ls {d} | grep -c '^run\\.' >> {d}/peaks\n\
                 sleep 0.2\n\
                 rm {d}/run.$$\n\
                 echo '{{\"result\":\"ok\"}}'"
            ),
        );
        let permits = Arc::new(Semaphore::new(2));
        let p = ClaudeCode::new(program, "haiku", &EnvVars::default()).with_semaphore(permits);
        let calls: Vec<_> = (0..6)
            .map(|_| {
                let p = p.clone();
                tokio::spawn(async move { p.complete(&req(10_000)).await })
            })
            .collect();
        for call in calls {
            assert_eq!(call.await.unwrap().unwrap().text, "ok");
        }
        let peaks = std::fs::read_to_string(dir.path().join("peaks")).unwrap();
        let peak = peaks
            .lines()
            .map(|l| l.trim().parse::<usize>().unwrap())
            .max()
            .unwrap();
        assert!(peak <= 2, "peak {peak}");
    }

    #[tokio::test]
    async fn availability_is_a_version_check() {
        let dir = tempfile::tempdir().unwrap();
        let env = EnvVars::default();
        let ok = stub(
            dir.path(),
            "claude",
            "[ \"$1\" = --version ] && echo '2.0.1 (Claude Code)'",
        );
        assert!(ClaudeCode::new(ok, "haiku", &env).available().await);
        let broken = stub(dir.path(), "codex", "exit 2");
        assert!(!Codex::new(broken, "m", dir.path(), &env).available().await);
        let missing = dir.path().join("absent");
        assert!(!ClaudeCode::new(missing, "haiku", &env).available().await);
    }

    #[test]
    fn concurrency_comes_from_the_environment() {
        let env = EnvVars::default();
        assert_eq!(max_concurrency(&env), 4);
        assert_eq!(
            max_concurrency(&env.clone().with("SIGNET_MAX_LLM_CONCURRENCY", "2")),
            2
        );
        assert_eq!(
            max_concurrency(&env.with("SIGNET_MAX_LLM_CONCURRENCY", "0")),
            4
        );
    }
}
