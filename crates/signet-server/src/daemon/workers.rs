//! The daemon's own workers (the services' workers live in `signet_core`): the database health
//! probe, the background WAL checkpointer, the policy forwarder and ([`backup`]) the
//! scheduled backups. Each does one unit of work
//! per `tick()`, which tests call directly, and loops in `run(cancel)` until cancelled; the
//! daemon spawns `run` on its `TaskTracker`.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use signet_core::config::Settings;
use signet_core::events::{Event, HealthEvent};
use signet_core::memory::{Extraction, MemoryPolicy};
use signet_model::Lifecycle;
use tokio::sync::watch;
use tokio::time::{Interval, MissedTickBehavior};
use tokio_util::sync::CancellationToken;

use crate::state::AppState;

pub mod backup;
pub mod peer_sync;

/// How often the health worker probes the database.
pub const HEALTH_PROBE_EVERY: Duration = Duration::from_secs(5);
/// How often the WAL is checkpointed in the background (while it changes).
pub const CHECKPOINT_EVERY: Duration = Duration::from_millis(500);
/// How often the WAL is checkpointed even though it looks unchanged: a checkpoint that readers
/// held back, or a write within one tick of the file clock, is finished by then. While this
/// process writes nothing, this is also how often the log file is looked at for another
/// process's writes.
pub const CHECKPOINT_AT_LEAST_EVERY: Duration = Duration::from_secs(10);
/// WAL size above which the background checkpoint truncates it.
pub const WAL_TRUNCATE_BYTES: u64 = 64 * 1024 * 1024;

/// Runs `tick` at each beat of `every` (the first at once) until `cancel` fires.
async fn on_every_tick<F: Future>(
    mut every: Interval,
    cancel: &CancellationToken,
    mut tick: impl FnMut() -> F,
) {
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = every.tick() => {
                tick().await;
            }
        }
    }
}

/// Keeps `AppState::db_ok` fresh so `/health` never queues behind the read pool, and
/// publishes a health event when it changes.
pub struct HealthProbe {
    state: AppState,
}

impl HealthProbe {
    pub fn new(state: AppState) -> Self {
        Self { state }
    }

    /// Pings the database and records the answer; a change is logged and published.
    /// Returns whether the database answered.
    pub async fn tick(&self) -> bool {
        let ok = self.state.memories().ping().await;
        if ok != self.state.db_ok() {
            tracing::warn!(target: "daemon", db_ok = ok, "database health changed");
            self.state
                .memories()
                .events()
                .publish(Event::Health(HealthEvent {
                    status: if ok { "healthy" } else { "degraded" }.into(),
                    db: ok,
                    timestamp: signet_model::time::now_iso(),
                }));
        }
        self.state.set_db_ok(ok);
        ok
    }

    /// Probes at once, then every [`HEALTH_PROBE_EVERY`], until `cancel` fires.
    pub async fn run(self, cancel: CancellationToken) {
        let every = tokio::time::interval(HEALTH_PROBE_EVERY);
        on_every_tick(every, &cancel, || self.tick()).await;
    }
}

/// Copies the WAL into the database file off the write path (commits never fsync), and
/// truncates it when it grows past a limit ([`WAL_TRUNCATE_BYTES`] in the daemon).
///
/// An idle daemon's WAL does not change, so `run` checkpoints only when the log file's size or
/// modification time moved since the last checkpoint (or [`CHECKPOINT_AT_LEAST_EVERY`] has
/// passed): no thread hop, lock or `PRAGMA` twice a second for nothing. When the store counts
/// its writes ([`Lifecycle::writes`]) and none ended since the last checkpoint, a beat does
/// not even look at the file: only every [`CHECKPOINT_AT_LEAST_EVERY`], for another process's
/// writes, and one more checkpoint then finishes whatever readers held back. An idle daemon
/// then makes no system call for the WAL between those looks, and runs no `PRAGMA` at all.
pub struct WalCheckpointer {
    store: Arc<dyn Lifecycle>,
    /// WAL size in bytes above which a checkpoint truncates it.
    truncate_above: u64,
    /// The log file whose changes `run` watches (`None`: checkpoint at every beat).
    wal: Option<PathBuf>,
    /// The log file as it was just before the last checkpoint, and when that was.
    last: Option<(WalStamp, Instant)>,
    /// The store's write count at the last checkpoint, and whether a checkpoint has run since
    /// with none in between (so nothing can be left to copy).
    writes: Option<(u64, bool)>,
    /// When the log file was last looked at while the store was idle.
    looked: Option<Instant>,
}

/// What tells a changed log file: its size, its modification time, and its header (a new
/// salt each time SQLite restarts the log from the top, which keeps the size).
type WalStamp = Option<(u64, SystemTime, [u8; 32])>;

impl WalCheckpointer {
    pub fn new(store: Arc<dyn Lifecycle>, truncate_above: u64) -> Self {
        Self {
            store,
            truncate_above,
            wal: None,
            last: None,
            writes: None,
            looked: None,
        }
    }

    /// Checkpoints in `run` only when `wal`, the store's log file, changed.
    pub fn watching(mut self, wal: PathBuf) -> Self {
        self.wal = Some(wal);
        self
    }

    fn stamp(&self) -> WalStamp {
        use std::io::Read as _;
        // An open, a `statx` and a 32-byte read of a local file: cheaper than the hop to the
        // blocking pool, the locks and the `PRAGMA` they save.
        let mut file = std::fs::File::open(self.wal.as_ref()?).ok()?;
        let meta = file.metadata().ok()?;
        let mut header = [0u8; 32];
        file.read_exact(&mut header).ok()?;
        Some((meta.len(), meta.modified().ok()?, header))
    }

