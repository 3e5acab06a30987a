//! Adding and removing signet's entries in one parsed configuration file, leaving everything
//! else as it was: JSON objects keep their key order and an entry that is already there keeps
//! its place; TOML keeps its comments and layout (`toml_edit`).

use std::path::PathBuf;

use anyhow::{Result, anyhow};
use indexmap::IndexMap;
use toml_edit::{DocumentMut, InlineTable, Item, Table, value};

use super::json::{Json, JsonFile};
use super::shell::{is_signet_hook, is_signet_program};
use crate::hook::HookEvent;

/// One file and what goes into it.
#[derive(Debug, Clone)]
pub struct FileEdit {
    pub path: PathBuf,
    pub format: Format,
    pub parts: Vec<Part>,
}

impl FileEdit {
    pub fn new(path: PathBuf, format: Format, parts: Vec<Part>) -> Self {
        Self {
            path,
            format,
            parts,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Toml,
}

/// A hook: the harness's event name, ours, and the harness's timeout in seconds.
#[derive(Debug, Clone)]
pub struct HookSpec {
    pub harness_event: &'static str,
    pub event: HookEvent,
    pub timeout: u32,
}

impl HookSpec {
    pub fn new(harness_event: &'static str, event: HookEvent, timeout: u32) -> Self {
        Self {
            harness_event,
            event,
            timeout,
        }
    }
}

/// What signet owns in a file.
#[derive(Debug, Clone)]
pub enum Part {
    /// One matcher group per event under `hooks` (the Claude Code / Codex shape), each holding
    /// one command hook that runs `signet hook`.
    Hooks(Vec<HookSpec>),
    /// `<container>.signet` = the entry.
    JsonMcp {
        container: &'static str,
        entry: Json,
    },
    /// `[mcp_servers.signet]` in a TOML file (Codex).
    TomlMcp {
        command: Option<String>,
        args: Vec<String>,
        env: Vec<(String, String)>,
        url: Option<String>,
        comment: String,
    },
}

/// The MCP server's name in every harness.
pub const SERVER: &str = "signet";

/// A parsed file.
#[derive(Debug, Clone)]
pub enum Doc {
    Json(JsonFile),
    Toml(DocumentMut),
}

impl Doc {
    /// Parses `text` as `format` (blank text is an empty document).
    pub fn parse(format: Format, text: &str) -> Result<Self> {
        Ok(match format {
            Format::Json => Self::Json(JsonFile::parse(text)?),
            Format::Toml => Self::Toml(
                text.parse::<DocumentMut>()
                    .map_err(|e| anyhow!("it is not valid TOML: {e}"))?,
            ),
        })
    }

    pub fn render(&self) -> Result<String> {
        match self {
            Self::Json(f) => f.render(),
            Self::Toml(d) => Ok(d.to_string()),
        }
    }

    /// Whether nothing is left (a file signet created and then emptied).
    pub fn is_empty(&self) -> bool {
        match self {
            Self::Json(f) => f.root.is_empty(),
            Self::Toml(d) => d.as_table().is_empty() && d.to_string().trim().is_empty(),
        }
    }

    /// Whether two documents hold the same values (JSON) or the same text (TOML).
    pub fn same(&self, other: &Doc) -> bool {
        match (self, other) {
            (Self::Json(a), Self::Json(b)) => a.root == b.root,
            (Self::Toml(a), Self::Toml(b)) => a.to_string() == b.to_string(),
            _ => false,
        }
    }

    /// Writes signet's `part`, `hook_command` giving each hook's command line.
    pub fn add(&mut self, part: &Part, hook_command: &dyn Fn(HookEvent) -> String) -> Result<()> {
        match (self, part) {
            (Self::Json(f), Part::Hooks(specs)) => add_hooks(&mut f.root, specs, hook_command),
            (Self::Json(f), Part::JsonMcp { container, entry }) => {
                let servers = object_at(&mut f.root, container)?;
                servers.insert(SERVER.to_owned(), entry.clone());
                Ok(())
            }
            (Self::Toml(d), part @ Part::TomlMcp { .. }) => add_toml_mcp(d, part),
            _ => Err(anyhow!("internal: a part in the wrong format")),
        }
    }

    /// Removes signet's `part`; whether anything was removed.
    pub fn remove(&mut self, part: &Part) -> bool {
        match (self, part) {
            (Self::Json(f), Part::Hooks(_)) => remove_hooks(&mut f.root),
            (Self::Json(f), Part::JsonMcp { container, .. }) => {
                remove_json_mcp(&mut f.root, container)
            }
            (Self::Toml(d), Part::TomlMcp { .. }) => remove_toml_mcp(d),
            _ => false,
        }
    }
}

/// `parent[key]`, created as `{}` when absent; an error when it is something else.
fn object_at<'a>(
    parent: &'a mut IndexMap<String, Json>,
    key: &str,
) -> Result<&'a mut IndexMap<String, Json>> {
    parent
        .entry(key.to_owned())
        .or_insert_with(Json::object)
        .as_object_mut()
        .ok_or_else(|| anyhow!("its \"{key}\" is not an object"))
}

