//! Access tracking off the request path: recall hands the ids it returned to an
//! [`AccessRecorder`]; the [`AccessWorker`] folds them into one write transaction every few
//! hundred milliseconds (or when enough pile up) and flushes what is left at shutdown.
//! Counts are best-effort telemetry: when the queue is full, new ids are dropped, never the
//! request.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use signet_model::MemoryStore;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// How often pending access counts are written.
pub const FLUSH_EVERY: Duration = Duration::from_millis(250);
/// Batches queued before recorders start dropping.
const QUEUE: usize = 1024;
/// Distinct ids that trigger an early flush. Small on purpose: a flush costs 6-10 µs of CPU
/// per id at 100k memories (one row rewritten each), and under steady recall a 512-id flush
/// (3-5 ms) every ~50 recalls was the keyword recall's p99 (docs/PERFORMANCE.md, "Recall tail
/// at 100k"); 64 ids keep each one well under a millisecond.
const FLUSH_AT: usize = 64;

/// The sending side, held by the memory service.
#[derive(Clone)]
pub struct AccessRecorder {
    tx: mpsc::Sender<Vec<String>>,
}

impl AccessRecorder {
    /// Queues one recall's result ids; never waits.
    pub fn record(&self, ids: Vec<String>) {
        if !ids.is_empty() {
            let _ = self.tx.try_send(ids);
        }
    }
}

/// The worker that writes access counts.
pub struct AccessWorker {
    rx: mpsc::Receiver<Vec<String>>,
    store: Arc<dyn MemoryStore>,
    pending: HashMap<String, u32>,
}

/// A recorder and its worker over `store`.
pub fn channel(store: Arc<dyn MemoryStore>) -> (AccessRecorder, AccessWorker) {
    let (tx, rx) = mpsc::channel(QUEUE);
    (
        AccessRecorder { tx },
        AccessWorker {
            rx,
            store,
            pending: HashMap::new(),
        },
    )
}

impl AccessWorker {
    /// Drains what is queued and writes it: one unit of work (tests call it directly).
    pub async fn tick(&mut self) {
        while let Ok(ids) = self.rx.try_recv() {
            self.absorb(ids);
        }
        self.flush().await;
    }

    fn absorb(&mut self, ids: Vec<String>) {
        for id in ids {
            *self.pending.entry(id).or_default() += 1;
        }
    }

    async fn flush(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        let mut ids = Vec::with_capacity(self.pending.len());
        for (id, n) in self.pending.drain() {
            ids.extend(std::iter::repeat_n(id, n as usize));
        }
        let store = self.store.clone();
        let now = signet_model::time::now_iso();
        let res = crate::blocking::run(move || Ok(store.touch_accessed(&ids, &now)?)).await;
        if let Err(e) = res {
            tracing::warn!(target: "memory", error = %e, "could not record recall access counts");
        }
    }

    /// Runs until `cancel` fires, then flushes what is left. Counts are written
    /// [`FLUSH_EVERY`] after the first id of a batch arrived (or at once past `FLUSH_AT`); with
    /// nothing pending the worker sleeps until a recall sends ids, so an idle daemon never
    /// wakes for it.
    pub async fn run(mut self, cancel: CancellationToken) {
        let flush_at = tokio::time::sleep(FLUSH_EVERY);
        tokio::pin!(flush_at);
        loop {
            tokio::select! {
                _ = cancel.cancelled() => break,
                _ = &mut flush_at, if !self.pending.is_empty() => self.tick().await,
                ids = self.rx.recv() => {
                    let Some(ids) = ids else { break };
                    if self.pending.is_empty() {
                        flush_at.as_mut().reset(tokio::time::Instant::now() + FLUSH_EVERY);
                    }
                    self.absorb(ids);
                    if self.pending.len() >= FLUSH_AT {
                        self.flush().await;
                    }
                }
            }
        }
        self.tick().await;
    }
}
