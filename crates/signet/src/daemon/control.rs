//! `signet daemon start|stop|restart|status`: managing a background daemon.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use serde_json::json;
use signet_client::{Client, Health};
use signet_core::config::Settings;

use super::pidfile::{NamesPid, PidFile};
use super::state::StateFile;
use super::{Context, process};
use crate::exit::Exit;
use crate::output::{outln, print_json, uptime};

/// How long `start` waits for /health.
const START_TIMEOUT: Duration = Duration::from_secs(10);
/// How long `stop` waits for the process to exit after SIGTERM.
const STOP_TIMEOUT: Duration = Duration::from_secs(15);
/// Poll interval of both waits.
const POLL: Duration = Duration::from_millis(50);
/// How long one /health probe may take: something that accepts connections on the port but
/// never answers must not hold a command up for the client's whole request timeout.
const PROBE_TIMEOUT: Duration = Duration::from_secs(3);
/// The same while `start` waits for its child, so the child's exit is noticed promptly.
const POLL_PROBE_TIMEOUT: Duration = Duration::from_secs(1);
/// Lines of `daemon.err.log` shown when startup fails.
const ERR_TAIL_LINES: usize = 20;

/// `daemon start`: refuses an invalid configuration before anything else, then [`launch`].
pub async fn start(ctx: &Context) -> Result<()> {
    check_config(ctx).context("not starting the signet daemon")?;
    launch(ctx).await
}

/// Loads the configuration exactly as `daemon run` will (same workspace, same environment and
/// flags), printing its warnings on stderr; an invalid one is the error, naming key, value and
/// file.
fn check_config(ctx: &Context) -> Result<()> {
    let loaded = Settings::load(&ctx.workspace, &ctx.env)?;
    for warning in &loaded.warnings {
        eprintln!("warning: {warning}");
    }
    Ok(())
}

/// Starts the daemon in the background unless it already answers, and waits until it does.
async fn launch(ctx: &Context) -> Result<()> {
    if let Some(live) = StateFile::in_workspace(&ctx.workspace).live()
        && live.url != ctx.url()
    {
        bail!(
            "signet daemon is already running (pid {}) on {} for this workspace; stop it first \
             (`signet daemon stop`), or move it with `signet daemon restart --port {}`",
            live.pid,
            live.url,
            ctx.network.port
        );
    }
    let client = ctx.client()?;
    if let Some(h) = probe(&client, PROBE_TIMEOUT).await {
        return already_running(ctx, &h);
    }
    let logs = ctx.logs_dir();
    std::fs::create_dir_all(&logs).with_context(|| format!("creating {}", logs.display()))?;
    let err_path = logs.join("daemon.err.log");
    let err_offset = std::fs::metadata(&err_path).map(|m| m.len()).unwrap_or(0);
    let mut child = spawn(ctx, &logs)?;
    if let Err(e) = wait_ready(&client, &mut child).await {
        bail!("{e:#}\n{}", err_tail(&err_path, err_offset));
    }
    outln!(
        "signet daemon started (pid {}) on {}",
        child.id(),
        ctx.url()
    )?;
    Ok(())
}

/// A daemon answers at our address: fine if it serves this workspace, an error otherwise.
fn already_running(ctx: &Context, h: &Health) -> Result<()> {
    let theirs = h.agents_dir.as_deref().unwrap_or("?");
    if Path::new(theirs) != ctx.workspace {
        bail!(
            "port {} is taken by a signet daemon (pid {}) for another workspace ({theirs}); \
             choose another port with `--port` or SIGNET_PORT",
            ctx.network.port,
            h.pid
        );
    }
    outln!(
        "signet daemon is already running (pid {}) on {}",
        h.pid,
        ctx.url()
    )?;
    Ok(())
}

pub async fn stop(ctx: &Context) -> Result<()> {
    match stop_daemon(ctx).await? {
        Some(pid) => outln!("signet daemon stopped (pid {pid})")?,
        None => outln!(
            "signet daemon is not running (workspace {})",
            ctx.workspace.display()
        )?,
    }
    Ok(())
}

