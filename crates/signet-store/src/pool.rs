//! Connections: one writer and a small pool of read-only readers.
//!
//! Every method here blocks; callers run it on a blocking thread (`spawn_blocking`), never on
//! the async runtime. The writer is a `Mutex<Connection>`: SQLite allows one writer at a time
//! anyway, and holding our own lock avoids `SQLITE_BUSY` churn between our own threads.

use std::path::{Path, PathBuf};
use std::sync::{Condvar, Mutex};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use crate::error::{Result, StoreError};

/// How long a connection waits on a lock held by another process before giving up.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// One writer connection plus `readers` read-only connections, handed out on demand.
pub struct Pool {
    path: PathBuf,
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
    reader_ready: Condvar,
}

impl Pool {
    /// Opens the writer (creating the file) and `readers` read-only connections.
    /// `prepare_writer` runs on the writer before readers open (migrations go there).
    pub fn open(
        path: &Path,
        readers: usize,
        prepare_writer: impl FnOnce(&mut Connection) -> Result<()>,
    ) -> Result<Self> {
        let mut writer = Connection::open(path)?;
        configure_writer(&writer)?;
        prepare_writer(&mut writer)?;
        let mut pool = Vec::with_capacity(readers);
        for _ in 0..readers.max(1) {
            pool.push(open_reader(path)?);
        }
        Ok(Self {
            path: path.to_path_buf(),
            writer: Mutex::new(writer),
            readers: Mutex::new(pool),
            reader_ready: Condvar::new(),
        })
    }

    /// The database file this pool serves.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `f` inside one `BEGIN IMMEDIATE` transaction on the writer; rolls back on error.
    pub fn write<T>(&self, f: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T>) -> Result<T> {
        let mut conn = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let out = f(&tx)?;
        tx.commit()?;
        Ok(out)
    }

    /// Runs `f` on the writer connection without opening a transaction (PRAGMAs, checkpoints).
    pub fn with_writer<T>(&self, f: impl FnOnce(&mut Connection) -> Result<T>) -> Result<T> {
        let mut conn = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut conn)
    }

    /// Runs `f` on a pooled read-only connection.
    pub fn read<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let conn = {
            let mut idle = self.readers.lock().unwrap_or_else(|p| p.into_inner());
            loop {
                if let Some(c) = idle.pop() {
                    break c;
                }
                idle = self
                    .reader_ready
                    .wait(idle)
                    .unwrap_or_else(|p| p.into_inner());
            }
        };
        let out = f(&conn);
        self.readers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(conn);
        self.reader_ready.notify_one();
        out
    }

    /// Checkpoints the WAL into the main file and truncates it (used at shutdown).
    pub fn checkpoint(&self) -> Result<()> {
        self.with_writer(|c| {
            c.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
            Ok(())
        })
    }
}

/// WAL, NORMAL sync (no fsync per commit; WAL keeps commits atomic and a process crash loses
/// nothing committed), and foreign keys OFF: the bundled SQLite enables them by default, but
/// upstream never enforced them and its data relies on that (history outlives memories).
fn configure_writer(conn: &Connection) -> Result<()> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::Schema(format!(
            "could not switch the database to WAL mode (got {mode})"
        )));
    }
    conn.execute_batch(
        "PRAGMA synchronous = NORMAL;
         PRAGMA foreign_keys = OFF;
         PRAGMA temp_store = MEMORY;
         PRAGMA cache_size = -4096;",
    )?;
    conn.set_prepared_statement_cache_capacity(64);
    register_functions(conn)
}

fn open_reader(path: &Path) -> Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI,
    )?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.execute_batch("PRAGMA cache_size = -2048; PRAGMA temp_store = MEMORY;")?;
    conn.set_prepared_statement_cache_capacity(64);
    register_functions(&conn)?;
    Ok(conn)
}

/// `POWER(x, y)`: upstream's legacy search uses it; the bundled SQLite is built without the
/// math functions, so we provide it.
fn register_functions(conn: &Connection) -> Result<()> {
    use rusqlite::functions::FunctionFlags;
    let flags = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC;
    conn.create_scalar_function("power", 2, flags, |ctx| {
        let base: Option<f64> = ctx.get(0)?;
        let exp: Option<f64> = ctx.get(1)?;
        Ok(base.zip(exp).map(|(b, e)| b.powf(e)))
    })?;
    Ok(())
}
