//! `signet backup [--to DIR] [--keep N]` and `signet restore FROM`.
//!
//! A backup is one folder, `backup-<UTC timestamp>`, made by
//! [`signet_store::backup::workspace::create`] (the same code the daemon's scheduled backup
//! worker runs): `memory/memories.db` (a consistent snapshot taken while the daemon runs and
//! writes), the configuration, the identity files, the auth secret (kept mode 0600; the
//! folder is 0700) and `manifest.json`. On a large database a progress bar is drawn on stderr
//! when it is a terminal. Restoring refuses while the workspace's daemon runs, checks the
//! backup (against its `manifest.json` too, when it has one), keeps what it replaces next to it
//! as `<file>.before-restore-<ts>`, and checks the restored database.
//!
//! With `storage.backend: postgres` the backup's database is a SQLite dump of the PostgreSQL
//! database ([`folder::Source::Tables`]: every table of the model copied and verified by
//! count and content hash, the hashes kept in `manifest.json`), so one backup format serves
//! both backends and restores into either. Restoring such a workspace imports the backup's
//! database into the configured PostgreSQL database (refusing one that holds rows unless
//! `--force`), then verifies it the same way.

use std::fs;
use std::io::{IsTerminal as _, Write as _};
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};
use clap::Args;
use serde_json::json;
use signet_core::config::{EnvVars, Settings, StorageBackend, resolve_workspace};
use signet_model::TableStore as _;
use signet_store::Store;
use signet_store::backup::workspace::{self as folder, DB};
use signet_store::backup::{self, Counts, Progress, transfer};
use signet_store_pg::{DatabaseUrl, PgConfig, PgStore};

use crate::cli::Global;
use crate::output::{outln, print_json};

/// Databases above this size get a progress line on stderr (when stderr is a terminal).
const LARGE: u64 = 64 << 20;

#[derive(Debug, Args)]
pub struct BackupArgs {
    /// Where the backup folders go (default: `backup.dir` of agent.yaml, else
    /// $WORKSPACE/.daemon/backups).
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
    /// With `storage.backend: postgres`: replace what the database holds (its tables are
    /// emptied first); without it a database holding rows is refused.
    #[arg(long)]
    pub force: bool,
}

fn workspace() -> Result<PathBuf> {
    let ws = resolve_workspace(&EnvVars::from_process()).context("resolving the workspace")?;
    std::path::absolute(&ws).with_context(|| format!("resolving the workspace {}", ws.display()))
}

pub async fn backup(g: &Global, args: BackupArgs) -> Result<()> {
    let json = g.json;
    tokio::task::spawn_blocking(move || backup_blocking(json, args)).await?
}

/// The folder backups go to without `--to`: `backup.dir` when agent.yaml sets one (a config
/// that does not load is ignored here: the backup matters more), else the default.
fn default_dir(ws: &Path) -> PathBuf {
    let configured = Settings::load(ws, &EnvVars::from_process())
        .ok()
        .and_then(|l| l.settings.backup.dir);
    signet_core::config::BackupSettings::resolve_dir(configured.as_deref(), ws)
}

/// The PostgreSQL database the workspace's `storage` names (`None`: SQLite). A configuration
/// that does not load counts as SQLite when the workspace has a SQLite database (a backup
/// matters more), and is the error otherwise.
pub(crate) fn postgres_of(ws: &Path) -> Result<Option<PgConfig>> {
    let settings = match Settings::load(ws, &EnvVars::from_process()) {
        Ok(loaded) => loaded.settings,
        Err(_) if ws.join(DB).is_file() => return Ok(None),
        Err(e) => {
            return Err(e)
                .with_context(|| format!("reading the configuration of {}", ws.display()));
        }
    };
    let storage = settings.storage;
    match (storage.backend, storage.url) {
        (StorageBackend::Postgres, Some(url)) => {
            let parsed = DatabaseUrl::parse(url.expose())
                .map_err(|e| anyhow::anyhow!("storage.url ({}): {e}", url.redacted()))?;
            Ok(Some(PgConfig {
                url: parsed,
                pool: 2,
                schema: storage.schema,
            }))
        }
        _ => Ok(None),
    }
}

fn open_postgres(config: &PgConfig) -> Result<PgStore> {
    PgStore::open(config).with_context(|| format!("opening storage.url ({})", config.url))
}

