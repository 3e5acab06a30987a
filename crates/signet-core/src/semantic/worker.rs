//! The embedding worker: finds live memories lacking a current vector, embeds them in
//! batches, stores the vectors and updates the index. The database is the queue, so a crash
//! loses nothing and the queue is bounded by construction. A failing provider is retried with
//! exponential backoff (1 s doubling to 60 s); writes never wait for it.
//!
//! A pass that finds no gap costs a look at every memory (1-2 s of CPU at 1M memories), so
//! passes are bounded: once a pass that began when the newest memory was at position `p`
//! (SQLite's rowid) has ended, the next ones look only above `p`, where remembers insert. A
//! change to an older memory ([`Semantic::notify_changed`]), a re-embed, and every
//! [`WHOLE_PASS_EVERY`] (for writers outside this daemon) make the next pass whole again.

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use signet_model::memories::EmbeddingJob;
use tokio_util::sync::CancellationToken;

use super::Semantic;
use crate::embedding::EmbedError;
use crate::vector::to_le_bytes;

/// Memories embedded per provider call.
pub const BATCH: usize = 32;
const MAX_BACKOFF: Duration = Duration::from_secs(60);
/// How often a pass looks at every memory even though nothing asked for it: memories another
/// program wrote into the database, or whose rowid a purge freed for reuse, are found by then.
pub const WHOLE_PASS_EVERY: Duration = Duration::from_secs(600);

/// The background embedder. One per daemon.
pub struct EmbeddingWorker {
    semantic: Semantic,
    /// A native model still to load, if any.
    native_dir: Option<PathBuf>,
    poll: Duration,
    backoff: Option<Duration>,
    /// Where the current pass over the gaps continues (the last job embedded), and whether
    /// that pass includes stale vectors.
    cursor: Option<(String, bool)>,
    /// The pass in progress: what it looks above, and what it will have covered.
    pass: Pass,
    /// Every memory at or below this position had its current vector when the last pass
    /// ended (`None`: the next pass is whole).
    clean_above: Option<i64>,
    /// When the last whole pass ended, and the count of [`Semantic::notify_changed`] it began
    /// after.
    whole: Option<(Instant, u64)>,
}

/// A pass over the gaps: the position it looks above (`None`: every memory), the newest
/// position when it began, and the change count then.
#[derive(Debug, Clone, Copy, Default)]
struct Pass {
    above: Option<i64>,
    top: Option<i64>,
    changes: u64,
}

/// What one tick did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tick {
    /// Nothing to embed (or no provider).
    Idle,
    /// Embedded this many; there may be more.
    Embedded(usize),
    /// The provider failed; retry after a backoff.
    Failed,
}

impl EmbeddingWorker {
    /// A worker for `semantic`; `native_dir` is loaded on the first tick.
    pub fn new(semantic: Semantic, native_dir: Option<PathBuf>, poll: Duration) -> Self {
        Self {
            semantic,
            native_dir,
            poll,
            backoff: None,
            cursor: None,
            pass: Pass::default(),
            clean_above: None,
            whole: None,
        }
    }

    /// The bounds of a pass starting now (its `top` is read with its first batch).
    fn begin_pass(&self, stale: bool) -> Pass {
        let changes = self.semantic.inner.changes.load(Ordering::Relaxed);
        let whole = stale
            || self
                .whole
                .is_none_or(|(at, seen)| seen != changes || at.elapsed() >= WHOLE_PASS_EVERY);
        Pass {
            above: if whole { None } else { self.clean_above },
            top: None,
            changes,
        }
    }

    /// The pass found every gap it looks at filled: later ones look above where it began.
    fn end_pass(&mut self) {
        let pass = self.pass;
        self.clean_above = pass.top;
        if pass.above.is_none() {
            self.whole = Some((Instant::now(), pass.changes));
        }
    }

