//! Tracing for `daemon run`: JSON-lines log files (one `LogEntry` per line, the shape
//! `GET /api/logs` serves), rotated by size with a cap on total bytes, written through
//! non-blocking writers; the daemon's in-memory log hub; and, in the foreground, stderr.
//!
//! Files: `daemon.out.log` (every entry the filter lets through) and `daemon.err.log` (warn and
//! error) in `SIGNET_LOG_DIR`, else `$WS/.daemon/logs`; or, when `SIGNET_LOG_FILE` is set, that
//! one file. Each file is rotated when it passes [`ROTATE_BYTES`] (`daemon.out.log.1` is the
//! newest archive) and [`KEEP_ARCHIVES`] archives are kept, so one log never takes more than
//! `(KEEP_ARCHIVES + 1) × ROTATE_BYTES` plus one entry per file. The level comes from
//! `RUST_LOG`, else `info`.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use std::time::Duration;

use anyhow::{Context, Result};
use file_rotate::compression::Compression;
use file_rotate::suffix::AppendCount;
use file_rotate::{ContentLimit, FileRotate};
use signet_core::config::Network;
use signet_server::logs::{LineSink, LogHub, LogLevel};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// Name of the daemon's log file inside the log directory.
pub const LOG_FILE_NAME: &str = "daemon.out.log";
/// Name of the warnings-and-errors log inside the log directory.
pub const ERR_FILE_NAME: &str = "daemon.err.log";
/// A log file is rotated once it passes this size.
pub const ROTATE_BYTES: usize = 10 * 1024 * 1024;
/// Rotated files kept per log.
pub const KEEP_ARCHIVES: usize = 4;

/// The log file: `SIGNET_LOG_FILE`, else `<SIGNET_LOG_DIR>/daemon.out.log`, else
/// `$WS/.daemon/logs/daemon.out.log`.
pub fn log_file(workspace: &Path, net: &Network) -> PathBuf {
    net.log_file.clone().unwrap_or_else(|| {
        net.log_dir
            .clone()
            .unwrap_or_else(|| workspace.join(".daemon").join("logs"))
            .join(LOG_FILE_NAME)
    })
}

/// A size-rotated file behind a non-blocking writer.
pub fn rotating(path: &Path, rotate_bytes: usize, keep: usize) -> Result<(LineQueue, QueueGuard)> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let file = FileRotate::new(
        path,
        AppendCount::new(keep),
        ContentLimit::BytesSurpassed(rotate_bytes),
        Compression::None,
        None,
    );
    queue(file, LOG_QUEUE_LINES)
}

/// Lines a log file's writer thread may have queued before new ones are dropped.
const LOG_QUEUE_LINES: usize = 16_384;

/// How long dropping a [`QueueGuard`] waits for the writer thread to write what is queued.
const FLUSH_WAIT: Duration = Duration::from_secs(1);

enum Msg {
    Line(Vec<u8>),
    /// Write everything before this, flush, then answer on the sender.
    Shutdown(mpsc::SyncSender<()>),
}

/// The writing end of a log file's queue: each `write` queues one line for the file's writer
/// thread; when `limit` lines are already waiting the line is dropped, so logging never
/// blocks a request. (tracing-appender's non-blocking writer preallocates and touches every
/// slot of its queue: 512 KiB per log file for 16,384 lines, resident at idle. This queue
/// grows with what is waiting and shrinks back once it is written.)
#[derive(Clone)]
pub struct LineQueue {
    tx: mpsc::Sender<Msg>,
    queued: Arc<AtomicUsize>,
    limit: usize,
}

impl LineQueue {
    /// Queues `line`, or drops it when the queue is full or its thread is gone.
    fn push(&self, line: &[u8]) {
        if self.queued.fetch_add(1, Ordering::AcqRel) >= self.limit
            || self.tx.send(Msg::Line(line.to_vec())).is_err()
        {
            self.queued.fetch_sub(1, Ordering::AcqRel);
        }
    }
}

