//! [`Maintenance`]: the service behind `/api/diagnostics*` and `/api/repair/*` (diagnostics
//! with a 2 s cache, the repairs with their policy gate and limiter, the retention sweep), over
//! a [`MaintenanceStore`] and the memory service (for the vector index and the embedding
//! repairs). [`offline_report`] is the same diagnostics for `signet doctor`, read-only.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use signet_model::MaintenanceStore;
use signet_model::maintenance::{DiagnosticsSnapshot, SnapshotParams};
use tokio::sync::watch;

use crate::backup::{BackupMonitor, BackupState};
use crate::config::Settings;
use crate::diagnostics::{self, ProviderView, Report, ReportInputs};
use crate::error::{CoreError, Result};
use crate::memory::{Extraction, Memories};
use crate::repair::limiter::Limiter;
use crate::retention::Retention;
use crate::semantic::Semantic;

/// How long a diagnostics report is served from cache.
pub const DIAGNOSTICS_TTL: Duration = Duration::from_secs(2);
/// How long a `PRAGMA quick_check` answer is reused: the check reads the whole file, so it must
/// not run on every poll of `/api/diagnostics` (repairs drop it with the report).
pub const INTEGRITY_TTL: Duration = Duration::from_secs(600);

/// The maintenance service. Cheap to clone.
#[derive(Clone)]
pub struct Maintenance {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) store: Arc<dyn MaintenanceStore>,
    pub(crate) memories: Memories,
    settings: watch::Receiver<Arc<Settings>>,
    /// Cooldowns and hourly budgets of agent-triggered repairs (operators are not limited).
    pub(crate) limiter: Mutex<Limiter>,
    /// The last report and when it was made.
    cache: Mutex<Option<(Instant, Report)>>,
    /// The last integrity check's answer and when it ran.
    integrity: Mutex<Option<(Instant, String)>>,
    pub(crate) retention: Arc<Retention>,
    /// Why the pipeline's workers lease nothing now (paused, budget, provider unusable), once
    /// the daemon attached its pipeline.
    pipeline_idle: std::sync::OnceLock<IdleProbe>,
    /// The backup worker's state, once the daemon attached it.
    backup: std::sync::OnceLock<BackupMonitor>,
}

/// Asks the pipeline why it is idle (`None`: it runs).
pub type IdleProbe = Arc<dyn Fn() -> Option<String> + Send + Sync>;

impl Maintenance {
    /// A service over `store`, using `memories` for the vector side.
    pub fn new(
        store: Arc<dyn MaintenanceStore>,
        memories: Memories,
        settings: watch::Receiver<Arc<Settings>>,
    ) -> Self {
        let retention = Arc::new(Retention::new(store.clone(), memories.semantic().clone()));
        Self {
            inner: Arc::new(Inner {
                store,
                memories,
                settings,
                limiter: Mutex::new(Limiter::default()),
                cache: Mutex::new(None),
                integrity: Mutex::new(None),
                retention,
                pipeline_idle: std::sync::OnceLock::new(),
                backup: std::sync::OnceLock::new(),
            }),
        }
    }

    /// Lets diagnostics say why the pipeline is idle (its queue then waits, unpenalised).
    /// The first probe attached stays.
    pub fn attach_pipeline(&self, idle: IdleProbe) {
        let _ = self.inner.pipeline_idle.set(idle);
    }

    /// Lets diagnostics show the backup worker's state (the first monitor attached stays).
    pub fn attach_backup(&self, monitor: BackupMonitor) {
        let _ = self.inner.backup.set(monitor);
    }

    /// The backup worker's state, once attached.
    pub fn backup(&self) -> Option<&BackupMonitor> {
        self.inner.backup.get()
    }

    /// The retention sweep (shared with the retention worker).
    pub fn retention(&self) -> &Arc<Retention> {
        &self.inner.retention
    }

    /// The settings in force now.
    pub(crate) fn settings(&self) -> Arc<Settings> {
        self.inner.settings.borrow().clone()
    }

