//! `signet daemon run`: the daemon in the foreground.
//!
//! Order: signal handlers, logging, configuration, refuse if this workspace's daemon already
//! runs, bind, pid file and `daemon.json`, `Daemon::start`, `last-healthy-start`, serve until
//! SIGTERM/SIGINT, then shut down in order and remove `daemon.json` and the pid file.

use std::future::Future;
use std::io::ErrorKind;
use std::time::Instant;

use anyhow::{Context as _, Result, bail};
use signet_core::config::{Network, Settings};
use signet_server::daemon::{Daemon, DaemonConfig};
use tokio::net::TcpListener;
use tokio::signal::unix::{SignalKind, signal};

use super::pidfile::{self, PidFile};
use super::state::{DaemonState, StateFile};
use super::{Context, logging, process};

pub async fn run(ctx: Context, background: bool) -> Result<()> {
    let started = Instant::now();
    let shutdown = shutdown_signal()?;
    let log_file = logging::log_file(&ctx.workspace, &ctx.network);
    let single = ctx.network.log_file.is_some();
    let logging = logging::init(&log_file, single, !background)?;
    let log_hub = logging.hub.clone();
    let loaded = Settings::load(&ctx.workspace, &ctx.env).context("loading the configuration")?;
    for warning in &loaded.warnings {
        tracing::warn!(target: "config", "{warning}");
    }
    let net = loaded.settings.network.clone();
    let pid_file = PidFile::in_workspace(&ctx.workspace);
    refuse_if_running(&ctx, &pid_file).await?;
    let listener = bind(&net).await?;
    let port = listener.local_addr().map_or(net.port, |a| a.port());
    let pid = std::process::id();
    let _pid_guard = pid_file.write(pid)?;
    let state = DaemonState::for_this_process(&ctx.workspace, &net, port);
    let _state_guard = StateFile::in_workspace(&ctx.workspace).write(&state)?;
    let cfg = DaemonConfig {
        workspace: ctx.workspace.clone(),
        loaded,
        env: ctx.env.clone(),
        watch_config: true,
        embedder: bench_embedder(&ctx.env)?,
        log_hub: Some(log_hub),
    };
    let daemon = Daemon::start(cfg, &listener)
        .await
        .context("starting the daemon")?;
    let started_at = daemon.state().info().started_at.clone();
    if let Err(e) = pidfile::write_last_healthy_start(&ctx.workspace, pid, &started_at) {
        tracing::warn!(target: "daemon", "{e:#}");
    }
    let address = listener
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    tracing::info!(target: "daemon", version = env!("CARGO_PKG_VERSION"), workspace = %ctx.workspace.display(),
        %address, log_file = %log_file.display(), pid, ready_ms = started.elapsed().as_millis() as u64,
        "signet daemon ready");
    tokio::spawn(trim_after_start_up());
    daemon.run(listener, shutdown).await.context("serving")?;
    tracing::info!(target: "daemon", "signet daemon stopped");
    Ok(())
}

/// Gives back what start-up alone needed ([`super::trim`]), at each of [`super::trim::AFTER`].
async fn trim_after_start_up() {
    let mut waited = std::time::Duration::ZERO;
    for at in super::trim::AFTER {
        tokio::time::sleep(at - waited).await;
        waited = at;
        match tokio::task::spawn_blocking(super::trim::trim).await {
            Ok(Ok(t)) => {
                tracing::debug!(target: "daemon", file_kib = t.file_kib, mappings = t.mappings,
                "gave back start-up memory")
            }
            Ok(Err(e)) => {
                tracing::debug!(target: "daemon", error = %e, "could not read /proc/self/smaps")
            }
            Err(_) => return,
        }
    }
}

/// Resolves on the first SIGTERM or SIGINT. Handlers are installed before anything else so a
/// signal during startup is not fatal and still removes the pid file.
fn shutdown_signal() -> Result<impl Future<Output = ()> + Send + 'static> {
    let mut term = signal(SignalKind::terminate()).context("installing the SIGTERM handler")?;
    let mut int = signal(SignalKind::interrupt()).context("installing the SIGINT handler")?;
    Ok(async move {
        let name = tokio::select! {
            _ = term.recv() => "SIGTERM",
            _ = int.recv() => "SIGINT",
        };
        tracing::info!(target: "daemon", "{name} received, shutting down");
    })
}

/// Fails when the pid file names a live daemon: one answering /health with that pid, or (where
/// the platform can tell) a process running `daemon run`. A stale file is replaced later.
async fn refuse_if_running(ctx: &Context, pid_file: &PidFile) -> Result<()> {
    let Some(pid) = pid_file.read()? else {
        return Ok(());
    };
    if pid != std::process::id() && process::is_alive(pid) {
        if let Some(live) = StateFile::in_workspace(&ctx.workspace).live()
            && live.pid == pid
        {
            bail!(
                "signet daemon is already running (pid {pid}) on {}",
                live.url
            );
        }
        let answers = matches!(ctx.client()?.health().await, Ok(h) if h.pid == pid);
        if answers {
            bail!(
                "signet daemon is already running (pid {pid}) on {}",
                ctx.url()
            );
        }
        if process::looks_like_daemon(pid) == Some(true) {
            bail!(
                "signet daemon is already running (pid {pid}) for workspace {} but does not answer at {}; \
                 stop it with `signet daemon stop --port <its port>` or `kill {pid}`",
                ctx.workspace.display(),
                ctx.url()
            );
        }
    }
    tracing::warn!(target: "daemon", pid, path = %pid_file.path().display(), "replacing a stale pid file");
    Ok(())
}

/// Binds `bind:port`, explaining the usual failures.
async fn bind(net: &Network) -> Result<TcpListener> {
    let host = if net.bind.contains(':') {
        format!("[{}]", net.bind)
    } else {
        net.bind.clone()
    };
    let addr = format!("{host}:{}", net.port);
    match TcpListener::bind((net.bind.as_str(), net.port)).await {
        Ok(listener) => Ok(listener),
        Err(e) if e.kind() == ErrorKind::AddrInUse => {
            let next = net.port.checked_add(1).unwrap_or(3851);
            bail!(
                "cannot listen on {addr}: port {port} is already in use (another signet daemon or \
                 another program holds it). Stop that process, or choose another port: \
                 `SIGNET_PORT={next} signet daemon start` or `signet daemon run --port {next}`",
                port = net.port
            )
        }
        Err(e) => Err(e).with_context(|| {
            format!("cannot listen on {addr} (check --bind/SIGNET_BIND and --port/SIGNET_PORT)")
        }),
    }
}

/// `SIGNET_EMBEDDER=hash:<dims>`: a deterministic word-hashing embedder for benchmarks and
/// tests (fast, no model, no network). Never set in normal operation.
pub(crate) fn bench_embedder(
    env: &signet_core::config::EnvVars,
) -> Result<Option<std::sync::Arc<dyn signet_core::embedding::Embedder>>> {
    let Some(spec) = env.non_empty("SIGNET_EMBEDDER") else {
        return Ok(None);
    };
    let dims = spec
        .strip_prefix("hash:")
        .and_then(|d| d.parse::<usize>().ok())
        .filter(|d| (1..=4096).contains(d))
        .with_context(|| format!("SIGNET_EMBEDDER must be hash:<dims>, got {spec:?}"))?;
    tracing::warn!(
        dims,
        "using the hash test embedder (SIGNET_EMBEDDER); not for real recall"
    );
    Ok(Some(std::sync::Arc::new(
        signet_core::semantic::HashEmbedder { dims },
    )))
}
