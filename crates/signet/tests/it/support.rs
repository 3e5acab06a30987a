//! `TestEnv`: a temp HOME and workspace, a free port, and helpers to run the binary. Every
//! daemon a test starts is killed when its `TestEnv` or `Foreground` guard drops.

use std::fs::File;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

pub const BIN: &str = env!("CARGO_BIN_EXE_signet");
/// Upper bound for any single wait in these tests.
pub const DEADLINE: Duration = Duration::from_secs(30);

/// The PostgreSQL test server's URL (`SIGNET_TEST_PG_URL`), or `None` (after saying why)
/// when these tests cannot run here.
pub fn pg_server_url() -> Option<String> {
    url_from("SIGNET_TEST_PG_URL", "scripts/pg-temp.sh start DIR")
}

/// The pgvector test server's URL (`SIGNET_TEST_PGVECTOR_URL`), as [`pg_server_url`].
pub fn pgvector_url() -> Option<String> {
    url_from(
        "SIGNET_TEST_PGVECTOR_URL",
        "PG_BIN=\"$(scripts/fetch-pgvector-server.sh)\" scripts/pg-temp.sh start DIR",
    )
}

/// The URL in `var`; unset, a failure under `SIGNET_REQUIRE_ALL=1` (scripts/test.sh) and a
/// skip, saying so, otherwise. `start` is the command that starts such a server.
fn url_from(var: &str, start: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            let why = format!(
                "{var} is not set: run scripts/test.sh, or start a server with {start} and \
                 export its URL"
            );
            if std::env::var("SIGNET_REQUIRE_ALL").is_ok_and(|v| v == "1") {
                panic!("{why}");
            }
            eprintln!("SKIPPED (PostgreSQL test): {why}");
            None
        }
    }
}

/// `POST /api/memory/remember` with `body`; the new memory's id.
pub fn remember_body(port: u16, body: Value) -> String {
    let v = http_json(port, "POST", "/api/memory/remember", &[], &body.to_string());
    v["id"]
        .as_str()
        .unwrap_or_else(|| panic!("remember answered {v}"))
        .to_owned()
}

/// Remembers `content`; the new memory's id.
pub fn remember(port: u16, content: &str) -> String {
    remember_body(port, serde_json::json!({ "content": content }))
}

/// Waits until no live memory lacks a vector.
pub fn all_embedded(port: u16) {
    poll("every memory embedded", || {
        let gaps = http_json(port, "GET", "/api/repair/embedding-gaps", &[], "");
        (gaps["unembedded"] == 0).then_some(())
    });
}

/// A port nothing listens on right now (bound then released).
pub fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
    l.local_addr().expect("local addr").port()
}

/// Polls `f` until it returns `Some` or the deadline passes.
pub fn poll<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + DEADLINE;
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Running and not a zombie.
pub fn is_alive(pid: u32) -> bool {
    if cfg!(target_os = "linux") {
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            return false;
        };
        let state = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.trim_start().chars().next());
        return !matches!(state, None | Some('Z' | 'X' | 'x'));
    }
    signal(pid, "-0")
}

