//! The log hub: structured log entries (upstream's `LogEntry` plus `requestId`) kept in a
//! bounded in-memory ring for `GET /api/logs` and fanned out on a broadcast channel for
//! `GET /api/logs/stream`.
//!
//! Entries come from [`LogLayer`], a `tracing_subscriber::Layer`. The binary installs the layer
//! globally and hands the same hub to the daemon; tests create a hub per daemon and either push
//! entries or install the layer for their thread. A hub is injectable, never global.

mod category;
mod layer;
mod tail;

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use tokio::sync::broadcast;

pub use category::category_of;
pub use layer::{LineSink, LogLayer, REQUEST_SPAN};
pub use signet_api::LogLevel;

/// Entries kept in the ring.
pub const RING: usize = 2000;
/// Entries buffered per stream subscriber before it counts as lagging (and is dropped).
pub const STREAM_BUFFER: usize = 1024;
/// Default and largest `limit` of `GET /api/logs`.
pub const DEFAULT_LIMIT: usize = 100;
pub const MAX_LIMIT: usize = RING;

/// One log entry, as stored in the files, the ring and the stream. The same fields as
/// [`signet_api::LogRecord`] (the answer of `GET /api/logs`), in the order the files and the
/// stream have always written them (upstream's), which is not the record's alphabetical one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogEntry {
    /// ISO-8601 UTC with milliseconds.
    pub timestamp: String,
    pub level: LogLevel,
    pub category: String,
    pub message: String,
    /// The event's other fields.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Map<String, Value>>,
    /// The id of the request being handled when the entry was logged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// Filters of `GET /api/logs`.
#[derive(Debug, Clone, Default)]
pub struct LogQuery {
    pub limit: usize,
    pub min_level: Option<LogLevel>,
    pub category: Option<String>,
    pub since: Option<DateTime<Utc>>,
}

impl LogQuery {
    /// Reads `limit`, `level`, `category`, `since`; a bad value is an error message.
    pub fn from_params(q: &HashMap<String, String>) -> Result<Self, String> {
        let get = |k: &str| q.get(k).map(|s| s.trim()).filter(|s| !s.is_empty());
        let limit = match get("limit") {
            None => DEFAULT_LIMIT,
            Some(s) => match s.parse::<usize>() {
                Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
                _ => return Err(format!("limit must be an integer from 1 to {MAX_LIMIT}")),
            },
        };
        let min_level = match get("level") {
            None => None,
            Some(s) => {
                Some(LogLevel::parse(s).ok_or("level must be one of debug, info, warn, error")?)
            }
        };
        let since = match get("since") {
            None => None,
            Some(s) => {
                Some(signet_model::time::parse(s).ok_or("since must be an ISO-8601 timestamp")?)
            }
        };
        Ok(Self {
            limit,
            min_level,
            category: get("category").map(str::to_owned),
            since,
        })
    }

    /// Whether `e` passes the level, category and since filters.
    pub fn matches(&self, e: &LogEntry) -> bool {
        self.min_level.is_none_or(|l| e.level >= l)
            && self.category.as_deref().is_none_or(|c| e.category == c)
            && self
                .since
                .is_none_or(|t| signet_model::time::parse(&e.timestamp).is_some_and(|x| x >= t))
    }
}

struct Inner {
    ring: Mutex<VecDeque<Arc<LogEntry>>>,
    capacity: usize,
    tx: broadcast::Sender<Arc<LogEntry>>,
}

/// The hub. Cheap to clone; clones share the ring and the channel.
#[derive(Clone)]
pub struct LogHub {
    inner: Arc<Inner>,
}

impl Default for LogHub {
    fn default() -> Self {
        Self::new(RING)
    }
}

impl LogHub {
    /// A hub keeping the last `capacity` entries.
    pub fn new(capacity: usize) -> Self {
        Self {
            inner: Arc::new(Inner {
                ring: Mutex::new(VecDeque::with_capacity(capacity.min(RING))),
                capacity: capacity.max(1),
                tx: broadcast::channel(STREAM_BUFFER).0,
            }),
        }
    }

    /// Adds an entry to the ring and sends it to every stream subscriber.
    pub fn push(&self, entry: LogEntry) {
        let entry = Arc::new(entry);
        {
            let mut ring = self.inner.ring.lock().unwrap_or_else(|p| p.into_inner());
            if ring.len() == self.inner.capacity {
                ring.pop_front();
            }
            ring.push_back(entry.clone());
        }
        let _ = self.inner.tx.send(entry);
    }

    /// A stream subscriber: entries pushed from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<LogEntry>> {
        self.inner.tx.subscribe()
    }

    /// The newest `q.limit` entries passing the filters, oldest first.
    pub fn recent(&self, q: &LogQuery) -> Vec<LogEntry> {
        let ring = self.inner.ring.lock().unwrap_or_else(|p| p.into_inner());
        let mut out: Vec<LogEntry> = ring
            .iter()
            .rev()
            .filter(|e| q.matches(e))
            .take(q.limit)
            .map(|e| (**e).clone())
            .collect();
        out.reverse();
        out
    }

    /// Entries in the ring.
    pub fn len(&self) -> usize {
        self.inner
            .ring
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .len()
    }

    /// Whether the ring is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A layer feeding this hub (info and above) and `sinks`.
    pub fn layer(&self, sinks: Vec<LineSink>) -> LogLayer {
        LogLayer::new(self.clone(), sinks)
    }
}

#[cfg(test)]
mod tests;
