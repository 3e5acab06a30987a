//! `signet api openapi`: prints the OpenAPI document the daemon serves at
//! `/api/openapi.json` (no daemon needed; CI diffs it against `docs/openapi.json`).

use anyhow::Result;
use clap::{Args, Subcommand};

#[derive(Debug, Args)]
pub struct ApiArgs {
    #[command(subcommand)]
    pub action: ApiAction,
}

#[derive(Debug, Subcommand)]
pub enum ApiAction {
    /// Print the OpenAPI document (JSON).
    Openapi,
}

pub fn run(args: ApiArgs) -> Result<()> {
    match args.action {
        ApiAction::Openapi => {
            let doc = signet_server::openapi::document_json();
            crate::output::print_line(doc.trim_end())?;
            Ok(())
        }
    }
}