/// The command hooks of a matcher group (`{hooks: [{type, command, …}]}`).
fn handlers(group: &Json) -> Option<&Vec<Json>> {
    group.get("hooks")?.as_array()
}

fn is_ours(handler: &Json) -> bool {
    handler
        .get("command")
        .and_then(Json::as_str)
        .is_some_and(is_signet_hook)
}

/// A group holding signet's hooks and nothing else.
fn is_our_group(group: &Json) -> bool {
    handlers(group).is_some_and(|h| !h.is_empty() && h.iter().all(is_ours))
}

fn add_hooks(
    root: &mut IndexMap<String, Json>,
    specs: &[HookSpec],
    hook_command: &dyn Fn(HookEvent) -> String,
) -> Result<()> {
    let hooks = object_at(root, "hooks")?;
    for spec in specs {
        let handler = Json::obj([
            ("type", Json::str("command")),
            ("command", Json::str(hook_command(spec.event))),
            ("timeout", Json::Number(spec.timeout.into())),
        ]);
        let group = Json::obj([("hooks", Json::Array(vec![handler]))]);
        let Json::Array(groups) = hooks
            .entry(spec.harness_event.to_owned())
            .or_insert_with(|| Json::Array(Vec::new()))
        else {
            return Err(anyhow!(
                "its \"hooks.{}\" is not a list",
                spec.harness_event
            ));
        };
        strip_from_mixed(groups);
        match groups.iter().position(is_our_group) {
            Some(first) => {
                groups[first] = group;
                let mut i = groups.len();
                while i > first + 1 {
                    i -= 1;
                    if is_our_group(&groups[i]) {
                        groups.remove(i);
                    }
                }
            }
            None => groups.push(group),
        }
    }
    Ok(())
}

/// Drops signet's handlers from groups that also hold someone else's; whether any went.
fn strip_from_mixed(groups: &mut [Json]) -> bool {
    let mut changed = false;
    for group in groups.iter_mut().filter(|g| !is_our_group(g)) {
        if let Some(Json::Array(list)) = group.as_object_mut().and_then(|g| g.get_mut("hooks")) {
            let before = list.len();
            list.retain(|h| !is_ours(h));
            changed |= list.len() != before;
        }
    }
    changed
}

/// Removes signet's hooks from every event; events and `hooks` left empty by that go too.
fn remove_hooks(root: &mut IndexMap<String, Json>) -> bool {
    let Some(Json::Object(hooks)) = root.get_mut("hooks") else {
        return false;
    };
    let mut changed = false;
    let mut emptied = Vec::new();
    for (event, groups) in hooks.iter_mut() {
        let Json::Array(groups) = groups else {
            continue;
        };
        let before = groups.len();
        changed |= strip_from_mixed(groups);
        groups.retain(|g| !is_our_group(g));
        if groups.len() != before {
            changed = true;
            if groups.is_empty() {
                emptied.push(event.clone());
            }
        }
    }
    for event in emptied {
        hooks.shift_remove(&event);
    }
    if changed && hooks.is_empty() {
        root.shift_remove("hooks");
    }
    changed
}

