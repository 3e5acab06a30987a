//! `$WS/.daemon/pid` and `$WS/.daemon/last-healthy-start`.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// The daemon's pid file: the decimal pid and a newline.
#[derive(Debug, Clone)]
pub struct PidFile {
    path: PathBuf,
}

impl PidFile {
    /// The pid file of `workspace`.
    pub fn in_workspace(workspace: &Path) -> Self {
        Self {
            path: workspace.join(".daemon").join("pid"),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The recorded pid; `None` when the file is missing or does not hold a plausible pid.
    pub fn read(&self) -> Result<Option<u32>> {
        match std::fs::read_to_string(&self.path) {
            Ok(text) => Ok(text.trim().parse::<u32>().ok().filter(|p| *p > 1)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e).with_context(|| format!("reading {}", self.path.display())),
        }
    }

    /// Records `pid` (write to a temp file, then rename) and returns a guard that removes the
    /// file when dropped, if it still names `pid`.
    pub fn write(&self, pid: u32) -> Result<Guard<Self>> {
        write_atomic(&self.path, format!("{pid}\n").as_bytes())?;
        Ok(Guard::new(self.clone(), pid))
    }

    /// Removes the file; a missing file is fine.
    pub fn remove(&self) -> Result<()> {
        remove_file(&self.path)
    }
}

impl NamesPid for PidFile {
    /// Removes the file if it names `pid` (another daemon's file is left alone).
    fn remove_if(&self, pid: u32) -> Result<()> {
        if self.read()? == Some(pid) {
            self.remove()?;
        }
        Ok(())
    }
}

/// A file of `.daemon/` that names the process which wrote it.
pub trait NamesPid {
    /// Removes the file if it names `pid` (another daemon's file is left alone).
    fn remove_if(&self, pid: u32) -> Result<()>;
}

/// Removes the file this process wrote on drop (normal exit or error), if it still names it.
pub struct Guard<F: NamesPid> {
    file: F,
    pid: u32,
}

impl<F: NamesPid> Guard<F> {
    pub(super) fn new(file: F, pid: u32) -> Self {
        Self { file, pid }
    }
}

impl<F: NamesPid> Drop for Guard<F> {
    fn drop(&mut self) {
        if let Err(e) = self.file.remove_if(self.pid) {
            tracing::warn!(target: "daemon", "{e:#}");
        }
    }
}

/// Removes `path`; a missing file is fine.
pub(super) fn remove_file(path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(e).with_context(|| format!("removing {}", path.display()))
        }
        _ => Ok(()),
    }
}

/// Writes `$WS/.daemon/last-healthy-start`: `{"version","startedAt","pid"}`.
pub fn write_last_healthy_start(workspace: &Path, pid: u32, started_at: &str) -> Result<()> {
    let body = serde_json::json!({
        "version": env!("CARGO_PKG_VERSION"),
        "startedAt": started_at,
        "pid": pid,
    });
    let path = workspace.join(".daemon").join("last-healthy-start");
    write_atomic(&path, serde_json::to_string(&body)?.as_bytes())
}

/// Writes `bytes` to a temp file beside `path`, then renames it over `path`: readers see the old
/// file or the new one, never half of one.
pub(super) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("tmp");
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    std::fs::write(&tmp, bytes).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guard_removes_only_its_own_pid() {
        let ws = tempfile::tempdir().unwrap();
        let file = PidFile::in_workspace(ws.path());
        assert_eq!(file.read().unwrap(), None);
        let guard = file.write(4242).unwrap();
        assert_eq!(file.read().unwrap(), Some(4242));
        drop(guard);
        assert!(!file.path().exists());
        let guard = file.write(4242).unwrap();
        std::fs::write(file.path(), "777\n").unwrap();
        drop(guard);
        assert_eq!(file.read().unwrap(), Some(777));
    }

    #[test]
    fn garbage_and_tiny_pids_read_as_none() {
        let ws = tempfile::tempdir().unwrap();
        let file = PidFile::in_workspace(ws.path());
        for text in ["", "abc", "0", "1", "-5"] {
            std::fs::create_dir_all(file.path().parent().unwrap()).unwrap();
            std::fs::write(file.path(), text).unwrap();
            assert_eq!(file.read().unwrap(), None, "{text:?}");
        }
    }

    #[test]
    fn last_healthy_start_has_upstream_keys() {
        let ws = tempfile::tempdir().unwrap();
        write_last_healthy_start(ws.path(), 9, "2026-01-01T00:00:00.000Z").unwrap();
        let text = std::fs::read_to_string(ws.path().join(".daemon/last-healthy-start")).unwrap();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["pid"], 9);
        assert_eq!(v["startedAt"], "2026-01-01T00:00:00.000Z");
        assert!(v["version"].is_string());
    }
}
