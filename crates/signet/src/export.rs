//! `signet export [--to FILE] [--with-vectors] [--include-deleted]` and
//! `signet import FILE [--dry-run]`: memories with their history, scopes, tags and
//! (optionally) vectors as versioned JSON Lines (see `signet_core::export`).
//!
//! Both go through the daemon's API (`POST /api/export`, `POST /api/import`) when it runs (or
//! when `--url` names one), so its vector index and live events stay right; with the daemon
//! down they open the workspace's database directly.

use std::io::{Read as _, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context as _, Result, bail};
use clap::Args;
use signet_api::{ExportRequest, ImportReport};
use signet_core::config::{EmbeddingProvider, EnvVars, Settings, resolve_workspace};
use signet_core::embedding::models::ALL_MINILM_L6_V2;
use signet_core::export::{EmbeddingInfo, Transfer};
use signet_store::Store;

use crate::cli::Global;
use crate::exit::Exit;
use crate::output::{outln, print_json};

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Write the export to FILE (default, or `-`: stdout).
    #[arg(long, value_name = "FILE")]
    pub to: Option<PathBuf>,
    /// Include each memory's current vector, tagged with its model.
    #[arg(long)]
    pub with_vectors: bool,
    /// Include deleted memories (tombstones) and their history.
    #[arg(long)]
    pub include_deleted: bool,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The export to import (`-`: stdin).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Check the file and count what would be imported; write nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// Where a command's data goes: the running daemon or the database file.
enum Target {
    Daemon(signet_client::Client),
    Direct(Transfer),
}

fn workspace() -> Result<PathBuf> {
    resolve_workspace(&EnvVars::from_process()).context("resolving the workspace")
}

/// The daemon when `--url` names one or the workspace's runs; else the database itself.
fn target(g: &Global, need_db: bool) -> Result<Target> {
    let ws = workspace()?;
    let url_given = g.url.as_deref().is_some_and(|u| !u.trim().is_empty());
    if url_given || crate::daemon::running_pid(&ws).is_some() {
        return Ok(Target::Daemon(crate::connect::client(g)?));
    }
    let db = ws.join("memory").join("memories.db");
    if need_db && !db.is_file() {
        bail!(
            "no database at {} (nothing to export; is SIGNET_PATH right?)",
            db.display()
        );
    }
    let store = Store::open(&db, 1).with_context(|| format!("opening {}", db.display()))?;
    let embedding = embedding(&ws)?;
    Ok(Target::Direct(Transfer::direct(Arc::new(store), embedding)))
}

/// The workspace's configured embedding model, as the daemon would use it.
fn embedding(ws: &Path) -> Result<Option<EmbeddingInfo>> {
    let env = EnvVars::from_process();
    if let Some(e) = crate::daemon::bench_embedder(&env)? {
        return Ok(Some(EmbeddingInfo {
            provider: e.provider().to_owned(),
            model: e.model().to_owned(),
            dimensions: e.dimensions(),
        }));
    }
    let settings = Settings::load(ws, &env)
        .with_context(|| format!("reading the configuration of {}", ws.display()))?
        .settings;
    let e = &settings.embedding;
    Ok(match e.provider {
        EmbeddingProvider::None => None,
        EmbeddingProvider::Native => Some(EmbeddingInfo {
            provider: "native".into(),
            model: ALL_MINILM_L6_V2.name.into(),
            dimensions: ALL_MINILM_L6_V2.dimensions,
        }),
        _ => Some(EmbeddingInfo {
            provider: format!("{:?}", e.provider).to_lowercase(),
            model: e.model.clone(),
            dimensions: e.dimensions,
        }),
    })
}

