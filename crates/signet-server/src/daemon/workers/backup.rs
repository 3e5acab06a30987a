//! The scheduled backup worker: under `backup.schedule` it takes a backup of the workspace
//! (`signet_store::backup::workspace::create`, the code `signet backup` runs) into
//! `backup.dir`, prunes to `backup.keep`, and logs it. When it starts and the last good backup
//! there is older than the interval (or there is none), the first one runs
//! [`STARTUP_DELAY`] after start-up, in this task, so start-up never waits for it. A failure
//! is logged and remembered in the [`BackupMonitor`] (diagnostics shows it), retried after
//! [`RETRY_AFTER`] (or the interval, when shorter), and never stops the daemon.
//!
//! With `storage.backend: postgres` the backup's database is a verified SQLite dump of the
//! PostgreSQL database (`workspace::Source::Tables`, the code `signet backup` runs there too),
//! read on a connection of its own so the daemon's pool is not held up.
//!
//! The settings are read before every wait, so schedule, folder and keep changes in
//! `agent.yaml` apply live. The folder is rescanned every [`RESCAN_EVERY`], so backups made by
//! hand (`signet backup`) count too.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use signet_core::backup::{BackupMonitor, BackupState};
use signet_core::config::{BackupSettings, Settings, StorageBackend, StorageSettings};
use signet_store::backup::workspace;
use signet_store_pg::{DatabaseUrl, PgConfig, PgStore};
use tokio::sync::watch;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// How long after start-up an overdue backup runs.
pub const STARTUP_DELAY: Duration = Duration::from_secs(2);
/// How soon a failed backup is tried again, at most.
pub const RETRY_AFTER: Duration = Duration::from_secs(15 * 60);
/// How often the backup folder is rescanned.
pub const RESCAN_EVERY: Duration = Duration::from_secs(60);

/// Takes the scheduled backups of one workspace.
pub struct BackupWorker {
    workspace: PathBuf,
    settings: watch::Receiver<Arc<Settings>>,
    monitor: BackupMonitor,
    /// Backups wait for `STARTUP_DELAY` past this.
    started: Instant,
}

impl BackupWorker {
    pub fn new(workspace: PathBuf, settings: watch::Receiver<Arc<Settings>>) -> Self {
        let dir = settings.borrow().backup.dir_in(&workspace);
        Self {
            workspace,
            settings,
            monitor: BackupMonitor::new(BackupState {
                dir,
                ..BackupState::default()
            }),
            started: Instant::now(),
        }
    }

    /// The state diagnostics reads.
    pub fn monitor(&self) -> BackupMonitor {
        self.monitor.clone()
    }

    /// Rescans the backup folder of `settings` into the monitor (its count and last good
    /// backup). An unreadable folder counts as empty; the attempt that fails says why.
    pub async fn scan(&self, settings: &BackupSettings) {
        let dir = settings.dir_in(&self.workspace);
        let d = dir.clone();
        let found = tokio::task::spawn_blocking(move || workspace::summary(&d)).await;
        let summary = match found {
            Ok(Ok(summary)) => summary,
            Ok(Err(e)) => {
                tracing::debug!(target: "backup", error = %e, "cannot list the backup folder");
                workspace::Summary::default()
            }
            Err(_) => workspace::Summary::default(),
        };
        self.monitor.update(|s| {
            if s.dir != dir {
                // Another folder: the last attempt was about the old one.
                s.last_error = None;
                s.last_attempt_at = None;
            }
            s.dir = dir;
            s.count = summary.count;
            s.last_good = summary.last_good;
        });
    }

    /// One backup now under the settings in force: create, prune, log, record. Returns the new
    /// folder, or why it failed.
    pub async fn tick(&self) -> Result<PathBuf, String> {
        let (settings, storage) = {
            let s = self.settings.borrow();
            (s.backup.clone(), s.storage.clone())
        };
        let (ws, dir) = (self.workspace.clone(), settings.dir_in(&self.workspace));
        let keep = settings.keep as usize;
        let d = dir.clone();
        let res = tokio::task::spawn_blocking(move || match postgres(&storage)? {
            None => workspace::create(&ws, &d, Some(keep), &mut |_| {}),
            Some(config) => {
                let store = PgStore::open(&config)?;
                let source = workspace::Source::Tables {
                    backend: "postgres",
                    store: &store,
                    progress: &mut |_, _, _| {},
                };
                workspace::create_from(&ws, &d, Some(keep), source)
            }
        })
        .await
        .map_err(|e| format!("the backup task failed: {e}"))
        .and_then(|r| r.map_err(|e| e.to_string()));
        let now = Utc::now();
        let out = match res {
            Ok(made) => {
                tracing::info!(target: "backup", folder = %made.folder.display(),
                    bytes = made.manifest.bytes, memories = made.manifest.database.memories,
                    pruned = made.pruned.len(), "scheduled backup taken");
                self.monitor.update(|s| {
                    s.last_attempt_at = Some(now);
                    s.last_error = None;
                });
                Ok(made.folder)
            }
            Err(e) => {
                tracing::error!(target: "backup", dir = %dir.display(), error = %e,
                    "scheduled backup failed");
                self.monitor.update(|s| {
                    s.last_attempt_at = Some(now);
                    s.last_error = Some(e.clone());
                });
                Err(e)
            }
        };
        self.scan(&settings).await;
        out
    }

