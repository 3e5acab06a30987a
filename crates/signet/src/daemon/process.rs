//! Other processes: liveness, command line, and SIGTERM via the system `kill` command (no
//! `unsafe`, no extra crate). On Linux, liveness and command lines come from `/proc`, where a
//! zombie (exited, not yet reaped) counts as gone.

use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};

/// True when `pid` names a running (non-zombie) process.
pub fn is_alive(pid: u32) -> bool {
    if pid <= 1 {
        return false;
    }
    #[cfg(target_os = "linux")]
    {
        linux_state(pid).is_some_and(|s| !matches!(s, 'Z' | 'X' | 'x'))
    }
    #[cfg(not(target_os = "linux"))]
    {
        kill(pid, "-0").is_ok_and(|ok| ok)
    }
}

/// Whether `pid` runs `... daemon run ...`; `None` where the platform cannot tell.
pub fn looks_like_daemon(pid: u32) -> Option<bool> {
    #[cfg(target_os = "linux")]
    {
        let raw = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
        let args: Vec<&[u8]> = raw.split(|b| *b == 0).collect();
        let has = |word: &[u8]| args.contains(&word);
        Some(has(b"daemon") && has(b"run"))
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = pid;
        None
    }
}

/// Sends SIGTERM to `pid`. A process that is already gone is not an error.
pub fn terminate(pid: u32) -> Result<()> {
    if pid <= 1 || pid == std::process::id() {
        bail!("refusing to signal pid {pid}");
    }
    if kill(pid, "-TERM")? || !is_alive(pid) {
        return Ok(());
    }
    bail!("`kill -TERM {pid}` failed (is the daemon owned by another user?)")
}

/// Runs `kill <signal> <pid>`; `Ok(true)` when it succeeded.
fn kill(pid: u32, signal: &str) -> Result<bool> {
    let status = Command::new("kill")
        .arg(signal)
        .arg(pid.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .context("running the `kill` command")?;
    Ok(status.success())
}

/// The one-letter state of `/proc/<pid>/stat` (the field after the parenthesised name).
#[cfg(target_os = "linux")]
fn linux_state(pid: u32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit_once(')')?.1.trim_start().chars().next()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_process_is_alive_and_tiny_pids_are_not() {
        assert!(is_alive(std::process::id()));
        assert!(!is_alive(0));
        assert!(!is_alive(1));
        assert!(terminate(std::process::id()).is_err());
    }

    #[test]
    fn exited_child_is_not_alive_even_before_reaping() {
        let mut child = Command::new("true").spawn().unwrap();
        let pid = child.id();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while is_alive(pid) && std::time::Instant::now() < deadline {
            std::thread::yield_now();
        }
        #[cfg(target_os = "linux")]
        assert!(!is_alive(pid));
        child.wait().unwrap();
        assert!(!is_alive(pid));
    }
}
