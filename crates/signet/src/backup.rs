//! `signet backup [--to DIR] [--keep N]` and `signet restore FROM`.
//!
//! A backup is one folder, `backup-<UTC timestamp>`, that mirrors the workspace's layout:
//! `memory/memories.db` (a consistent snapshot taken while the daemon runs and writes, see
//! [`signet_store::backup`]), the configuration (`agent.yaml`, `AGENT.yaml`, `config.yaml`),
//! the identity files (`*.md` at the workspace's root) and the auth secret
//! (`.daemon/auth-secret`, kept mode 0600; the folder is 0700). Restoring refuses while the
//! workspace's daemon runs, keeps what it replaces next to it as `<file>.before-restore-<ts>`,
//! and checks the restored database.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};
use clap::Args;
use serde_json::json;
use signet_core::config::{EnvVars, resolve_workspace};
use signet_store::backup::{self, Counts};

use crate::cli::Global;
use crate::output::{outln, print_json};

/// The prefix of every backup folder; `--keep` prunes only folders named so.
const PREFIX: &str = "backup-";
/// The database, relative to the workspace.
const DB: &str = "memory/memories.db";
/// The auth secret, relative to the workspace (see `signet_core::auth::secret`).
const SECRET: &str = ".daemon/auth-secret";
/// Configuration files copied when present.
const CONFIGS: [&str; 3] = ["agent.yaml", "AGENT.yaml", "config.yaml"];
/// Databases above this size get a progress line on stderr.
const LARGE: u64 = 64 << 20;

#[derive(Debug, Args)]
pub struct BackupArgs {
    /// Where the backup folders go (default: $WORKSPACE/.daemon/backups).
    #[arg(long, value_name = "DIR")]
    pub to: Option<PathBuf>,
    /// Keep only the newest N backup folders in DIR (this one included), removing older ones.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub keep: Option<u32>,
}

#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// A backup folder made by `signet backup`.
    #[arg(value_name = "FROM")]
    pub from: PathBuf,
}

fn workspace() -> Result<PathBuf> {
    let ws = resolve_workspace(&EnvVars::from_process()).context("resolving the workspace")?;
    std::path::absolute(&ws).with_context(|| format!("resolving the workspace {}", ws.display()))
}

/// The workspace's files besides the database that a backup holds, relative to it.
fn side_files(root: &Path) -> Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = CONFIGS.iter().map(PathBuf::from).collect();
    if root.is_dir() {
        for entry in fs::read_dir(root).with_context(|| format!("listing {}", root.display()))? {
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
fn copy_file(from: &Path, to: &Path) -> Result<u64> {
    if let Some(dir) = to.parent() {
        fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let n = fs::copy(from, to)
        .with_context(|| format!("copying {} to {}", from.display(), to.display()))?;
    if to.ends_with(SECRET) {
        private(to, 0o600)?;
    }
    Ok(n)
}

#[cfg(unix)]
fn private(path: &Path, mode: u32) -> Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
        .with_context(|| format!("setting the mode of {}", path.display()))
}

#[cfg(not(unix))]
fn private(_path: &Path, _mode: u32) -> Result<()> {
    Ok(())
}

pub async fn backup(g: &Global, args: BackupArgs) -> Result<()> {
    let json = g.json;
    tokio::task::spawn_blocking(move || backup_blocking(json, args)).await?
}

fn backup_blocking(json: bool, args: BackupArgs) -> Result<()> {
    let ws = workspace()?;
    let db = ws.join(DB);
    if !db.is_file() {
        bail!("no database at {} (nothing to back up)", db.display());
    }
    let to = args
        .to
        .unwrap_or_else(|| ws.join(".daemon").join("backups"));
    fs::create_dir_all(&to).with_context(|| format!("creating {}", to.display()))?;
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S%3fZ");
    let folder = to.join(format!("{PREFIX}{stamp}"));
    fs::create_dir(&folder).with_context(|| format!("creating {}", folder.display()))?;
    private(&folder, 0o700)?;
    fs::create_dir_all(folder.join("memory"))?;

    let size = fs::metadata(&db)?.len();
    if size > LARGE && !json {
        eprintln!("snapshotting {} ({} MB) ...", db.display(), size >> 20);
    }
    let snap = backup::snapshot(&db, &folder.join(DB))
        .with_context(|| format!("snapshotting {}", db.display()))?;

    let mut files = Vec::new();
    for rel in side_files(&ws)? {
        let (src, dst) = (ws.join(&rel), folder.join(&rel));
        let n = copy_file(&src, &dst)?;
        let copied = fs::metadata(&dst)?.len();
        if copied != n || copied != fs::metadata(&src)?.len() {
            bail!("{} was copied incompletely", dst.display());
        }
        files.push(rel.display().to_string());
    }

    let pruned = match args.keep {
        Some(keep) => prune(&to, keep as usize)?,
        None => Vec::new(),
    };
    if json {
        print_json(&json!({
            "backup": folder,
            "database": {"bytes": snap.bytes, "memories": snap.counts.memories,
                         "history": snap.counts.history, "integrity": "ok"},
            "files": files,
            "pruned": pruned,
        }))
    } else {
        outln!("backed up {} to {}", ws.display(), folder.display())?;
        outln!(
            "  {DB}: {} bytes, {} memories, {} history rows, integrity ok",
            snap.bytes,
            snap.counts.memories,
            snap.counts.history
        )?;
        outln!("  files: {}", list(&files))?;
        if !pruned.is_empty() {
            outln!("  pruned {} older backups: {}", pruned.len(), list(&pruned))?;
        }
        Ok(())
    }
}

fn list(names: &[String]) -> String {
    if names.is_empty() {
        "none".into()
    } else {
        names.join(", ")
    }
}

/// Removes all but the newest `keep` backup folders in `dir` (their names sort by time).
fn prune(dir: &Path, keep: usize) -> Result<Vec<String>> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .with_context(|| format!("listing {}", dir.display()))?
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| n.starts_with(PREFIX))
        .collect();
    names.sort();
    let old = names.len().saturating_sub(keep);
    names.truncate(old);
    for name in &names {
        let path = dir.join(name);
        fs::remove_dir_all(&path).with_context(|| format!("removing {}", path.display()))?;
    }
    Ok(names)
}

