//! A whole workspace's backup: one folder, `backup-<UTC timestamp>`, that mirrors the
//! workspace's layout — `memory/memories.db` (a consistent [`snapshot`](super::snapshot)
//! taken while the daemon writes), the configuration (`agent.yaml`, `AGENT.yaml`,
//! `config.yaml`), the identity files (`*.md` at the workspace's root) and the auth secret
//! (`.daemon/auth-secret`, mode 0600; the folder is 0700) — and, written last, a
//! `manifest.json` saying what it holds. A folder with a manifest is a finished, verified
//! backup ("good"); one without is an older backup or an interrupted one.
//!
//! [`create`] is shared by `signet backup` and the daemon's scheduled backup worker; [`list`]
//! and [`last_good`] read a backup directory back (diagnostics, the worker's schedule).
//! Blocking: callers on an async runtime use `spawn_blocking`.

use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use signet_model::TableStore;

use super::Progress;
use super::transfer::TableCheck;
use crate::{Result, StoreError};

/// The prefix of every backup folder; pruning only removes folders named so.
pub const PREFIX: &str = "backup-";
/// The database, relative to the workspace (and to a backup folder).
pub const DB: &str = "memory/memories.db";
/// The auth secret, relative to the workspace (see `signet_core::auth::secret`).
pub const SECRET: &str = ".daemon/auth-secret";
/// Configuration files copied when present.
pub const CONFIGS: [&str; 3] = ["agent.yaml", "AGENT.yaml", "config.yaml"];
/// The manifest's name inside a backup folder.
pub const MANIFEST: &str = "manifest.json";
/// The manifest format this build writes.
pub const MANIFEST_FORMAT: u32 = 1;

/// What a finished backup folder holds (`manifest.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    /// [`MANIFEST_FORMAT`] of the build that wrote it.
    pub format: u32,
    /// When the snapshot was taken (ISO-8601 UTC).
    pub created_at: String,
    /// The signet version that wrote it.
    pub signet_version: String,
    /// The workspace backed up.
    pub workspace: PathBuf,
    /// The database copy.
    pub database: DatabaseEntry,
    /// The other files, relative to the folder (and to the workspace).
    pub files: Vec<String>,
    /// Bytes of everything in the folder (the database and the files).
    pub bytes: u64,
    /// Set when the workspace's database is another backend's (PostgreSQL): the database
    /// copy is a SQLite dump of it, and this says which backend and what each table held
    /// (rows and content hash, verified against the dump).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dump: Option<DumpEntry>,
}

/// The dump of another backend's database in a [`Manifest`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DumpEntry {
    /// The backend dumped (`postgres`).
    pub backend: String,
    /// Each table's rows and content hash, the database's and the dump's alike.
    pub tables: Vec<TableCheck>,
}

/// Where a backup's database comes from.
pub enum Source<'a> {
    /// The workspace's SQLite file: a snapshot, `progress` as its pages are copied.
    Sqlite(&'a mut dyn FnMut(Progress)),
    /// Another backend's tables (`backend` names it), dumped into a SQLite file
    /// ([`super::transfer::dump_to_sqlite`]); `progress(table, rows done, rows)`.
    Tables {
        backend: &'a str,
        store: &'a dyn TableStore,
        progress: &'a mut dyn FnMut(&str, u64, u64),
    },
}

/// The database copy in a [`Manifest`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DatabaseEntry {
    pub path: String,
    pub bytes: u64,
    pub memories: i64,
    pub history: i64,
    /// `ok`: the copy passed `PRAGMA integrity_check` and held the source's row counts.
    pub integrity: String,
}

/// A finished backup.
#[derive(Debug, Clone)]
pub struct Made {
    pub folder: PathBuf,
    pub manifest: Manifest,
    /// The names of the older folders removed to honour `keep`.
    pub pruned: Vec<String>,
}

/// One folder found in a backup directory.
#[derive(Debug, Clone)]
pub struct Entry {
    pub name: String,
    pub path: PathBuf,
    /// Its manifest; `None` when it has none (interrupted, or made before manifests) or the
    /// manifest does not parse.
    pub manifest: Option<Manifest>,
}

/// Backs up `workspace` into a new folder under `dir` (created 0700 when missing), then, with
/// `keep`, removes all but the newest `keep` backup folders. `progress` is called as the
/// database copy advances. A failed backup removes its partial folder.
pub fn create(
    workspace: &Path,
    dir: &Path,
    keep: Option<usize>,
    progress: &mut dyn FnMut(Progress),
) -> Result<Made> {
    create_from(workspace, dir, keep, Source::Sqlite(progress))
}