    /// Whether a checkpoint is due: the log changed since the last one, or it is
    /// [`CHECKPOINT_AT_LEAST_EVERY`] old. Returns the stamp to record if one runs.
    fn due(&mut self, now: Instant) -> Option<WalStamp> {
        if let (Some((at_last, settled)), Some(writes), Some((_, at))) =
            (self.writes, self.store.writes(), &self.last)
            && at_last == writes
        {
            // Nothing of ours since the last checkpoint: only the periodic look remains.
            let since = self.looked.unwrap_or(*at);
            if now.duration_since(since) < CHECKPOINT_AT_LEAST_EVERY {
                return None;
            }
            self.looked = Some(now);
            if settled {
                // Only another process can have changed the log.
                let stamp = self.stamp();
                let seen = self.last.as_ref().map(|(s, _)| s);
                return (stamp.is_none() || seen != Some(&stamp)).then_some(stamp);
            }
        }
        let stamp = self.stamp();
        match &self.last {
            Some((seen, at)) if self.wal.is_some() && *seen == stamp && stamp.is_some() => {
                (now.duration_since(*at) >= CHECKPOINT_AT_LEAST_EVERY).then_some(stamp)
            }
            _ => Some(stamp),
        }
    }

    /// One checkpoint on the checkpoint connection: the WAL's frames before it, or `None`
    /// when it was skipped (a busy database is tried again at the next tick).
    pub async fn tick(&self) -> Option<i64> {
        let (store, limit) = (self.store.clone(), self.truncate_above);
        let res = tokio::task::spawn_blocking(move || store.housekeep(limit)).await;
        match res {
            Ok(Ok(frames)) => Some(frames),
            Ok(Err(e)) => {
                tracing::debug!(target: "daemon", error = %e, "background checkpoint skipped");
                None
            }
            Err(_) => None,
        }
    }

    /// Checkpoints at each beat of [`CHECKPOINT_EVERY`] that finds the log changed (see
    /// [`Self::watching`]), until `cancel` fires.
    pub async fn run(mut self, cancel: CancellationToken) {
        let mut every = tokio::time::interval(CHECKPOINT_EVERY);
        every.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = cancel.cancelled() => return,
                _ = every.tick() => {
                    self.beat(Instant::now()).await;
                }
            }
        }
    }

    /// One beat of `run`: a checkpoint if one is due. Returns whether it ran and succeeded.
    pub async fn beat(&mut self, now: Instant) -> bool {
        let Some(stamp) = self.due(now) else {
            return false;
        };
        // Read before the checkpoint: a write racing it counts as one after it.
        let writes = self.store.writes();
        let done = self.tick().await.is_some();
        if done {
            // Settled: neither this process nor another wrote since the last checkpoint, so
            // this one copied whatever that one had to leave.
            let same_file = self.last.as_ref().is_some_and(|(s, _)| *s == stamp);
            let ours_before = self.writes.map(|(w, _)| w);
            self.writes = writes.map(|w| (w, same_file && ours_before == Some(w)));
            // Stamped before the checkpoint: a write racing it shows as a change next beat.
            self.last = Some((stamp, now));
            self.looked = None;
        }
        done
    }
}

/// Publishes the memory policy whenever the settings change (the config watcher publishes
/// settings; the memory services read the policy), or when the pipeline finds its provider
/// unusable (then remember queues no extraction work, and says why).
pub struct PolicyForwarder {
    settings: watch::Receiver<Arc<Settings>>,
    extraction_off: watch::Receiver<Option<String>>,
    policy: watch::Sender<Arc<MemoryPolicy>>,
}

impl PolicyForwarder {
    pub fn new(
        settings: watch::Receiver<Arc<Settings>>,
        extraction_off: watch::Receiver<Option<String>>,
        policy: watch::Sender<Arc<MemoryPolicy>>,
    ) -> Self {
        Self {
            settings,
            extraction_off,
            policy,
        }
    }

    /// The policy of `settings`, with extraction off when the provider is unusable.
    pub fn derive(settings: &Settings, extraction_off: Option<&str>) -> MemoryPolicy {
        let mut p = MemoryPolicy::from(settings);
        if let (Some(reason), true) = (extraction_off, p.extraction.enqueues()) {
            p.extraction = Extraction::Off(reason.to_owned());
        }
        p
    }

    /// Derives the policy from the settings in force and publishes it if it differs from the
    /// current one. Returns whether a new policy was published.
    pub fn tick(&mut self) -> bool {
        let off = self.extraction_off.borrow_and_update().clone();
        let next = Self::derive(self.settings.borrow_and_update().as_ref(), off.as_deref());
        self.policy.send_if_modified(|cur| {
            let differs = **cur != next;
            if differs {
                *cur = Arc::new(next.clone());
            }
            differs
        })
    }

    /// Forwards every change until `cancel` fires or the settings sender is gone.
    pub async fn run(mut self, cancel: CancellationToken) {
        loop {
            tokio::select! {
                _ = cancel.cancelled() => return,
                changed = self.settings.changed() => {
                    if changed.is_err() {
                        return;
                    }
                    self.tick();
                }
                changed = self.extraction_off.changed() => {
                    if changed.is_err() {
                        return;
                    }
                    self.tick();
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