    /// The whole report (cached for [`DIAGNOSTICS_TTL`]).
    pub async fn diagnostics(&self) -> Result<Report> {
        if let Some((at, v)) = &*self.inner.cache.lock().unwrap_or_else(|p| p.into_inner())
            && at.elapsed() < DIAGNOSTICS_TTL
        {
            return Ok(v.clone());
        }
        let known = self
            .inner
            .integrity
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .filter(|(at, _)| at.elapsed() < INTEGRITY_TTL)
            .map(|(_, answer)| answer.clone());
        let settings = self.settings();
        let params = snapshot_params(&settings, chrono::Utc::now(), known.is_none());
        let store = self.inner.store.clone();
        let p = params.clone();
        let mut snap = crate::blocking::run(move || Ok(store.diagnostics_snapshot(&p)?)).await?;
        match (&snap.storage.integrity, known) {
            (Some(fresh), _) => {
                *self
                    .inner
                    .integrity
                    .lock()
                    .unwrap_or_else(|p| p.into_inner()) = Some((Instant::now(), fresh.clone()));
            }
            (None, known) => snap.storage.integrity = known,
        }
        // The live policy (it knows an unusable provider), and the pipeline's own idle reason
        // (an operator's pause, the budget).
        let mut extraction = self.inner.memories.policy().extraction.clone();
        if let (true, Some(reason)) = (
            extraction.enqueues(),
            self.inner.pipeline_idle.get().and_then(|idle| idle()),
        ) {
            extraction = Extraction::Off(reason);
        }
        let backups = self.backup().map(BackupMonitor::get).unwrap_or_default();
        let inputs = ReportInputs {
            provider: provider_view(self.inner.memories.semantic()),
            extraction,
            backup: crate::backup::domain(&settings.backup, &backups, params.now),
        };
        let report = diagnostics::report(&snap, &inputs, params.now);
        *self.inner.cache.lock().unwrap_or_else(|p| p.into_inner()) =
            Some((Instant::now(), report.clone()));
        Ok(report)
    }

    /// One domain of the report; unknown names (and `timestamp`) are `Invalid`.
    pub async fn diagnostics_domain(&self, name: &str) -> Result<diagnostics::Domain> {
        if !diagnostics::DOMAINS.contains(&name) {
            return Err(CoreError::Invalid(format!("Unknown domain: {name}")));
        }
        let report = self.diagnostics().await?;
        diagnostics::domain(&report, name)
            .ok_or_else(|| CoreError::Invalid(format!("Unknown domain: {name}")))
    }

    /// Drops the cached report (after a repair changed what it measures).
    pub(crate) fn invalidate(&self) {
        *self.inner.cache.lock().unwrap_or_else(|p| p.into_inner()) = None;
        *self
            .inner
            .integrity
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = None;
    }
}

/// The provider domain's input from the live semantic service.
pub fn provider_view(semantic: &Semantic) -> ProviderView {
    if let Some(reason) = semantic.keyword_only_reason() {
        return ProviderView::NotConfigured {
            reason: reason.to_owned(),
        };
    }
    let status = semantic.status();
    ProviderView::Measured {
        provider: status.provider,
        model: status.model,
        available: status.available,
        counts: semantic.provider_outcomes(),
    }
}

/// The snapshot's parameters under `settings` at `now`.
pub(crate) fn snapshot_params(
    settings: &Settings,
    now: chrono::DateTime<chrono::Utc>,
    integrity: bool,
) -> SnapshotParams {
    SnapshotParams {
        now,
        lease_timeout_ms: settings.pipeline.worker.lease_timeout_ms,
        integrity,
        tombstone_overdue_ms: crate::retention::TOMBSTONE_MS + diagnostics::OVERDUE_GRACE_MS,
    }
}

/// Diagnostics of a database the daemon does not hold (`signet doctor`), scored under
/// `settings` (and `backups`, what the backup folder holds): `snapshot` takes the counts with the given parameters — for SQLite,
/// `signet_store::maintenance::snapshot_read_only` on the file opened read-only, so nothing
/// is written or migrated. A missing database (`StoreError::Io`) is `NotFound`. Blocking.
pub fn offline_report(
    snapshot: impl FnOnce(&SnapshotParams) -> signet_model::Result<DiagnosticsSnapshot>,
    provider: ProviderView,
    settings: &Settings,
    backups: &BackupState,
) -> Result<Report> {
    let now = chrono::Utc::now();
    let params = snapshot_params(settings, now, true);
    let snap = snapshot(&params).map_err(|e| match e {
        signet_model::StoreError::Io(io) => CoreError::NotFound(io.to_string()),
        other => CoreError::Internal(other.to_string()),
    })?;
    let inputs = ReportInputs {
        provider,
        extraction: Extraction::from_settings(&settings.pipeline),
        backup: crate::backup::domain(&settings.backup, backups, now),
    };
    Ok(diagnostics::report(&snap, &inputs, now))
}
