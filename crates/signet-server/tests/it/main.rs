//! Integration tests: real daemons on ephemeral ports over temp workspaces.

mod common;
mod diagnostics;
mod errors;
mod fixture;
mod memory;
mod mutations;
mod recall;
mod repair;
mod semantic;
mod system;
