//! Integration tests of the `signet` binary: real processes, a temp workspace per test, an
//! ephemeral port per daemon, and deadlines instead of sleeps.

// Test code may unwrap (the workspace denies `unwrap_used` elsewhere).
#![allow(clippy::unwrap_used)]

mod address;
mod backup;
mod backup_schedule;
mod config;
mod connect;
mod crash;
mod deploy;
mod doctor;
mod export;
mod failures;
mod install;
mod lifecycle;
mod mcp;
mod migrate;
mod mock_llm;
mod pgvector_nodes;
mod pipe;
mod pipeline;
mod postgres_nodes;
mod selfhosting;
mod signals;
mod support;
mod team;
mod token;
mod workspace;
