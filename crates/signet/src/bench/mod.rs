//! `signet bench`: benchmark programs that print figures (never timed tests).
//!
//! - `signet bench load --sizes 10000,100000`: start a real daemon (this binary, `daemon run`)
//!   on a fresh temp workspace, measure cold start to a healthy `/health`, idle RSS, remember
//!   throughput (one client, then 8), keyword/hybrid recall latency, `/health` latency under
//!   recall load, and loaded RSS.
//! - `signet bench recall --locomo FILE [--models DIR|WHEEL]`: the LoCoMo retrieval benchmark.

mod corpus;
mod daemon;
mod load;
mod locomo;
mod stats;

use anyhow::Result;
use clap::{Args, Subcommand};

/// `signet bench ...`
#[derive(Debug, Args)]
pub struct BenchArgs {
    #[command(subcommand)]
    pub command: BenchCommand,
}

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Load synthetic memories and measure write throughput, recall latency and memory.
    Load(load::LoadArgs),
    /// The LoCoMo retrieval benchmark (recall@k, MRR per category; keyword, vector, hybrid).
    Recall(locomo::RecallArgs),
}

/// Runs a benchmark.
pub async fn run(args: BenchArgs) -> Result<()> {
    match args.command {
        BenchCommand::Load(a) => load::run(a).await,
        BenchCommand::Recall(a) => locomo::run(a).await,
    }
}
