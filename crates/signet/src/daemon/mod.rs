//! `signet daemon run|start|stop|restart|status|install|uninstall`.
//!
//! `run` serves in the foreground ([`run`]); the others manage a background daemon through the
//! workspace's pid file (`$WS/.daemon/pid`) and `GET /health` ([`control`]). Signals are sent by
//! running the system `kill` command ([`process`]); the crate's only `unsafe` is [`trim`].
//!
//! A running daemon records its address in `$WS/.daemon/daemon.json` ([`state`]). When no
//! address is given (`--host`, `--port`, `--bind`, `--url` or their `SIGNET_*` variables), the
//! daemon subcommands and the client commands use the one recorded by the workspace's live
//! daemon, so `SIGNET_PORT=4123 signet daemon start` is found from any shell; `daemon restart`
//! then binds the same address again.

mod control;
pub(crate) mod install;
mod logging;
mod pidfile;
mod process;
mod run;
mod state;
pub(crate) mod trim;

use std::path::PathBuf;

use anyhow::{Context as _, Result};
use clap::{Args, Subcommand};
use signet_client::{Client, base_url};
use signet_core::config::{EnvVars, Network, resolve_workspace};

use crate::cli::Global;
pub(crate) use run::bench_embedder;
use state::StateFile;

#[derive(Debug, Args)]
pub struct DaemonArgs {
    #[command(subcommand)]
    pub action: DaemonAction,
}

#[derive(Debug, Subcommand)]
pub enum DaemonAction {
    /// Run the daemon in the foreground until Ctrl-C or SIGTERM.
    Run(RunArgs),
    /// Start the daemon in the background and wait until it answers /health.
    Start(BindArg),
    /// Stop the background daemon (SIGTERM, then wait for it to exit).
    Stop,
    /// Stop the daemon if it runs, then start it.
    Restart(BindArg),
    /// Show whether the daemon runs (pid file and /health).
    #[command(
        after_help = "Exit status: 0 the daemon is running and healthy; 1 it is not \
running; 2 it is running but unhealthy\n(/health answers 503) or not answering (its process is \
alive but /health fails)."
    )]
    Status,
    /// Install and start a per-user service (systemd user unit or launchd agent) running
    /// this binary for the workspace.
    Install(install::InstallArgs),
    /// Stop and remove the service that `daemon install` wrote.
    Uninstall,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub bind: BindArg,
    /// Set by `daemon start`: log to the log file only, not to stderr.
    #[arg(long, hide = true)]
    pub background: bool,
}

#[derive(Debug, Clone, Default, Args)]
pub struct BindArg {
    /// Listen address (default: SIGNET_BIND, else the host).
    #[arg(long, value_name = "ADDR")]
    pub bind: Option<String>,
}

/// What every daemon subcommand resolves first: environment (with CLI flags layered over the
/// `SIGNET_*` variables), workspace and network.
pub struct Context {
    pub env: EnvVars,
    pub workspace: PathBuf,
    pub network: Network,
    pub json: bool,
    token: Option<String>,
}

impl Context {
    /// Without an address given, the address recorded by the workspace's live daemon is
    /// layered over the environment, so every subcommand talks to (or rebinds) that one.
    fn new(g: &Global, bind: Option<&str>) -> Result<Self> {
        let mut env = EnvVars::from_process();
        if let Some(host) = &g.host {
            env = env.with("SIGNET_HOST", host.as_str());
        }
        if let Some(port) = g.port()? {
            env = env.with("SIGNET_PORT", port.to_string());
        }
        if let Some(bind) = bind {
            env = env.with("SIGNET_BIND", bind);
        }
        let workspace = resolve_workspace(&env).context("resolving the workspace")?;
        let workspace = std::path::absolute(&workspace)
            .with_context(|| format!("resolving the workspace {}", workspace.display()))?;
        let address_given = g.address_given()? || env.non_empty("SIGNET_BIND").is_some();
        if !address_given && let Some(live) = StateFile::in_workspace(&workspace).live() {
            env = env
                .with("SIGNET_BIND", live.host)
                .with("SIGNET_PORT", live.port.to_string());
        }
        let network = Network::from_env(&env)?;
        Ok(Self {
            env,
            workspace,
            network,
            json: g.json,
            token: g.token.clone(),
        })
    }

    /// Where the local daemon answers: the bind address (loopback for wildcard binds).
    pub fn url(&self) -> String {
        base_url(self.network.internal_self_host(), self.network.port)
    }

    /// A client for [`Context::url`].
    pub fn client(&self) -> Result<Client> {
        Ok(Client::new(self.url())?.with_token(self.token.clone()))
    }

    /// `$WS/.daemon/logs`, where `daemon start` sends the daemon's stdout and stderr.
    pub fn logs_dir(&self) -> PathBuf {
        self.workspace.join(".daemon").join("logs")
    }
}

/// The URL recorded by the live daemon of the workspace the environment names, if any: where
/// client commands go when no address is given.
pub fn recorded_url() -> Option<String> {
    let workspace = resolve_workspace(&EnvVars::from_process()).ok()?;
    StateFile::in_workspace(&workspace).live().map(|s| s.url)
}

/// The pid of the workspace's running daemon: its pid file or its `daemon.json` names a live
/// process. What commands that must not run beside a daemon (`signet restore`) check.
pub fn running_pid(workspace: &std::path::Path) -> Option<u32> {
    let recorded = pidfile::PidFile::in_workspace(workspace)
        .read()
        .ok()
        .flatten();
    recorded
        .filter(|pid| process::is_alive(*pid))
        .or_else(|| StateFile::in_workspace(workspace).live().map(|s| s.pid))
}

pub async fn dispatch(g: &Global, args: DaemonArgs) -> Result<()> {
    match args.action {
        DaemonAction::Run(a) => {
            run::run(Context::new(g, a.bind.bind.as_deref())?, a.background).await
        }
        DaemonAction::Start(b) => control::start(&Context::new(g, b.bind.as_deref())?).await,
        DaemonAction::Stop => control::stop(&Context::new(g, None)?).await,
        DaemonAction::Restart(b) => control::restart(&Context::new(g, b.bind.as_deref())?).await,
        DaemonAction::Status => control::status(&Context::new(g, None)?).await,
        DaemonAction::Install(a) => install::install(&Context::new(g, None)?, &a),
        DaemonAction::Uninstall => install::uninstall(&Context::new(g, None)?),
    }
}
