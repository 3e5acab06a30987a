//! Which backend the daemon under test stores its memories in: the workspace's SQLite file
//! (the default), or a PostgreSQL server (`--postgres URL`), where every run gets a fresh
//! schema of its own, dropped afterwards.
//!
//! Also the measurements that depend on the backend: the database's size on disk, and the CPU
//! time of the PostgreSQL server's processes (the daemon's CPU alone would hide the work the
//! server does for it). The `postgres` client is synchronous, so every call runs on a
//! blocking thread.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Args;

use super::stats::cpu_seconds;

/// `--postgres URL`, shared by `bench load` and `bench recall`.
#[derive(Debug, Clone, Args)]
pub struct StorageArgs {
    /// Run the daemon under test on this PostgreSQL database (`postgres://user@host/db`; a
    /// `$ENV` password is resolved) instead of its workspace's SQLite file. Each run gets a
    /// fresh schema `signet_bench_<pid>_<run>`, dropped afterwards.
    #[arg(long, value_name = "URL", alias = "storage")]
    pub postgres: Option<String>,
    /// `storage.pool`: the daemon's PostgreSQL connections.
    #[arg(long, default_value_t = 8, requires = "postgres")]
    pub pool: u32,
}

/// Where one run's daemon keeps its memories.
#[derive(Clone)]
pub enum BenchStorage {
    Sqlite,
    Postgres(PgRun),
}

/// A PostgreSQL schema made for one run.
#[derive(Clone)]
pub struct PgRun {
    url: String,
    schema: String,
    pool: u32,
    /// The postmaster's pid when the server runs on this machine (for its CPU time).
    postmaster: Option<u32>,
}

impl BenchStorage {
    /// The storage for the run named `run` (a size, `locomo`): for PostgreSQL, a fresh empty
    /// schema (one left by an interrupted run of the same name is dropped first).
    pub async fn prepare(args: &StorageArgs, run: &str) -> Result<Self> {
        let Some(url) = args.postgres.clone() else {
            return Ok(Self::Sqlite);
        };
        let schema = format!("signet_bench_{}_{run}", std::process::id());
        let (u, s) = (url.clone(), schema.clone());
        let postmaster = blocking(move || {
            let mut c = connect(&u)?;
            c.batch_execute(&format!("DROP SCHEMA IF EXISTS \"{s}\" CASCADE"))?;
            let me: i32 = c.query_one("SELECT pg_backend_pid()", &[])?.get(0);
            Ok(local_postmaster(me as u32))
        })
        .await
        .context("--postgres: preparing the benchmark schema")?;
        Ok(Self::Postgres(PgRun {
            url,
            schema,
            pool: args.pool,
            postmaster,
        }))
    }

    /// The `agent.yaml` lines that select this storage (none for SQLite).
    pub fn yaml(&self) -> String {
        match self {
            Self::Sqlite => String::new(),
            Self::Postgres(p) => format!(
                "storage:\n  backend: postgres\n  url: '{}'\n  pool: {}\n  schema: {}\n",
                p.url.replace('\'', "''"),
                p.pool,
                p.schema
            ),
        }
    }

    /// `sqlite`, or `postgres (schema …)`, for the report's heading.
    pub fn describe(&self) -> String {
        match self {
            Self::Sqlite => "sqlite".into(),
            Self::Postgres(p) => format!(
                "postgres (schema {}, pool {}, server CPU {})",
                p.schema,
                p.pool,
                if p.postmaster.is_some() {
                    "measured"
                } else {
                    "not measured: the server is not on this machine"
                }
            ),
        }
    }

    /// The PostgreSQL server's processes, when their CPU time can be read.
    pub fn server(&self) -> Option<ServerProcs> {
        match self {
            Self::Postgres(PgRun {
                postmaster: Some(p),
                ..
            }) => Some(ServerProcs { postmaster: *p }),
            _ => None,
        }
    }

    /// Bytes the store takes: SQLite's database file and WAL, or every table, index and TOAST
    /// relation of the schema.
    pub async fn size_bytes(&self, workspace: &Path) -> Result<u64> {
        match self {
            Self::Sqlite => {
                let db = sqlite_path(workspace);
                let mut total = 0;
                for suffix in ["", "-wal"] {
                    let mut p = db.clone().into_os_string();
                    p.push(suffix);
                    total += std::fs::metadata(&p).map_or(0, |m| m.len());
                }
                Ok(total)
            }
            Self::Postgres(p) => {
                let (u, s) = (p.url.clone(), p.schema.clone());
                blocking(move || {
                    let mut c = connect(&u)?;
                    let row = c.query_one(
                        "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint
                           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                          WHERE n.nspname = $1 AND c.relkind IN ('r', 'm')",
                        &[&s],
                    )?;
                    Ok(row.get::<_, i64>(0) as u64)
                })
                .await
            }
        }
    }