/// `kill <sig> <pid>`; true on success.
pub fn signal(pid: u32, sig: &str) -> bool {
    Command::new("kill")
        .args([sig, &pid.to_string()])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// SIGTERM, a bounded wait, then SIGKILL.
fn kill_hard(pid: u32) {
    if !is_alive(pid) {
        return;
    }
    signal(pid, "-TERM");
    let deadline = Instant::now() + Duration::from_secs(5);
    while is_alive(pid) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    if is_alive(pid) {
        signal(pid, "-KILL");
    }
}

/// A finished CLI invocation.
#[derive(Debug)]
pub struct Out {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl Out {
    pub fn ok(&self) -> &Self {
        assert!(
            self.status.success(),
            "command failed ({}):\nstdout: {}\nstderr: {}",
            self.status,
            self.stdout,
            self.stderr
        );
        self
    }

    /// Asserts that the command succeeded and its stdout contains `needle`.
    #[track_caller]
    pub fn stdout_has(&self, needle: &str) {
        assert!(self.ok().stdout.contains(needle), "{self:?}");
    }

    pub fn json(&self) -> Value {
        self.ok();
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("{e}: {}", self.stdout))
    }
}

pub struct TestEnv {
    pub home: tempfile::TempDir,
    pub workspace: PathBuf,
    pub port: u16,
    /// Pass `SIGNET_PATH`; when false the workspace comes from HOME.
    signet_path: bool,
    /// Daemons started through `daemon start`, killed on drop.
    daemons: Vec<u32>,
}

impl TestEnv {
    pub fn new() -> Self {
        let home = tempfile::tempdir().expect("temp home");
        let workspace = home.path().join("ws");
        Self {
            home,
            workspace,
            port: free_port(),
            signet_path: true,
            daemons: Vec::new(),
        }
    }

    /// No `SIGNET_PATH`; `~/.config/signet/workspace.json` points at `~/custom-ws`.
    pub fn with_workspace_json() -> Self {
        let mut env = Self::new();
        let dir = env.home.path().join(".config/signet");
        std::fs::create_dir_all(&dir).expect("config dir");
        std::fs::write(dir.join("workspace.json"), r#"{"path": "~/custom-ws"}"#).expect("pointer");
        env.workspace = env.home.path().join("custom-ws");
        env.signet_path = false;
        env
    }

    pub fn pid_file(&self) -> PathBuf {
        self.workspace.join(".daemon/pid")
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.args(args)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.home.path())
            .env("SIGNET_HOST", "127.0.0.1")
            .env("SIGNET_PORT", self.port.to_string())
            .env("RUST_LOG", "info")
            .stdin(Stdio::null());
        if self.signet_path {
            cmd.env("SIGNET_PATH", &self.workspace);
        }
        cmd
    }

    /// Runs the binary to completion (killed if it outlives the deadline).
    pub fn run(&self, args: &[&str]) -> Out {
        self.output(self.command(args), args)
    }

    /// [`TestEnv::run`] with `dir` first on PATH (stub system commands).
    pub fn run_with_path_first(&self, dir: &Path, args: &[&str]) -> Out {
        let mut path = std::ffi::OsString::from(dir);
        path.push(":");
        path.push(std::env::var_os("PATH").unwrap_or_default());
        let mut cmd = self.command(args);
        cmd.env("PATH", path);
        self.output(cmd, args)
    }

    /// [`TestEnv::run`] as in a new shell that never set `SIGNET_HOST` or `SIGNET_PORT`.
    pub fn run_without_address(&self, args: &[&str]) -> Out {
        let mut cmd = self.command(args);
        cmd.env_remove("SIGNET_HOST").env_remove("SIGNET_PORT");
        self.output(cmd, args)
    }

    /// Runs the binary with stdout connected to a pipe whose reader is already closed, as in
    /// `signet status | head -0`; stdout is empty by construction.
    pub fn run_into_closed_pipe(&self, args: &[&str]) -> Out {
        let (reader, writer) = std::io::pipe().expect("a pipe");
        drop(reader);
        let (status, stderr) = self.finish(self.command(args), writer.into(), args);
        Out {
            status,
            stdout: String::new(),
            stderr,
        }
    }

    /// Writes the workspace's `agent.yaml`.
    pub fn write_config(&self, yaml: &str) {
        std::fs::create_dir_all(&self.workspace).expect("workspace dir");
        std::fs::write(self.workspace.join("agent.yaml"), yaml).expect("agent.yaml");
    }

    fn output(&self, cmd: Command, args: &[&str]) -> Out {
        let out_path = self.scratch("stdout");
        let stdout = File::create(&out_path).expect("stdout file");
        let (status, stderr) = self.finish(cmd, stdout.into(), args);
        Out {
            status,
            stdout: read(&out_path),
            stderr,
        }
    }

    /// Runs `cmd` to completion with the given stdout and stderr captured in a scratch file;
    /// returns the exit status and what it wrote to stderr.
    fn finish(&self, mut cmd: Command, stdout: Stdio, args: &[&str]) -> (ExitStatus, String) {
        let err_path = self.scratch("stderr");
        let mut child = cmd
            .stdout(stdout)
            .stderr(File::create(&err_path).expect("stderr file"))
            .spawn()
            .expect("spawn signet");
        let status = wait(&mut child)
            .unwrap_or_else(|| panic!("`signet {}` did not finish", args.join(" ")));
        (status, read(&err_path))
    }

    /// `signet daemon start`, retried once on a fresh port if the port was taken meanwhile.
    pub fn start_daemon(&mut self) -> u32 {
        parse_pid(&self.start_daemon_output().stdout)
    }

    /// [`TestEnv::start_daemon`], returning what `daemon start` printed.
    pub fn start_daemon_output(&mut self) -> Out {
        for attempt in 0..2 {
            let out = self.run(&["daemon", "start"]);
            if out.status.success() {
                self.daemons.push(parse_pid(&out.stdout));
                assert!(
                    out.stdout
                        .contains(&format!("on http://127.0.0.1:{}", self.port)),
                    "{}",
                    out.stdout
                );
                return out;
            }
            assert!(
                attempt == 0 && out.stderr.contains("already in use"),
                "daemon start failed: {out:?}"
            );
            self.port = free_port();
        }
        unreachable!("the loop returns or panics")
    }

    /// `signet daemon run` in the foreground, once healthy (retried once on a fresh port).
    pub fn start_foreground(&mut self) -> Foreground {
        for attempt in 0..2 {
            let stderr = self.scratch("foreground-stderr");
            let child = self
                .command(&["daemon", "run"])
                .stdout(Stdio::null())
                .stderr(File::create(&stderr).expect("stderr file"))
                .spawn()
                .expect("spawn daemon run");
            let mut fg = Foreground { child, stderr };
            let pid = fg.child.id();
            let ready = poll("the foreground daemon", || match fg.child.try_wait() {
                Ok(Some(_)) => Some(false),
                _ => health(self.port).filter(|h| h["pid"] == pid).map(|_| true),
            });
            if ready {
                return fg;
            }
            let log = read(&fg.stderr);
            assert!(
                attempt == 0 && log.contains("already in use"),
                "daemon run failed:\n{log}"
            );
            self.port = free_port();
        }
        unreachable!("the loop returns or panics")
    }

    fn scratch(&self, name: &str) -> PathBuf {
        tempfile::Builder::new()
            .prefix(name)
            .tempfile_in(self.home.path())
            .expect("scratch file")
            .into_temp_path()
            .keep()
            .expect("keep scratch file")
    }
}

impl Drop for TestEnv {
    fn drop(&mut self) {
        let recorded = std::fs::read_to_string(self.pid_file())
            .ok()
            .and_then(|t| t.trim().parse().ok());
        for pid in self.daemons.iter().copied().chain(recorded) {
            kill_hard(pid);
        }
    }
}

/// A `daemon run` child, killed on drop.
pub struct Foreground {
    pub child: Child,
    pub stderr: PathBuf,
}

impl Foreground {
    /// Waits (bounded) for the process to exit.
    pub fn wait(&mut self) -> ExitStatus {
        wait(&mut self.child).expect("the daemon did not exit")
    }
}

impl Drop for Foreground {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn wait(child: &mut Child) -> Option<ExitStatus> {
    let deadline = Instant::now() + DEADLINE;
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return Some(status);
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

pub fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// The pid in "... (pid N) ...".
pub fn parse_pid(text: &str) -> u32 {
    let rest = text
        .split("(pid ")
        .nth(1)
        .unwrap_or_else(|| panic!("no pid in {text:?}"));
    rest.split(')')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no pid in {text:?}"))
}

/// `GET /health` over plain HTTP/1.0; the JSON body when the answer is 200.
pub fn health(port: u16) -> Option<Value> {
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let mut sock = TcpStream::connect_timeout(&addr, Duration::from_secs(1)).ok()?;
    sock.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    sock.write_all(b"GET /health HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        .ok()?;
    let mut text = String::new();
    sock.read_to_string(&mut text).ok()?;
    let (head, body) = text.split_once("\r\n\r\n")?;
    let ok = head.split_whitespace().nth(1) == Some("200");
    ok.then(|| serde_json::from_str(body).ok())?
}

/// One HTTP/1.0 request to the daemon on `port`; the JSON body of the answer.
pub fn http_json(port: u16, method: &str, path: &str, headers: &[&str], body: &str) -> Value {
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let mut sock = TcpStream::connect_timeout(&addr, Duration::from_secs(1)).expect("connect");
    sock.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut req = format!("{method} {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n");
    for h in headers {
        req.push_str(h);
        req.push_str("\r\n");
    }
    req.push_str(&format!(
        "content-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    ));
    sock.write_all(req.as_bytes()).expect("send");
    let mut text = String::new();
    sock.read_to_string(&mut text).expect("read");
    let (_, body) = text.split_once("\r\n\r\n").expect("an HTTP answer");
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"))
}
