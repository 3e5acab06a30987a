//! Consistent copies of a live database: [`snapshot`] takes one while the daemon writes (SQLite's
//! online backup API on a read connection, inside one read transaction, so WAL lets the writer
//! go on and the copy is the database as of one instant), and [`verify`] checks a copy.
//!
//! These are plain functions over paths, free of the [`crate::Store`] and of any lifecycle.
//! [`workspace`] builds on them: a whole workspace's backup folder (database, config, identity
//! files, auth secret, `manifest.json`), made by `signet backup` and by the daemon's scheduled
//! backup worker alike.
//!
//! The copy runs in steps of [`STEP_PAGES`] pages so a caller can show progress. It still is
//! the database as of one instant: the source connection holds one read transaction across
//! every step, so its WAL snapshot is fixed and its page cache is never reset — and a reset is
//! what restarts SQLite's backup when another connection writes. Writers on other connections
//! go on meanwhile (WAL), and the copy never restarts (a test steps page by page while
//! another connection commits).

pub mod tables;
pub mod transfer;
pub mod workspace;

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, backup::Backup};

use crate::{Result, StoreError};

/// Pages copied per backup step (4 MiB with 4 KiB pages).
pub const STEP_PAGES: i32 = 1024;

/// How far a snapshot has got: pages copied out of the total (both as of the last step).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Pages copied so far.
    pub copied: u64,
    /// Pages in the source database (its size as of the snapshot).
    pub total: u64,
    /// Bytes per page.
    pub page_size: u64,
}

/// What a snapshot (or a checked copy) holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    /// Rows of `memories`.
    pub memories: i64,
    /// Rows of `memory_history`.
    pub history: i64,
}

/// A finished, verified snapshot.
#[derive(Debug, Clone, Copy)]
pub struct Snapshot {
    /// The source's row counts as of the snapshot, equal to the copy's.
    pub counts: Counts,
    /// The copy's size in bytes.
    pub bytes: u64,
}

/// Copies the database at `db` to `dest` (which must not exist) as of one instant, while other
/// connections keep writing, then verifies the copy: `PRAGMA integrity_check` answers `ok` and
/// the row counts of `memories` and `memory_history` equal the source's in the same read
/// transaction. The copy is a single file (rollback journal, no `-wal`).
pub fn snapshot(db: &Path, dest: &Path) -> Result<Snapshot> {
    snapshot_with_progress(db, dest, STEP_PAGES, &mut |_| {})
}

/// [`snapshot`], copying `step_pages` pages at a time (at least 1) and calling `progress`
/// after each step.
pub fn snapshot_with_progress(
    db: &Path,
    dest: &Path,
    step_pages: i32,
    progress: &mut dyn FnMut(Progress),
) -> Result<Snapshot> {
    if dest.exists() {
        return Err(StoreError::Invalid(format!(
            "{} already exists",
            dest.display()
        )));
    }
    let src = Connection::open_with_flags(
        db,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    src.busy_timeout(Duration::from_secs(10))?;
    // One read transaction: the counts and every page the backup copies see the same
    // snapshot (the backup reuses the source connection's open read transaction).
    src.execute_batch("BEGIN DEFERRED")?;
    let counts = counts(&src)?;
    let page_size: i64 = src.query_row("PRAGMA page_size", [], |r| r.get(0))?;
    let mut dst = Connection::open(dest)?;
    copy_in_steps(&src, &mut dst, step_pages.max(1), page_size, progress)?;
    src.execute_batch("COMMIT")?;
    drop(src);
    dst.query_row("PRAGMA journal_mode = DELETE", [], |_| Ok(()))?;
    drop(dst);
    let copied = verify(dest)?;
    if copied != counts {
        return Err(StoreError::Backend(format!(
            "the copy holds {copied:?}, the source held {counts:?}"
        )));
    }
    let bytes = std::fs::metadata(dest)?.len();
    Ok(Snapshot { counts, bytes })
}

/// Runs the backup from `src` (inside its read transaction) to `dst` step by step.
fn copy_in_steps(
    src: &Connection,
    dst: &mut Connection,
    step_pages: i32,
    page_size: i64,
    progress: &mut dyn FnMut(Progress),
) -> Result<()> {
    use rusqlite::backup::StepResult;
    let backup = Backup::new(src, dst)?;
    loop {
        let step = backup.step(step_pages)?;
        let p = backup.progress();
        let total = u64::try_from(p.pagecount).unwrap_or(0);
        let left = u64::try_from(p.remaining).unwrap_or(0);
        progress(Progress {
            copied: total.saturating_sub(left),
            total,
            page_size: u64::try_from(page_size).unwrap_or(4096),
        });
        match step {
            StepResult::Done => return Ok(()),
            StepResult::More => {}
            // Only the destination can be busy or locked here (the source's read transaction
            // is held): it is our own new file, so another process is at it.
            StepResult::Busy | StepResult::Locked => {
                return Err(StoreError::Busy);
            }
            _ => return Err(StoreError::Backend("unexpected backup step result".into())),
        }
    }
}

/// Opens the database at `path` read-only and checks it: `PRAGMA integrity_check` must answer
/// `ok`; returns its row counts.
pub fn verify(path: &Path) -> Result<Counts> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(Duration::from_secs(10))?;
    let mut stmt = conn.prepare("PRAGMA integrity_check")?;
    let problems: Vec<String> = stmt
        .query_map([], |r| r.get::<_, String>(0))?
        .collect::<std::result::Result<_, _>>()?;
    if problems != ["ok"] {
        return Err(StoreError::Backend(format!(
            "integrity_check of {}: {}",
            path.display(),
            problems.join("; ")
        )));
    }
    counts(&conn)
}