/// [`create`] with the database from `source`: the workspace's SQLite file, or a dump of
/// another backend's tables (a PostgreSQL workspace), which restores into either backend.
pub fn create_from(
    workspace: &Path,
    dir: &Path,
    keep: Option<usize>,
    source: Source<'_>,
) -> Result<Made> {
    let db = workspace.join(DB);
    if matches!(source, Source::Sqlite(_)) && !db.is_file() {
        return Err(StoreError::Invalid(format!(
            "no database at {} (nothing to back up)",
            db.display()
        )));
    }
    if !dir.exists() {
        fs::create_dir_all(dir).map_err(|e| io_at(e, "creating", dir))?;
        private(dir, 0o700)?;
    }
    let now = chrono::Utc::now();
    let folder = dir.join(format!("{PREFIX}{}", now.format("%Y%m%dT%H%M%S%3fZ")));
    fs::create_dir(&folder).map_err(|e| io_at(e, "creating", &folder))?;
    let made = fill(workspace, &folder, now, source).inspect_err(|_| {
        // Best effort: a partial folder must not look like a backup.
        let _ = fs::remove_dir_all(&folder);
    })?;
    let pruned = match keep {
        Some(keep) => prune(dir, keep.max(1))?,
        None => Vec::new(),
    };
    Ok(Made {
        folder,
        manifest: made,
        pruned,
    })
}

/// Fills a fresh `folder`: the snapshot, the side files, then the manifest.
fn fill(
    workspace: &Path,
    folder: &Path,
    now: chrono::DateTime<chrono::Utc>,
    source: Source<'_>,
) -> Result<Manifest> {
    private(folder, 0o700)?;
    let memory = folder.join("memory");
    fs::create_dir_all(&memory).map_err(|e| io_at(e, "creating", &memory))?;
    let (snap, dump) = match source {
        Source::Sqlite(progress) => {
            let snap = super::snapshot_with_progress(
                &workspace.join(DB),
                &folder.join(DB),
                super::STEP_PAGES,
                progress,
            )?;
            (snap, None)
        }
        Source::Tables {
            backend,
            store,
            progress,
        } => {
            let dest = folder.join(DB);
            let dump = super::transfer::dump_to_sqlite(store, &dest, progress)?;
            let counts = super::verify(&dest)?;
            let bytes = fs::metadata(&dest)
                .map_err(|e| io_at(e, "reading", &dest))?
                .len();
            let entry = DumpEntry {
                backend: backend.to_owned(),
                tables: dump.checks,
            };
            (super::Snapshot { counts, bytes }, Some(entry))
        }
    };
    let mut files = Vec::new();
    let mut bytes = snap.bytes;
    for rel in side_files(workspace)? {
        let (src, dst) = (workspace.join(&rel), folder.join(&rel));
        let n = copy_file(&src, &dst)?;
        let expected = fs::metadata(&src)
            .map_err(|e| io_at(e, "reading", &src))?
            .len();
        if n != expected {
            return Err(StoreError::Invalid(format!(
                "{} changed while it was copied ({n} of {expected} bytes); try again",
                src.display()
            )));
        }
        bytes += n;
        files.push(rel.display().to_string());
    }
    let manifest = Manifest {
        format: MANIFEST_FORMAT,
        created_at: now.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
        signet_version: env!("CARGO_PKG_VERSION").to_owned(),
        workspace: workspace.to_path_buf(),
        database: DatabaseEntry {
            path: DB.to_owned(),
            bytes: snap.bytes,
            memories: snap.counts.memories,
            history: snap.counts.history,
            integrity: "ok".to_owned(),
        },
        files,
        bytes,
        dump,
    };
    write_manifest(folder, &manifest)?;
    Ok(manifest)
}

/// Writes `manifest.json` atomically (a temporary file renamed into place).
fn write_manifest(folder: &Path, manifest: &Manifest) -> Result<()> {
    let text = serde_json::to_vec_pretty(manifest)
        .map_err(|e| StoreError::Backend(format!("encoding the manifest: {e}")))?;
    let tmp = folder.join(format!("{MANIFEST}.tmp"));
    fs::write(&tmp, text).map_err(|e| io_at(e, "writing", &tmp))?;
    let path = folder.join(MANIFEST);
    fs::rename(&tmp, &path).map_err(|e| io_at(e, "writing", &path))
}

/// The workspace's files besides the database that a backup holds, relative to `root`:
/// the configuration, the identity files and the auth secret, those that exist.
pub fn side_files(root: &Path) -> Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = CONFIGS.iter().map(PathBuf::from).collect();
    if root.is_dir() {
        for entry in fs::read_dir(root).map_err(|e| io_at(e, "listing", root))? {
            let name = PathBuf::from(entry?.file_name());
            if name.extension().is_some_and(|e| e == "md") {
                files.push(name);
            }
        }
    }
    files.push(PathBuf::from(SECRET));
    files.sort();
    files.dedup();
    files.retain(|f| root.join(f).is_file());
    Ok(files)
}

/// Copies `from` to `to` (creating its folder), keeping the mode; the secret ends up 0600.
/// Returns the bytes copied.
pub fn copy_file(from: &Path, to: &Path) -> Result<u64> {
    if let Some(dir) = to.parent() {
        fs::create_dir_all(dir).map_err(|e| io_at(e, "creating", dir))?;
    }
    let n = fs::copy(from, to).map_err(|e| {
        let what = format!("copying {} to", from.display());
        io_at(e, &what, to)
    })?;
    if to.ends_with(SECRET) {
        private(to, 0o600)?;
    }
    Ok(n)
}

