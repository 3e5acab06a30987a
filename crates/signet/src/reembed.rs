//! `signet reembed`: ask the daemon to re-embed every memory whose vector is missing or
//! came from another model (after a model or dimension change), and follow the progress.

use std::time::Duration;

use anyhow::Result;
use clap::Args;
use serde_json::{Value, json};

use crate::cli::Global;
use crate::output::outln;

#[derive(Debug, Args)]
pub struct ReembedArgs {
    /// Only report how many memories would be re-embedded.
    #[arg(long)]
    pub dry_run: bool,
    /// Return at once instead of following the progress.
    #[arg(long)]
    pub no_wait: bool,
}

pub async fn run(g: &Global, args: ReembedArgs) -> Result<()> {
    let client = crate::connect::client(g)?;
    let started: Value = client
        .request_json(
            signet_client::Method::POST,
            "/api/repair/re-embed",
            Some(&json!({"dryRun": args.dry_run})),
        )
        .await?;
    if g.json {
        outln!("{started}")?;
    } else {
        outln!(
            "{}",
            started["message"].as_str().unwrap_or("re-embed requested")
        )?;
    }
    if args.dry_run || args.no_wait {
        return Ok(());
    }
    loop {
        let gaps: Value = client
            .request_json(
                signet_client::Method::GET,
                "/api/repair/embedding-gaps",
                None,
            )
            .await?;
        let left = gaps["unembedded"].as_i64().unwrap_or(0);
        if !g.json {
            eprint!(
                "\r{left} memories left to embed, coverage {}   ",
                gaps["coverage"].as_str().unwrap_or("?")
            );
        }
        if left == 0 {
            eprintln!();
            outln!("re-embed complete")?;
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}
