//! `signet remember`: store a memory through the daemon.

use anyhow::{Result, bail};
use clap::Args;
use signet_client::{RememberRequest, RememberResponse};

use crate::cli::Global;
use crate::output::{outln, print_json};

#[derive(Debug, Args)]
pub struct RememberArgs {
    /// The text to remember (several words are joined with spaces). A `critical:` prefix pins
    /// it; a `[tag1,tag2]:` prefix tags it.
    #[arg(required = true, value_name = "TEXT")]
    pub content: Vec<String>,
    /// Comma-separated tags.
    #[arg(long, value_name = "A,B")]
    pub tags: Option<String>,
    /// Importance between 0 and 1.
    #[arg(long, value_name = "0..1")]
    pub importance: Option<f64>,
    /// Pin the memory (pinned memories need --force to forget).
    #[arg(long)]
    pub pinned: bool,
    /// Project the memory belongs to.
    #[arg(long)]
    pub project: Option<String>,
    /// Who is remembering (default: the daemon's default, `daemon`).
    #[arg(long)]
    pub who: Option<String>,
    /// Memory type (fact, preference, decision, ...); inferred when omitted.
    #[arg(long = "type", value_name = "TYPE")]
    pub type_: Option<String>,
}

pub async fn run(g: &Global, args: RememberArgs) -> Result<()> {
    let req = request(args)?;
    let res = crate::connect::client(g)?.remember(&req).await?;
    if g.json {
        return print_json(&res);
    }
    match res {
        RememberResponse::Stored(m) if m.deduped => outln!("Already remembered {}", m.id)?,
        RememberResponse::Stored(m) => outln!("Remembered {} ({})", m.id, m.type_)?,
        RememberResponse::Chunked(c) => {
            outln!("Remembered {} chunks (group {})", c.chunk_count, c.group_id)?
        }
    }
    Ok(())
}

fn request(args: RememberArgs) -> Result<RememberRequest> {
    if let Some(i) = args.importance
        && !(0.0..=1.0).contains(&i)
    {
        bail!("--importance must be between 0 and 1, got {i}");
    }
    Ok(RememberRequest {
        content: args.content.join(" "),
        tags: args.tags,
        importance: args.importance,
        pinned: args.pinned.then_some(true),
        project: args.project,
        who: args.who,
        type_: args.type_,
        source_type: None,
        source_id: None,
    })
}
