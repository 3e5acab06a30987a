//! Access tracking off the request path: recall hands the ids it returned to an
//! [`AccessRecorder`], which folds them into counts per id under a mutex; the [`AccessWorker`]
//! writes them [`FLUSH_EVERY`] after the first one arrived (or when [`FLUSH_AT`] distinct ids
//! pile up), and flushes what is left at shutdown. A recall wakes the worker only when it
//! starts a window, not every time. Counts are best-effort telemetry: when a write falls far
//! behind, new ids are dropped, never the request; a killed daemon loses at most one window.
//!
//! The window is long on purpose. A bump rewrites the memory's row, so its cost is one row
//! and, at commit, one WAL page per distinct page touched: under steady recall the same
//! memories come back again and again, and a 2 s window turns thousands of bumps into one per
//! memory, written in few commits (the SQLite store writes them in short transactions, so
//! remembers never wait behind one long write). At 250 ms and 64 ids,
//! bumps were 20% of a keyword recall's instructions and each of their commits emptied the
//! readers' page caches (docs/PERFORMANCE.md, "Recall CPU, third pass").

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use signet_model::MemoryStore;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// How long after the first id of a batch pending access counts are written.
pub const FLUSH_EVERY: Duration = Duration::from_secs(2);
/// Distinct ids that trigger an early flush (bounds the worker's memory: ~100 bytes an id).
pub const FLUSH_AT: usize = 16_384;
/// Distinct ids past which new ones are dropped (a flush is that far behind).
const DROP_AT: usize = 4 * FLUSH_AT;

#[derive(Default)]
struct Shared {
    pending: Mutex<HashMap<String, u32>>,
    /// Rung when a window starts (the first id) and when `FLUSH_AT` is reached.
    bell: Notify,
}

impl Shared {
    fn pending(&self) -> MutexGuard<'_, HashMap<String, u32>> {
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn take(&self) -> HashMap<String, u32> {
        std::mem::take(&mut *self.pending())
    }
}

/// The recording side, held by the memory service.
#[derive(Clone)]
pub struct AccessRecorder {
    shared: Arc<Shared>,
}

impl AccessRecorder {
    /// Counts one recall's result ids; never waits on the write.
    pub fn record(&self, ids: Vec<String>) {
        if ids.is_empty() {
            return;
        }
        let mut pending = self.shared.pending();
        let started = pending.is_empty();
        for id in ids {
            if pending.len() >= DROP_AT && !pending.contains_key(&id) {
                continue;
            }
            *pending.entry(id).or_default() += 1;
        }
        let full = pending.len() >= FLUSH_AT;
        drop(pending);
        if started || full {
            self.shared.bell.notify_one();
        }
    }
}

/// The worker that writes access counts.
pub struct AccessWorker {
    shared: Arc<Shared>,
    store: Arc<dyn MemoryStore>,
}

/// A recorder and its worker over `store`.
pub fn channel(store: Arc<dyn MemoryStore>) -> (AccessRecorder, AccessWorker) {
    let shared = Arc::new(Shared::default());
    (
        AccessRecorder {
            shared: shared.clone(),
        },
        AccessWorker { shared, store },
    )
}

impl AccessWorker {
    /// Writes what is pending: one unit of work (tests call it directly).
    pub async fn tick(&mut self) {
        let pending = self.shared.take();
        if pending.is_empty() {
            return;
        }
        let counts: Vec<(String, u32)> = pending.into_iter().collect();
        let store = self.store.clone();
        let now = signet_model::time::now_iso();
        let res = crate::blocking::run(move || Ok(store.touch_accessed(&counts, &now)?)).await;
        if let Err(e) = res {
            tracing::warn!(target: "memory", error = %e, "could not record recall access counts");
        }
    }

    /// Runs until `cancel` fires, then flushes what is left. Counts are written
    /// [`FLUSH_EVERY`] after the first id of a window arrived (or at once past `FLUSH_AT`);
    /// with nothing pending the worker sleeps until a recall starts a window, so an idle
    /// daemon never wakes for it.
    pub async fn run(mut self, cancel: CancellationToken) {
        loop {
            tokio::select! {
                _ = cancel.cancelled() => break,
                _ = self.shared.bell.notified() => {}
            }
            // A window has started: wait it out, unless it fills first.
            let window = tokio::time::sleep(FLUSH_EVERY);
            tokio::pin!(window);
            loop {
                if self.shared.pending().len() >= FLUSH_AT {
                    break;
                }
                tokio::select! {
                    _ = cancel.cancelled() => break,
                    _ = &mut window => break,
                    _ = self.shared.bell.notified() => {}
                }
            }
            self.tick().await;
            if cancel.is_cancelled() {
                break;
            }
        }
        self.tick().await;
    }
}
