//! Connections: one writer and a small pool of read-only readers, opened as reads need them.
//!
//! Every method here blocks; callers run it on a blocking thread (`spawn_blocking`), never on
//! the async runtime. The writer is a `Mutex<Connection>`: SQLite allows one writer at a time
//! anyway, and holding our own lock avoids `SQLITE_BUSY` churn between our own threads.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use crate::error::{Result, StoreError};

/// How long a connection waits on a lock held by another process before giving up.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a truncating checkpoint waits for readers while it holds up writers.
const TRUNCATE_WAIT: Duration = Duration::from_millis(100);

/// One writer connection plus up to `readers` read-only connections, handed out on demand.
pub struct Pool {
    path: PathBuf,
    writer: Mutex<Connection>,
    /// Writes waiting for the next group commit (see [`Pool::write`]).
    queue: Mutex<Vec<Job>>,
    /// Runs WAL checkpoints in the background so commits never wait for an fsync.
    checkpointer: Mutex<Connection>,
    readers: Mutex<Readers>,
    reader_ready: Condvar,
    /// Rowids of `memories` the writer's open transaction touched (its update hook).
    touched: Arc<Mutex<Vec<i64>>>,
    /// Set while a job that changes no text runs (see [`Pool::write_untracked`]).
    untracked: Arc<std::sync::atomic::AtomicBool>,
    /// Told of committed changes to `memories`, and of writes by other processes.
    watcher: OnceLock<Arc<crate::fulltext::FullText>>,
    /// The writer's last `PRAGMA data_version` (-1: not read yet): it changes only when
    /// another connection, i.e. another process, commits.
    data_version: AtomicI64,
    /// Our own checkpointer truncated the WAL, which changes the writer's `data_version`
    /// too: the next reading is a new baseline, not a sign of another process.
    rebaseline: std::sync::atomic::AtomicBool,
    /// Rows changed by the writer so far (`Lifecycle::writes`).
    writes: std::sync::atomic::AtomicU64,
}

impl Pool {
    /// Opens the writer (creating the file) and one read-only connection; up to `readers` of
    /// them are open at once, more opened only when reads overlap. Each costs its own schema,
    /// statements and page cache (about 0.4 MB once warm), so an idle or single-client daemon
    /// keeps one or two. `prepare_writer` runs on the writer before readers open (migrations go
    /// there).
    pub fn open(
        path: &Path,
        readers: usize,
        prepare_writer: impl FnOnce(&mut Connection) -> Result<()>,
    ) -> Result<Self> {
        let mut writer = Connection::open(path)?;
        configure_writer(&writer)?;
        prepare_writer(&mut writer)?;
        let touched: Arc<Mutex<Vec<i64>>> = Arc::default();
        let untracked: Arc<std::sync::atomic::AtomicBool> = Arc::default();
        let sink = touched.clone();
        let quiet = untracked.clone();
        writer.update_hook(Some(
            move |action: rusqlite::hooks::Action, db: &str, table: &str, rowid: i64| {
                let skip = action == rusqlite::hooks::Action::SQLITE_UPDATE
                    && quiet.load(Ordering::Relaxed);
                if table == "memories" && db == "main" && !skip {
                    sink.lock().unwrap_or_else(|p| p.into_inner()).push(rowid);
                }
            },
        ))?;
        let checkpointer = Connection::open(path)?;
        checkpointer.busy_timeout(BUSY_TIMEOUT)?;
        // One now: a database readers cannot open fails here, not on the first read.
        let first = open_reader(path)?;
        Ok(Self {
            path: path.to_path_buf(),
            writer: Mutex::new(writer),
            queue: Mutex::new(Vec::new()),
            checkpointer: Mutex::new(checkpointer),
            readers: Mutex::new(Readers {
                idle: vec![first],
                open: 1,
                max: readers.max(1),
            }),
            reader_ready: Condvar::new(),
            touched,
            untracked,
            watcher: OnceLock::new(),
            data_version: AtomicI64::new(-1),
            rebaseline: std::sync::atomic::AtomicBool::new(false),
            writes: std::sync::atomic::AtomicU64::new(0),
        })
    }

    /// Sends committed changes to `memories` (and writes by other processes) to `watcher`.
    pub(crate) fn watch(&self, watcher: Arc<crate::fulltext::FullText>) {
        let _ = self.watcher.set(watcher);
    }

