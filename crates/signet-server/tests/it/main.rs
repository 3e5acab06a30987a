//! Integration tests: real daemons on ephemeral ports over temp workspaces.

mod analytics;
mod common;
mod errors;
mod events;
mod fixture;
mod logs;
mod memory;
mod metrics;
mod mutations;
mod recall;
mod semantic;
mod system;