pub async fn export(g: &Global, args: ExportArgs) -> Result<()> {
    let req = ExportRequest {
        with_vectors: args.with_vectors,
        include_deleted: args.include_deleted,
    };
    let target = target(g, true)?;
    let Some(to) = args.to.filter(|p| p.as_os_str() != "-") else {
        let mut out = std::io::BufWriter::new(std::io::stdout());
        stream(target, req, &mut out).await?;
        return Ok(());
    };
    // The file is written beside its final name and renamed once whole: a failed export
    // leaves no file that looks finished.
    let mut partial = to.clone().into_os_string();
    partial.push(".partial");
    let partial = PathBuf::from(partial);
    let file = std::fs::File::create(&partial)
        .with_context(|| format!("creating {}", partial.display()))?;
    let mut out = std::io::BufWriter::new(file);
    let bytes = match stream(target, req, &mut out).await {
        Ok(bytes) => bytes,
        Err(e) => {
            drop(out);
            let _ = std::fs::remove_file(&partial);
            return Err(e);
        }
    };
    drop(out);
    std::fs::rename(&partial, &to)
        .with_context(|| format!("renaming {} to {}", partial.display(), to.display()))?;
    if g.json {
        print_json(&serde_json::json!({"file": to, "bytes": bytes}))
    } else {
        outln!("exported to {} ({bytes} bytes)", to.display())
    }
}

/// Writes the whole export to `out`; returns its size.
async fn stream(target: Target, req: ExportRequest, out: &mut impl Write) -> Result<u64> {
    let mut bytes = 0u64;
    match target {
        Target::Daemon(client) => {
            let mut stream = client.export(&req).await?;
            while let Some(chunk) = stream.chunk().await? {
                put(out, &mut bytes, &chunk)?;
            }
        }
        Target::Direct(t) => {
            let mut exporter = t.exporter(req);
            while let Some(chunk) = exporter.next_chunk().await? {
                put(out, &mut bytes, chunk.as_bytes())?;
            }
        }
    }
    out.flush().context("writing the export")?;
    Ok(bytes)
}

/// Writes one chunk of the export; a closed stdout is [`Exit::STDOUT_CLOSED`].
fn put(out: &mut impl Write, bytes: &mut u64, chunk: &[u8]) -> Result<()> {
    *bytes += chunk.len() as u64;
    out.write_all(chunk).map_err(|e| {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            Exit::STDOUT_CLOSED.into()
        } else {
            anyhow::Error::new(e).context("writing the export")
        }
    })
}

pub async fn import(g: &Global, args: ImportArgs) -> Result<()> {
    let stdin = args.file.as_os_str() == "-";
    let name = if stdin {
        "stdin".to_owned()
    } else {
        args.file.display().to_string()
    };
    let report = match target(g, false)? {
        Target::Daemon(client) => client
            .import_reader(reader(&args.file, stdin)?, args.dry_run)
            .await
            .with_context(|| format!("importing {name}"))?,
        Target::Direct(t) => import_direct(&t, &args.file, stdin, args.dry_run)
            .await
            .with_context(|| format!("importing {name}"))?,
    };
    if g.json {
        return print_json(&report);
    }
    print_report(&report)
}

/// The export to read: the file, or stdin for `-`.
fn reader(path: &Path, stdin: bool) -> Result<Box<dyn std::io::Read + Send + Sync>> {
    if stdin {
        return Ok(Box::new(std::io::stdin()));
    }
    let file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    Ok(Box::new(file))
}

async fn import_direct(t: &Transfer, path: &Path, stdin: bool, dry: bool) -> Result<ImportReport> {
    let mut reader = reader(path, stdin)?;
    let mut session = t.importer(dry);
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = reader.read(&mut buf).context("reading the export")?;
        if n == 0 {
            break;
        }
        session.feed(&buf[..n]).await?;
    }
    Ok(session.finish().await?)
}

fn print_report(r: &ImportReport) -> Result<()> {
    let verb = if r.dry_run {
        "would import"
    } else {
        "imported"
    };
    let m = &r.memories;
    outln!(
        "{verb} {} memories ({} duplicates, {} skipped), {} history rows",
        m.imported,
        m.duplicates,
        m.skipped,
        r.history
    )?;
    let v = &r.vectors;
    if v.imported + v.refused > 0 {
        outln!(
            "vectors: {} imported, {} refused (another model), {} queued for embedding",
            v.imported,
            v.refused,
            v.queued
        )?;
    }
    for w in &r.warnings {
        outln!("warning: {w}")?;
    }
    Ok(())
}
