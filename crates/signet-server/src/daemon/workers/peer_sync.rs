//! [`PeerSync`]: on a database several daemons share (PostgreSQL), this node follows the
//! others' writes through the store's change feed ([`ChangeFeed`]): its in-memory vector
//! index gains, drops or replaces their memories' vectors, and its event bus publishes their
//! `memory.*` events, so `/sse` subscribers here see every node's writes.
//!
//! One blocking thread (the feed and the listener are synchronous clients): a dedicated
//! connection does `LISTEN signet_changes`; every notification from another node, and at least
//! every [`POLL_EVERY`] whatever arrives, reads the changes after the cursor ([`PeerSync::tick`]).
//! The poll covers lost notifications: a dropped listening connection is opened again with a
//! backoff ([`BACKOFF_MIN`] doubling to [`BACKOFF_MAX`]) and nothing is missed, since the cursor
//! is in the database's sequence, not in the notifications. This node's own changes are
//! skipped (the memory service applied them when it made them). Every [`PRUNE_EVERY`] the
//! changes older than [`KEEP`] are deleted; a node whose cursor fell behind them reloads its
//! whole index (their events are lost).

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use signet_api::PeerSyncSection;
use signet_core::events::{Event, MemoryEvent};
use signet_core::memory::Memories;
use signet_model::{ChangeFeed, ChangeKind, ChangeListener, MemoryChange, MemoryStore};
use tokio_util::sync::CancellationToken;

/// The longest a change waits when its notification was lost.
pub const POLL_EVERY: Duration = Duration::from_secs(2);
/// How long one wait for notifications lasts (and so how soon cancellation is seen).
const WAIT_STEP: Duration = Duration::from_millis(250);
/// The first wait before opening a dropped listening connection again.
pub const BACKOFF_MIN: Duration = Duration::from_millis(500);
/// The longest wait between attempts to open it.
pub const BACKOFF_MAX: Duration = Duration::from_secs(30);
/// Changes read per page.
const PAGE: usize = 500;
/// How often this node prunes the change sequence.
pub const PRUNE_EVERY: Duration = Duration::from_secs(600);
/// How long changes are kept: a node's listener may be cut off this long and still catch up.
pub const KEEP: Duration = Duration::from_secs(24 * 3600);

/// What `/api/status` shows of the sync (`storage.sync`); shared with the worker.
#[derive(Debug, Default)]
pub struct PeerSyncStatus {
    cursor: AtomicI64,
    listening: AtomicBool,
    notifications: AtomicU64,
    applied: AtomicU64,
    reconnects: AtomicU64,
    reloads: AtomicU64,
}

impl PeerSyncStatus {
    /// The counters now.
    pub fn section(&self) -> PeerSyncSection {
        PeerSyncSection {
            cursor: self.cursor.load(Ordering::Relaxed),
            listening: self.listening.load(Ordering::Relaxed),
            notifications: self.notifications.load(Ordering::Relaxed),
            applied: self.applied.load(Ordering::Relaxed),
            reconnects: self.reconnects.load(Ordering::Relaxed),
            reloads: self.reloads.load(Ordering::Relaxed),
        }
    }
}

/// Follows the other nodes' changes (see the module documentation).
pub struct PeerSync {
    /// The store; its `change_feed()` is `Some` (checked by [`PeerSync::new`]).
    store: Arc<dyn MemoryStore>,
    memories: Memories,
    /// Every change up to here has been applied.
    cursor: i64,
    status: Arc<PeerSyncStatus>,
    last_prune: Instant,
}

impl PeerSync {
    /// A follower from `start` (the feed's head, read before the vector index loaded; a
    /// negative one is read at the first tick), or `None` when the store has no change feed
    /// (SQLite).
    pub fn new(store: Arc<dyn MemoryStore>, memories: Memories, start: i64) -> Option<Self> {
        store.change_feed()?;
        let status = Arc::new(PeerSyncStatus::default());
        status.cursor.store(start, Ordering::Relaxed);
        Some(Self {
            store,
            memories,
            cursor: start,
            status,
            last_prune: Instant::now(),
        })
    }

