//! [`Pool`]: a fixed number of client connections shared by the store's callers. A caller
//! takes one (waiting while all are busy), runs its statements or one transaction, and gives
//! it back. A connection found closed (server restart, network cut) is dropped and reopened
//! on its next use, so one failure never poisons the pool.
//!
//! Why not deadpool or r2d2: the store is synchronous and needs exactly this — N slots, a
//! Mutex and a Condvar, like the SQLite pool's readers — and every slot is one `postgres`
//! client with its own small runtime.

use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::Duration;

use postgres::{Client, NoTls, Transaction};
use signet_model::{Result, StoreError};

use crate::error::PgResultExt;

/// How long a caller waits for a free connection before the store reports `Busy`.
const CHECKOUT_TIMEOUT: Duration = Duration::from_secs(30);

/// N connections to one database, each opened with the same configuration.
pub struct Pool {
    /// How every connection is opened (password resolved, search_path set).
    config: postgres::Config,
    /// The idle slots; `None` is a slot whose connection must be (re)opened before use.
    idle: Mutex<Vec<Option<Client>>>,
    /// Signalled whenever a slot is given back.
    returned: Condvar,
    /// The number of slots (idle + in use).
    size: usize,
}

impl Pool {
    /// Opens `size` (at least 1) connections now, so a wrong URL or password fails at start.
    pub fn open(config: postgres::Config, size: usize) -> Result<Self> {
        let size = size.max(1);
        let mut idle = Vec::with_capacity(size);
        for _ in 0..size {
            idle.push(Some(config.connect(NoTls).pg()?));
        }
        Ok(Self {
            config,
            idle: Mutex::new(idle),
            returned: Condvar::new(),
            size,
        })
    }

    /// How every connection is opened (for a dedicated one, such as a listener).
    pub(crate) fn config(&self) -> &postgres::Config {
        &self.config
    }

    /// How many connections the pool holds.
    pub fn size(&self) -> usize {
        self.size
    }

    /// Runs `f` on one connection (statements outside a transaction: each is its own).
    pub fn with<T>(&self, f: impl FnOnce(&mut Client) -> Result<T>) -> Result<T> {
        let mut slot = self.checkout()?;
        let out = f(slot.client());
        slot.done();
        out
    }

    /// Runs `f` in one transaction: committed when `f` returns `Ok`, rolled back otherwise.
    pub fn tx<T>(&self, f: impl FnOnce(&mut Transaction<'_>) -> Result<T>) -> Result<T> {
        self.with(|client| {
            let mut tx = client.transaction().pg()?;
            let out = f(&mut tx)?;
            tx.commit().pg()?;
            Ok(out)
        })
    }

    fn lock(&self) -> MutexGuard<'_, Vec<Option<Client>>> {
        // A panic while the lock was held cannot leave the Vec inconsistent: take it anyway.
        self.idle.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn checkout(&self) -> Result<Slot<'_>> {
        let mut idle = self.lock();
        loop {
            if let Some(slot) = idle.pop() {
                drop(idle);
                return self.ready(slot);
            }
            let (guard, timeout) = self
                .returned
                .wait_timeout(idle, CHECKOUT_TIMEOUT)
                .unwrap_or_else(|p| p.into_inner());
            idle = guard;
            if timeout.timed_out() && idle.is_empty() {
                return Err(StoreError::Busy);
            }
        }
    }

    /// A slot with an open connection: the one it had, or a new one.
    fn ready(&self, slot: Option<Client>) -> Result<Slot<'_>> {
        let client = match slot {
            Some(c) if !c.is_closed() => c,
            _ => match self.config.connect(NoTls).pg() {
                Ok(c) => c,
                Err(e) => {
                    self.give_back(None);
                    return Err(e);
                }
            },
        };
        Ok(Slot {
            pool: self,
            client: Some(client),
        })
    }

    fn give_back(&self, client: Option<Client>) {
        let client = client.filter(|c| !c.is_closed());
        self.lock().push(client);
        self.returned.notify_one();
    }
}

/// Closing a client blocks on its own small runtime, which panics on an async runtime's
/// thread; the last owner of a store may well be an async task (the daemon's state), so the
/// clients close on a thread of their own.
impl Drop for Pool {
    fn drop(&mut self) {
        let clients = std::mem::take(&mut *self.lock());
        if clients.iter().all(Option::is_none) {
            return;
        }
        let closing = std::thread::Builder::new()
            .name("signet-pg-close".into())
            .spawn(move || drop(clients));
        if let Err(e) = closing {
            tracing::warn!(target: "store", error = %e, "closing the PostgreSQL connections");
        }
    }
}

/// A connection taken from the pool; given back when dropped (also on a panic).
struct Slot<'a> {
    pool: &'a Pool,
    client: Option<Client>,
}

impl Slot<'_> {
    fn client(&mut self) -> &mut Client {
        self.client
            .as_mut()
            .expect("a slot holds its client until dropped")
    }

    fn done(self) {}
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        self.pool.give_back(self.client.take());
    }
}
