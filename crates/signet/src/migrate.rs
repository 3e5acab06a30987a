//! `signet migrate --from SOURCE --to TARGET [--force] [--verify-only]`: moves a workspace's
//! database between SQLite and PostgreSQL, every table of the model row for row
//! ([`signet_store::backup::transfer`]), then proves it: per table, the row count and a content
//! hash computed the same way on both sides, printed as a table; a mismatch fails the command
//! naming the table.
//!
//! SOURCE and TARGET are `sqlite:PATH` (or a bare path) or `postgres://…` (its password may be
//! a `$NAME` reference, and is never printed). Opening each side runs its migrations (the
//! target gets this build's schema before anything is copied); a target whose tables hold
//! rows is refused unless `--force` (which empties them). A SQLite side whose workspace's daemon runs is refused (the daemon check restore
//! uses); a PostgreSQL source still served by daemons shows up as a verification mismatch.
//! Progress: a bar per table on stderr when it is a terminal, a line per table otherwise.

use std::io::{IsTerminal as _, Write as _};
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};
use clap::Args;
use serde_json::json;
use signet_model::TableStore;
use signet_store::Store;
use signet_store::backup::transfer::{self, Plan, TableCheck};
use signet_store_pg::{DatabaseUrl, PgConfig, PgStore};

use crate::cli::Global;
use crate::output::{outln, print_json};

#[derive(Debug, Args)]
pub struct MigrateArgs {
    /// The database to copy: `sqlite:PATH` (or a path to a memories.db) or `postgres://…`.
    #[arg(long, value_name = "SOURCE")]
    pub from: String,
    /// The database to fill: `sqlite:PATH` (created when missing) or `postgres://…`.
    #[arg(long, value_name = "TARGET")]
    pub to: String,
    /// The PostgreSQL schema of `--from` (default: the server's search path).
    #[arg(long, value_name = "NAME")]
    pub from_schema: Option<String>,
    /// The PostgreSQL schema of `--to` (created when missing; default: the search path).
    #[arg(long, value_name = "NAME")]
    pub to_schema: Option<String>,
    /// Replace what the target holds: its tables are emptied before the copy.
    #[arg(long)]
    pub force: bool,
    /// Copy nothing: compare the two databases table by table (counts and content hashes).
    #[arg(long, conflicts_with = "force")]
    pub verify_only: bool,
}

/// One side of a migration, as named on the command line.
#[derive(Debug)]
enum Endpoint {
    Sqlite(PathBuf),
    Postgres(DatabaseUrl, Option<String>),
}

impl Endpoint {
    /// Parses `raw`, naming `flag` in errors (never the URL's password).
    fn parse(flag: &str, raw: &str, schema: Option<String>) -> Result<Self> {
        let raw = raw.trim();
        if raw.is_empty() {
            bail!("{flag}: empty; expected sqlite:PATH or postgres://user@host/database");
        }
        if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            let url = DatabaseUrl::parse(raw).map_err(|e| anyhow::anyhow!("{flag}: {e}"))?;
            return Ok(Self::Postgres(url, schema));
        }
        let path = match raw.strip_prefix("sqlite:") {
            Some(rest) => rest.strip_prefix("//").unwrap_or(rest),
            None if raw.contains("://") => {
                let scheme = raw.split("://").next().unwrap_or_default();
                bail!("{flag}: unknown scheme {scheme}://; expected sqlite:PATH or postgres://…");
            }
            None => raw,
        };
        if path.is_empty() {
            bail!("{flag}: sqlite: names no file; expected sqlite:PATH");
        }
        if schema.is_some() {
            let which = flag.trim_start_matches("--");
            bail!("--{which}-schema: only a PostgreSQL {flag} has a schema");
        }
        Ok(Self::Sqlite(PathBuf::from(path)))
    }

    /// How it is shown: the path, or the URL with its password redacted.
    fn shown(&self) -> String {
        match self {
            Self::Sqlite(p) => format!("sqlite:{}", p.display()),
            Self::Postgres(url, None) => url.to_string(),
            Self::Postgres(url, Some(s)) => format!("{url} (schema {s})"),
        }
    }

    /// Opens the database (migrating it); a SQLite source must exist.
    fn open(&self, flag: &str, source: bool) -> Result<Box<dyn TableStore>> {
        match self {
            Self::Sqlite(path) => {
                if source && !path.is_file() {
                    bail!("{flag}: no SQLite database at {}", path.display());
                }
                if let Some(pid) = daemon_on(path) {
                    bail!(
                        "{flag}: the signet daemon (pid {pid}) is running on {}; stop it first \
                         (`signet daemon stop`)",
                        path.display()
                    );
                }
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir)
                        .with_context(|| format!("{flag}: creating {}", dir.display()))?;
                }
                let store = Store::open(path, 1)
                    .with_context(|| format!("{flag}: opening {}", path.display()))?;
                Ok(Box::new(store))
            }
            Self::Postgres(url, schema) => {
                let config = PgConfig {
                    url: url.clone(),
                    pool: 2,
                    schema: schema.clone(),
                };
                let store =
                    PgStore::open(&config).with_context(|| format!("{flag}: opening {url}"))?;
                Ok(Box::new(store))
            }
        }
    }
}