impl Write for LineQueue {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.push(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Keep it alive while logging: dropping it writes and flushes what is queued (waiting at
/// most [`FLUSH_WAIT`]).
pub struct QueueGuard {
    tx: mpsc::Sender<Msg>,
}

impl Drop for QueueGuard {
    fn drop(&mut self) {
        let (done, wait) = mpsc::sync_channel(1);
        if self.tx.send(Msg::Shutdown(done)).is_ok() {
            let _ = wait.recv_timeout(FLUSH_WAIT);
        }
    }
}

/// Starts the thread that writes `file` from a queue of at most `limit` lines.
fn queue<W: Write + Send + 'static>(mut file: W, limit: usize) -> Result<(LineQueue, QueueGuard)> {
    let (tx, rx) = mpsc::channel::<Msg>();
    let queued = Arc::new(AtomicUsize::new(0));
    let count = queued.clone();
    std::thread::Builder::new()
        .name("signet-log-writer".into())
        .spawn(move || {
            while let Ok(mut msg) = rx.recv() {
                loop {
                    match msg {
                        Msg::Line(line) => {
                            count.fetch_sub(1, Ordering::AcqRel);
                            let _ = file.write_all(&line);
                        }
                        Msg::Shutdown(done) => {
                            let _ = file.flush();
                            let _ = done.send(());
                            return;
                        }
                    }
                    match rx.try_recv() {
                        Ok(next) => msg = next,
                        Err(_) => break,
                    }
                }
                let _ = file.flush();
            }
        })
        .context("starting the log writer thread")?;
    Ok((
        LineQueue {
            tx: tx.clone(),
            queued,
            limit,
        },
        QueueGuard { tx },
    ))
}

fn sink(min: LogLevel, writer: LineQueue) -> LineSink {
    LineSink {
        min,
        write: Box::new(move |line| writer.push(line)),
    }
}

/// What `init` set up. Keep it alive until exit: dropping it flushes the file writers.
pub struct Logging {
    /// The hub handed to the daemon (`/api/logs`, `/api/logs/stream`).
    pub hub: LogHub,
    _guards: Vec<QueueGuard>,
}

/// Installs the global subscriber. `file` is [`log_file`]'s answer; `single` means it came from
/// `SIGNET_LOG_FILE` (no separate error log).
pub fn init(file: &Path, single: bool, to_stderr: bool) -> Result<Logging> {
    let hub = LogHub::default();
    if let Err(e) = hub.load_tail(file)
        && e.kind() != std::io::ErrorKind::NotFound
    {
        eprintln!("could not read back {}: {e}", file.display());
    }
    let (out, out_guard) = rotating(file, ROTATE_BYTES, KEEP_ARCHIVES)?;
    let mut sinks = vec![sink(LogLevel::Debug, out)];
    let mut guards = vec![out_guard];
    if !single {
        let err_file = file.with_file_name(ERR_FILE_NAME);
        let (err, err_guard) = rotating(&err_file, ROTATE_BYTES, KEEP_ARCHIVES)?;
        sinks.push(sink(LogLevel::Warn, err));
        guards.push(err_guard);
    }
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let stderr_layer = to_stderr.then(|| {
        tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            .with_ansi(std::io::stderr().is_terminal())
    });
    tracing_subscriber::registry()
        .with(filter)
        .with(hub.layer(sinks))
        .with(stderr_layer)
        .try_init()
        .context("installing the log subscriber")?;
    Ok(Logging {
        hub,
        _guards: guards,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file whose first write waits until the test lets it go; it keeps every line.
    struct Stalled {
        entered: mpsc::Sender<()>,
        release: mpsc::Receiver<()>,
        lines: Arc<std::sync::Mutex<Vec<Vec<u8>>>>,
    }

    impl Write for Stalled {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            let mut lines = self.lines.lock().unwrap();
            if lines.is_empty() {
                let _ = self.entered.send(());
                drop(lines);
                self.release.recv().unwrap();
                lines = self.lines.lock().unwrap();
            }
            lines.push(buf.to_vec());
            Ok(buf.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_full_queue_drops_lines_and_the_guard_writes_the_rest() {
        let (entered, is_in) = mpsc::channel();
        let (go, release) = mpsc::channel();
        let lines = Arc::default();
        let file = Stalled {
            entered,
            release,
            lines: Arc::clone(&lines),
        };
        let (queue, guard) = queue(file, 8).unwrap();
        queue.push(b"first");
        is_in.recv().unwrap();
        // The writer is stuck in the first line: 8 more fit, the other 4 are dropped.
        for i in 0..12 {
            queue.push(format!("line {i}").as_bytes());
        }
        go.send(()).unwrap();
        drop(guard);
        let written = lines.lock().unwrap().clone();
        let expected: Vec<Vec<u8>> = std::iter::once(b"first".to_vec())
            .chain((0..8).map(|i| format!("line {i}").into_bytes()))
            .collect();
        assert_eq!(written, expected);
    }

    fn total_bytes(dir: &Path) -> u64 {
        std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().metadata().unwrap().len())
            .sum()
    }

    #[test]
    fn rotation_keeps_total_bytes_under_the_cap() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(LOG_FILE_NAME);
        let (rotate, keep) = (4096, 3);
        let line = format!("{{\"message\":\"{}\"}}\n", "x".repeat(100));
        {
            let (mut w, _guard) = rotating(&path, rotate, keep).unwrap();
            for _ in 0..2000 {
                w.write_all(line.as_bytes()).unwrap();
            }
        }
        let files = std::fs::read_dir(dir.path()).unwrap().count();
        assert_eq!(files, keep + 1, "the live file and {keep} archives");
        let cap = ((keep + 1) * (rotate + line.len())) as u64;
        let total = total_bytes(dir.path());
        assert!(total <= cap, "{total} bytes > cap {cap}");
        assert!(
            total >= (keep * rotate) as u64,
            "archives are full: {total}"
        );
        let newest = std::fs::read_to_string(&path).unwrap();
        assert!(
            newest.lines().all(|l| l.len() == line.len() - 1),
            "lines are never split"
        );
    }
}
