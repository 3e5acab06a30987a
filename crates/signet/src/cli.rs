//! The command-line surface: global flags, subcommands, and dispatch to their modules.

use anyhow::{Result, bail};
use clap::{Args, Parser, Subcommand};

use crate::{daemon, recall, remember, status};

/// Signet: a local memory daemon for AI agents, and its command-line client.
#[derive(Debug, Parser)]
#[command(name = "signet", version, about, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// Flags every subcommand accepts.
#[derive(Debug, Clone, Args)]
pub struct Global {
    /// Print machine-readable JSON instead of a human summary.
    #[arg(long, global = true)]
    pub json: bool,
    /// Daemon host (the listen address for `daemon run`).
    #[arg(long, global = true, env = "SIGNET_HOST", value_name = "HOST")]
    pub host: Option<String>,
    /// Daemon port (the listen port for `daemon run`). Blank counts as unset.
    #[arg(long = "port", global = true, env = "SIGNET_PORT", value_name = "PORT")]
    pub port_raw: Option<String>,
    /// Full daemon URL for client commands; overrides --host/--port.
    #[arg(long, global = true, env = "SIGNET_URL", value_name = "URL")]
    pub url: Option<String>,
    /// Bearer token sent to the daemon (needed in team/hybrid auth modes).
    #[arg(
        long,
        global = true,
        env = "SIGNET_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN"
    )]
    pub token: Option<String>,
    /// A file holding the bearer token, for when --token is not given (must be yours and mode
    /// 0600; what `signet connect` points harnesses at in team mode).
    #[arg(long, global = true, env = "SIGNET_TOKEN_FILE", value_name = "PATH")]
    pub token_file: Option<std::path::PathBuf>,
}

impl Global {
    /// The port from `--port` / `SIGNET_PORT` (trimmed, as upstream); `None` when unset or blank.
    pub fn port(&self) -> Result<Option<u16>> {
        let Some(raw) = self
            .port_raw
            .as_deref()
            .map(str::trim)
            .filter(|p| !p.is_empty())
        else {
            return Ok(None);
        };
        match raw.parse::<u16>() {
            Ok(port) if port != 0 => Ok(Some(port)),
            _ => bail!(
                "invalid port {raw:?} (from --port or SIGNET_PORT): expected an integer from 1 to 65535"
            ),
        }
    }

    /// The bearer token: `--token` / `SIGNET_TOKEN` (blank counts as unset), else the contents
    /// of `--token-file` / `SIGNET_TOKEN_FILE`, refused unless private to this user.
    pub fn bearer(&self) -> Result<Option<String>> {
        if let Some(t) = self.token.as_deref().filter(|t| !t.trim().is_empty()) {
            return Ok(Some(t.to_owned()));
        }
        match self
            .token_file
            .as_deref()
            .filter(|p| !p.as_os_str().is_empty())
        {
            Some(path) => Ok(Some(signet_client::read_token_file(path)?)),
            None => Ok(None),
        }
    }

