//! Retention: purges tombstones past the recovery window and prunes old history and jobs.
//!
//! [`Retention::sweep`] runs the steps in order, each batch (500 rows, selected by
//! `rowid IN (SELECT ... LIMIT 500)`) in its own write transaction, looping until a step has
//! nothing left:
//! 1. tombstones deleted more than 30 days ago: their mentions (and entities left with none),
//!    their vectors (also dropped from the in-memory index), an archive copy in
//!    `memories_cold` (reason `retention_decay`), then the hard delete (one transaction per
//!    batch, so a tombstone is never half purged);
//! 2. `memory_history` older than 180 days; 3. completed jobs older than 14 days; 4. dead jobs
//!    older than 30 days; 5. predictor training pairs older than 90 days.
//!
//! [`RetentionWorker`] sweeps shortly after start-up (a restart triggers a fresh sweep) and
//! then every 6 hours; `POST /api/repair/retention-sweep` runs the same sweep on demand. Only
//! one sweep runs at a time.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use signet_model::MaintenanceStore;
use signet_model::maintenance::{PruneStep, RepairAudit, SWEEP_ACTIONS};
use tokio_util::sync::CancellationToken;

use crate::error::Result;
use crate::semantic::Semantic;

/// Rows per batch.
pub const BATCH: usize = 500;
/// Time between sweeps.
pub const INTERVAL: Duration = Duration::from_secs(6 * 3600);
/// Delay of the first sweep after start-up.
pub const STARTUP_DELAY: Duration = Duration::from_secs(30);

const DAY: i64 = 24 * 3600 * 1000;
/// Tombstones older than this are purged (the recovery window).
pub const TOMBSTONE_MS: i64 = 30 * DAY;
const HISTORY_MS: i64 = 180 * DAY;
const COMPLETED_JOBS_MS: i64 = 14 * DAY;
const DEAD_JOBS_MS: i64 = 30 * DAY;
const PREDICTOR_PAIRS_MS: i64 = 90 * DAY;

/// What one sweep removed.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SweepReport {
    pub tombstones: usize,
    pub embeddings: usize,
    pub mentions: usize,
    pub entities: usize,
    pub history: usize,
    pub completed_jobs: usize,
    pub dead_jobs: usize,
    pub predictor_pairs: usize,
}

impl SweepReport {
    /// Rows removed in total.
    pub fn total(&self) -> usize {
        self.tombstones + self.history + self.completed_jobs + self.dead_jobs + self.predictor_pairs
    }

    /// A one-line summary.
    pub fn message(&self) -> String {
        format!(
            "retention sweep: purged {} tombstone(s) ({} embedding(s), {} mention(s), {} entit(y/ies)); \
             pruned {} history row(s), {} completed job(s), {} dead job(s), {} predictor pair(s)",
            self.tombstones,
            self.embeddings,
            self.mentions,
            self.entities,
            self.history,
            self.completed_jobs,
            self.dead_jobs,
            self.predictor_pairs
        )
    }
}

/// The sweep, shared by the worker and the repair endpoint.
pub struct Retention {
    store: Arc<dyn MaintenanceStore>,
    semantic: Semantic,
    running: tokio::sync::Mutex<()>,
}

impl Retention {
    pub fn new(store: Arc<dyn MaintenanceStore>, semantic: Semantic) -> Self {
        Self {
            store,
            semantic,
            running: tokio::sync::Mutex::new(()),
        }
    }

    /// Runs one sweep now; `None` if another sweep is running.
    pub async fn sweep(&self) -> Result<Option<SweepReport>> {
        let Ok(_guard) = self.running.try_lock() else {
            return Ok(None);
        };
        self.sweep_at(Utc::now()).await.map(Some)
    }

    async fn sweep_at(&self, now: DateTime<Utc>) -> Result<SweepReport> {
        let cutoff =
            |ms: i64| signet_model::time::format_iso(now - chrono::Duration::milliseconds(ms));
        let stamp = signet_model::time::format_iso(now);
        let mut r = SweepReport::default();
        loop {
            let (store, c, s) = (self.store.clone(), cutoff(TOMBSTONE_MS), stamp.clone());
            let p =
                crate::blocking::run(move || Ok(store.purge_tombstones(&c, BATCH, &s)?)).await?;
            for id in &p.ids {
                self.semantic.remove(id);
            }
            r.tombstones += p.ids.len();
            r.embeddings += p.embeddings;
            r.mentions += p.mentions;
            r.entities += p.entities;
            if p.ids.len() < BATCH {
                break;
            }
        }
        r.history = self.prune(PruneStep::History, cutoff(HISTORY_MS)).await?;
        r.completed_jobs = self
            .prune(PruneStep::CompletedJobs, cutoff(COMPLETED_JOBS_MS))
            .await?;
        r.dead_jobs = self
            .prune(PruneStep::DeadJobs, cutoff(DEAD_JOBS_MS))
            .await?;
        r.predictor_pairs = self
            .prune(PruneStep::PredictorPairs, cutoff(PREDICTOR_PAIRS_MS))
            .await?;
        if r.total() > 0 {
            tracing::info!(target: "retention", removed = r.total(), "{}", r.message());
        }
        Ok(r)
    }

    async fn prune(&self, step: PruneStep, cutoff: String) -> Result<usize> {
        let mut total = 0;
        loop {
            let (store, c) = (self.store.clone(), cutoff.clone());
            let n = crate::blocking::run(move || Ok(store.prune(step, &c, BATCH)?)).await?;
            total += n;
            if n < BATCH {
                return Ok(total);
            }
        }
    }
}

/// The background sweeper: once shortly after start, then every [`INTERVAL`].
pub struct RetentionWorker {
    retention: Arc<Retention>,
    first_delay: Duration,
    interval: Duration,
}

impl RetentionWorker {
    pub fn new(retention: Arc<Retention>) -> Self {
        Self {
            retention,
            first_delay: STARTUP_DELAY,
            interval: INTERVAL,
        }
    }

    /// One sweep (skipped if one is already running, e.g. from the repair endpoint). A
    /// finished sweep writes an audit row (`retentionSweep`), which diagnostics read as the
    /// time of the last sweep, also across restarts and in `signet doctor`.
    pub async fn tick(&self) -> Result<Option<SweepReport>> {
        let Some(report) = self.retention.sweep().await? else {
            return Ok(None);
        };
        let audit = RepairAudit {
            action: SWEEP_ACTIONS[0].to_owned(),
            changed_by: "retention-worker".to_owned(),
            actor_type: "daemon".to_owned(),
            reason: "scheduled retention sweep".to_owned(),
            request_id: None,
            affected: report.total() as i64,
            message: report.message(),
            now: signet_model::time::format_iso(Utc::now()),
        };
        let store = self.retention.store.clone();
        crate::blocking::run(move || Ok(store.record_repair(&audit)?)).await?;
        Ok(Some(report))
    }

    /// Runs until `cancel` fires.
    pub async fn run(self, cancel: CancellationToken) {
        let mut wait = self.first_delay;
        loop {
            tokio::select! {
                _ = cancel.cancelled() => return,
                _ = tokio::time::sleep(wait) => {}
            }
            if let Err(e) = self.tick().await {
                tracing::warn!(target: "retention", error = %e, "retention sweep failed; retrying at the next interval");
            }
            wait = self.interval;
        }
    }
}