fn backup_blocking(json: bool, args: BackupArgs) -> Result<()> {
    let ws = workspace()?;
    if let Some(pg) = postgres_of(&ws)? {
        return backup_postgres(json, &ws, &pg, args);
    }
    let db = ws.join(DB);
    if !db.is_file() {
        bail!("no database at {} (nothing to back up)", db.display());
    }
    let to = args.to.unwrap_or_else(|| default_dir(&ws));
    let size = fs::metadata(&db)?.len();
    let mut bar = ProgressLine::new(!json && size > LARGE && std::io::stderr().is_terminal());
    let made = folder::create(&ws, &to, args.keep.map(|k| k as usize), &mut |p| {
        bar.show(p)
    })
    .with_context(|| format!("backing up {} to {}", ws.display(), to.display()));
    bar.finish();
    let made = made?;
    let (m, folder) = (&made.manifest, &made.folder);
    if json {
        print_json(&json!({
            "backup": folder,
            "database": {"bytes": m.database.bytes, "memories": m.database.memories,
                         "history": m.database.history, "integrity": m.database.integrity},
            "files": m.files,
            "pruned": made.pruned,
            "manifest": folder.join(folder::MANIFEST),
        }))
    } else {
        outln!("backed up {} to {}", ws.display(), folder.display())?;
        outln!(
            "  {DB}: {} bytes, {} memories, {} history rows, integrity ok",
            m.database.bytes,
            m.database.memories,
            m.database.history
        )?;
        files_and_pruned(&made)
    }
}

/// The summary's last lines, both backends: the side files copied and the folders pruned.
fn files_and_pruned(made: &folder::Made) -> Result<()> {
    outln!("  files: {}", list(&made.manifest.files))?;
    if !made.pruned.is_empty() {
        outln!(
            "  pruned {} older backups: {}",
            made.pruned.len(),
            list(&made.pruned)
        )?;
    }
    Ok(())
}

/// A PostgreSQL workspace's backup: the side files as usual and a verified SQLite dump of
/// the database as `memory/memories.db`.
fn backup_postgres(json: bool, ws: &Path, pg: &PgConfig, args: BackupArgs) -> Result<()> {
    let store = open_postgres(pg)?;
    let to = args.to.unwrap_or_else(|| default_dir(ws));
    let mut bar = crate::migrate::TableBar::new(!json && std::io::stderr().is_terminal());
    let made = folder::create_from(
        ws,
        &to,
        args.keep.map(|k| k as usize),
        folder::Source::Tables {
            backend: "postgres",
            store: &store,
            progress: &mut |t, done, total| bar.show(t, done, total),
        },
    )
    .with_context(|| {
        format!(
            "backing up {} ({}) to {}",
            ws.display(),
            pg.url,
            to.display()
        )
    });
    bar.finish();
    let made = made?;
    let (m, folder) = (&made.manifest, &made.folder);
    let tables = m
        .dump
        .as_ref()
        .map(|d| d.tables.clone())
        .unwrap_or_default();
    let rows: u64 = tables.iter().map(|t| t.source_rows).sum();
    if json {
        return print_json(&json!({
            "backup": folder,
            "database": {"backend": "postgres", "url": pg.url.to_string(), "path": DB,
                         "bytes": m.database.bytes, "memories": m.database.memories,
                         "history": m.database.history, "rows": rows, "tables": tables,
                         "integrity": m.database.integrity},
            "files": m.files,
            "pruned": made.pruned,
            "manifest": folder.join(folder::MANIFEST),
        }));
    }
    outln!(
        "backed up {} ({}) to {}",
        ws.display(),
        pg.url,
        folder.display()
    )?;
    outln!(
        "  {DB}: a SQLite dump of {} tables, {rows} rows ({} memories, {} history rows), \
         verified by content hash",
        tables.len(),
        m.database.memories,
        m.database.history
    )?;
    files_and_pruned(&made)
}

/// `[#####---------------]` for a percentage (20 cells), the bar every progress line draws.
pub(crate) fn bar(pct: u64) -> String {
    let filled = (pct.min(100) / 5) as usize;
    format!(
        "[{}{}] {pct:>3}%",
        "#".repeat(filled),
        "-".repeat(20 - filled)
    )
}

/// A one-line progress bar on stderr, redrawn in place (`\r`) as the snapshot advances.
struct ProgressLine {
    on: bool,
    /// The last percentage drawn (redraws only when it changes).
    drawn: Option<u64>,
}

impl ProgressLine {
    fn new(on: bool) -> Self {
        Self { on, drawn: None }
    }

    fn show(&mut self, p: Progress) {
        if !self.on || p.total == 0 {
            return;
        }
        let pct = p.copied * 100 / p.total;
        if self.drawn == Some(pct) {
            return;
        }
        self.drawn = Some(pct);
        let mb = |pages: u64| (pages * p.page_size) >> 20;
        let mut err = std::io::stderr().lock();
        let _ = write!(
            err,
            "\rsnapshot {}  {} / {} MB",
            bar(pct),
            mb(p.copied),
            mb(p.total)
        );
        let _ = err.flush();
    }

    fn finish(&mut self) {
        if self.on && self.drawn.is_some() {
            eprintln!();
        }
    }
}