    /// Opens the store the daemon wrote (for the offline vector-index check). Call it on a
    /// blocking thread, and drop the store there.
    pub fn open(&self, workspace: &Path) -> Result<Box<dyn signet_model::MemoryStore>> {
        match self {
            Self::Sqlite => {
                let db = sqlite_path(workspace);
                let store = signet_store::Store::open(&db, 1)
                    .with_context(|| format!("opening {}", db.display()))?;
                Ok(Box::new(store))
            }
            Self::Postgres(p) => {
                let config = signet_store_pg::PgConfig {
                    url: signet_store_pg::DatabaseUrl::parse(&p.url)?,
                    pool: 1,
                    schema: Some(p.schema.clone()),
                };
                Ok(Box::new(signet_store_pg::PgStore::open(&config)?))
            }
        }
    }

    /// Drops the run's schema.
    pub async fn cleanup(self) -> Result<()> {
        let Self::Postgres(p) = self else {
            return Ok(());
        };
        if std::env::var_os("SIGNET_BENCH_KEEP").is_some() {
            return Ok(());
        }
        let PgRun { url, schema, .. } = p;
        blocking(move || {
            connect(&url)?.batch_execute(&format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"))?;
            Ok(())
        })
        .await
        .context("dropping the benchmark schema")
    }
}

fn sqlite_path(workspace: &Path) -> PathBuf {
    workspace.join("memory").join("memories.db")
}

fn connect(url: &str) -> Result<postgres::Client> {
    let config = signet_store_pg::DatabaseUrl::parse(url)
        .map_err(|e| anyhow::anyhow!("--postgres: {e}"))?
        .config()?;
    config
        .connect(postgres::NoTls)
        .map_err(|e| anyhow::anyhow!("--postgres: connecting: {e}"))
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f).await?
}

/// The postmaster of the backend `pid`, when that backend is a process on this machine.
fn local_postmaster(pid: u32) -> Option<u32> {
    let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).ok()?;
    if !comm.starts_with("postgres") {
        return None;
    }
    let ppid = stat_fields(pid)?.get(1)?.parse().ok()?;
    Some(ppid)
}

/// The fields of `/proc/PID/stat` after the command name.
fn stat_fields(pid: u32) -> Option<Vec<String>> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 2..];
    Some(rest.split_whitespace().map(str::to_owned).collect())
}

/// A local PostgreSQL server's processes: the postmaster and its children.
#[derive(Clone, Copy)]
pub struct ServerProcs {
    postmaster: u32,
}

impl ServerProcs {
    /// CPU seconds the whole server has used: the postmaster's own and its reaped children's
    /// (`cutime`/`cstime`: a backend or autovacuum worker that exited), plus every live
    /// child's (backends, WAL writer, checkpointer, ...).
    pub fn cpu_seconds(&self) -> Option<f64> {
        let f = stat_fields(self.postmaster)?;
        let tick = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
        let mut total = (tick(11) + tick(12) + tick(13) + tick(14)) / 100.0;
        for entry in std::fs::read_dir("/proc").ok()?.flatten() {
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|n| n.parse::<u32>().ok())
            else {
                continue;
            };
            let Some(cf) = stat_fields(pid) else { continue };
            if cf.get(1).and_then(|p| p.parse::<u32>().ok()) == Some(self.postmaster) {
                total += cpu_seconds(pid).unwrap_or(0.0);
            }
        }
        Some(total)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_storage_section_quotes_the_url() {
        let s = BenchStorage::Postgres(PgRun {
            url: "postgres://u:it's@h/db".into(),
            schema: "signet_bench_1_10".into(),
            pool: 4,
            postmaster: None,
        });
        assert_eq!(
            s.yaml(),
            "storage:\n  backend: postgres\n  url: 'postgres://u:it''s@h/db'\n  pool: 4\n  schema: signet_bench_1_10\n"
        );
        assert_eq!(BenchStorage::Sqlite.yaml(), "");
    }
}
