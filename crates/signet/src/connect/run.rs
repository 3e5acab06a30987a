//! `signet connect <harness>` and `signet disconnect <harness>`: build the [`Setup`] from the
//! command line and the workspace's configuration, then add (or remove) signet's entries file
//! by file.
//!
//! Each file is parsed, changed and written back whole and atomically (a temporary file in the
//! same directory, renamed over it, keeping its permissions; a symlinked file is written
//! through the link). Before the first change to a file that already existed, its bytes are
//! copied to `<file>.signet-bak`. A file whose new content equals the old one is not touched,
//! so a second `connect` changes nothing. `disconnect` removes signet's entries; when what
//! remains equals the backup it writes the backup's bytes back (byte-identical) and deletes it,
//! when the file held only signet's entries and had no backup it deletes the file, and
//! otherwise it writes what remains (the user's keys in their order, the file's indent).
//!
//! In team and hybrid mode no token is ever written: the hook commands get
//! `--token-file <path>` and `signet mcp` gets `SIGNET_TOKEN_FILE=<path>` (default
//! `<workspace>/.daemon/tokens/<harness>`), a file the user creates with mode 0600.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::Args;
use serde_json::json;
use signet_core::config::{AuthMode, EnvVars, Settings, resolve_workspace};

use super::edit::{Doc, FileEdit};
use super::harness::{Harness, Scope, Setup, Transport};
use crate::cli::Global;
use crate::output::{outln, print_json};

/// `signet connect` / `signet disconnect` arguments.
#[derive(Debug, Args)]
pub struct ConnectArgs {
    /// The harness to configure.
    #[arg(value_enum)]
    pub harness: Harness,
    /// Print what would be written and write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// The user's configuration (every project) or the current directory's.
    #[arg(long, value_enum, default_value_t = Scope::User)]
    pub scope: Scope,
    /// How the harness reaches the MCP tools: spawning `signet mcp`, or the daemon's `/mcp`
    /// URL (local mode only).
    #[arg(long, value_enum, default_value_t = Transport::Stdio)]
    pub transport: Transport,
}

/// What happened to one file.
#[derive(Debug)]
struct Outcome {
    path: PathBuf,
    action: &'static str,
    /// The new content, for `--dry-run`.
    content: Option<String>,
}

/// Runs `signet connect`.
pub fn connect(g: &Global, args: ConnectArgs) -> Result<()> {
    let (setup, team) = setup(g, &args, true)?;
    let mut outcomes = Vec::new();
    for edit in setup.files() {
        outcomes.push(
            connect_file(&setup, &edit, args.dry_run)
                .with_context(|| format!("cannot edit {}", edit.path.display()))?,
        );
    }
    report(g, &args, &outcomes, team.as_deref(), true)
}

/// Runs `signet disconnect`.
pub fn disconnect(g: &Global, args: ConnectArgs) -> Result<()> {
    let (setup, _) = setup(g, &args, false)?;
    let mut outcomes = Vec::new();
    for edit in setup.files() {
        outcomes.push(
            disconnect_file(&edit, args.dry_run)
                .with_context(|| format!("cannot edit {}", edit.path.display()))?,
        );
    }
    report(g, &args, &outcomes, None, false)
}