/// Whether an MCP entry is one signet wrote: it spawns a `signet` binary or calls `/mcp`.
fn is_our_server(entry: &Json) -> bool {
    let program = match entry.get("command") {
        Some(Json::String(c)) => Some(c.as_str()),
        Some(Json::Array(a)) => a.first().and_then(Json::as_str),
        _ => None,
    };
    let url = entry.get("url").and_then(Json::as_str);
    program.is_some_and(is_signet_program) || url.is_some_and(|u| u.contains("/mcp"))
}

fn remove_json_mcp(root: &mut IndexMap<String, Json>, container: &str) -> bool {
    let Some(Json::Object(servers)) = root.get_mut(container) else {
        return false;
    };
    if !servers.get(SERVER).is_some_and(is_our_server) {
        return false;
    }
    servers.shift_remove(SERVER);
    if servers.is_empty() {
        root.shift_remove(container);
    }
    true
}

/// The `[mcp_servers.signet]` values that matter, to leave an equal table untouched.
#[derive(Debug, PartialEq)]
struct TomlServer {
    command: Option<String>,
    args: Vec<String>,
    env: Vec<(String, String)>,
    url: Option<String>,
}

impl TomlServer {
    fn read(item: &Item) -> Option<Self> {
        let t = item.as_table_like()?;
        let text = |k: &str| t.get(k).and_then(Item::as_str).map(str::to_owned);
        let args = match t.get("args") {
            Some(a) => a
                .as_array()?
                .iter()
                .map(|v| v.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()?,
            None => Vec::new(),
        };
        let env = match t.get("env") {
            Some(e) => e
                .as_table_like()?
                .iter()
                .map(|(k, v)| Some((k.to_owned(), v.as_str()?.to_owned())))
                .collect::<Option<Vec<_>>>()?,
            None => Vec::new(),
        };
        Some(Self {
            command: text("command"),
            args,
            env,
            url: text("url"),
        })
    }
}

fn add_toml_mcp(doc: &mut DocumentMut, part: &Part) -> Result<()> {
    let Part::TomlMcp {
        command,
        args,
        env,
        url,
        comment,
    } = part
    else {
        return Err(anyhow!("internal: not a TOML part"));
    };
    let want = TomlServer {
        command: command.clone(),
        args: args.clone(),
        env: env.clone(),
        url: url.clone(),
    };
    let first = doc.as_table().is_empty();
    let servers = doc.entry("mcp_servers").or_insert_with(|| {
        let mut t = Table::new();
        t.set_implicit(true);
        Item::Table(t)
    });
    let servers = servers
        .as_table_mut()
        .ok_or_else(|| anyhow!("its mcp_servers is not a table"))?;
    if servers.get(SERVER).and_then(TomlServer::read).as_ref() == Some(&want) {
        return Ok(());
    }
    let mut t = Table::new();
    let gap = if first { "" } else { "\n" };
    t.decor_mut().set_prefix(format!("{gap}{comment}\n"));
    if let Some(c) = command {
        t["command"] = value(c.as_str());
        t["args"] = value(
            args.iter()
                .map(String::as_str)
                .collect::<toml_edit::Array>(),
        );
    }
    if !env.is_empty() {
        let mut vars = InlineTable::new();
        for (k, v) in env {
            vars.insert(k, v.as_str().into());
        }
        t["env"] = value(vars);
    }
    if let Some(u) = url {
        t["url"] = value(u.as_str());
    }
    servers.insert(SERVER, Item::Table(t));
    Ok(())
}

fn remove_toml_mcp(doc: &mut DocumentMut) -> bool {
    let Some(servers) = doc.get_mut("mcp_servers").and_then(Item::as_table_mut) else {
        return false;
    };
    let ours = servers
        .get(SERVER)
        .and_then(TomlServer::read)
        .is_some_and(|s| {
            s.command.as_deref().is_some_and(is_signet_program)
                || s.url.as_deref().is_some_and(|u| u.contains("/mcp"))
        });
    if !ours {
        return false;
    }
    servers.remove(SERVER);
    if servers.is_empty() && servers.is_implicit() {
        doc.remove("mcp_servers");
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmd(e: HookEvent) -> String {
        format!("/opt/bin/signet hook {} --harness claude-code", e.name())
    }

    fn hooks() -> Part {
        Part::Hooks(vec![
            HookSpec::new("SessionStart", HookEvent::SessionStart, 10),
            HookSpec::new("SessionEnd", HookEvent::SessionEnd, 30),
        ])
    }

    #[test]
    fn hooks_join_the_users_and_leave_exactly_them_behind() {
        let text = r#"{"model": "opus", "hooks": {"SessionStart": [{"matcher": "startup",
            "hooks": [{"type": "command", "command": "echo hi"}]}]}}"#;
        let before = Doc::parse(Format::Json, text).unwrap();
        let mut doc = before.clone();
        doc.add(&hooks(), &cmd).unwrap();
        let once = doc.render().unwrap();
        doc.add(&hooks(), &cmd).unwrap();
        assert_eq!(doc.render().unwrap(), once, "a second add changes nothing");
        let Doc::Json(f) = &doc else { unreachable!() };
        let start = f.root["hooks"].get("SessionStart").unwrap();
        assert_eq!(start.as_array().unwrap().len(), 2);
        assert!(doc.remove(&hooks()));
        assert!(doc.same(&before));
        assert!(!doc.remove(&hooks()), "nothing left to remove");
    }

    #[test]
    fn mcp_entries_keep_their_place_and_foreign_ones_stay() {
        let text = r#"{"mcpServers": {"a": {"command": "x"}, "signet": {"command": "/old/signet"}, "z": {}}}"#;
        let part = Part::JsonMcp {
            container: "mcpServers",
            entry: Json::obj([("command", Json::str("/new/signet"))]),
        };
        let mut doc = Doc::parse(Format::Json, text).unwrap();
        doc.add(&part, &cmd).unwrap();
        let Doc::Json(f) = &doc else { unreachable!() };
        let keys: Vec<_> = f.root["mcpServers"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        assert_eq!(keys, ["a", "signet", "z"]);
        let foreign = r#"{"mcpServers": {"signet": {"command": "node", "args": ["x.js"]}}}"#;
        let mut doc = Doc::parse(Format::Json, foreign).unwrap();
        assert!(
            !doc.remove(&part),
            "someone else's server named signet is left alone"
        );
    }

    #[test]
    fn toml_keeps_comments_and_comes_back_byte_identical() {
        let text =
            "# my codex config\nmodel = \"o3\" # inline\n\n[mcp_servers.other]\ncommand = \"x\"\n";
        let part = Part::TomlMcp {
            command: Some("/opt/bin/signet".into()),
            args: vec!["mcp".into()],
            env: vec![("SIGNET_HARNESS".into(), "codex".into())],
            url: None,
            comment: "# Written by signet".into(),
        };
        let mut doc = Doc::parse(Format::Toml, text).unwrap();
        doc.add(&part, &cmd).unwrap();
        let once = doc.render().unwrap();
        assert!(once.starts_with(text), "{once}");
        assert!(once.contains("[mcp_servers.signet]\ncommand = \"/opt/bin/signet\"\nargs = [\"mcp\"]\nenv = { SIGNET_HARNESS = \"codex\" }\n"), "{once}");
        let mut again = Doc::parse(Format::Toml, &once).unwrap();
        again.add(&part, &cmd).unwrap();
        assert_eq!(again.render().unwrap(), once);
        assert!(again.remove(&part));
        assert_eq!(again.render().unwrap(), text);
        let mut fresh = Doc::parse(Format::Toml, "").unwrap();
        fresh.add(&part, &cmd).unwrap();
        assert!(fresh.remove(&part));
        assert!(fresh.is_empty(), "{:?}", fresh.render());
    }
}
