//! Integration tests: real daemons on ephemeral ports over temp workspaces.

mod auth;
mod common;
mod diagnostics;
mod errors;
mod fixture;
mod memory;
mod mutations;
mod proxy;
mod recall;
mod repair;
mod semantic;
mod system;