    /// Whether the daemon's address was given: `--url`, `--host`, `--port` or their `SIGNET_*`
    /// variables, blank counting as unset. When not, commands use the address the workspace's
    /// running daemon recorded, else the default.
    pub fn address_given(&self) -> Result<bool> {
        let set = |v: &Option<String>| v.as_deref().is_some_and(|s| !s.trim().is_empty());
        Ok(set(&self.url) || set(&self.host) || self.port()?.is_some())
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run, start, stop or inspect the daemon.
    Daemon(daemon::DaemonArgs),
    /// Store a memory.
    Remember(remember::RememberArgs),
    /// Search memories.
    Recall(recall::RecallArgs),
    /// Show the running daemon's status (`GET /api/status`).
    Status,
    /// Install the native embedding model (`pull` from the hub, `import` a local copy).
    Models(crate::models::ModelsArgs),
    /// Re-embed memories whose vectors are missing or from another model.
    Reembed(crate::reembed::ReembedArgs),
    /// Mint (`create`) or decode (`inspect`) team-mode bearer tokens.
    Token(crate::token::TokenArgs),
    /// Benchmark programs (start their own daemons; print figures).
    Bench(crate::bench::BenchArgs),
    /// The API's description (`openapi`: the OpenAPI document the daemon serves).
    Api(crate::api::ApiArgs),
    /// Diagnose the database read-only, daemon up or down (exit 0 healthy, 1 degraded, 2 error).
    Doctor(crate::doctor::DoctorArgs),
    /// Serve MCP over stdio for clients that spawn a process: bridges to the daemon's /mcp
    /// (SIGNET_DAEMON_URL, else the daemon's address; SIGNET_TOKEN as the bearer), starting a
    /// daemon in this process when none answers.
    Mcp,
    /// What a harness's lifecycle hook runs: reads the hook's JSON on stdin, calls the daemon's
    /// /api/hooks/<event>, prints the context to inject; never fails the session (daemon down:
    /// nothing on stdout, one line on stderr, exit 0).
    Hook(crate::hook::HookArgs),
    /// Write the hook and MCP configuration a harness reads (claude-code, codex, opencode),
    /// keeping the user's other settings; idempotent.
    Connect(crate::connect::ConnectArgs),
    /// Remove exactly what `signet connect` added to a harness's configuration.
    Disconnect(crate::connect::ConnectArgs),
    /// Snapshot the database (consistent while the daemon runs), the configuration, identity
    /// files and auth secret into a timestamped folder.
    Backup(crate::backup::BackupArgs),
    /// Restore a backup folder (refuses while the daemon runs; keeps what it replaces).
    Restore(crate::backup::RestoreArgs),
    /// Export memories (with history, optionally vectors) as versioned JSON Lines.
    Export(crate::export::ExportArgs),
    /// Import an export: dedups, resumable, reports what it did.
    Import(crate::export::ImportArgs),
    /// Move a workspace's database between SQLite and PostgreSQL (every table), then verify
    /// counts and a content hash per table.
    Migrate(crate::migrate::MigrateArgs),
}

/// Runs the parsed command.
pub async fn dispatch(cli: Cli) -> Result<()> {
    let g = cli.global;
    match cli.command {
        Command::Daemon(args) => daemon::dispatch(&g, args).await,
        Command::Remember(args) => remember::run(&g, args).await,
        Command::Recall(args) => recall::run(&g, args).await,
        Command::Status => status::run(&g).await,
        Command::Bench(args) => crate::bench::run(args).await,
        Command::Api(args) => crate::api::run(args),
        Command::Token(args) => crate::token::run(&g, args),
        Command::Models(args) => crate::models::run(args).await,
        Command::Reembed(args) => crate::reembed::run(&g, args).await,
        Command::Doctor(args) => crate::doctor::run(&g, args).await,
        Command::Mcp => crate::mcp::run(&g).await,
        Command::Hook(args) => crate::hook::run(&g, args).await,
        Command::Connect(args) => crate::connect::connect(&g, args),
        Command::Disconnect(args) => crate::connect::disconnect(&g, args),
        Command::Backup(args) => crate::backup::backup(&g, args).await,
        Command::Restore(args) => crate::backup::restore(&g, args).await,
        Command::Export(args) => crate::export::export(&g, args).await,
        Command::Import(args) => crate::export::import(&g, args).await,
        Command::Migrate(args) => crate::migrate::run(&g, args).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn global_flags_work_after_the_subcommand() {
        let cli =
            Cli::try_parse_from(["signet", "recall", "x", "--json", "--port", " 4000 "]).unwrap();
        assert!(cli.global.json);
        assert_eq!(cli.global.port().unwrap(), Some(4000));
    }

    #[test]
    fn any_non_blank_address_flag_counts_as_given() {
        let given = |args: &[&str]| {
            let argv = ["signet", "status"].iter().chain(args);
            Cli::try_parse_from(argv)
                .unwrap()
                .global
                .address_given()
                .unwrap()
        };
        assert!(!given(&[]));
        assert!(!given(&["--port", " ", "--host", "", "--url", " "]));
        assert!(given(&["--port", "4123"]));
        assert!(given(&["--host", "::1"]));
        assert!(given(&["--url", "localhost:1"]));
    }

    #[test]
    fn blank_port_is_unset_and_bad_ports_name_the_source() {
        let port = |raw: &str| {
            Cli::try_parse_from(["signet", "status", "--port", raw])
                .unwrap()
                .global
                .port()
        };
        assert_eq!(port("  ").unwrap(), None);
        for bad in ["0", "65536", "abc"] {
            let err = port(bad).unwrap_err().to_string();
            assert!(err.contains("SIGNET_PORT") && err.contains(bad), "{err}");
        }
    }
}