/// `daemon restart`: checks the configuration first, so an invalid one leaves the running
/// daemon up; then stops it and [`launch`]es a new one.
pub async fn restart(ctx: &Context) -> Result<()> {
    let pid_file = PidFile::in_workspace(&ctx.workspace);
    let running = target_pid(ctx, &pid_file).await?;
    if let Err(e) = check_config(ctx) {
        return Err(match running {
            Some(pid) => e.context(format!(
                "not restarting: the signet daemon (pid {pid}) keeps running with the \
                 configuration it loaded"
            )),
            None => e.context("not starting the signet daemon"),
        });
    }
    if let Some(pid) = running {
        stop_pid(ctx, &pid_file, pid).await?;
        outln!("signet daemon stopped (pid {pid})")?;
    }
    launch(ctx).await
}

/// `daemon status`; its exit status is [`status_code`]'s.
pub async fn status(ctx: &Context) -> Result<()> {
    let pid_file = PidFile::in_workspace(&ctx.workspace);
    let pid = pid_file.read()?;
    let pid_alive = pid.is_some_and(process::is_alive);
    let health = probe(&ctx.client()?, PROBE_TIMEOUT).await;
    let code = status_code(health.as_ref(), pid_alive);
    if ctx.json {
        print_json(&json!({
            "running": health.is_some(),
            "healthy": code == 0,
            "url": ctx.url(),
            "workspace": ctx.workspace,
            "pidFile": pid_file.path(),
            "pid": pid,
            "pidAlive": pid_alive,
            "health": health,
        }))?;
    } else {
        let live_pid = pid.filter(|_| pid_alive);
        outln!("{}", status_text(ctx, live_pid, health.as_ref()))?;
    }
    Exit::with_code(code)
}

/// 0 running and healthy; 1 not running; 2 running but unhealthy (a 503 from /health) or not
/// answering (the pid file names a live process, /health fails).
fn status_code(health: Option<&Health>, pid_alive: bool) -> u8 {
    match (health, pid_alive) {
        (Some(h), _) if h.status == "healthy" => 0,
        (Some(_), _) | (None, true) => 2,
        (None, false) => 1,
    }
}

/// `GET /health` within `limit`; `None` when it fails or takes longer.
async fn probe(client: &Client, limit: Duration) -> Option<Health> {
    tokio::time::timeout(limit, client.health())
        .await
        .ok()?
        .ok()
}

fn status_text(ctx: &Context, live_pid: Option<u32>, health: Option<&Health>) -> String {
    match (health, live_pid) {
        (Some(h), _) => format!(
            "signet daemon is running (pid {}) on {}\n  version {}, up {}, {}\n  workspace {}",
            h.pid,
            ctx.url(),
            h.version,
            uptime(h.uptime),
            h.status,
            h.agents_dir.as_deref().unwrap_or("?"),
        ),
        (None, Some(pid)) => format!(
            "signet daemon process (pid {pid}) is alive but does not answer at {}",
            ctx.url()
        ),
        (None, None) => format!(
            "signet daemon is not running (workspace {})",
            ctx.workspace.display()
        ),
    }
}

/// Spawns `<this exe> daemon run --background` in its own process group, output appended to
/// the log directory, with the resolved workspace and address passed through the environment.
fn spawn(ctx: &Context, logs: &Path) -> Result<Child> {
    let exe = std::env::current_exe().context("locating the signet executable")?;
    let net = &ctx.network;
    Command::new(exe)
        .args(["daemon", "run", "--background"])
        .env("SIGNET_PATH", &ctx.workspace)
        .env("SIGNET_HOST", &net.host)
        .env("SIGNET_BIND", &net.bind)
        .env("SIGNET_PORT", net.port.to_string())
        .stdin(Stdio::null())
        .stdout(append(&logs.join("daemon.out.log"))?)
        .stderr(append(&logs.join("daemon.err.log"))?)
        .process_group(0)
        .spawn()
        .context("spawning `signet daemon run`")
}

fn append(path: &Path) -> Result<File> {
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("opening {}", path.display()))
}

