//! `$WS/.daemon/daemon.json`: where the workspace's daemon listens, so `signet status` or
//! `signet daemon stop` in a shell without `SIGNET_PORT` find a daemon started on another port.
//!
//! `daemon run` writes it (atomically) once it has bound its port, next to the pid file, and
//! removes it on shutdown if it still names its own pid. Readers trust it only while its pid
//! names a live daemon process ([`StateFile::live`]); a stale file is simply ignored.

use std::path::{Path, PathBuf};

use anyhow::Result;
use serde::{Deserialize, Serialize};
use signet_client::base_url;
use signet_core::config::Network;

use super::pidfile::{Guard, NamesPid, remove_file, write_atomic};
use super::process;

/// What `daemon.json` records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DaemonState {
    /// The daemon's process id; the record counts only while it is alive.
    pub pid: u32,
    /// The listen address (`--bind`/`SIGNET_BIND`, e.g. `127.0.0.1` or `0.0.0.0`), so a
    /// restart binds the same one.
    pub host: String,
    /// The port actually bound.
    pub port: u16,
    /// Where a client on this machine reaches the daemon (loopback for wildcard binds).
    pub url: String,
    /// The workspace it serves (the file's own directory, spelled out for people reading it).
    pub workspace: PathBuf,
    /// When it started (ISO 8601, UTC).
    pub started_at: String,
    /// The daemon's version.
    pub version: String,
}

impl DaemonState {
    /// The record for this process, serving `workspace` on `net`'s bind address and `port`.
    pub fn for_this_process(workspace: &Path, net: &Network, port: u16) -> Self {
        Self {
            pid: std::process::id(),
            host: net.bind.clone(),
            port,
            url: base_url(net.internal_self_host(), port),
            workspace: workspace.to_owned(),
            started_at: signet_model::time::now_iso(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
        }
    }
}

/// The state file of one workspace.
#[derive(Debug, Clone)]
pub struct StateFile {
    path: PathBuf,
}

impl StateFile {
    pub fn in_workspace(workspace: &Path) -> Self {
        Self {
            path: workspace.join(".daemon").join("daemon.json"),
        }
    }

    /// The record, when the file exists and parses.
    pub fn read(&self) -> Option<DaemonState> {
        let text = std::fs::read_to_string(&self.path).ok()?;
        serde_json::from_str(&text).ok()
    }

    /// The record while its pid names a live daemon process (not a recycled pid running
    /// something else, where the platform can tell).
    pub fn live(&self) -> Option<DaemonState> {
        self.read().filter(|s| {
            process::is_alive(s.pid) && process::looks_like_daemon(s.pid) != Some(false)
        })
    }

    /// Writes `state` and returns a guard that removes the file when dropped, if it still
    /// names `state.pid`.
    pub fn write(&self, state: &DaemonState) -> Result<Guard<Self>> {
        write_atomic(&self.path, serde_json::to_string_pretty(state)?.as_bytes())?;
        Ok(Guard::new(self.clone(), state.pid))
    }
}

impl NamesPid for StateFile {
    /// Removes the file if it names `pid` (another daemon's record is left alone).
    fn remove_if(&self, pid: u32) -> Result<()> {
        if self.read().is_some_and(|s| s.pid == pid) {
            remove_file(&self.path)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    fn net(bind: &str) -> Network {
        Network {
            bind: bind.to_owned(),
            ..Network::default()
        }
    }

    #[test]
    fn record_has_upstream_style_keys_and_a_loopback_url_for_wildcard_binds() {
        let state = DaemonState::for_this_process(Path::new("/ws"), &net("0.0.0.0"), 4123);
        let v = serde_json::to_value(&state).unwrap();
        let keys: BTreeSet<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        let want = [
            "pid",
            "host",
            "port",
            "url",
            "workspace",
            "startedAt",
            "version",
        ];
        assert_eq!(keys, BTreeSet::from(want));
        assert_eq!(
            (v["host"].as_str(), v["port"].as_u64()),
            (Some("0.0.0.0"), Some(4123))
        );
        assert_eq!(v["url"], "http://127.0.0.1:4123");
    }

    #[test]
    fn guard_removes_only_its_own_record_and_live_needs_a_live_pid() {
        let ws = tempfile::tempdir().unwrap();
        let file = StateFile::in_workspace(ws.path());
        assert_eq!(file.read(), None);
        let mine = DaemonState::for_this_process(ws.path(), &net("127.0.0.1"), 4123);
        let guard = file.write(&mine).unwrap();
        assert_eq!(file.read().as_ref(), Some(&mine));
        // This test process is alive but is not `signet daemon run`.
        let expected = process::looks_like_daemon(mine.pid)
            .is_none()
            .then(|| mine.clone());
        assert_eq!(file.live(), expected);
        drop(guard);
        assert_eq!(file.read(), None);

        let guard = file.write(&mine).unwrap();
        let other = DaemonState {
            pid: 4_000_000_000,
            ..mine
        };
        file.write(&other).map(std::mem::forget).unwrap();
        drop(guard);
        assert_eq!(file.read(), Some(other), "another daemon's record stays");
        assert_eq!(file.live(), None, "its pid is not alive");
    }
}
