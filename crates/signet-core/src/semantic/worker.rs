//! The embedding worker: finds live memories lacking a current vector, embeds them in
//! batches, stores the vectors and updates the index. The database is the queue, so a crash
//! loses nothing and the queue is bounded by construction. A failing provider is retried with
//! exponential backoff (1 s doubling to 60 s); writes never wait for it.

use std::path::PathBuf;
use std::time::Duration;

use signet_model::memories::EmbeddingJob;
use tokio_util::sync::CancellationToken;

use super::Semantic;
use crate::embedding::EmbedError;
use crate::vector::to_le_bytes;

/// Memories embedded per provider call.
pub const BATCH: usize = 32;
const MAX_BACKOFF: Duration = Duration::from_secs(60);

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
        let jobs = match self.gaps(stale, after.clone()).await {
            Ok(j) => j,
            Err(e) => {
                tracing::warn!(target: "embedding", error = %e, "could not read embedding gaps");
                self.cursor = after.map(|id| (id, stale));
                return Tick::Failed;
            }
        };
        if jobs.is_empty() {
            if after.is_some() {
                // The pass reached its end; memories written meanwhile sit before its start.
                return Tick::Embedded(0);
            }
            if stale {
                self.semantic.inner.reembed.finish();
            }
            return Tick::Idle;
        }
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
    ) -> Result<Vec<EmbeddingJob>, crate::CoreError> {
        let store = self.semantic.inner.store.clone();
        let (model, dims) = (self.semantic.model(), self.semantic.dimensions());
        crate::blocking::run(move || {
            Ok(store.embedding_gaps_after(&model, dims, stale, BATCH, after.as_deref())?)
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
