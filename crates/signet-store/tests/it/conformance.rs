//! signet-model's conformance suite against the SQLite [`Store`]: one `#[test]` per rule of the
//! store contract, each on a fresh database file in its own temporary directory.

use signet_model::conformance::{Fixtures, Harness};
use signet_store::{Lifecycle, MaintenanceStore, MemoryStore, Store};
use tempfile::TempDir;

/// A fresh store over a temporary file; the directory goes when the test ends.
struct TempStore {
    store: Store,
    _dir: TempDir,
}

fn fresh() -> TempStore {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("memory").join("memories.db"), 2).unwrap();
    TempStore { store, _dir: dir }
}

impl Harness for TempStore {
    fn memory(&self) -> &dyn MemoryStore {
        &self.store
    }
    fn maintenance(&self) -> &dyn MaintenanceStore {
        &self.store
    }
    fn lifecycle(&self) -> &dyn Lifecycle {
        &self.store
    }
}

impl Fixtures for TempStore {
    fn kill_jobs(&self, now: &str) {
        let now = now.to_owned();
        self.store
            .pool()
            .write(move |tx| {
                tx.execute(
                    "UPDATE memory_jobs SET status = 'dead', failed_at = ?1, updated_at = ?1",
                    [&now],
                )?;
                Ok(())
            })
            .unwrap();
    }
}

signet_model::conformance_tests!(fresh());
