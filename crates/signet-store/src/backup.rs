//! Consistent copies of a live database: [`snapshot`] takes one while the daemon writes (SQLite's
//! online backup API on a read connection, inside one read transaction, so WAL lets the writer
//! go on and the copy is the database as of one instant), and [`verify`] checks a copy.
//!
//! These are plain functions over paths, free of the [`crate::Store`] and of any lifecycle: the
//! `signet backup` / `signet restore` commands call them, and so can a scheduled worker.

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, backup::Backup};

use crate::{Result, StoreError};

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
    let mut dst = Connection::open(dest)?;
    {
        let backup = Backup::new(&src, &mut dst)?;
        // All pages in one step: the copy never restarts, whatever the writer does meanwhile.
        backup.step(-1)?;
    }
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
}
