//! The `backup` section of `agent.yaml`: scheduled backups run by the daemon's backup worker
//! (`schedule`, `dir`, `keep`). Applied live: the worker reads the settings in force before
//! every wait, so a changed schedule or folder takes effect without a restart.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Serialize, Serializer};

use super::ConfigError;
use super::section::Section;

/// The shortest schedule accepted: a snapshot reads the whole database.
pub const MIN_INTERVAL: Duration = Duration::from_secs(5 * 60);
/// Backup folders kept by default.
pub const DEFAULT_KEEP: u32 = 7;
/// The backup folder, relative to the workspace, when `backup.dir` is not set.
pub const DEFAULT_DIR: &str = ".daemon/backups";

/// Scheduled backups (`backup`). No section means no scheduled backups.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BackupSettings {
    /// How often the worker takes a backup (`backup.schedule`).
    pub schedule: BackupSchedule,
    /// Where the backup folders go (`backup.dir`; relative to the workspace when relative);
    /// `None` is [`DEFAULT_DIR`] in the workspace.
    pub dir: Option<PathBuf>,
    /// How many backup folders the worker keeps (`backup.keep`, 1 to 10000).
    pub keep: u32,
}

impl Default for BackupSettings {
    fn default() -> Self {
        Self {
            schedule: BackupSchedule::Off,
            dir: None,
            keep: DEFAULT_KEEP,
        }
    }
}

/// `backup.schedule`: `off`, or the interval between backups.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BackupSchedule {
    Off,
    Every(Duration),
}

impl BackupSchedule {
    /// The interval, unless off.
    pub fn interval(self) -> Option<Duration> {
        match self {
            Self::Off => None,
            Self::Every(every) => Some(every),
        }
    }

    /// `off`, or the interval in its largest whole unit (`1h`, `6h`, `1d`, `7d`, `90m`).
    pub fn as_text(self) -> String {
        let Self::Every(every) = self else {
            return "off".to_owned();
        };
        let secs = every.as_secs();
        match secs {
            s if s % 86_400 == 0 => format!("{}d", s / 86_400),
            s if s % 3_600 == 0 => format!("{}h", s / 3_600),
            s if s % 60 == 0 => format!("{}m", s / 60),
            s => format!("{s}s"),
        }
    }

    /// Parses `hourly | daily | weekly | off` or `<n><s|m|h|d|w>`; `None` when it is neither.
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim().to_ascii_lowercase();
        let secs = match text.as_str() {
            "off" | "none" | "never" => return Some(Self::Off),
            "hourly" => 3_600,
            "daily" => 86_400,
            "weekly" => 7 * 86_400,
            _ => {
                let unit_at = text.find(|c: char| !c.is_ascii_digit())?;
                let (n, unit) = text.split_at(unit_at);
                let n: u64 = n.parse().ok()?;
                let scale = match unit.trim() {
                    "s" => 1,
                    "m" => 60,
                    "h" => 3_600,
                    "d" => 86_400,
                    "w" => 7 * 86_400,
                    _ => return None,
                };
                n.checked_mul(scale)?
            }
        };
        Some(Self::Every(Duration::from_secs(secs)))
    }
}

impl Serialize for BackupSchedule {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.as_text())
    }
}

impl BackupSettings {
    pub(crate) fn parse(s: &Section<'_>) -> Result<Self, ConfigError> {
        let d = Self::default();
        // YAML 1.1 reads a bare `off` as `false`.
        let schedule = match s.raw("schedule") {
            Some(serde_json::Value::Bool(false)) => BackupSchedule::Off,
            _ => match s.string("schedule")? {
                None => d.schedule,
                Some(text) => parse_schedule(s, &text)?,
            },
        };
        let dir = match s.string("dir")? {
            Some(text) if text.is_empty() => {
                return Err(s.invalid("dir", "must not be empty (omit it for the default)"));
            }
            Some(text) => Some(PathBuf::from(text)),
            None => None,
        };
        Ok(Self {
            schedule,
            dir,
            keep: s.int("keep", 1..=10_000)?.unwrap_or(d.keep),
        })
    }

    /// The backup folder of `workspace` under these settings.
    pub fn dir_in(&self, workspace: &Path) -> PathBuf {
        Self::resolve_dir(self.dir.as_deref(), workspace)
    }

    /// `dir` resolved against `workspace` (absolute stays, relative joins the workspace, none
    /// is [`DEFAULT_DIR`]).
    pub fn resolve_dir(dir: Option<&Path>, workspace: &Path) -> PathBuf {
        match dir {
            Some(dir) => workspace.join(dir),
            None => workspace.join(DEFAULT_DIR),
        }
    }
}

fn parse_schedule(s: &Section<'_>, text: &str) -> Result<BackupSchedule, ConfigError> {
    let parsed = BackupSchedule::parse(text).ok_or_else(|| {
        s.invalid(
            "schedule",
            format!(
                "{text:?} is not a schedule: use hourly, daily, weekly, off, or an interval \
                 such as 30m, 6h, 1d"
            ),
        )
    })?;
    match parsed.interval() {
        Some(every) if every < MIN_INTERVAL => Err(s.invalid(
            "schedule",
            format!("{text:?} is too often: the shortest schedule is 5m"),
        )),
        _ => Ok(parsed),
    }
}

#[cfg(test)]
mod tests {
    use super::BackupSchedule;
    use std::time::Duration;

    #[test]
    fn schedules_parse_and_print_in_their_largest_unit() {
        let every = |s| BackupSchedule::Every(Duration::from_secs(s));
        for (text, parsed, printed) in [
            ("hourly", every(3_600), "1h"),
            ("Daily", every(86_400), "1d"),
            ("weekly", every(604_800), "7d"),
            ("off", BackupSchedule::Off, "off"),
            ("30m", every(1_800), "30m"),
            ("6h", every(21_600), "6h"),
            ("90m", every(5_400), "90m"),
            ("1d", every(86_400), "1d"),
            ("2w", every(1_209_600), "14d"),
            ("301s", every(301), "301s"),
        ] {
            assert_eq!(BackupSchedule::parse(text), Some(parsed), "{text}");
            assert_eq!(parsed.as_text(), printed, "{text}");
        }
        for bad in [
            "",
            "6",
            "h",
            "6x",
            "six hours",
            "-1h",
            "99999999999999999999d",
        ] {
            assert_eq!(BackupSchedule::parse(bad), None, "{bad}");
        }
    }
}
