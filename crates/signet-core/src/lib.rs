//! signet-core: the daemon's domain services, with no HTTP, CLI or SQL in them.
//!
//! - [`memory`]: remember, read, mutate and recall memories over a `signet_model::MemoryStore`.
//! - [`export`]: export and import of memories as versioned JSON Lines.
//! - [`text`]: the pure text rules (normalisation, hashing, prefixes, chunking, FTS queries).
//! - [`access`]: the background worker that records recall access counts.
//! - [`config`]: `agent.yaml`, environment and workspace resolution, hot reload.
//! - [`events`]: the live event bus behind `/sse`; [`analytics`]: the in-memory collector.
//! - [`sessions`]: the in-memory session tracker (runtime-path claims, bypass, harnesses).
//! - [`hooks`]: the harness lifecycle hooks (session start, prompts, compaction, session end).
//! - [`documents`]: documents (text, URLs, workspace files) ingested as chunk memories by a
//!   worker over a durable queue, with the SSRF and workspace guards.
//! - [`llm`]: the LLM providers of the memory pipeline behind one trait, with retries and a
//!   circuit breaker.
//! - [`backup`]: what diagnostics knows of scheduled backups (the worker's shared state).
//! - [`pipeline`]: the memory pipeline's pure steps (extraction and decision prompts, schemas
//!   and tolerant parsers).
//!
//! Threading: services are async and cheap to clone; every store call runs on tokio's
//! blocking pool ([`blocking::run`]). Background work runs as workers on a shared
//! `TaskTracker` with a `CancellationToken` (see [`access::AccessWorker`]).

#![forbid(unsafe_code)]

pub mod access;
pub mod analytics;
pub mod auth;
pub mod backup;
pub mod blocking;
pub mod config;
pub mod diagnostics;
pub mod documents;
pub mod embedding;
mod error;
pub mod events;
pub mod export;
pub mod hooks;
pub mod llm;
pub mod maintenance;
pub mod memory;
pub mod pipeline;
pub mod repair;
pub mod retention;
pub mod semantic;
pub mod sessions;
pub mod text;
pub mod vector;

pub use error::{CoreError, Result};
