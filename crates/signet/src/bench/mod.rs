//! `signet bench`: benchmark programs that print figures (never timed tests).
//!
//! - `signet bench load --sizes 10000,100000`: start a real daemon (this binary, `daemon run`)
//!   on a fresh temp workspace, measure cold start to a healthy `/health`, idle RSS, remember
//!   throughput (one client, then 8), keyword/hybrid recall latency, `/health` latency under
//!   recall load, and loaded RSS.
//! - `signet bench soak --duration 600 --rate 200 --clients 4`: a real daemon under a fixed-rate
//!   mix (40% remember, 40% recall, 10% modify, 10% forget); throughput, latency percentiles per
//!   operation, errors, and RSS over time with a plateau verdict.
//! - `signet bench recall --locomo FILE [--models DIR|WHEEL]`: the LoCoMo retrieval benchmark.
//! - `load` and `recall` take `--postgres URL`: the daemon under test then stores in a fresh
//!   schema of that database (dropped afterwards), and `load` adds the server's CPU per op.
//! - `signet bench pipeline --count 500`: a real daemon with the memory pipeline on against a
//!   mock Ollama (`mock_llm`, answering at once): extraction jobs per second until the queue
//!   drains, and remember latency with the pipeline paused vs while it runs.

mod corpus;
mod daemon;
mod load;
mod locomo;
mod mock_llm;
mod pipeline;
mod soak;
mod stats;
mod storage;

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
    /// Mixed load (remember, recall, modify, forget) at a fixed rate for a long time: latency,
    /// errors and whether RSS plateaus.
    Soak(soak::SoakArgs),
    /// The LoCoMo retrieval benchmark (recall@k, MRR per category; keyword, vector, hybrid).
    Recall(locomo::RecallArgs),
    /// The memory pipeline against a mock LLM: extraction jobs per second, and remember
    /// latency with the pipeline paused vs running.
    Pipeline(pipeline::PipelineArgs),
}

/// Runs a benchmark.
pub async fn run(args: BenchArgs) -> Result<()> {
    match args.command {
        BenchCommand::Load(a) => load::run(a).await,
        BenchCommand::Recall(a) => locomo::run(a).await,
        BenchCommand::Soak(a) => soak::run(a).await,
        BenchCommand::Pipeline(a) => pipeline::run(a).await,
    }
}
