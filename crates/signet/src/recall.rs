//! `signet recall`: search memories through the daemon.

use anyhow::Result;
use clap::Args;
use signet_client::{RecallRequest, RecallResult};

use crate::cli::Global;
use crate::output::{one_line, outln, print_json};

/// Characters of content shown per result line.
const CONTENT_CHARS: usize = 200;
/// Characters of the id shown per result line.
const ID_CHARS: usize = 8;

#[derive(Debug, Args)]
pub struct RecallArgs {
    /// What to search for (several words are joined with spaces).
    #[arg(required = true, value_name = "QUERY")]
    pub query: Vec<String>,
    /// Maximum number of results.
    #[arg(long, short = 'n', value_name = "N")]
    pub limit: Option<usize>,
    /// Only memories of this type.
    #[arg(long = "type", value_name = "TYPE")]
    pub type_: Option<String>,
    /// Only memories carrying all these comma-separated tags.
    #[arg(long, value_name = "A,B")]
    pub tags: Option<String>,
    /// Only memories from this author.
    #[arg(long)]
    pub who: Option<String>,
    /// Only memories of this project.
    #[arg(long)]
    pub project: Option<String>,
    /// Only memories created at or after this ISO timestamp.
    #[arg(long, value_name = "ISO")]
    pub since: Option<String>,
    /// Only memories created at or before this ISO timestamp.
    #[arg(long, value_name = "ISO")]
    pub until: Option<String>,
    /// Only pinned memories.
    #[arg(long)]
    pub pinned: bool,
}

pub async fn run(g: &Global, args: RecallArgs) -> Result<()> {
    let req = RecallRequest {
        query: args.query.join(" "),
        limit: args.limit,
        type_: args.type_,
        tags: args.tags,
        who: args.who,
        project: args.project,
        pinned: args.pinned.then_some(true),
        importance_min: None,
        since: args.since,
        until: args.until,
        explain: None,
    };
    let res = crate::connect::client(g)?.recall(&req).await?;
    if g.json {
        return print_json(&res);
    }
    if res.results.is_empty() {
        outln!("No memories matched.")?;
    }
    for r in &res.results {
        outln!("{}", line(r))?;
    }
    Ok(())
}

/// `0.87  fact        3f2a9c1b  content…`
fn line(r: &RecallResult) -> String {
    let id: String = r.id.chars().take(ID_CHARS).collect();
    let pin = if r.pinned { " *" } else { "" };
    format!(
        "{:.2}  {:<11} {id}{pin}  {}",
        r.score,
        r.type_,
        one_line(&r.content, CONTENT_CHARS)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_shows_score_type_id_prefix_and_flattened_content() {
        let r: RecallResult = serde_json::from_value(serde_json::json!({
            "id": "0123456789abcdef", "content": "line one\nline two", "score": 0.5,
            "type": "fact", "tags": null, "importance": 0.8, "who": null, "project": null,
            "created_at": "2026-01-01T00:00:00Z"
        }))
        .unwrap();
        assert_eq!(line(&r), "0.50  fact        01234567  line one line two");
    }
}