    /// One unit of work: load the native model if pending, else embed one batch.
    pub async fn tick(&mut self) -> Tick {
        if let Some(dir) = self.native_dir.take() {
            return self.load_native(dir).await;
        }
        let Some(embedder) = self.semantic.embedder() else {
            return Tick::Idle;
        };
        let stale = self.semantic.inner.reembed.requested();
        let after = self
            .cursor
            .take()
            .filter(|(_, s)| *s == stale)
            .map(|(id, _)| id);
        let starts = after.is_none();
        if starts {
            self.pass = self.begin_pass(stale);
        }
        let jobs = match self
            .gaps(stale, after.clone(), self.pass.above, starts)
            .await
        {
            Ok((j, top)) => {
                if starts {
                    self.pass.top = top;
                }
                j
            }
            Err(e) => {
                tracing::warn!(target: "embedding", error = %e, "could not read embedding gaps");
                self.cursor = after.map(|id| (id, stale));
                return Tick::Failed;
            }
        };
        if jobs.is_empty() {
            if after.is_some() {
                // The pass reached its end (or its cursor was deleted); memories written
                // meanwhile sit before its start, so the next pass begins again.
                return Tick::Embedded(0);
            }
            self.end_pass();
            if stale {
                self.semantic.inner.reembed.finish();
            }
            return Tick::Idle;
        }
        // A pass of one short batch has seen every gap it looks at once that batch is stored.
        let ends = starts && jobs.len() < BATCH;
        // A full batch continues the pass after its last job; a short one ends it.
        let next = (jobs.len() == BATCH)
            .then(|| jobs.last().map(|j| (j.memory_id.clone(), stale)))
            .flatten();
        let texts: Vec<String> = jobs.iter().map(|j| j.content.clone()).collect();
        let tick = match embedder.embed(&texts).await {
            Ok(vectors) if vectors.len() == jobs.len() => self.store(jobs, vectors, stale).await,
            Ok(v) => self.fail(EmbedError::BadResponse(format!(
                "asked for {} vectors, got {}",
                jobs.len(),
                v.len()
            ))),
            Err(e) => self.fail(e),
        };
        // After a failure the same batch is read again.
        self.cursor = match tick {
            Tick::Embedded(_) => next,
            _ => after.map(|id| (id, stale)),
        };
        if ends && matches!(tick, Tick::Embedded(_)) {
            self.end_pass();
        }
        tick
    }

    async fn load_native(&mut self, dir: PathBuf) -> Tick {
        let loaded = tokio::task::spawn_blocking(move || super::provider::load_native(&dir)).await;
        let sem = self.semantic.clone();
        match loaded {
            Ok(Ok(embedder)) => {
                let installed = tokio::task::spawn_blocking(move || sem.install(embedder)).await;
                match installed {
                    Ok(Ok(())) => Tick::Embedded(0),
                    Ok(Err(e)) => self.fail(EmbedError::Model(e.to_string())),
                    Err(e) => self.fail(EmbedError::Model(e.to_string())),
                }
            }
            Ok(Err(e)) => {
                tracing::error!(target: "embedding", error = %e, "native model failed to load; recall stays keyword-only");
                self.semantic.inner.health.set_loading(false);
                self.semantic.record_error(&e);
                Tick::Idle
            }
            Err(e) => self.fail(EmbedError::Model(e.to_string())),
        }
    }

    async fn gaps(
        &self,
        stale: bool,
        after: Option<String>,
        above: Option<i64>,
        with_top: bool,
    ) -> Result<(Vec<EmbeddingJob>, Option<i64>), crate::CoreError> {
        let store = self.semantic.inner.store.clone();
        let (model, dims) = (self.semantic.model(), self.semantic.dimensions());
        crate::blocking::run(move || {
            // The newest position first: a memory inserted after it sits above it.
            let top = if with_top {
                store.newest_position()?
            } else {
                None
            };
            let jobs =
                store.embedding_gaps_after(&model, dims, stale, BATCH, after.as_deref(), above)?;
            Ok((jobs, top))
        })
        .await
    }

