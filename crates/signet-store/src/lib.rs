//! signet-store: the SQLite backend of the daemon's storage.
//!
//! Owns the database file `memory/memories.db`: opening it (WAL, pragmas), the numbered
//! migrations embedded in the binary, and the repositories that read and write rows. It knows
//! nothing about HTTP or configuration files.
//!
//! Threading: every method blocks. The async layers above call it from `spawn_blocking`.
//! There is one writer connection (serialised by a mutex) and a small pool of read-only
//! connections, so reads never wait on writes (WAL).
//!
//! The interfaces the rest of the daemon uses, [`MemoryStore`], [`MaintenanceStore`],
//! [`DocumentStore`] (documents and the job queue) and [`PipelineStore`] (the extraction and
//! summary writes, the graph, the LLM ledger), and the domain types they speak live in
//! `signet-model`, which a second backend (PostgreSQL) implements without depending on this
//! crate; [`Store`] is their SQLite implementation, and
//! `tests/it/conformance.rs` runs signet-model's conformance suite against it. Every moved item
//! is re-exported here at its old path (`signet_store::memories::NewMemory`,
//! `signet_store::maintenance::RepairAudit`, `signet_store::time`, ...). What only SQLite needs
//! stays here: the FTS5 rendering of a keyword query ([`keyword::fts5`]), the SQL of every
//! filter, the pool and the schema.
//!
//! [`backup`] takes a consistent copy of the live database file and checks copies (what
//! `signet backup` and `signet restore` call); it needs no [`Store`].

#![forbid(unsafe_code)]

pub mod backup;
mod documents;
mod error;
mod export;
mod fulltext;
pub mod keyword;
mod pool;
mod row;
pub mod schema;

pub use error::{Result, StoreError};
pub use keyword::{Connective, KeywordQuery};
pub use pool::Pool;
pub mod maintenance;
pub mod memories;
mod pipeline;
mod store;
pub mod time;

pub use maintenance::MaintenanceStore;
pub use signet_model::{
    Backend, DocumentStore, JobQueue, JsonRow, Lifecycle, MemoryStore, PipelineStore,
};
pub use store::Store;