pub async fn restore(g: &Global, args: RestoreArgs) -> Result<()> {
    let json = g.json;
    tokio::task::spawn_blocking(move || restore_blocking(json, args)).await?
}

fn restore_blocking(json: bool, args: RestoreArgs) -> Result<()> {
    let ws = workspace()?;
    if let Some(pid) = crate::daemon::running_pid(&ws) {
        bail!(
            "the signet daemon (pid {pid}) is running in {}; stop it first (`signet daemon stop`)",
            ws.display()
        );
    }
    let from = &args.from;
    let source_db = from.join(DB);
    if !source_db.is_file() {
        bail!("{} is not a signet backup (no {DB})", from.display());
    }
    let expected = backup::verify(&source_db)
        .with_context(|| format!("checking the backup {}", source_db.display()))?;

    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S%3fZ");
    let suffix = format!(".before-restore-{stamp}");
    let mut kept = Vec::new();

    // The database: move it (and any -wal/-shm, which must not meet the restored file) aside.
    let db = ws.join(DB);
    fs::create_dir_all(ws.join("memory"))?;
    let aside = PathBuf::from(format!("{}{suffix}", db.display()));
    for tail in ["", "-wal", "-shm"] {
        let file = PathBuf::from(format!("{}{tail}", db.display()));
        if file.exists() {
            let to = PathBuf::from(format!("{}{tail}", aside.display()));
            fs::rename(&file, &to).with_context(|| format!("moving {} aside", file.display()))?;
            kept.push(to.display().to_string());
        }
    }
    let tmp = PathBuf::from(format!("{}.restoring", db.display()));
    copy_file(&source_db, &tmp)?;
    fs::rename(&tmp, &db).with_context(|| format!("replacing {}", db.display()))?;
    let restored =
        backup::verify(&db).with_context(|| format!("checking the restored {}", db.display()))?;
    if restored != expected {
        bail!("the restored database holds {restored:?}, the backup {expected:?}");
    }

    let mut files = Vec::new();
    for rel in side_files(from)? {
        let target = ws.join(&rel);
        if target.is_file() {
            let to = PathBuf::from(format!("{}{suffix}", target.display()));
            copy_file(&target, &to)?;
            kept.push(to.display().to_string());
        }
        copy_file(&from.join(&rel), &target)?;
        files.push(rel.display().to_string());
    }
    print_restore(json, &ws, from, restored, &files, &kept)
}

fn print_restore(
    json: bool,
    ws: &Path,
    from: &Path,
    counts: Counts,
    files: &[String],
    kept: &[String],
) -> Result<()> {
    if json {
        return print_json(&json!({
            "restored": from, "workspace": ws,
            "database": {"memories": counts.memories, "history": counts.history,
                         "integrity": "ok"},
            "files": files, "kept": kept,
        }));
    }
    outln!("restored {} into {}", from.display(), ws.display())?;
    outln!(
        "  {DB}: {} memories, {} history rows, integrity ok",
        counts.memories,
        counts.history
    )?;
    outln!("  files: {}", list(files))?;
    outln!("  kept the replaced files: {}", list(kept))?;
    Ok(())
}