    /// After the writer's transaction ended (committed or not): hands the touched rowids to
    /// the watcher. Over-reporting a rolled-back row is harmless (it is re-read as it is).
    fn flush_touched(&self, writer: &Connection) {
        // Rows the writer has changed, triggers' included (DDL and PRAGMAs are not counted,
        // nor are write transactions that changed nothing, such as an empty job lease).
        self.writes.store(writer.total_changes(), Ordering::Relaxed);
        let rowids = std::mem::take(&mut *self.touched.lock().unwrap_or_else(|p| p.into_inner()));
        if let Some(w) = self.watcher.get() {
            w.changed(rowids);
        }
    }

    /// Reads the writer's `data_version`; tells the watcher when another process committed
    /// since the last reading.
    fn check_external(&self, conn: &Connection) {
        let Some(w) = self.watcher.get() else { return };
        let read = |c: &Connection| {
            c.prepare_cached("PRAGMA data_version")?
                .query_row([], |r| r.get::<_, i64>(0))
        };
        let Ok(v) = read(conn) else {
            return;
        };
        let last = self.data_version.swap(v, Ordering::Relaxed);
        if self.rebaseline.swap(false, Ordering::Relaxed) {
            return;
        }
        if last != -1 && last != v {
            w.invalidate();
        }
    }

    /// Rows the writer has changed so far (committed or rolled back; triggers' included).
    pub fn writes(&self) -> u64 {
        self.writes.load(Ordering::Relaxed)
    }

    /// [`Self::check_external`] when the writer is idle (a search must not wait for writes).
    pub(crate) fn check_external_if_idle(&self) {
        if let Ok(conn) = self.writer.try_lock() {
            self.check_external(&conn);
        }
    }