    async fn store(
        &mut self,
        jobs: Vec<EmbeddingJob>,
        vectors: Vec<Vec<f32>>,
        stale: bool,
    ) -> Tick {
        let dims = self.semantic.dimensions();
        if let Some(bad) = vectors.iter().find(|v| v.len() != dims) {
            return self.fail(EmbedError::BadResponse(format!(
                "got {} dimensions, expected {dims}",
                bad.len()
            )));
        }
        let ids: Vec<String> = jobs.iter().map(|j| j.memory_id.clone()).collect();
        let saved = match self.save(jobs, &vectors).await {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(target: "embedding", error = %e, "could not store vectors");
                return Tick::Failed;
            }
        };
        self.semantic
            .inner
            .index
            .upsert_saved(&ids, &vectors, &saved);
        let n = ids.len();
        self.semantic.record_success(n);
        self.backoff = None;
        if stale {
            self.semantic.inner.reembed.add_done(n);
        }
        Tick::Embedded(n)
    }

    /// Stores the vectors of `jobs` under this model; which of them were saved (a memory whose
    /// content changed meanwhile is not).
    async fn save(
        &self,
        jobs: Vec<EmbeddingJob>,
        vectors: &[Vec<f32>],
    ) -> Result<Vec<bool>, crate::CoreError> {
        let items: Vec<(EmbeddingJob, Vec<u8>)> = jobs
            .into_iter()
            .zip(vectors.iter().map(|v| to_le_bytes(v)))
            .collect();
        let store = self.semantic.inner.store.clone();
        let (model, dims) = (self.semantic.model(), self.semantic.dimensions());
        let now = signet_model::time::now_iso();
        crate::blocking::run(move || Ok(store.save_embeddings(&items, dims, &model, &now)?)).await
    }

    fn fail(&mut self, e: EmbedError) -> Tick {
        self.semantic.record_error(&e);
        let next = self
            .backoff
            .map_or(Duration::from_secs(1), |b| (b * 2).min(MAX_BACKOFF));
        self.backoff = Some(next);
        Tick::Failed
    }

    /// Logs, once the provider is ready, how many memories carry vectors of another model or
    /// size (a model or dimension change): those stay out of the index until a re-embed.
    async fn report_drift(&self) {
        let store = self.semantic.inner.store.clone();
        let (model, dims) = (self.semantic.model(), self.semantic.dimensions());
        let (m, d) = (model.clone(), dims);
        let stats = crate::blocking::run(move || Ok(store.embedding_stats(&m, d)?)).await;
        match stats {
            Ok(s) if s.stale_model > 0 => tracing::warn!(
                target: "embedding",
                stale = s.stale_model,
                stored_dimensions = ?s.dimensions,
                %model,
                dims,
                "memories have vectors from another embedding model or size; they are left out of semantic recall until `signet reembed` (POST /api/repair/re-embed) migrates them"
            ),
            Ok(s) => {
                tracing::info!(target: "embedding", current = s.current, missing = s.missing, "vector coverage checked")
            }
            Err(e) => {
                tracing::warn!(target: "embedding", error = %e, "could not check vector coverage")
            }
        }
    }

    /// Runs until `cancel` fires: works while there is work, then waits for a wake-up or the
    /// poll interval (or the backoff after a failure).
    pub async fn run(mut self, cancel: CancellationToken) {
        let mut reported = false;
        loop {
            if !reported && self.semantic.embedder().is_some() {
                reported = true;
                self.report_drift().await;
            }
            let wait = match self.tick().await {
                Tick::Embedded(_) => Duration::ZERO,
                Tick::Idle => self.poll,
                Tick::Failed => self.backoff.unwrap_or(Duration::from_secs(1)),
            };
            if wait.is_zero() {
                if cancel.is_cancelled() {
                    return;
                }
                tokio::task::yield_now().await;
                continue;
            }
            tokio::select! {
                _ = cancel.cancelled() => return,
                _ = self.semantic.inner.wake.notified(), if self.backoff.is_none() => {}
                _ = tokio::time::sleep(wait) => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use signet_model::MemoryStore;

    use super::*;
    use crate::semantic::HashEmbedder;

    fn remember(store: &dyn MemoryStore, id: &str) {
        let m = signet_model::conformance::memory(id, &format!("memory {id} about the garden"));
        signet_model::conformance::insert(store, m);
    }

    /// Runs the worker until it is idle; returns how many it embedded.
    async fn settle(w: &mut EmbeddingWorker) -> usize {
        let mut n = 0;
        for _ in 0..100 {
            match w.tick().await {
                Tick::Embedded(k) => n += k,
                Tick::Idle => return n,
                Tick::Failed => panic!("the worker failed"),
            }
        }
        panic!("the worker never went idle");
    }

    /// Removes a memory's vector behind the worker's back (as another program could).
    fn drop_vector(store: &signet_store::Store, id: &str) {
        let id = id.to_owned();
        store
            .pool()
            .write(move |tx| {
                tx.execute("DELETE FROM embeddings WHERE source_id = ?1", [&id])?;
                Ok(())
            })
            .unwrap();
    }

    #[tokio::test]
    async fn passes_after_a_complete_one_look_only_at_newer_memories_until_a_change() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(signet_store::Store::open(&dir.path().join("m.db"), 2).unwrap());
        for i in 0..40 {
            remember(store.as_ref(), &format!("a{i}"));
        }
        let semantic =
            Semantic::with_embedder(store.clone(), Arc::new(HashEmbedder { dims: 8 })).unwrap();
        let mut w = EmbeddingWorker::new(semantic.clone(), None, Duration::from_secs(5));
        assert_eq!(settle(&mut w).await, 40, "the first pass is whole");

        // An old memory loses its vector unannounced: bounded passes do not look there...
        drop_vector(&store, "a3");
        remember(store.as_ref(), "b0");
        assert_eq!(settle(&mut w).await, 1, "only the new memory");
        assert!(
            w.pass.above.is_some() && w.pass.above == w.clean_above,
            "{:?}",
            w.pass
        );
        // ...until a change anywhere is announced, which makes the next pass whole.
        semantic.notify_changed();
        assert_eq!(
            settle(&mut w).await,
            1,
            "the old gap, found by a whole pass"
        );

        // And a whole pass is due again after WHOLE_PASS_EVERY.
        drop_vector(&store, "a7");
        assert_eq!(settle(&mut w).await, 0);
        w.whole = w
            .whole
            .map(|(at, seen)| (at - WHOLE_PASS_EVERY - Duration::from_secs(1), seen));
        assert_eq!(settle(&mut w).await, 1);
    }
}