/// Polls /health until it answers with the child's pid; fails early if the child exits.
async fn wait_ready(client: &Client, child: &mut Child) -> Result<()> {
    let deadline = Instant::now() + START_TIMEOUT;
    loop {
        if let Some(status) = child.try_wait().context("waiting for the daemon")? {
            bail!("signet daemon exited during startup ({status})");
        }
        let remaining = deadline.saturating_duration_since(Instant::now());
        if let Some(h) = probe(client, remaining.min(POLL_PROBE_TIMEOUT)).await
            && h.pid == child.id()
        {
            return Ok(());
        }
        if Instant::now() >= deadline {
            bail!(
                "signet daemon (pid {}) did not answer /health at {} within {} s; it may still be \
                 starting — check `signet daemon status`",
                child.id(),
                client.base_url(),
                START_TIMEOUT.as_secs()
            );
        }
        tokio::time::sleep(POLL).await;
    }
}

/// The last lines the daemon wrote to `daemon.err.log` since `offset`.
fn err_tail(path: &Path, offset: u64) -> String {
    let mut text = String::new();
    let read = File::open(path).and_then(|mut f| {
        f.seek(SeekFrom::Start(offset))?;
        f.read_to_string(&mut text)
    });
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    if read.is_err() || lines.is_empty() {
        return format!("no error output in {}", path.display());
    }
    let tail = lines[lines.len().saturating_sub(ERR_TAIL_LINES)..].join("\n  ");
    format!("last lines of {}:\n  {tail}", path.display())
}

/// Stops the workspace's daemon; `Ok(None)` when none runs.
async fn stop_daemon(ctx: &Context) -> Result<Option<u32>> {
    let pid_file = PidFile::in_workspace(&ctx.workspace);
    let Some(pid) = target_pid(ctx, &pid_file).await? else {
        return Ok(None);
    };
    stop_pid(ctx, &pid_file, pid).await?;
    Ok(Some(pid))
}

/// SIGTERM to `pid`, then waits (bounded) for it to exit and removes its pid file.
async fn stop_pid(ctx: &Context, pid_file: &PidFile, pid: u32) -> Result<()> {
    process::terminate(pid)?;
    let deadline = Instant::now() + STOP_TIMEOUT;
    while process::is_alive(pid) {
        if Instant::now() >= deadline {
            bail!(
                "signet daemon (pid {pid}) did not exit within {} s of SIGTERM; see its log in {}, \
                 or force it with `kill -9 {pid}`",
                STOP_TIMEOUT.as_secs(),
                ctx.logs_dir().display()
            );
        }
        tokio::time::sleep(POLL).await;
    }
    pid_file.remove_if(pid)?;
    StateFile::in_workspace(&ctx.workspace).remove_if(pid)
}

/// The pid to stop: the pid file's when it names a live daemon, else the pid /health reports
/// for this workspace. A stale pid file is removed.
async fn target_pid(ctx: &Context, pid_file: &PidFile) -> Result<Option<u32>> {
    if let Some(pid) = pid_file.read()? {
        if process::is_alive(pid) && process::looks_like_daemon(pid) != Some(false) {
            return Ok(Some(pid));
        }
        pid_file.remove()?;
    }
    let same_workspace =
        |h: &Health| h.agents_dir.as_deref().map(Path::new) == Some(ctx.workspace.as_path());
    Ok(match probe(&ctx.client()?, PROBE_TIMEOUT).await {
        Some(h) if same_workspace(&h) && process::is_alive(h.pid) => Some(h.pid),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn health(status: &str) -> Health {
        serde_json::from_value(json!({"status": status, "pid": 7})).unwrap()
    }

    #[test]
    fn status_code_tells_healthy_down_and_unhealthy_apart() {
        assert_eq!(status_code(Some(&health("healthy")), true), 0);
        assert_eq!(status_code(Some(&health("healthy")), false), 0);
        assert_eq!(status_code(Some(&health("unhealthy")), true), 2);
        assert_eq!(status_code(None, true), 2);
        assert_eq!(status_code(None, false), 1);
    }
}