    /// The database file this pool serves.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `f` atomically on the writer and returns once its changes are committed.
    ///
    /// Group commit: concurrent callers queue their work; whoever holds the writer runs every
    /// queued job in one `BEGIN IMMEDIATE` transaction, each inside its own savepoint (a job
    /// that fails is rolled back alone and gets its error), then commits once and hands each
    /// caller its result. A lone caller commits alone, so latency is unchanged; under load,
    /// one commit (one set of WAL page writes) serves many writes.
    pub fn write<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Result<T>>(1);
        let job: Job = Box::new(
            move |conn: std::result::Result<&Connection, &StoreError>, alone| {
                let res = match conn {
                    // A lone job needs no savepoint: if it fails the whole transaction rolls back.
                    Ok(conn) if alone => f(conn),
                    Ok(conn) => in_savepoint(conn, f),
                    Err(e) => Err(StoreError::Backend(format!(
                        "could not begin a transaction: {e}"
                    ))),
                };
                let ok = res.is_ok();
                let done: Completion = Box::new(move |commit: Option<&StoreError>| {
                    let out = match (res, commit) {
                        (Ok(v), None) => Ok(v),
                        (Ok(_), Some(e)) => Err(StoreError::Backend(format!("commit failed: {e}"))),
                        (Err(e), _) => Err(e),
                    };
                    let _ = tx.send(out);
                });
                (done, ok)
            },
        );
        self.queue
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(job);
        loop {
            if let Some(r) = settled(&rx) {
                return r;
            }
            let mut conn = self.writer.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(r) = settled(&rx) {
                return r;
            }
            if !conn.is_autocommit() {
                // A previous leader died mid-group: its transaction must not swallow ours.
                let _ = conn.execute_batch("ROLLBACK");
            }
            let jobs = std::mem::take(&mut *self.queue.lock().unwrap_or_else(|p| p.into_inner()));
            if !jobs.is_empty() {
                self.check_external(&conn);
                run_group(&mut conn, jobs, |c| self.flush_touched(c));
            }
        }
    }

    /// [`Pool::write`] for a job whose `UPDATE`s of `memories` change neither `content` nor
    /// `is_deleted` (access counts): the keyword index need not re-read those rows.
    /// Inserts and deletes are still tracked.
    pub fn write_untracked<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        struct Quiet(Arc<std::sync::atomic::AtomicBool>);
        impl Drop for Quiet {
            fn drop(&mut self) {
                self.0.store(false, Ordering::Relaxed);
            }
        }
        let flag = self.untracked.clone();
        self.write(move |conn| {
            flag.store(true, Ordering::Relaxed);
            let _quiet = Quiet(flag);
            f(conn)
        })
    }

    /// Runs `f` on the writer connection without opening a transaction (PRAGMAs, checkpoints).
    pub fn with_writer<T>(&self, f: impl FnOnce(&mut Connection) -> Result<T>) -> Result<T> {
        let mut conn = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        self.check_external(&conn);
        let out = f(&mut conn);
        self.flush_touched(&conn);
        out
    }

    /// Runs `f` on a pooled read-only connection: an idle one, else a new one while fewer
    /// than the pool's limit are open, else the next one handed back.
    pub fn read<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let conn = {
            let mut readers = self.readers.lock().unwrap_or_else(|p| p.into_inner());
            loop {
                if let Some(c) = readers.idle.pop() {
                    break c;
                }
                if readers.open < readers.max {
                    readers.open += 1;
                    drop(readers);
                    match open_reader(&self.path) {
                        Ok(c) => break c,
                        Err(e) => {
                            self.readers.lock().unwrap_or_else(|p| p.into_inner()).open -= 1;
                            self.reader_ready.notify_one();
                            return Err(e);
                        }
                    }
                }
                readers = self
                    .reader_ready
                    .wait(readers)
                    .unwrap_or_else(|p| p.into_inner());
            }
        };
        let out = f(&conn);
        self.readers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .idle
            .push(conn);
        self.reader_ready.notify_one();
        out
    }

    /// Read-only connections open now (idle or in use).
    pub fn readers_open(&self) -> usize {
        self.readers.lock().unwrap_or_else(|p| p.into_inner()).open
    }

    /// Copies committed WAL frames into the database file without blocking writers or
    /// readers (`PASSIVE`). When the WAL has grown past `truncate_above` bytes, waits for
    /// readers and truncates it instead, so it cannot grow without bound. Returns the WAL
    /// size in frames before the checkpoint.
    pub fn checkpoint_background(&self, truncate_above: u64) -> Result<i64> {
        let mut wal = self.path.clone().into_os_string();
        wal.push("-wal");
        let big = std::fs::metadata(&wal)
            .map(|m| m.len() > truncate_above)
            .unwrap_or(false);
        let conn = self.checkpointer.lock().unwrap_or_else(|p| p.into_inner());
        let (busy, frames, copied): (i64, i64, i64) =
            conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })?;
        // A TRUNCATE checkpoint blocks new writers while it is pending: run it only once the
        // passive pass has copied every frame (so it has next to nothing to copy), and wait for
        // readers briefly. Under a heavy write load it used to wait out the busy timeout for a
        // long reader while every writer queued behind it, and writes failed "database busy".
        if big && busy == 0 && copied >= frames {
            conn.busy_timeout(TRUNCATE_WAIT)?;
            let truncated = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
                r.get::<_, i64>(0)
            });
            conn.busy_timeout(BUSY_TIMEOUT)?;
            match truncated {
                Ok(0) => self.rebaseline.store(true, Ordering::Relaxed),
                // Readers were still on older snapshots: the next beat tries again.
                Ok(_) => {}
                Err(rusqlite::Error::SqliteFailure(e, _))
                    if e.code == rusqlite::ErrorCode::DatabaseBusy => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(frames)
    }

    /// Checkpoints the WAL into the main file and truncates it (used at shutdown).
    pub fn checkpoint(&self) -> Result<()> {
        self.with_writer(|c| {
            c.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
            Ok(())
        })
    }
}

/// The read-only connections: those not in use, and how many are open of at most `max`.
struct Readers {
    idle: Vec<Connection>,
    open: usize,
    max: usize,
}

/// A queued write: runs in the group's transaction (`true`: it is the group's only job) and
/// returns what to do after the commit, and whether it succeeded.
type Job = Box<
    dyn FnOnce(std::result::Result<&Connection, &StoreError>, bool) -> (Completion, bool) + Send,
>;
/// Delivers a job's result once the commit outcome (`None` = committed) is known.
type Completion = Box<dyn FnOnce(Option<&StoreError>) + Send>;

/// The job's result if it is known: delivered, or lost with a leader that died.
fn settled<T>(rx: &std::sync::mpsc::Receiver<Result<T>>) -> Option<Result<T>> {
    match rx.try_recv() {
        Ok(r) => Some(r),
        Err(std::sync::mpsc::TryRecvError::Empty) => None,
        Err(std::sync::mpsc::TryRecvError::Disconnected) => Some(Err(StoreError::Backend(
            "the write was aborted (its group commit failed)".into(),
        ))),
    }
}

/// Runs one transaction-control statement (`BEGIN`, `COMMIT`, `SAVEPOINT`, ...) from the
/// statement cache: `execute_batch` would parse it again on every write.
fn control(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([])?;
    Ok(())
}