fn counts(conn: &Connection) -> Result<Counts> {
    let count = |table: &str| -> Result<i64> {
        Ok(conn.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))?)
    };
    Ok(Counts {
        memories: count("memories")?,
        history: count("memory_history")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshots_while_a_writer_holds_uncommitted_rows() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("memories.db");
        let store = crate::Store::open(&db, 1).unwrap();
        let before = store.pool().read(counts).unwrap();
        let writer = Connection::open(&db).unwrap();
        writer
            .execute_batch("BEGIN IMMEDIATE; DELETE FROM memory_history;")
            .unwrap();
        let snap = snapshot(&db, &dir.path().join("copy.db")).unwrap();
        assert_eq!(snap.counts, before);
        assert!(snap.bytes > 0);
        assert!(!dir.path().join("copy.db-wal").exists());
        let again = snapshot(&db, &dir.path().join("copy.db")).unwrap_err();
        assert!(again.to_string().contains("already exists"), "{again}");
        writer.execute_batch("ROLLBACK").unwrap();
    }

    /// Stepping page by page while another connection commits between steps neither restarts
    /// the copy (the pages copied only grow) nor lets a later commit into it.
    #[test]
    fn stepping_while_another_connection_commits_copies_one_instant() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("memories.db");
        let store = crate::Store::open(&db, 1).unwrap();
        let writer = Connection::open(&db).unwrap();
        writer.busy_timeout(Duration::from_secs(10)).unwrap();
        // Rows with no memory behind them: only the page count matters here.
        writer.execute_batch("PRAGMA foreign_keys = OFF").unwrap();
        // Enough history rows for many pages.
        let blob = "x".repeat(2000);
        for i in 0..200 {
            writer
                .execute(
                    "INSERT INTO memory_history (id, memory_id, event, old_content, changed_by, created_at)
                     VALUES (?1, 'm', 'created', ?2, 'test', '2026-01-01T00:00:00Z')",
                    rusqlite::params![format!("seed-{i}"), blob],
                )
                .unwrap();
        }
        let before = store.pool().read(counts).unwrap();
        let mut seen: Vec<u64> = Vec::new();
        let mut n = 0;
        let snap = snapshot_with_progress(&db, &dir.path().join("copy.db"), 1, &mut |p| {
            seen.push(p.copied);
            n += 1;
            writer
                .execute(
                    "INSERT INTO memory_history (id, memory_id, event, old_content, changed_by, created_at)
                     VALUES (?1, 'm', 'created', ?2, 'test', '2026-01-01T00:00:00Z')",
                    rusqlite::params![format!("during-{n}"), blob],
                )
                .unwrap();
        })
        .unwrap();
        assert!(seen.len() > 50, "only {} steps", seen.len());
        assert!(seen.windows(2).all(|w| w[0] < w[1]), "restarted: {seen:?}");
        assert_eq!(snap.counts, before);
        assert_eq!(verify(&dir.path().join("copy.db")).unwrap(), before);
        let now = store.pool().read(counts).unwrap();
        assert_eq!(now.history, before.history + seen.len() as i64);
    }
}