/// The pid of a daemon serving the workspace whose `memory/memories.db` is `db`.
fn daemon_on(db: &Path) -> Option<u32> {
    let db = std::path::absolute(db).ok()?;
    let memory = db.parent()?;
    if memory.file_name()? != "memory" {
        return None;
    }
    crate::daemon::running_pid(memory.parent()?)
}

pub async fn run(g: &Global, args: MigrateArgs) -> Result<()> {
    let json = g.json;
    tokio::task::spawn_blocking(move || run_blocking(json, args)).await?
}

fn run_blocking(json: bool, args: MigrateArgs) -> Result<()> {
    let from = Endpoint::parse("--from", &args.from, args.from_schema.clone())?;
    let to = Endpoint::parse("--to", &args.to, args.to_schema.clone())?;
    if from.shown() == to.shown() {
        bail!("--from and --to name the same database ({})", from.shown());
    }
    let source = from.open("--from", true)?;
    let target = to.open("--to", false)?;
    let mut plan = transfer::plan(source.as_ref(), target.as_ref())?;
    let (from_shown, to_shown) = (from.shown(), to.shown());
    if args.verify_only {
        let checks = transfer::verify(source.as_ref(), target.as_ref(), &plan)?;
        return report(json, &from_shown, &to_shown, &plan, None, &checks);
    }
    if plan.target_rows > 0 {
        if !args.force {
            bail!(
                "--to: {to_shown} already holds {} rows ({}); pass --force to replace them",
                plan.target_rows,
                held(target.as_ref(), &plan)?
            );
        }
        target
            .clear_tables()
            .context("--force: emptying the target")?;
        plan.target_rows = 0;
    }
    if !json {
        eprintln!("migrating {from_shown} -> {to_shown}");
        warn_uncarried(&plan);
    }
    let mut bar = TableBar::new(std::io::stderr().is_terminal());
    let copied = transfer::copy(
        source.as_ref(),
        target.as_ref(),
        &plan,
        &mut |t, done, total| bar.show(t, done, total),
    );
    bar.finish();
    let copied = copied.context("copying")?;
    let checks = transfer::verify(source.as_ref(), target.as_ref(), &plan)?;
    report(json, &from_shown, &to_shown, &plan, Some(&copied), &checks)
}

/// "memories: 3, memory_history: 5" for the target's non-empty tables.
fn held(target: &dyn TableStore, plan: &Plan) -> Result<String> {
    let mut parts = Vec::new();
    for t in &plan.tables {
        let n = target.count_rows(&t.table)?;
        if n > 0 {
            parts.push(format!("{}: {n}", t.table));
        }
    }
    Ok(parts.join(", "))
}