/// The setup for `args`, and the token file's path in team mode. Only `connect` reads the
/// workspace's configuration (for the auth mode): `disconnect` works whatever state it is in.
fn setup(g: &Global, args: &ConnectArgs, connecting: bool) -> Result<(Setup, Option<PathBuf>)> {
    let env = EnvVars::from_process();
    let home = home(&env)?;
    let workspace =
        std::path::absolute(resolve_workspace(&env).context("resolving the workspace")?)?;
    let mode = if connecting {
        let loaded = Settings::load(&workspace, &env).context("loading the configuration")?;
        loaded.settings.auth.mode
    } else {
        AuthMode::Local
    };
    let team = matches!(mode, AuthMode::Team | AuthMode::Hybrid);
    let exe = std::env::current_exe().context("locating this binary")?;
    let exe = exe.canonicalize().unwrap_or(exe).display().to_string();
    let harness = args.harness;
    let url = crate::connect::url(g)?;
    let mut setup = Setup {
        harness,
        scope: args.scope,
        transport: args.transport,
        exe,
        project: std::env::current_dir().context("reading the current directory")?,
        config_home: env
            .non_empty("XDG_CONFIG_HOME")
            .map_or_else(|| home.join(".config"), PathBuf::from),
        codex_home: env
            .non_empty("CODEX_HOME")
            .map_or_else(|| home.join(".codex"), PathBuf::from),
        home,
        mcp_url: format!("{url}/mcp?harness={}", harness.name()),
        mcp_env: vec![("SIGNET_HARNESS".to_owned(), harness.name().to_owned())],
        hook_env: Vec::new(),
        hook_flags: Vec::new(),
    };
    if env.non_empty("SIGNET_PATH").is_some() {
        let ws = workspace.display().to_string();
        setup.mcp_env.push(("SIGNET_PATH".to_owned(), ws.clone()));
        setup.hook_env.push(("SIGNET_PATH".to_owned(), ws));
    }
    if g.address_given()? {
        setup
            .mcp_env
            .push(("SIGNET_DAEMON_URL".to_owned(), url.clone()));
        setup.hook_flags.extend(["--url".to_owned(), url]);
    }
    if !team {
        return Ok((setup, None));
    }
    if args.transport == Transport::Http {
        bail!(
            "auth.mode is {} in {}: use --transport stdio, so the token stays in a file of its \
             own instead of the harness's configuration",
            mode.as_str(),
            workspace.display()
        );
    }
    let token_file = match g
        .token_file
        .as_deref()
        .filter(|p| !p.as_os_str().is_empty())
    {
        Some(p) => std::path::absolute(p)?,
        None => workspace.join(".daemon/tokens").join(harness.name()),
    };
    let shown = token_file.display().to_string();
    setup
        .mcp_env
        .push(("SIGNET_TOKEN_FILE".to_owned(), shown.clone()));
    setup.hook_flags.extend(["--token-file".to_owned(), shown]);
    Ok((setup, Some(token_file)))
}

/// `$HOME` (what the harnesses use for `~`).
fn home(env: &EnvVars) -> Result<PathBuf> {
    env.non_empty("HOME")
        .map(PathBuf::from)
        .or_else(std::env::home_dir)
        .context("HOME is not set")
}

fn connect_file(setup: &Setup, edit: &FileEdit, dry_run: bool) -> Result<Outcome> {
    let old = read(&edit.path)?;
    let mut doc = Doc::parse(edit.format, old.as_deref().unwrap_or(""))?;
    let command = |event| setup.hook_command(event);
    for part in &edit.parts {
        doc.add(part, &command)?;
    }
    let new = doc.render()?;
    let path = edit.path.clone();
    if old.as_deref() == Some(new.as_str()) {
        return Ok(outcome(path, "unchanged", None));
    }
    if dry_run {
        return Ok(outcome(path, "would write", Some(new)));
    }
    if let Some(old) = &old {
        let bak = backup_path(&edit.path);
        if !bak.exists() {
            write(&bak, old, Some(&edit.path))?;
        }
    }
    write(&edit.path, &new, None)?;
    Ok(outcome(
        path,
        if old.is_some() { "updated" } else { "created" },
        None,
    ))
}

fn disconnect_file(edit: &FileEdit, dry_run: bool) -> Result<Outcome> {
    let path = edit.path.clone();
    let Some(old) = read(&edit.path)? else {
        return Ok(outcome(path, "absent", None));
    };
    let mut doc = Doc::parse(edit.format, &old)?;
    let mut changed = false;
    for part in &edit.parts {
        changed |= doc.remove(part);
    }
    if !changed {
        return Ok(outcome(path, "unchanged", None));
    }
    let bak = backup_path(&edit.path);
    let backup = read(&bak)?;
    let restorable = backup
        .as_deref()
        .filter(|b| Doc::parse(edit.format, b).is_ok_and(|before| before.same(&doc)));
    let (action, content) = match (restorable, backup.is_some()) {
        (Some(b), _) => ("restored from backup", Some(b.to_owned())),
        (None, false) if doc.is_empty() => ("deleted", None),
        _ => ("updated", Some(doc.render()?)),
    };
    if dry_run {
        let action = match action {
            "restored from backup" => "would restore from backup",
            "deleted" => "would delete",
            _ => "would update",
        };
        return Ok(outcome(path, action, content));
    }
    match &content {
        Some(text) => write(&edit.path, text, None)?,
        None => std::fs::remove_file(&edit.path)?,
    }
    if restorable.is_some() {
        std::fs::remove_file(&bak)?;
    }
    Ok(outcome(path, action, None))
}

