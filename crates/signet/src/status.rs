//! `signet status`: a summary of the running daemon (`GET /api/status`).

use anyhow::Result;
use serde_json::Value;

use crate::cli::Global;
use crate::output::{outln, print_json, uptime};

pub async fn run(g: &Global) -> Result<()> {
    let client = crate::connect::client(g)?;
    // The summary reads the document loosely (a daemon of another version may lack a field,
    // shown as `?`) and `--json` prints it as sent, so this takes the raw JSON rather than
    // the typed `Client::status`.
    let status = client
        .request_json(signet_client::Method::GET, "/api/status", None)
        .await?;
    if g.json {
        return print_json(&status);
    }
    outln!("{}", summary(&status, client.base_url()))?;
    Ok(())
}

/// The human summary of a status document; missing fields show as `?`.
fn summary(s: &Value, url: &str) -> String {
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        Value::Null => "?".to_owned(),
        other => other.to_string(),
    };
    let memories = &s["memories"];
    let config = match &s["config"]["source"] {
        Value::String(p) => p.clone(),
        _ => "defaults (no agent.yaml)".to_owned(),
    };
    [
        format!(
            "signet daemon {} — {} (pid {}, up {})",
            text(&s["version"]),
            text(&s["status"]),
            text(&s["pid"]),
            uptime(s["uptime"].as_f64().unwrap_or(0.0))
        ),
        format!("  address    {url}"),
        format!("  workspace  {}", text(&s["agentsDir"])),
        format!(
            "  memories   {} ({} critical, {} with embeddings)",
            text(&memories["total"]),
            text(&memories["critical"]),
            text(&memories["withEmbeddings"])
        ),
        format!("  schema     version {}", text(&s["schema"]["to_version"])),
        format!("  config     {config}"),
    ]
    .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn summary_names_the_key_facts_and_tolerates_missing_fields() {
        let s = json!({"status": "running", "version": "0.1.0", "pid": 42, "uptime": 65.0,
            "agentsDir": "/ws", "memories": {"total": 3, "critical": 1, "withEmbeddings": 0},
            "schema": {"to_version": 9}, "config": {"source": null}});
        let out = summary(&s, "http://127.0.0.1:3850");
        assert!(
            out.starts_with("signet daemon 0.1.0 — running (pid 42, up 1m 5s)"),
            "{out}"
        );
        for want in ["/ws", "3 (1 critical", "version 9", "defaults"] {
            assert!(out.contains(want), "{want} missing from {out}");
        }
        assert!(summary(&json!({}), "u").contains("workspace  ?"));
    }
}
