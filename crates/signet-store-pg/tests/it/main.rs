//! signet-store-pg's integration tests, against a real PostgreSQL server: the one
//! `scripts/test.sh` starts (`scripts/pg-temp.sh`) and names in `SIGNET_TEST_PG_URL`. Each test
//! works in a scratch schema of its own, dropped afterwards. The pgvector checks use a second
//! server with the extension (`SIGNET_TEST_PGVECTOR_URL`, see `pgvector.rs`).

mod capability;
mod changes;
mod conformance;
mod export;
mod leases;
mod migrations;
mod open;
mod pgvector;
mod pool;
mod support;
mod tsquery;
