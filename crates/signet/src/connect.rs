//! Connecting to the daemon: the HTTP client for client commands, built from the global flags
//! (here), and connecting harnesses to it, `signet connect|disconnect` (the submodules: where
//! each harness reads its hooks and MCP servers, and editing those files in place).

mod edit;
mod harness;
mod json;
mod run;
mod shell;

pub use run::{ConnectArgs, connect, disconnect};

use anyhow::Result;
use signet_client::{Client, DEFAULT_HOST, DEFAULT_PORT, base_url};

use crate::cli::Global;

/// A client for [`url`], carrying `--token` (or the token in `--token-file`).
pub fn client(g: &Global) -> Result<Client> {
    Ok(Client::new(url(g)?)?.with_token(g.bearer()?))
}

/// The daemon's base URL: `--url`, else `--host`/`--port` (each falling back to its default),
/// else the address the workspace's running daemon recorded, else the default.
pub fn url(g: &Global) -> Result<String> {
    Ok(
        match g.url.as_deref().map(str::trim).filter(|u| !u.is_empty()) {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None if g.address_given()? => base_url(
                g.host.as_deref().unwrap_or(DEFAULT_HOST),
                g.port()?.unwrap_or(DEFAULT_PORT),
            ),
            None => crate::daemon::recorded_url()
                .unwrap_or_else(|| base_url(DEFAULT_HOST, DEFAULT_PORT)),
        },
    )
}
