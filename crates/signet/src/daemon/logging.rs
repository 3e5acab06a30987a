//! Tracing for `daemon run`: a log file (through a non-blocking writer) and, in the
//! foreground, stderr. The level comes from `RUST_LOG`, else `info`.

use std::fs::OpenOptions;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use signet_core::config::Network;
use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// Name of the daemon's log file inside the log directory.
pub const LOG_FILE_NAME: &str = "daemon.out.log";

/// The log file: `SIGNET_LOG_FILE`, else `<SIGNET_LOG_DIR>/daemon.out.log`, else
/// `$WS/.daemon/logs/daemon.out.log`.
pub fn log_file(workspace: &Path, net: &Network) -> PathBuf {
    net.log_file.clone().unwrap_or_else(|| {
        net.log_dir
            .clone()
            .unwrap_or_else(|| workspace.join(".daemon").join("logs"))
            .join(LOG_FILE_NAME)
    })
}

/// Installs the global subscriber. Keep the guard alive until exit: dropping it flushes the
/// file writer.
pub fn init(file: &Path, to_stderr: bool) -> Result<WorkerGuard> {
    if let Some(dir) = file.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let handle = OpenOptions::new()
        .create(true)
        .append(true)
        .open(file)
        .with_context(|| format!("opening the log file {}", file.display()))?;
    let (writer, guard) = tracing_appender::non_blocking(handle);
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let file_layer = tracing_subscriber::fmt::layer()
        .with_writer(writer)
        .with_ansi(false);
    let stderr_layer = to_stderr.then(|| {
        tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            .with_ansi(std::io::stderr().is_terminal())
    });
    tracing_subscriber::registry()
        .with(filter)
        .with(file_layer)
        .with(stderr_layer)
        .try_init()
        .context("installing the log subscriber")?;
    Ok(guard)
}
