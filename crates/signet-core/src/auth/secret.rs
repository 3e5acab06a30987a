//! The HMAC secret at `$WORKSPACE/.daemon/auth-secret`: 32 random bytes, mode 0600.
//!
//! Created atomically (written to a private temporary file, then hard-linked into place, which
//! fails if another process won the race, so two starters never end up with two secrets) and
//! never logged. An existing file that is not a regular file, is readable by group or others,
//! or is not exactly 32 bytes is refused with a message saying how to fix it.

use std::fs::{self, OpenOptions};
use std::io::{ErrorKind, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Length of the secret in bytes.
pub const SECRET_LEN: usize = 32;

/// Why the secret cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{path} is readable by other users (mode {mode:03o}); run `chmod 600 {path}` and restart"
    )]
    Permissions { path: PathBuf, mode: u32 },
    #[error(
        "{path} holds {len} bytes, not {SECRET_LEN}; restore it from a backup, or delete it to \
         generate a new one (this invalidates every issued token)"
    )]
    Size { path: PathBuf, len: u64 },
    #[error("{path} is not a regular file")]
    NotAFile { path: PathBuf },
    #[error(
        "no auth secret at {path}: start the daemon in team or hybrid mode once, or run `signet token create`, to create it"
    )]
    Missing { path: PathBuf },
}

/// Where the workspace keeps its secret.
pub fn secret_path(workspace: &Path) -> PathBuf {
    workspace.join(".daemon").join("auth-secret")
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> SecretError + '_ {
    move |source| SecretError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Reads and validates an existing secret.
pub fn read_secret(workspace: &Path) -> Result<Vec<u8>, SecretError> {
    let path = secret_path(workspace);
    let meta = match fs::symlink_metadata(&path) {
        Err(e) if e.kind() == ErrorKind::NotFound => return Err(SecretError::Missing { path }),
        other => other.map_err(io(&path))?,
    };
    if !meta.file_type().is_file() {
        return Err(SecretError::NotAFile { path });
    }
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(SecretError::Permissions { path, mode });
    }
    if meta.len() != SECRET_LEN as u64 {
        return Err(SecretError::Size {
            path,
            len: meta.len(),
        });
    }
    let bytes = fs::read(&path).map_err(io(&path))?;
    if bytes.len() != SECRET_LEN {
        return Err(SecretError::Size {
            path,
            len: bytes.len() as u64,
        });
    }
    Ok(bytes)
}

/// Reads the secret, creating it first if there is none. Returns the bytes and whether this
/// call created them.
pub fn load_or_create_secret(workspace: &Path) -> Result<(Vec<u8>, bool), SecretError> {
    match read_secret(workspace) {
        Err(SecretError::Missing { path }) => {
            let created = create(&path)?;
            Ok((read_secret(workspace)?, created))
        }
        other => other.map(|b| (b, false)),
    }
}

/// Writes a fresh secret at `path` unless one appears first; true if this call wrote it.
fn create(path: &Path) -> Result<bool, SecretError> {
    let dir = path.parent().expect("secret path has a parent");
    fs::create_dir_all(dir).map_err(io(dir))?;
    let mut bytes = [0u8; SECRET_LEN];
    getrandom::fill(&mut bytes).map_err(|e| SecretError::Io {
        path: path.to_owned(),
        source: std::io::Error::other(e.to_string()),
    })?;
    let tmp = dir.join(format!(
        ".auth-secret.{}.{:x}.tmp",
        std::process::id(),
        u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes")) ^ 0x5bd1_e995
    ));
    let written = (|| {
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)?;
        f.write_all(&bytes)?;
        f.sync_all()
    })();
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(io(&tmp)(e));
    }
    let linked = fs::hard_link(&tmp, path);
    let _ = fs::remove_file(&tmp);
    match linked {
        Ok(()) => {
            if let Ok(d) = fs::File::open(dir) {
                let _ = d.sync_all();
            }
            Ok(true)
        }
        Err(e) if e.kind() == ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(io(path)(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creates_once_with_mode_0600_and_then_reuses() {
        let dir = tempfile::tempdir().unwrap();
        let (a, created) = load_or_create_secret(dir.path()).unwrap();
        assert!(created);
        assert_eq!(a.len(), SECRET_LEN);
        let meta = fs::metadata(secret_path(dir.path())).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
        let (b, created) = load_or_create_secret(dir.path()).unwrap();
        assert!(!created);
        assert_eq!(a, b);
        let leftovers = fs::read_dir(dir.path().join(".daemon")).unwrap().count();
        assert_eq!(leftovers, 1, "no temporary file left behind");
    }

    #[test]
    fn refuses_loose_permissions_and_wrong_sizes() {
        let dir = tempfile::tempdir().unwrap();
        load_or_create_secret(dir.path()).unwrap();
        let path = secret_path(dir.path());
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        let e = read_secret(dir.path()).unwrap_err().to_string();
        assert!(e.contains("chmod 600"), "{e}");
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        fs::write(&path, b"short").unwrap();
        let e = load_or_create_secret(dir.path()).unwrap_err().to_string();
        assert!(e.contains("5 bytes"), "{e}");
    }

    #[test]
    fn racing_creators_agree_on_one_secret() {
        let dir = tempfile::tempdir().unwrap();
        let ws = dir.path().to_owned();
        let handles: Vec<_> = (0..8)
            .map(|_| {
                let ws = ws.clone();
                std::thread::spawn(move || load_or_create_secret(&ws).unwrap().0)
            })
            .collect();
        let secrets: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        assert!(secrets.windows(2).all(|w| w[0] == w[1]));
    }
}