/// Says on stderr what the target has no place for.
fn warn_uncarried(plan: &Plan) {
    for (table, rows) in &plan.uncarried {
        eprintln!("warning: {table} ({rows} rows) has no table in the target and is not copied");
    }
    for t in &plan.tables {
        if !t.source_only.is_empty() {
            eprintln!(
                "note: {}: column(s) {} exist only in the source and are not copied",
                t.table,
                t.source_only.join(", ")
            );
        }
    }
}

/// Prints the verification table (and the JSON summary); a mismatch is the command's error.
fn report(
    json: bool,
    from: &str,
    to: &str,
    plan: &Plan,
    copied: Option<&[(String, u64)]>,
    checks: &[TableCheck],
) -> Result<()> {
    let bad: Vec<&str> = checks
        .iter()
        .filter(|c| !c.matches())
        .map(|c| c.table.as_str())
        .collect();
    if json {
        let tables: Vec<_> = checks
            .iter()
            .map(|c| {
                let written = copied.and_then(|w| w.iter().find(|(t, _)| *t == c.table));
                json!({"table": c.table, "copied": written.map(|(_, n)| n),
                       "sourceRows": c.source_rows, "targetRows": c.target_rows,
                       "sourceHash": c.source_hash, "targetHash": c.target_hash,
                       "ok": c.matches()})
            })
            .collect();
        let uncarried: Vec<_> = plan
            .uncarried
            .iter()
            .map(|(t, n)| json!({"table": t, "rows": n}))
            .collect();
        let columns: Vec<_> = plan
            .tables
            .iter()
            .filter(|t| !t.source_only.is_empty())
            .map(|t| json!({"table": t.table, "columns": t.source_only}))
            .collect();
        print_json(&json!({"from": from, "to": to, "copied": copied.is_some(),
            "verified": bad.is_empty(), "tables": tables, "notCopied": uncarried,
            "columnsNotCopied": columns}))?;
    } else {
        let verb = if copied.is_some() {
            "migrated"
        } else {
            "compared"
        };
        outln!("{verb} {from} -> {to}")?;
        outln!(
            "  {:<26} {:>10} {:>10}  {:<16} result",
            "table",
            "source",
            "target",
            "content hash"
        )?;
        for c in checks {
            let hash = if c.source_hash == c.target_hash {
                c.source_hash[..16].to_owned()
            } else {
                format!("{}≠{}", &c.source_hash[..7], &c.target_hash[..7])
            };
            let result = if c.matches() { "ok" } else { "MISMATCH" };
            outln!(
                "  {:<26} {:>10} {:>10}  {hash:<16} {result}",
                c.table,
                c.source_rows,
                c.target_rows
            )?;
        }
    }
    if !bad.is_empty() {
        bail!(
            "verification failed: {} differ between {from} and {to}",
            bad.join(", ")
        );
    }
    Ok(())
}

/// Rows copied per table: a bar redrawn in place on a terminal, a line per table otherwise.
pub(crate) struct TableBar {
    tty: bool,
    /// The table being drawn and the last percentage drawn for it.
    drawn: Option<(String, u64)>,
}

impl TableBar {
    pub(crate) fn new(tty: bool) -> Self {
        Self { tty, drawn: None }
    }

    pub(crate) fn show(&mut self, table: &str, done: u64, total: u64) {
        let pct = (done * 100).checked_div(total).unwrap_or(100);
        let same_table = self.drawn.as_ref().is_some_and(|(t, _)| t == table);
        if !self.tty {
            if done >= total && !same_table {
                eprintln!("{table}: {done} rows");
                self.drawn = Some((table.to_owned(), 100));
            }
            return;
        }
        if same_table && self.drawn.as_ref().is_some_and(|d| d.1 == pct) {
            return;
        }
        if !same_table && self.drawn.is_some() {
            eprintln!();
        }
        self.drawn = Some((table.to_owned(), pct));
        let mut err = std::io::stderr().lock();
        let _ = write!(
            err,
            "\r{table:<26} {}  {done} / {total} rows",
            crate::backup::bar(pct)
        );
        let _ = err.flush();
    }

    pub(crate) fn finish(&mut self) {
        if self.tty && self.drawn.is_some() {
            eprintln!();
        }
    }
}
