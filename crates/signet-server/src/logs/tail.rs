//! Reads the newest entries back from a JSON-lines log file, so `GET /api/logs` still shows
//! what happened before a restart.

use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use super::{LogEntry, LogHub, LogLevel};

/// Bytes read from the end of the file.
const TAIL_BYTES: u64 = 1024 * 1024;

impl LogHub {
    /// Loads the newest entries (info and above) of `path` into the ring; returns how many.
    /// Lines that are not log entries (another format, a torn last line) are skipped.
    pub fn load_tail(&self, path: &Path) -> std::io::Result<usize> {
        let mut f = std::fs::File::open(path)?;
        let len = f.metadata()?.len();
        let start = len.saturating_sub(TAIL_BYTES);
        f.seek(SeekFrom::Start(start))?;
        let mut buf = Vec::with_capacity((len - start) as usize);
        f.read_to_end(&mut buf)?;
        let text = String::from_utf8_lossy(&buf);
        let mut lines = text.lines();
        if start > 0 {
            lines.next();
        }
        let entries: Vec<LogEntry> = lines
            .filter_map(|l| serde_json::from_str::<LogEntry>(l).ok())
            .filter(|e| e.level >= LogLevel::Info)
            .collect();
        let skip = entries.len().saturating_sub(self.inner.capacity);
        let n = entries.len() - skip;
        for e in entries.into_iter().skip(skip) {
            self.push(e);
        }
        Ok(n)
    }
}