fn list(names: &[String]) -> String {
    if names.is_empty() {
        "none".into()
    } else {
        names.join(", ")
    }
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
    if let Some(m) = folder::manifest(from)
        && (m.database.memories, m.database.history) != (expected.memories, expected.history)
    {
        bail!(
            "{} holds {expected:?}, but its manifest.json says {} memories and {} history rows",
            source_db.display(),
            m.database.memories,
            m.database.history
        );
    }

    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S%3fZ");
    let suffix = format!(".before-restore-{stamp}");
    let mut kept = Vec::new();
    let restored = match postgres_of(&ws)? {
        Some(pg) => {
            restore_postgres(json, &source_db, &pg, args.force)?;
            expected
        }
        None => restore_sqlite(&ws, &source_db, &expected, &suffix, &mut kept)?,
    };
    let mut files = Vec::new();
    for rel in folder::side_files(from)? {
        let target = ws.join(&rel);
        if target.is_file() {
            let to = PathBuf::from(format!("{}{suffix}", target.display()));
            folder::copy_file(&target, &to)?;
            kept.push(to.display().to_string());
        }
        folder::copy_file(&from.join(&rel), &target)?;
        files.push(rel.display().to_string());
    }
    print_restore(json, &ws, from, restored, &files, &kept)
}

/// Imports the backup's database into the workspace's PostgreSQL database and verifies it
/// table by table. The backup's file is copied to a temporary folder first: opening it as a
/// store may migrate it, and the backup must stay as it was.
fn restore_postgres(json: bool, source_db: &Path, pg: &PgConfig, force: bool) -> Result<()> {
    let tmp = tempfile::tempdir().context("creating a temporary folder")?;
    let copy = tmp.path().join("memories.db");
    folder::copy_file(source_db, &copy)?;
    let source =
        Store::open(&copy, 1).with_context(|| format!("opening {}", source_db.display()))?;
    let target = open_postgres(pg)?;
    let plan = transfer::plan(&source, &target)?;
    if plan.target_rows > 0 {
        if !force {
            bail!(
                "storage.url ({}) already holds {} rows; pass --force to replace them",
                pg.url,
                plan.target_rows
            );
        }
        target
            .clear_tables()
            .context("--force: emptying the database")?;
    }
    let mut bar = crate::migrate::TableBar::new(!json && std::io::stderr().is_terminal());
    let copied = transfer::copy(&source, &target, &plan, &mut |t, d, n| bar.show(t, d, n));
    bar.finish();
    copied.with_context(|| format!("importing the backup into {}", pg.url))?;
    let checks = transfer::verify(&source, &target, &plan)?;
    if let Some(bad) = checks.iter().find(|c| !c.matches()) {
        bail!(
            "the restored {} differs from the backup ({} rows vs {})",
            bad.table,
            bad.target_rows,
            bad.source_rows
        );
    }
    Ok(())
}

/// Puts the backup's database file in place of the workspace's; returns what it holds.
fn restore_sqlite(
    ws: &Path,
    source_db: &Path,
    expected: &Counts,
    suffix: &str,
    kept: &mut Vec<String>,
) -> Result<Counts> {
    // The database. First the copy, beside the live file and synced, so that a failure
    // here (a full disk, a kill) leaves the workspace as it was; only then the old files
    // (and any -wal/-shm, which must not meet the restored file) move aside, and the copy
    // takes their place with one rename.
    let db = ws.join(DB);
    fs::create_dir_all(ws.join("memory"))?;
    let tmp = PathBuf::from(format!("{}.restoring", db.display()));
    if tmp.is_file() {
        fs::remove_file(&tmp).with_context(|| format!("removing a stale {}", tmp.display()))?;
    }
    folder::copy_file(source_db, &tmp)?;
    fs::File::open(&tmp)
        .and_then(|f| f.sync_all())
        .with_context(|| format!("syncing {}", tmp.display()))?;
    let aside = PathBuf::from(format!("{}{suffix}", db.display()));
    let mut moved: Vec<(PathBuf, PathBuf)> = Vec::new();
    for tail in ["", "-wal", "-shm"] {
        let file = PathBuf::from(format!("{}{tail}", db.display()));
        if file.exists() {
            let to = PathBuf::from(format!("{}{tail}", aside.display()));
            if let Err(e) = fs::rename(&file, &to) {
                put_back(&moved);
                let _ = fs::remove_file(&tmp);
                return Err(e).with_context(|| format!("moving {} aside", file.display()));
            }
            kept.push(to.display().to_string());
            moved.push((to, file));
        }
    }
    if let Err(e) = fs::rename(&tmp, &db) {
        put_back(&moved);
        return Err(e).with_context(|| format!("replacing {}", db.display()));
    }
    let restored =
        backup::verify(&db).with_context(|| format!("checking the restored {}", db.display()))?;
    if restored != *expected {
        bail!("the restored database holds {restored:?}, the backup {expected:?}");
    }
    Ok(restored)
}

/// Moves files set aside back where they were (a restore that could not finish).
fn put_back(moved: &[(PathBuf, PathBuf)]) {
    for (aside, original) in moved.iter().rev() {
        let _ = fs::rename(aside, original);
    }
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
