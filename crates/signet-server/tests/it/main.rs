//! Integration tests: real daemons on ephemeral ports over temp workspaces.

// Test code may unwrap (the workspace denies `unwrap_used` elsewhere).
#![allow(clippy::unwrap_used)]

mod analytics;
mod auth;
mod careless;
mod cjk;
mod common;
mod dashboard;
mod dashboard_http;
mod diagnostics;
mod documents;
mod errors;
mod events;
mod explain;
mod export;
mod fixture;
mod fuzz;
mod graph_repair;
mod guide;
mod hooks;
mod logs;
mod mcp;
mod memory;
mod metrics;
mod mutations;
mod pipeline;
mod postgres;
mod proxy;
mod recall;
mod repair;
mod roundtrip;
mod scopes;
mod semantic;
mod system;
mod typed_input;
mod typed_repair;
mod wire;
