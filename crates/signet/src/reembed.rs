//! `signet reembed`: ask the daemon to re-embed every memory whose vector is missing or
//! came from another model (after a model or dimension change), and follow the progress.

use std::time::Duration;

use anyhow::Result;
use clap::Args;
use signet_client::types::ReembedRequest;

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
    let body = ReembedRequest {
        dry_run: Some(args.dry_run),
    };
    let started = client.repair("re-embed", &body).await?;
    if g.json {
        outln!("{}", serde_json::to_string(&started)?)?;
    } else {
        outln!("{}", started.message)?;
    }
    if args.dry_run || args.no_wait {
        return Ok(());
    }
    loop {
        let gaps = client.embedding_gaps().await?;
        let left = gaps.unembedded;
        if !g.json {
            eprint!(
                "\r{left} memories left to embed, coverage {}   ",
                gaps.coverage
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
