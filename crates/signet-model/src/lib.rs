//! signet-model: the storage domain model, the store interfaces, and the behaviour every
//! backend must show.
//!
//! Owns what the daemon's services and the storage backends exchange, and nothing that belongs
//! to one backend:
//!
//! - [`memories`]: new memories, chunk groups, single-memory [`Mutation`](memories::Mutation)s and
//!   their [`MutationOutcome`](memories::MutationOutcome)s, listings, history, recall rows, filters, batch-forget candidates,
//!   vectors and operational counts;
//! - [`maintenance`]: the counts diagnostics score, repair audits and merges, retention steps;
//! - [`keyword`]: the keyword query as a value ([`KeywordQuery`]), which each backend renders
//!   in its own syntax (FTS5 in signet-store, `tsquery` in a PostgreSQL backend);
//! - [`StoreError`], the one error every backend reports, and [`time`], the timestamp format
//!   stored and compared as text (ISO-8601 UTC with milliseconds);
//! - [`documents`]: documents, their chunks, and the durable job queue ([`JobQueue`]);
//! - [`pipeline`]: what the extraction and summary workers read and write (each job's result
//!   and completion in one transaction), the knowledge graph and the LLM call ledger
//!   ([`PipelineStore`]);
//! - the interfaces: [`MemoryStore`] (memories, search, vectors), [`MaintenanceStore`]
//!   (diagnostics, repairs, retention), [`DocumentStore`] (documents and their ingest jobs)
//!   and [`Lifecycle`] (the migration done at open, the
//!   integrity check, housekeeping, the shutdown flush), together [`Backend`]. Their doc comments are the contract; the
//!   `conformance` suite checks it as behaviour.
//!
//! Threading: none of its own. The traits are synchronous and `Send + Sync`; each method is one
//! transaction. Callers (signet-core) run them on blocking threads, never on the async runtime.
//!
//! Who depends on it: backends implement the traits (`signet-store` for SQLite); `signet-core`
//! speaks the types (today through signet-store's re-exports, which keep every old path).
//!
//! # Features
//!
//! - `conformance`: [`conformance`], one `pub fn` per rule of the contract, plus
//!   [`conformance_tests!`], which turns the whole suite into one `#[test]` per rule for a
//!   backend's fresh-store factory. Backends enable it on their dev-dependency.
//! - `sqlite`: `From<rusqlite::Error> for StoreError`, enabled by signet-store only. The orphan
//!   rule allows that impl only here, now that `StoreError` lives here, and the alternative —
//!   mapping errors explicitly in signet-store — would put a `map_err` (or a private error type
//!   converted at every trait method) on each of its few hundred `?`s over rusqlite results.
//!   The feature keeps those `?`s and the one SQLite error table (busy, constraint, no rows)
//!   where it was, while a crate that does not enable it (a PostgreSQL backend, the core) does
//!   not compile or link rusqlite at all: the dependency is optional, has no `bundled`, and
//!   is pulled in by nobody else. A second backend maps its own client's errors explicitly
//!   (or adds its own feature the same way).

#![forbid(unsafe_code)]

pub mod documents;
mod error;
pub mod export;
pub mod keyword;
mod lifecycle;
pub mod maintenance;
pub mod memories;
pub mod pipeline;
pub mod rules;
pub mod sessions;
mod store;
pub mod tables;
pub mod time;

#[cfg(feature = "conformance")]
pub mod conformance;

pub use documents::{DocumentStore, JobQueue};
pub use error::{Result, StoreError};
pub use export::ExportStore;
pub use keyword::{Connective, KeywordQuery};
pub use lifecycle::{IntegrityReport, Lifecycle, MigrationReport};
pub use maintenance::MaintenanceStore;
pub use pipeline::PipelineStore;
pub use store::{
    Backend, ChangeFeed, ChangeKind, ChangeListener, ChangePage, JsonRow, MemoryChange,
    MemoryStore, VectorSearch,
};
pub use tables::{Cell, TableStore};