    /// How long until the next backup is due (zero: now); `None` without a schedule.
    pub fn due_in(&self, settings: &BackupSettings, now: DateTime<Utc>) -> Option<Duration> {
        let every = settings.schedule.interval()?;
        let state = self.monitor.get();
        let mut due = match &state.last_good {
            Some((at, _)) => *at + chrono::Duration::from_std(every).ok()?,
            None => now,
        };
        // After any attempt, the next waits (a failure is retried, never in a tight loop).
        if let Some(attempt) = state.last_attempt_at {
            let retry = attempt + chrono::Duration::from_std(every.min(RETRY_AFTER)).ok()?;
            due = due.max(retry);
        }
        let wait = (due - now).to_std().unwrap_or(Duration::ZERO);
        let settle = (self.started + STARTUP_DELAY).saturating_duration_since(Instant::now());
        Some(wait.max(settle))
    }

    /// Takes backups on schedule until `cancel` fires.
    pub async fn run(mut self, cancel: CancellationToken) {
        let mut watching = true;
        loop {
            let settings = self.settings.borrow_and_update().backup.clone();
            self.scan(&settings).await;
            let due = self.due_in(&settings, Utc::now());
            if due == Some(Duration::ZERO) {
                // Errors are logged and recorded by `tick`.
                let _ = self.tick().await;
                continue;
            }
            let wait = due.map_or(RESCAN_EVERY, |d| d.min(RESCAN_EVERY));
            tokio::select! {
                () = cancel.cancelled() => return,
                changed = self.settings.changed(), if watching => {
                    // The sender lives as long as the daemon; without it, only time passes.
                    watching = changed.is_ok();
                }
                () = tokio::time::sleep(wait) => {}
            }
        }
    }
}

/// The PostgreSQL database `storage` names, for a connection of the backup's own.
fn postgres(storage: &StorageSettings) -> signet_model::Result<Option<PgConfig>> {
    match (storage.backend, &storage.url) {
        (StorageBackend::Postgres, Some(url)) => Ok(Some(PgConfig {
            url: DatabaseUrl::parse(url.expose())?,
            pool: 1,
            schema: storage.schema.clone(),
        })),
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use signet_core::config::BackupSchedule;

    fn worker(schedule: BackupSchedule) -> (BackupWorker, BackupSettings) {
        let mut settings = Settings::default();
        settings.backup.schedule = schedule;
        let backup = settings.backup.clone();
        let (_tx, rx) = watch::channel(Arc::new(settings));
        let mut w = BackupWorker::new(PathBuf::from("/ws"), rx);
        w.started = Instant::now()
            .checked_sub(STARTUP_DELAY)
            .unwrap_or_else(Instant::now);
        (w, backup)
    }

    #[test]
    fn due_now_when_overdue_later_after_a_success_and_never_in_a_loop_after_failures() {
        let hour = Duration::from_secs(3600);
        let now = Utc::now();
        let (off, settings) = worker(BackupSchedule::Off);
        assert_eq!(off.due_in(&settings, now), None);

        let (w, settings) = worker(BackupSchedule::Every(hour));
        assert_eq!(w.due_in(&settings, now), Some(Duration::ZERO), "none yet");
        let ten_minutes_ago = now - chrono::Duration::minutes(10);
        w.monitor.update(|s| {
            s.last_good = Some((ten_minutes_ago, PathBuf::from("/b/x")));
            s.last_attempt_at = Some(ten_minutes_ago);
        });
        let due = w.due_in(&settings, now).unwrap();
        assert_eq!(due.as_secs().div_ceil(60), 50, "{due:?}");

        // A failure now, with an old good backup: retried after RETRY_AFTER, not at once.
        w.monitor.update(|s| {
            s.last_good = Some((now - chrono::Duration::days(3), PathBuf::from("/b/x")));
            s.last_attempt_at = Some(now);
            s.last_error = Some("disk full".into());
        });
        let due = w.due_in(&settings, now).unwrap();
        assert_eq!(due.as_secs().div_ceil(60), 15, "{due:?}");
    }

    #[test]
    fn start_up_is_given_a_moment() {
        let (mut w, settings) = worker(BackupSchedule::Every(Duration::from_secs(3600)));
        w.started = Instant::now();
        let due = w.due_in(&settings, Utc::now()).unwrap();
        assert!(due > Duration::ZERO && due <= STARTUP_DELAY, "{due:?}");
    }
}