fn outcome(path: PathBuf, action: &'static str, content: Option<String>) -> Outcome {
    Outcome {
        path,
        action,
        content,
    }
}

/// `<file>.signet-bak`.
fn backup_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".signet-bak");
    path.with_file_name(name)
}

/// The file's text; `None` when it does not exist.
fn read(path: &Path) -> Result<Option<String>> {
    match std::fs::read_to_string(path) {
        Ok(t) => Ok(Some(t)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Writes `text` to `path` atomically (through a symlink to its target), keeping the file's
/// permissions, or `like`'s for a new file, or 0600.
fn write(path: &Path, text: &str, like: Option<&Path>) -> Result<()> {
    use std::io::Write;
    let target = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let dir = target
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let perms = std::fs::metadata(&target)
        .or_else(|e| like.map_or(Err(e), std::fs::metadata))
        .map(|m| m.permissions())
        .ok();
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(text.as_bytes())?;
    tmp.as_file().sync_all()?;
    if let Some(p) = perms {
        tmp.as_file().set_permissions(p)?;
    }
    tmp.persist(&target)?;
    Ok(())
}

/// Prints what happened (or would), and what the user does next.
fn report(
    g: &Global,
    args: &ConnectArgs,
    outcomes: &[Outcome],
    token_file: Option<&Path>,
    connecting: bool,
) -> Result<()> {
    let name = args.harness.name();
    if g.json {
        let files: Vec<_> = outcomes
            .iter()
            .map(|o| json!({"path": o.path, "action": o.action, "content": o.content}))
            .collect();
        return print_json(&json!({
            "harness": name, "dryRun": args.dry_run, "files": files, "tokenFile": token_file,
        }));
    }
    for o in outcomes {
        outln!("{name}: {} {}", o.action, o.path.display())?;
        if let Some(c) = &o.content {
            outln!("--- {} ---\n{}", o.path.display(), c.trim_end())?;
        }
    }
    if !connecting {
        return Ok(());
    }
    for note in notes(args.harness) {
        outln!("note: {note}")?;
    }
    if let Some(path) = token_file {
        let shown = path.display();
        outln!(
            "team mode: {name} reads its token from {shown}; no token is written into its configuration."
        )?;
        if !path.exists() {
            let dir = path.parent().unwrap_or(Path::new(".")).display();
            outln!(
                "create it (on the daemon's host; elsewhere ask an admin for an agent token):\n  mkdir -p {dir} && (umask 077 && signet token create --role agent --sub {name} > {shown})"
            )?;
        }
    }
    outln!("undo with: signet disconnect {name}")?;
    Ok(())
}

/// What the user should know about a harness after connecting it.
fn notes(harness: Harness) -> &'static [&'static str] {
    match harness {
        Harness::ClaudeCode => &[
            "quit Claude Code before connecting (it rewrites ~/.claude.json while it runs), then start it; `/hooks` and `/mcp` list what was added (a project's .mcp.json asks for approval first)",
        ],
        Harness::Codex => &[
            "Codex runs hooks.json while its hooks feature is on (the default in current releases; older ones need `[features] codex_hooks = true` in config.toml)",
            "Codex has no session-end event: `signet hook session-end` runs on Stop, at the end of each turn, as upstream's connector does",
        ],
        Harness::Opencode => &[
            "OpenCode's lifecycle events reach JavaScript plugins only, so only the MCP tools are wired (no hooks)",
        ],
    }
}