fn in_savepoint<T>(conn: &Connection, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
    control(conn, "SAVEPOINT job")?;
    match f(conn) {
        Ok(v) => {
            control(conn, "RELEASE job")?;
            Ok(v)
        }
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK TO job; RELEASE job");
            Err(e)
        }
    }
}

/// Runs `jobs` in one transaction and completes each with the commit's outcome; `ended` runs
/// once the transaction has ended, before any job is answered.
fn run_group(conn: &mut Connection, jobs: Vec<Job>, ended: impl FnOnce(&Connection)) {
    let begun = control(conn, "BEGIN IMMEDIATE").map_err(StoreError::from);
    if let Err(e) = begun {
        let done: Vec<Completion> = jobs.into_iter().map(|j| j(Err(&e), false).0).collect();
        ended(conn);
        done.into_iter().for_each(|d| d(Some(&e)));
        return;
    }
    let alone = jobs.len() == 1;
    let mut failed = false;
    let done: Vec<Completion> = jobs
        .into_iter()
        .map(|j| {
            let (d, ok) = j(Ok(conn), alone);
            failed |= !ok;
            d
        })
        .collect();
    if alone && failed {
        // The lone job failed without a savepoint: undo it all. Its own error is its answer.
        let _ = conn.execute_batch("ROLLBACK");
        ended(conn);
        done.into_iter().for_each(|d| d(None));
        return;
    }
    let commit = control(conn, "COMMIT").map_err(StoreError::from);
    if commit.is_err() {
        let _ = conn.execute_batch("ROLLBACK");
    }
    ended(conn);
    let err = commit.err();
    done.into_iter().for_each(|d| d(err.as_ref()));
}

/// WAL, NORMAL sync (no fsync per commit; WAL keeps commits atomic and a process crash loses
/// nothing committed), no automatic checkpoints (a background worker runs them, see
/// [`Pool::checkpoint_background`], so no commit waits for an fsync), and foreign keys OFF:
/// the bundled SQLite enables them by default, but upstream never enforced them and its data
/// relies on that (history outlives memories).
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
         PRAGMA wal_autocheckpoint = 0;
         PRAGMA foreign_keys = OFF;
         PRAGMA temp_store = MEMORY;
         PRAGMA cache_size = -4096;",
    )?;
    conn.set_prepared_statement_cache_capacity(64);
    stable_plans(conn)?;
    register_functions(conn)
}

/// A read-only connection to `path` (nothing created, nothing migrated).
pub(crate) fn open_reader(path: &Path) -> Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI,
    )?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.execute_batch("PRAGMA cache_size = -2048; PRAGMA temp_store = MEMORY;")?;
    conn.set_prepared_statement_cache_capacity(64);
    stable_plans(&conn)?;
    register_functions(&conn)?;
    Ok(conn)
}

