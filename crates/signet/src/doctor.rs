//! `signet doctor [--json]`: runs the daemon's diagnostics on the workspace's database opened
//! read-only (works with the daemon down or up; never migrates or writes): the SQLite file, or
//! the PostgreSQL database `storage:` names (with the daemons connected to it), prints the
//! composite score, each domain's status, and what to do about every degraded or unhealthy
//! domain. Exit status: 0 healthy, 1 when the composite or any domain is degraded or
//! unhealthy, 2 on error.

use anyhow::{Context as _, Result};
use clap::Args;
use serde_json::{Value, json};
use signet_core::config::{EnvVars, Settings, StorageBackend, resolve_workspace};
use signet_core::diagnostics::{self, ProviderView};
use signet_core::semantic::{Resolved, provider};
use signet_model::MaintenanceStore as _;
use signet_store_pg::{DatabaseUrl, PgConfig, PgStore};

use crate::cli::Global;

/// Diagnose the memory database without the daemon.
#[derive(Debug, Args)]
#[command(
    after_help = "Reads $WORKSPACE/memory/memories.db read-only (the daemon may be up or down), or,\n\
with `storage: {backend: postgres}` or SIGNET_DATABASE_URL, that database in read-only transactions.\n\
Exit status: 0 healthy, 1 when the composite or any domain is degraded or unhealthy,\n\
2 on error (no database, not a Signet database, unreadable, bad config)."
)]
pub struct DoctorArgs {}

/// Runs the diagnosis and exits with its status code.
pub async fn run(g: &Global, _args: DoctorArgs) -> Result<()> {
    // A service whose binary moved is worth saying even when the database cannot be read.
    let service = crate::daemon::install::stale_service(&EnvVars::from_process());
    let code = match diagnose().await {
        Ok((db, nodes, report)) => {
            let advice = diagnostics::advice(&report);
            let healthy = report.composite.status == diagnostics::Status::Healthy;
            let code = u8::from(!healthy || !advice.is_empty() || service.is_some());
            if g.json {
                crate::output::print_json(&json!({"database": db, "nodes": nodes,
                    "report": report, "advice": advice, "service": service, "exitCode": code}))?;
            } else {
                // The terminal view is rendered from the report's JSON, as the API shows it.
                let value = serde_json::to_value(&report)?;
                crate::output::print_line(render(&db, nodes.as_deref(), &value, &advice))?;
                if let Some(s) = &service {
                    crate::output::print_line(format!("service: {s}"))?;
                }
            }
            code
        }
        Err(e) => {
            if g.json {
                crate::output::print_json(&json!({"error": format!("{e:#}"),
                    "service": service, "exitCode": 2}))?;
            } else {
                eprintln!("error: {e:#}");
                if let Some(s) = &service {
                    eprintln!("service: {s}");
                }
            }
            2
        }
    };
    crate::exit::Exit::with_code(code)
}

/// The database diagnosed (a path or a redacted URL), the daemons connected to it (PostgreSQL
/// only) and the report.
async fn diagnose() -> Result<(String, Option<Vec<String>>, diagnostics::Report)> {
    let env = EnvVars::from_process();
    let workspace = resolve_workspace(&env).context("resolving the workspace")?;
    let settings = Settings::load(&workspace, &env)
        .context("loading the configuration")?
        .settings;
    let view = match provider::resolve(&settings.embedding, &workspace, &env) {
        Resolved::KeywordOnly(reason) => ProviderView::NotConfigured { reason },
        Resolved::Ready(e) => ProviderView::Offline {
            configured: Some(format!("{} {}", e.provider(), e.model())),
        },
        Resolved::Native(_) => ProviderView::Offline {
            configured: Some("native".into()),
        },
    };
    let backup_dir = settings.backup.dir_in(&workspace);
    let postgres = match (settings.storage.backend, &settings.storage.url) {
        (StorageBackend::Postgres, Some(url)) => Some(url.clone()),
        _ => None,
    };
    let db = workspace.join("memory").join("memories.db");
    if postgres.is_none() && !db.is_file() {
        anyhow::bail!(
            "no database at {} (the daemon creates it on first start)",
            db.display()
        );
    }
    let schema = settings.storage.schema.clone();
    tokio::task::spawn_blocking(move || {
        // What the backup folder holds (the daemon's worker alone knows its last error).
        let found = signet_store::backup::workspace::summary(&backup_dir).unwrap_or_default();
        let backups = signet_core::backup::BackupState {
            dir: backup_dir,
            count: found.count,
            last_good: found.last_good,
            ..Default::default()
        };
        let Some(url) = postgres else {
            let report = signet_core::maintenance::offline_report(
                |p| signet_store::maintenance::snapshot_read_only(&db, p),
                view,
                &settings,
                &backups,
            )
            .with_context(|| format!("reading {}", db.display()))?;
            return Ok((db.display().to_string(), None, report));
        };
        let shown = match &schema {
            Some(s) => format!("{} (schema {s})", url.redacted()),
            None => url.redacted(),
        };
        let config = PgConfig {
            url: DatabaseUrl::parse(url.expose()).context("storage.url")?,
            pool: 1,
            schema,
        };
        let store = PgStore::open_existing(&config)?;
        let nodes = store.connected_nodes()?;
        let report = signet_core::maintenance::offline_report(
            |p| store.diagnostics_snapshot(p),
            view,
            &settings,
            &backups,
        )
        .with_context(|| format!("reading {shown}"))?;
        Ok((shown, Some(nodes), report))
    })
    .await?
}

fn render(db: &str, nodes: Option<&[String]>, r: &Value, advice: &[diagnostics::Advice]) -> String {
    let score = |v: &Value| {
        v["score"]
            .as_f64()
            .map_or_else(|| "  -  ".to_owned(), |s| format!("{s:.3}"))
    };
    let mut out = vec![
        format!("signet doctor — {db} (read-only)"),
        format!(
            "composite   {}  {}",
            score(&r["composite"]),
            r["composite"]["status"].as_str().unwrap_or("?")
        ),
    ];
    if let Some(nodes) = nodes {
        out.push(match nodes {
            [] => "  nodes     no daemon is connected to this database".to_owned(),
            [one] => format!("  nodes     1 daemon connected to this database (node {one})"),
            many => format!(
                "  nodes     {} daemons connected to this database, any schema (nodes {})",
                many.len(),
                many.join(", ")
            ),
        });
    }
    for d in &diagnostics::DOMAINS[1..] {
        let v = &r[*d];
        let mut line = format!(
            "  {d:<10}{}  {}",
            score(v),
            v["status"].as_str().unwrap_or("?")
        );
        if let Some(note) = v["note"].as_str().or(v["reason"].as_str()) {
            line.push_str(&format!(" ({note})"));
        }
        if let Some(at) = v["lastBackupAt"].as_str() {
            line.push_str(&format!(
                " last good backup {at} in {}",
                v["dir"].as_str().unwrap_or("?")
            ));
        }
        out.push(line);
    }
    if advice.is_empty() {
        out.push("nothing to do".into());
    } else {
        out.push("what to do:".into());
        for a in advice {
            out.push(format!("  {} ({}, {:.3}):", a.domain, a.status, a.score));
            out.extend(a.actions.iter().map(|t| format!("    - {t}")));
        }
    }
    out.join("\n")
}