    /// The counters `/api/status` shows.
    pub fn status(&self) -> Arc<PeerSyncStatus> {
        self.status.clone()
    }

    fn feed(&self) -> &dyn ChangeFeed {
        self.store
            .change_feed()
            .expect("PeerSync::new checked the store has a change feed")
    }

    /// Reads the changes after the cursor (pages until caught up) and applies the other
    /// nodes'. Blocking: call on a blocking thread. Returns how many were applied.
    pub fn tick(&mut self) -> signet_model::Result<usize> {
        if self.cursor < 0 {
            self.cursor = self.feed().head()?;
        }
        let mut applied = 0;
        loop {
            let page = self.feed().changes_after(self.cursor, PAGE)?;
            if page.gap {
                self.reload();
            }
            let full = page.changes.len() == PAGE;
            applied += self.apply(&page.changes);
            self.cursor = page.next;
            self.status.cursor.store(page.next, Ordering::Relaxed);
            if !full {
                return Ok(applied);
            }
        }
    }

    /// Changes were pruned before this node saw them: the index is rebuilt from the data.
    fn reload(&self) {
        tracing::warn!(target: "sync", cursor = self.cursor,
            "changes of other nodes were pruned before this node read them; reloading the vector index (their live events are lost)");
        self.status.reloads.fetch_add(1, Ordering::Relaxed);
        if let Err(e) = self.memories.semantic().reload_index() {
            tracing::warn!(target: "sync", error = %e, "reloading the vector index failed");
        }
    }

    /// Applies a page: the events of other nodes' changes in order, then each memory's last
    /// change to the index (unless this node made it: it is applied already).
    fn apply(&self, changes: &[MemoryChange]) -> usize {
        let own = self.feed().node().to_owned();
        let theirs = |c: &MemoryChange| c.origin.as_deref() != Some(own.as_str());
        let mut last: HashMap<&str, &MemoryChange> = HashMap::new();
        let mut applied = 0;
        for c in changes {
            last.insert(&c.memory_id, c);
            if theirs(c) {
                applied += 1;
                self.publish(c);
            }
        }
        let semantic = self.memories.semantic();
        // With pgvector the database's index already holds every node's vectors.
        if semantic.configured() && !semantic.served_by_store() {
            for (id, c) in last.into_iter().filter(|(_, c)| theirs(c)) {
                match c.kind {
                    ChangeKind::Delete => semantic.remove(id),
                    // Created, changed, recovered, embedded: the current vector if there is
                    // one (a changed memory's old one is stale: it leaves).
                    ChangeKind::Upsert | ChangeKind::Vector => match semantic.vector_of(id) {
                        Ok(Some(_)) => {
                            if let Err(e) = semantic.restore(id) {
                                tracing::warn!(target: "sync", id, error = %e, "indexing a peer's memory");
                            }
                        }
                        Ok(None) => semantic.remove(id),
                        Err(e) => {
                            tracing::warn!(target: "sync", id, error = %e, "reading a peer's vector")
                        }
                    },
                }
            }
        }
        self.status
            .applied
            .fetch_add(applied as u64, Ordering::Relaxed);
        applied
    }

    /// The live event another node published for `c`, published here too.
    fn publish(&self, c: &MemoryChange) {
        let events = self.memories.events();
        let Some(event) = c.event.as_deref() else {
            return;
        };
        if !events.has_subscribers() {
            return;
        }
        let scope = match self.store.memory_scope(&c.memory_id) {
            Ok(Some(s)) => s,
            _ => Default::default(),
        };
        let m = MemoryEvent {
            id: c.memory_id.clone(),
            memory_type: Some(scope.memory_type).filter(|t| !t.is_empty()),
            project: scope.project,
            who: scope.who,
            scope_user: scope.scope_user,
            version: c.version.filter(|_| event != "created"),
            content_changed: c.content_changed,
            timestamp: c.at.clone(),
        };
        events.publish(match event {
            "created" => Event::MemoryCreated(m),
            "deleted" => Event::MemoryDeleted(m),
            "recovered" => Event::MemoryRecovered(m),
            _ => Event::MemoryUpdated(m),
        });
    }