/// The query planner stability guarantee: a cached statement keeps its plan whatever is bound.
/// Without it SQLite re-prepares a statement whenever a new value is bound to a parameter its
/// plan looked at (`LIMIT ?`, the right side of `LIKE ?`), and FTS5's own internal statements
/// too: a profile of keyword recall at 10k memories spent 17% of its instructions in
/// `sqlite3Reprepare` (docs/PERFORMANCE.md). We have no `sqlite_stat4` and no plan that needs
/// the bound value, so nothing is lost.
fn stable_plans(conn: &Connection) -> Result<()> {
    conn.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
        true,
    )?;
    Ok(())
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    fn pool() -> (tempfile::TempDir, Arc<Pool>) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let pool = Pool::open(&path, 1, |c| {
            c.execute_batch("CREATE TABLE t (v INTEGER UNIQUE)")?;
            Ok(())
        })
        .unwrap();
        (dir, Arc::new(pool))
    }

    #[test]
    fn group_commit_keeps_each_write_atomic_and_isolated() {
        let (_dir, pool) = pool();
        let threads: Vec<_> = (0..8)
            .map(|t| {
                let pool = pool.clone();
                std::thread::spawn(move || {
                    (0..50)
                        .map(|i| {
                            let v = if i == 7 { 0 } else { t * 1000 + i + 1 };
                            pool.write(move |c| {
                                c.execute("INSERT INTO t (v) VALUES (?1)", [v])?;
                                Ok(v)
                            })
                        })
                        .filter(Result::is_ok)
                        .count()
                })
            })
            .collect();
        let ok: usize = threads.into_iter().map(|t| t.join().unwrap()).sum();
        // Every thread's 8th write collides on v = 0: exactly one of them wins.
        assert_eq!(ok, 8 * 49 + 1);
        let n: i64 = pool
            .read(|c| Ok(c.query_row("SELECT COUNT(*) FROM t", [], |r| r.get(0))?))
            .unwrap();
        assert_eq!(n as usize, ok);
    }

    /// A reader parked on an old snapshot while the WAL is over its limit: the checkpoint
    /// must not hold writers up behind it (writes used to fail "database busy" under load), and
    /// the WAL is truncated once the reader has moved on.
    #[test]
    fn a_long_reader_never_makes_a_truncating_checkpoint_block_writers() {
        let (dir, pool) = pool();
        pool.write(|c| Ok(c.execute("INSERT INTO t (v) VALUES (1)", [])?))
            .unwrap();
        let reader = Connection::open(dir.path().join("t.db")).unwrap();
        reader.execute_batch("BEGIN").unwrap();
        let _: i64 = reader
            .query_row("SELECT COUNT(*) FROM t", [], |r| r.get(0))
            .unwrap();
        pool.write(|c| Ok(c.execute("INSERT INTO t (v) VALUES (2)", [])?))
            .unwrap();
        let checkpointing = {
            let pool = pool.clone();
            std::thread::spawn(move || pool.checkpoint_background(0))
        };
        // While (and after) the checkpoint runs, writes go through.
        for v in 3..50 {
            pool.write(move |c| Ok(c.execute("INSERT INTO t (v) VALUES (?1)", [v])?))
                .unwrap();
        }
        checkpointing.join().unwrap().unwrap();
        let wal = dir.path().join("t.db-wal");
        assert!(
            std::fs::metadata(&wal).unwrap().len() > 0,
            "the reader still needs the WAL"
        );
        reader.execute_batch("COMMIT").unwrap();
        pool.checkpoint_background(0).unwrap();
        assert_eq!(
            std::fs::metadata(&wal).unwrap().len(),
            0,
            "truncated once the reader left"
        );
    }

    #[test]
    fn readers_open_as_reads_overlap_up_to_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let pool = Arc::new(
            Pool::open(&dir.path().join("t.db"), 2, |c| {
                c.execute_batch("CREATE TABLE t (v INTEGER)")?;
                Ok(())
            })
            .unwrap(),
        );
        let count = |p: &Pool| -> i64 {
            p.read(|c| Ok(c.query_row("SELECT COUNT(*) FROM t", [], |r| r.get::<_, i64>(0))?))
                .unwrap()
        };
        for _ in 0..5 {
            count(&pool);
        }
        assert_eq!(
            pool.readers_open(),
            1,
            "reads one after another share one reader"
        );
        // Two reads at once hold two readers (the limit here); a third read meanwhile waits
        // for one of them rather than opening a third.
        let barrier = Arc::new(std::sync::Barrier::new(3));
        let holders: Vec<_> = (0..2)
            .map(|_| {
                let (pool, barrier) = (pool.clone(), barrier.clone());
                std::thread::spawn(move || {
                    pool.read(|c| {
                        barrier.wait();
                        barrier.wait();
                        Ok(c.query_row("SELECT COUNT(*) FROM t", [], |r| r.get::<_, i64>(0))?)
                    })
                    .unwrap()
                })
            })
            .collect();
        barrier.wait();
        assert_eq!(
            pool.readers_open(),
            2,
            "a reader opened for the second read at once"
        );
        let third = {
            let pool = pool.clone();
            std::thread::spawn(move || count(&pool))
        };
        barrier.wait();
        for t in holders.into_iter().chain([third]) {
            t.join().unwrap();
        }
        assert_eq!(pool.readers_open(), 2, "never more than the limit");
    }

    #[test]
    fn a_failed_write_leaves_nothing_behind() {
        let (_dir, pool) = pool();
        let res: Result<()> = pool.write(|c| {
            c.execute("INSERT INTO t (v) VALUES (1)", [])?;
            Err(StoreError::Invalid("no".into()))
        });
        assert!(res.is_err());
        let n: i64 = pool
            .read(|c| Ok(c.query_row("SELECT COUNT(*) FROM t", [], |r| r.get(0))?))
            .unwrap();
        assert_eq!(n, 0);
        pool.write(|c| Ok(c.execute("INSERT INTO t (v) VALUES (2)", [])?))
            .unwrap();
    }
}
