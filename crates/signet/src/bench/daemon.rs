//! A daemon process under test: this binary's `daemon run` on a temp workspace and a free
//! port, stopped with SIGTERM when dropped.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

/// A running daemon child process.
pub struct BenchDaemon {
    child: Child,
    pub base: String,
    pub pid: u32,
    /// Time from spawn to the first healthy `/health`.
    pub cold_start: Duration,
}

fn free_port() -> Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(l.local_addr()?.port())
}

impl BenchDaemon {
    /// Spawns `signet daemon run` over `workspace` and waits until `/health` answers.
    pub async fn start(
        workspace: &Path,
        http: &reqwest::Client,
        embedder: Option<&str>,
    ) -> Result<Self> {
        Self::start_logging(workspace, http, embedder, "warn").await
    }

    /// [`Self::start`] with this `RUST_LOG` (the soak keeps `info` to include logging's cost).
    pub async fn start_logging(
        workspace: &Path,
        http: &reqwest::Client,
        embedder: Option<&str>,
        rust_log: &str,
    ) -> Result<Self> {
        let port = free_port()?;
        let exe = std::env::current_exe().context("locating the signet binary")?;
        let started = Instant::now();
        let mut cmd = Command::new(exe);
        if let Some(e) = embedder {
            cmd.env("SIGNET_EMBEDDER", e);
        }
        let child = cmd
            .args(["daemon", "run", "--port", &port.to_string()])
            .env("SIGNET_PATH", workspace)
            // The storage is the workspace's agent.yaml's (`--postgres`), never the caller's.
            .env_remove("SIGNET_DATABASE_URL")
            .env("RUST_LOG", rust_log)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("spawning the daemon")?;
        let base = format!("http://127.0.0.1:{port}");
        let pid = child.id();
        let mut d = Self {
            child,
            base,
            pid,
            cold_start: Duration::ZERO,
        };
        let deadline = started + Duration::from_secs(20);
        loop {
            if let Ok(r) = http.get(format!("{}/health", d.base)).send().await
                && r.status().is_success()
            {
                d.cold_start = started.elapsed();
                return Ok(d);
            }
            if Instant::now() > deadline {
                bail!("the daemon did not become healthy within 20 s");
            }
            tokio::time::sleep(Duration::from_micros(500)).await;
        }
    }

    /// Stops the daemon with SIGTERM and waits for it.
    pub fn stop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.pid.to_string()])
            .status();
        let _ = self.child.wait();
    }
}

impl Drop for BenchDaemon {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            self.stop();
        }
    }
}