/// Removes all but the newest `keep` backup folders in `dir` (their names sort by time);
/// returns the removed names, oldest first.
pub fn prune(dir: &Path, keep: usize) -> Result<Vec<String>> {
    let mut names: Vec<String> = list(dir)?.into_iter().map(|e| e.name).collect();
    let old = names.len().saturating_sub(keep);
    names.truncate(old);
    for name in &names {
        let path = dir.join(name);
        fs::remove_dir_all(&path).map_err(|e| io_at(e, "removing", &path))?;
    }
    Ok(names)
}

/// The backup folders in `dir`, oldest first; a missing `dir` has none.
pub fn list(dir: &Path) -> Result<Vec<Entry>> {
    let read = match fs::read_dir(dir) {
        Ok(read) => read,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io_at(e, "listing", dir)),
    };
    let mut entries: Vec<Entry> = read
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| n.starts_with(PREFIX))
        .map(|name| {
            let path = dir.join(&name);
            let manifest = manifest(&path);
            Entry {
                name,
                path,
                manifest,
            }
        })
        .collect();
    entries.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(entries)
}

/// The manifest of the backup `folder`; `None` when it has none or it does not parse.
pub fn manifest(folder: &Path) -> Option<Manifest> {
    let bytes = fs::read(folder.join(MANIFEST)).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// The newest finished backup in `dir` (the newest folder with a manifest).
pub fn last_good(dir: &Path) -> Result<Option<Entry>> {
    Ok(list(dir)?.into_iter().rev().find(|e| e.manifest.is_some()))
}

/// What a backup directory holds, in short.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// Backup folders, finished or not.
    pub count: usize,
    /// The newest finished backup: when it was taken (its manifest's `createdAt`), its folder.
    pub last_good: Option<(chrono::DateTime<chrono::Utc>, PathBuf)>,
}

/// The [`Summary`] of `dir` (a missing `dir` holds nothing).
pub fn summary(dir: &Path) -> Result<Summary> {
    let entries = list(dir)?;
    let last_good = entries.iter().rev().find_map(|e| {
        let at = chrono::DateTime::parse_from_rfc3339(&e.manifest.as_ref()?.created_at).ok()?;
        Some((at.with_timezone(&chrono::Utc), e.path.clone()))
    });
    Ok(Summary {
        count: entries.len(),
        last_good,
    })
}

/// An I/O error that names what was being done to which path (its kind kept).
fn io_at(e: std::io::Error, what: &str, path: &Path) -> StoreError {
    StoreError::Io(std::io::Error::new(
        e.kind(),
        format!("{what} {}: {e}", path.display()),
    ))
}

#[cfg(unix)]
fn private(path: &Path, mode: u32) -> Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
        .map_err(|e| io_at(e, "setting the mode of", path))
}

#[cfg(not(unix))]
fn private(_path: &Path, _mode: u32) -> Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_backup_has_a_manifest_and_keep_prunes_the_oldest() {
        let dir = tempfile::tempdir().unwrap();
        let ws = dir.path().join("ws");
        fs::create_dir_all(ws.join("memory")).unwrap();
        drop(crate::Store::open(&ws.join(DB), 1).unwrap());
        fs::write(ws.join("agent.yaml"), "search:\n  top_k: 5\n").unwrap();
        fs::write(ws.join("SOUL.md"), "# soul\n").unwrap();
        let backups = dir.path().join("backups");
        // Two older folders, one of them interrupted (no manifest).
        fs::create_dir_all(backups.join("backup-20000101T000000000Z")).unwrap();
        fs::create_dir_all(backups.join("backup-20000102T000000000Z")).unwrap();
        assert!(last_good(&backups).unwrap().is_none());
        let mut steps = 0;
        let made = create(&ws, &backups, Some(2), &mut |_| steps += 1).unwrap();
        assert!(steps > 0);
        assert_eq!(made.pruned, ["backup-20000101T000000000Z"]);
        assert_eq!(made.manifest.files, ["SOUL.md", "agent.yaml"]);
        assert_eq!(made.manifest.database.integrity, "ok");
        let good = last_good(&backups).unwrap().unwrap();
        assert_eq!(good.path, made.folder);
        assert_eq!(good.manifest.as_ref(), Some(&made.manifest));
        assert_eq!(list(&backups).unwrap().len(), 2);
        let sum = summary(&backups).unwrap();
        assert_eq!(sum.count, 2);
        assert_eq!(sum.last_good.map(|(_, p)| p), Some(made.folder));
        assert!(list(&dir.path().join("nowhere")).unwrap().is_empty());
    }

    #[test]
    fn a_missing_database_names_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let err = create(dir.path(), &dir.path().join("b"), None, &mut |_| {}).unwrap_err();
        assert!(err.to_string().contains("no database at"), "{err}");
    }
}