    /// Deletes the changes older than [`KEEP`], every [`PRUNE_EVERY`].
    fn prune_if_due(&mut self) {
        if self.last_prune.elapsed() < PRUNE_EVERY {
            return;
        }
        self.last_prune = Instant::now();
        let before = chrono::Utc::now()
            - chrono::Duration::from_std(KEEP).unwrap_or_else(|_| chrono::Duration::days(1));
        match self.feed().prune(&signet_model::time::format_iso(before)) {
            Ok(n) if n > 0 => tracing::debug!(target: "sync", pruned = n, "change sequence pruned"),
            Ok(_) => {}
            Err(e) => tracing::warn!(target: "sync", error = %e, "pruning the change sequence"),
        }
    }

    /// Follows the feed on a blocking thread until `cancel` fires.
    pub async fn run(self, cancel: CancellationToken) {
        let done = tokio::task::spawn_blocking(move || self.follow(&cancel)).await;
        if let Err(e) = done {
            tracing::error!(target: "sync", error = %e, "the peer sync thread failed");
        }
    }

    /// The loop of [`PeerSync::run`]: listen, read on a notification or a poll, reconnect.
    fn follow(mut self, cancel: &CancellationToken) {
        let mut listener: Option<Box<dyn ChangeListener>> = None;
        let mut opened = 0u64;
        let mut backoff = BACKOFF_MIN;
        let mut retry_at = Instant::now();
        let mut read_at: Option<Instant> = None;
        let mut failing = false;
        while !cancel.is_cancelled() {
            if listener.is_none() && Instant::now() >= retry_at {
                match self.feed().listen() {
                    Ok(l) => {
                        listener = Some(l);
                        if opened > 0 {
                            self.status.reconnects.fetch_add(1, Ordering::Relaxed);
                            tracing::info!(target: "sync", "listening for other nodes' changes again");
                        }
                        opened += 1;
                        backoff = BACKOFF_MIN;
                        self.status.listening.store(true, Ordering::Relaxed);
                        read_at = None; // catch up on what was missed meanwhile
                    }
                    Err(e) => {
                        tracing::warn!(target: "sync", error = %e, retry_in_ms = backoff.as_millis() as u64,
                            "cannot listen for other nodes' changes");
                        retry_at = Instant::now() + backoff;
                        backoff = (backoff * 2).min(BACKOFF_MAX);
                    }
                }
            }
            let woke = match listener.as_mut() {
                Some(l) => match l.wait(WAIT_STEP) {
                    Ok(from) => {
                        let n = from.len() as u64;
                        self.status.notifications.fetch_add(n, Ordering::Relaxed);
                        let own = self.feed().node();
                        from.iter().any(|o| o != own)
                    }
                    Err(e) => {
                        tracing::warn!(target: "sync", error = %e, "the listening connection dropped; polling until it is back");
                        listener = None;
                        self.status.listening.store(false, Ordering::Relaxed);
                        retry_at = Instant::now() + backoff;
                        true
                    }
                },
                None => {
                    std::thread::sleep(WAIT_STEP);
                    false
                }
            };
            if woke || read_at.is_none_or(|t| t.elapsed() >= POLL_EVERY) {
                read_at = Some(Instant::now());
                match self.tick() {
                    Ok(_) => failing = false,
                    Err(e) if !failing => {
                        failing = true;
                        tracing::warn!(target: "sync", error = %e, "reading other nodes' changes failed; retrying");
                    }
                    Err(_) => {}
                }
            }
            self.prune_if_due();
        }
    }
}
