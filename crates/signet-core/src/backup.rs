//! Scheduled backups, as diagnostics sees them: [`BackupMonitor`], the state the daemon's
//! backup worker keeps (what it found in the backup folder, its last attempt and error), and
//! [`domain`], which scores that state into the report's `backup` domain. The worker itself
//! lives in `signet_server::daemon::workers::backup` (it needs the SQLite snapshot); the
//! schedule is `config::BackupSettings`. No I/O here.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use signet_api::Extra;
use signet_api::diagnostics::{BackupDomain, DomainStatus};

use crate::config::BackupSettings;

/// What is known about the backup folder and the worker's runs.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BackupState {
    /// The folder the worker looked at last.
    pub dir: PathBuf,
    /// Backup folders found there.
    pub count: usize,
    /// The newest finished backup (with a manifest): when it was taken, and its folder.
    pub last_good: Option<(DateTime<Utc>, PathBuf)>,
    /// When the worker last tried a backup.
    pub last_attempt_at: Option<DateTime<Utc>>,
    /// Why that attempt failed; cleared by the next success.
    pub last_error: Option<String>,
}

/// The backup worker's state, shared with diagnostics and `/metrics`. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct BackupMonitor {
    state: Arc<Mutex<BackupState>>,
}

impl BackupMonitor {
    /// A monitor that starts out knowing `state`.
    pub fn new(state: BackupState) -> Self {
        Self {
            state: Arc::new(Mutex::new(state)),
        }
    }

    /// A copy of the state now.
    pub fn get(&self) -> BackupState {
        self.state.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Changes the state in place.
    pub fn update(&self, f: impl FnOnce(&mut BackupState)) {
        f(&mut self.state.lock().unwrap_or_else(|p| p.into_inner()));
    }
}

/// The `backup` domain for `settings` and `state` at `now`: `disabled` without a schedule,
/// `degraded` when the last attempt failed or the last good backup is older than twice the
/// interval (or there is none yet and an attempt was made), else `healthy`.
pub fn domain(settings: &BackupSettings, state: &BackupState, now: DateTime<Utc>) -> BackupDomain {
    let interval = settings.schedule.interval();
    let age = state
        .last_good
        .as_ref()
        .map(|(at, _)| (now - *at).num_seconds().max(0));
    let (status, note) = match interval {
        None => (
            DomainStatus::Disabled,
            Some("no scheduled backups (set backup.schedule in agent.yaml)".to_owned()),
        ),
        Some(every) => {
            let limit = i64::try_from(every.as_secs().saturating_mul(2)).unwrap_or(i64::MAX);
            let overdue = match age {
                Some(age) => age > limit,
                None => state.last_attempt_at.is_some(),
            };
            if state.last_error.is_some() {
                (
                    DomainStatus::Degraded,
                    Some("the last scheduled backup failed".to_owned()),
                )
            } else if overdue {
                (
                    DomainStatus::Degraded,
                    Some("the last good backup is older than twice the schedule".to_owned()),
                )
            } else if age.is_none() {
                (
                    DomainStatus::Healthy,
                    Some("the first scheduled backup is pending".to_owned()),
                )
            } else {
                (DomainStatus::Healthy, None)
            }
        }
    };
    let iso = |t: &DateTime<Utc>| signet_model::time::format_iso(*t);
    BackupDomain {
        schedule: settings.schedule.as_text(),
        interval_seconds: interval.map(|i| i.as_secs()),
        dir: state.dir.display().to_string(),
        keep: settings.keep,
        count: state.count,
        last_backup_at: state.last_good.as_ref().map(|(at, _)| iso(at)),
        last_backup: state
            .last_good
            .as_ref()
            .map(|(_, p)| p.display().to_string()),
        age_seconds: age,
        last_attempt_at: state.last_attempt_at.as_ref().map(iso),
        last_error: state.last_error.clone(),
        note,
        score: match status {
            DomainStatus::Disabled => None,
            DomainStatus::Healthy => Some(1.0),
            _ => Some(0.5),
        },
        status,
        extra: Extra::new(),
    }
}

/// The advice for a `backup` domain that needs attention.
pub fn advice(d: &BackupDomain) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(e) = &d.last_error {
        out.push(format!(
            "the last scheduled backup failed ({e}): fix backup.dir ({}) or its permissions; \
             the daemon retries on its own, or run `signet backup` to check",
            d.dir
        ));
    } else {
        out.push(format!(
            "the last good backup in {} is older than twice backup.schedule ({}): check the \
             daemon's log (target backup) or run `signet backup`",
            d.dir, d.schedule
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::BackupSchedule;
    use std::time::Duration;

    fn hourly() -> BackupSettings {
        BackupSettings {
            schedule: BackupSchedule::Every(Duration::from_secs(3600)),
            ..BackupSettings::default()
        }
    }

    #[test]
    fn no_schedule_is_disabled_and_still_counts() {
        let now = Utc::now();
        let state = BackupState {
            count: 3,
            last_good: Some((now - chrono::Duration::days(30), PathBuf::from("/b/x"))),
            ..BackupState::default()
        };
        let d = domain(&BackupSettings::default(), &state, now);
        assert_eq!(
            (d.status, d.score, d.count),
            (DomainStatus::Disabled, None, 3)
        );
        assert_eq!(d.schedule, "off");
        assert_eq!(d.age_seconds, Some(30 * 86_400));
    }

    #[test]
    fn age_past_twice_the_interval_or_a_failure_degrades() {
        let now = Utc::now();
        let at = |secs| Some((now - chrono::Duration::seconds(secs), PathBuf::from("/b/x")));
        let fresh = BackupState {
            last_good: at(5000),
            ..BackupState::default()
        };
        assert_eq!(domain(&hourly(), &fresh, now).status, DomainStatus::Healthy);
        let old = BackupState {
            last_good: at(7300),
            ..BackupState::default()
        };
        let d = domain(&hourly(), &old, now);
        assert_eq!((d.status, d.score), (DomainStatus::Degraded, Some(0.5)));
        assert!(advice(&d)[0].contains("older than twice"));
        let failed = BackupState {
            last_error: Some("permission denied".into()),
            last_attempt_at: Some(now),
            ..fresh
        };
        let d = domain(&hourly(), &failed, now);
        assert_eq!(d.status, DomainStatus::Degraded);
        assert!(advice(&d)[0].contains("permission denied"));
        let pending = domain(&hourly(), &BackupState::default(), now);
        assert_eq!(pending.status, DomainStatus::Healthy);
        assert!(pending.note.unwrap().contains("pending"));
    }
}
