//! `signet`: the Signet memory daemon and its command-line client.
//!
//! One binary: `signet daemon run|start|stop|restart|status` manages the daemon, and
//! `remember`, `recall` and `status` talk to a running daemon over HTTP through
//! `signet-client`. Each subcommand lives in its own module; this file only parses the
//! command line, runs it on a Tokio runtime and prints the error chain (`{:#}`) on failure
//! (exit status 1), or ends with the status a command asked for through [`exit::Exit`].

// `unsafe` is denied everywhere but `daemon::trim` (two libc calls, each with its argument).
#![deny(unsafe_code)]

mod api;
mod backup;
mod bench;
mod cli;
mod connect;
mod daemon;
mod doctor;
mod exit;
mod export;
mod hook;
mod mcp;
mod migrate;
mod models;
mod output;
mod recall;
mod reembed;
mod remember;
mod status;
mod token;

use std::process::ExitCode;

use clap::Parser;

/// Threads for the async runtime: half the cores (at least one), or `TOKIO_WORKER_THREADS`.
/// The async side only parses, routes and serialises; the store, ranking and embedding run on
/// the blocking pool, which needs the other half. On 2 cores one async worker made a keyword
/// recall 20% cheaper (0.32 against 0.40 ms of CPU: fewer wake-ups between two idle workers;
/// docs/PERFORMANCE.md, "One async worker on two cores").
fn async_workers() -> usize {
    if let Some(n) = std::env::var("TOKIO_WORKER_THREADS")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|n| *n > 0)
    {
        return n;
    }
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    (cores / 2).max(1)
}

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    // SQLite work runs on the blocking pool, but the store serialises it over one writer and a
    // few readers: more threads only add stacks and allocator arenas.
    let result = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(async_workers())
        .max_blocking_threads(8)
        .enable_all()
        .build()
        .map_err(anyhow::Error::from)
        .and_then(|rt| rt.block_on(cli::dispatch(cli)));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => match exit::requested(&e) {
            Some(code) => ExitCode::from(code),
            None => {
                eprintln!("error: {e:#}");
                ExitCode::FAILURE
            }
        },
    }
}
