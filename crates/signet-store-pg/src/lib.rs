//! signet-store-pg: the PostgreSQL storage backend — a second implementation of signet-model's
//! store traits, so several daemons can serve one database (issue 16).
//!
//! What it owns:
//!
//! - [`DatabaseUrl`]: the configured URL, whose password may be an `$ENV` reference resolved
//!   at open and is never shown (`Debug`, `Display` and errors redact it);
//! - [`PgStore`]: the store — `open` connects a small pool of its own ([`pool`]: N synchronous
//!   `postgres` clients behind a Mutex and a Condvar), creates the configured schema and runs
//!   the embedded migrations ([`schema`]: versioned, one transaction each, under an advisory
//!   lock so nodes starting together migrate once);
//! - the schema: the SQLite model's tables in PostgreSQL types, keyword search on a generated
//!   `tsvector` column with a GIN index (`memories::search` renders the model's
//!   [`KeywordQuery`](signet_model::KeywordQuery) safely: terms are bound parameters turned into
//!   lexemes by `phraseto_tsquery`, the connectives are SQL), vectors as `bytea` in SQLite's
//!   blob format, mirrored as pgvector values searched in the database where the server has
//!   the extension (`capability`, `pgvector`);
//! - `changes`: the change sequence other nodes follow (`ChangeFeed`): every committed
//!   change to a memory, in commit order, with the node that wrote it, and `LISTEN`.
//!
//! Every store trait is implemented ([`Backend`](signet_model::Backend)) and passes the whole
//! conformance suite against a real server; the daemon does not offer this backend yet (the
//! `storage:` configuration and the multi-node parts of issue 16 come next).
//!
//! Threading: the traits are synchronous and block on the network; callers run them on
//! blocking threads (never on the async runtime: each client drives its own small runtime).

#![forbid(unsafe_code)]

mod backend;
mod capability;
mod changes;
mod documents;
mod error;
mod export;
mod maintenance;
mod memories;
mod node;
mod pgvector;
mod pipeline;
pub mod pool;
pub mod schema;
mod sql;
mod store;
mod tables;
mod url;

pub use capability::{IN_PROCESS, PGVECTOR, PgvectorMode, VectorCapability};
pub use store::{PgConfig, PgStore};
pub use url::{DatabaseUrl, REDACTED};
