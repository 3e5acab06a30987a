//! A re-embed: the migration after a model or dimension change. A request marks it running and
//! wakes the worker, which then also embeds memories whose vector is from another model,
//! counts them here, and finishes the run when none is left.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use super::Semantic;

/// Progress of a re-embed (model change migration).
#[derive(Debug, Clone, Default, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReembedProgress {
    pub running: bool,
    pub done: u64,
    pub total: u64,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
}

/// The requested flag the worker reads and the progress the status reports.
#[derive(Default)]
pub(super) struct Reembed {
    progress: Mutex<ReembedProgress>,
    /// Set by a request, cleared by the worker once no stale vector is left.
    requested: AtomicBool,
}

impl Reembed {
    fn progress(&self) -> std::sync::MutexGuard<'_, ReembedProgress> {
        self.progress.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Marks a run started (unless one is running) and requested.
    fn start(&self) {
        {
            let mut p = self.progress();
            if !p.running {
                *p = ReembedProgress {
                    running: true,
                    started_at: Some(signet_model::time::now_iso()),
                    ..Default::default()
                };
            }
        }
        self.requested.store(true, Ordering::SeqCst);
    }

    /// Whether the worker should embed stale vectors too.
    pub(super) fn requested(&self) -> bool {
        self.requested.load(Ordering::SeqCst)
    }

    /// `n` more memories migrated.
    pub(super) fn add_done(&self, n: usize) {
        self.progress().done += n as u64;
    }

    /// Nothing stale is left: the run is over.
    pub(super) fn finish(&self) {
        self.requested.store(false, Ordering::SeqCst);
        let mut p = self.progress();
        if p.running {
            p.running = false;
            p.finished_at = Some(signet_model::time::now_iso());
            tracing::info!(target: "embedding", done = p.done, "re-embed finished");
        }
    }
}

impl Semantic {
    /// Asks the worker to re-embed every live memory whose vector is not from this model.
    pub fn request_reembed(&self) -> bool {
        if !self.configured() {
            return false;
        }
        self.inner.reembed.start();
        self.notify();
        true
    }

    /// The current re-embed progress.
    pub fn reembed_progress(&self) -> ReembedProgress {
        self.inner.reembed.progress().clone()
    }
}
