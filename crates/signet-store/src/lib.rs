//! signet-store: the SQLite side of the daemon.
//!
//! Owns the database file `memory/memories.db`: opening it (WAL, pragmas), the numbered
//! migrations embedded in the binary, and the repositories that read and write rows. It knows
//! nothing about HTTP or configuration files.
//!
//! Threading: every method blocks. The async layers above call it from `spawn_blocking`.
//! There is one writer connection (serialised by a mutex) and a small pool of read-only
//! connections, so reads never wait on writes (WAL).
//!
//! The narrow interface the rest of the daemon uses is the [`MemoryStore`] trait; [`Store`] is
//! its SQLite implementation. A second backend (PostgreSQL) implements the same trait.

#![forbid(unsafe_code)]

mod error;
pub mod keyword;
mod pool;
pub mod schema;

pub use error::{Result, StoreError};
pub use keyword::{Connective, KeywordQuery};
pub use pool::Pool;
pub mod maintenance;
pub mod memories;
mod store;
pub mod time;

pub use maintenance::MaintenanceStore;
pub use store::{JsonRow, MemoryStore, Store};
