//! `docs/SELF-HOSTING.md` runs as written. Its fenced blocks follow one convention:
//!
//! - ` ```sh `: run by this test, in document order, each block as one `bash -e -o pipefail`
//!   script, in a scratch directory, against one temp workspace (`SIGNET_PATH`) and temp
//!   `HOME`, with a live daemon started before the first block and the built `signet` first on
//!   `PATH`. Any failing command fails the test, and so does a doc with no such block.
//! - ` ```sh no-run `: shown, not run (needs Docker, systemd, root or a real domain). It must
//!   still parse (`bash -n`), and every `signet ...` command in it must name a real subcommand
//!   with flags its `--help` lists.
//! - ` ```yaml `: an `agent.yaml`; it must load through the config loader without warnings.
//!
//! What the test substitutes in runnable blocks, and nothing else: `:3850` and `PORT=3850`
//! become the daemon's ephemeral port (`SIGNET_HOST`/`SIGNET_PORT` are set to it too);
//! `/srv/backups` becomes a scratch directory; `<time>` in `backup-<time>` becomes the newest
//! backup's timestamp there (or under `$SIGNET_PATH/.daemon/backups`); `<admin-token>` becomes
//! a token minted with `signet token create --role admin`. Any other `<placeholder>` left in a
//! runnable block fails the test: fill it here or mark the block `no-run`.

use std::os::unix::fs::symlink;
use std::path::PathBuf;
use std::process::{Command, Output};

use signet_core::config::{EnvVars, Settings};

use crate::support::{BIN, TestEnv};

fn doc() -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/SELF-HOSTING.md");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A fenced block: its first line number, info string and body (de-indented to its fence).
struct Block {
    line: usize,
    info: String,
    body: String,
}

fn blocks(doc: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut open: Option<(usize, Block)> = None;
    for (i, line) in doc.lines().enumerate() {
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        match open.as_mut() {
            None => {
                if let Some(info) = trimmed.strip_prefix("```") {
                    let info = info.trim().to_owned();
                    let body = String::new();
                    open = Some((
                        indent,
                        Block {
                            line: i + 1,
                            info,
                            body,
                        },
                    ));
                }
            }
            Some(_) if trimmed.starts_with("```") => out.push(open.take().unwrap().1),
            Some((fence, block)) => {
                let strip = line.len() - line.trim_start_matches(' ').len();
                block.body.push_str(&line[strip.min(*fence)..]);
                block.body.push('\n');
            }
        }
    }
    assert!(
        open.is_none(),
        "docs/SELF-HOSTING.md has an unclosed ``` fence"
    );
    out
}

#[derive(Debug, PartialEq)]
enum Kind {
    Run,
    Show,
    Yaml,
    Other,
}

fn kind(b: &Block) -> Kind {
    match b.info.as_str() {
        "sh" => Kind::Run,
        "sh no-run" => Kind::Show,
        "yaml" => Kind::Yaml,
        info => {
            let lang = info.split_whitespace().next().unwrap_or_default();
            assert!(
                !matches!(lang, "sh" | "bash" | "shell" | "console" | "zsh"),
                "docs/SELF-HOSTING.md line {}: ```{info} is neither ```sh (run by the test) \
                 nor ```sh no-run (shown only)",
                b.line
            );
            Kind::Other
        }
    }
}

/// The live environment the runnable blocks share.
struct Shell<'a> {
    env: &'a TestEnv,
    bin: PathBuf,
    cwd: PathBuf,
    backups: PathBuf,
}

impl<'a> Shell<'a> {
    fn new(env: &'a TestEnv) -> Self {
        let root = env.home.path();
        let bin = root.join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        symlink(BIN, bin.join("signet")).unwrap();
        let cwd = root.join("cwd");
        std::fs::create_dir_all(&cwd).unwrap();
        let backups = root.join("srv/backups");
        Self {
            env,
            bin,
            cwd,
            backups,
        }
    }

    fn bash(&self, args: &[&str]) -> Output {
        let mut path = std::ffi::OsString::from(&self.bin);
        path.push(":");
        path.push(std::env::var_os("PATH").unwrap_or_default());
        Command::new("timeout")
            .arg("60")
            .arg("bash")
            .args(args)
            .current_dir(&self.cwd)
            .env_clear()
            .env("PATH", path)
            .env("HOME", self.env.home.path())
            .env(
                "USER",
                std::env::var_os("USER").unwrap_or_else(|| "signet".into()),
            )
            .env("SIGNET_PATH", &self.env.workspace)
            .env("SIGNET_HOST", "127.0.0.1")
            .env("SIGNET_PORT", self.env.port.to_string())
            .output()
            .expect("bash runs")
    }

    /// The newest `backup-*` folder's timestamp (the doc's `<time>`).
    fn newest_backup_time(&self) -> String {
        let dirs = [
            self.backups.clone(),
            self.env.workspace.join(".daemon/backups"),
        ];
        let mut names: Vec<String> = dirs
            .iter()
            .filter_map(|d| std::fs::read_dir(d).ok())
            .flatten()
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter_map(|n| n.strip_prefix("backup-").map(str::to_owned))
            .collect();
        names.sort();
        names
            .pop()
            .expect("a block names backup-<time> but no backup was taken before it")
    }

    /// The block with the substitutions of the module comment.
    fn fill(&self, b: &Block) -> String {
        let port = self.env.port.to_string();
        let mut script = b
            .body
            .replace(":3850", &format!(":{port}"))
            .replace("PORT=3850", &format!("PORT={port}"))
            .replace("/srv/backups", self.backups.to_str().unwrap());
        if code(&script).contains("backup-<time>") {
            let time = self.newest_backup_time();
            script = script.replace("backup-<time>", &format!("backup-{time}"));
        }
        if code(&script).contains("<admin-token>") {
            let out = self.env.run(&["token", "create", "--role", "admin"]);
            let token = out.ok().stdout.trim().to_owned();
            script = script.replace("<admin-token>", &token);
        }
        if let Some(left) = placeholder(&code(&script)).map(str::to_owned) {
            panic!(
                "docs/SELF-HOSTING.md line {}: the runnable block has the placeholder {left}; \
                 fill it in selfhosting.rs or mark the block ```sh no-run\n{}",
                b.line, b.body
            );
        }
        script
    }

    fn run(&self, b: &Block) {
        let script = self.fill(b);
        let out = self.bash(&["-e", "-o", "pipefail", "-c", &script]);
        assert!(
            out.status.success(),
            "docs/SELF-HOSTING.md line {}: the block failed ({}):\n{script}\nstdout: {}\nstderr: {}",
            b.line,
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// `bash -n`, and each `signet ...` command's subcommand and flags against its `--help`.
    fn check_shown(&self, b: &Block) {
        let out = self.bash(&["-n", "-c", &b.body]);
        assert!(
            out.status.success(),
            "docs/SELF-HOSTING.md line {}: the block does not parse: {}",
            b.line,
            String::from_utf8_lossy(&out.stderr)
        );
        for line in b.body.lines() {
            if let Some((words, flags)) = signet_command(line) {
                self.check_command(b, line, &words, &flags);
            }
        }
    }

    fn check_command(&self, b: &Block, line: &str, words: &[String], flags: &[String]) {
        let mut args: Vec<&str> = words.iter().map(String::as_str).collect();
        args.push("--help");
        let out = self.env.run(&args);
        assert!(
            out.status.success(),
            "docs/SELF-HOSTING.md line {}: `{line}`: `signet {}` is not a command: {}",
            b.line,
            words.join(" "),
            out.stderr
        );
        for flag in flags {
            let listed = out
                .stdout
                .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
                .any(|w| w == flag);
            assert!(
                listed,
                "docs/SELF-HOSTING.md line {}: `{line}`: `signet {}` has no {flag}:\n{}",
                b.line,
                words.join(" "),
                out.stdout
            );
        }
    }
}

/// `script` without its comments (a `#` starting a line or following a blank), where the
/// doc may name placeholders it does not mean to run.
fn code(script: &str) -> String {
    let mut out = String::new();
    for line in script.lines() {
        let cut = line
            .match_indices('#')
            .map(|(i, _)| i)
            .find(|&i| i == 0 || line[..i].ends_with([' ', '\t']));
        out.push_str(&line[..cut.unwrap_or(line.len())]);
        out.push('\n');
    }
    out
}

/// The first `<word>` placeholder in `script`, if any.
fn placeholder(script: &str) -> Option<&str> {
    script.match_indices('<').find_map(|(i, _)| {
        let rest = &script[i + 1..];
        let end = rest.find('>')?;
        let inner = &rest[..end];
        let word = !inner.is_empty()
            && inner
                .chars()
                .all(|c| c.is_ascii_lowercase() || c == '-' || c == '_');
        word.then_some(&script[i..i + end + 2])
    })
}

/// The subcommand words and `--flags` of the last `signet` command word on a line
/// (`docker compose exec signet signet token create --role admin` gives `token create` and
/// `--role`); `None` when the line runs no `signet` subcommand.
fn signet_command(line: &str) -> Option<(Vec<String>, Vec<String>)> {
    let code = code(line);
    let tokens: Vec<&str> = code.split_whitespace().collect();
    let at = tokens.iter().rposition(|t| *t == "signet")?;
    let rest = &tokens[at + 1..];
    let words: Vec<String> = rest
        .iter()
        .take_while(|t| {
            t.chars().all(|c| c.is_ascii_lowercase() || c == '-') && !t.starts_with('-')
        })
        .map(|t| t.to_string())
        .collect();
    if words.is_empty() {
        return None;
    }
    let flags = rest
        .iter()
        .filter(|t| t.starts_with("--"))
        .map(|t| t.split('=').next().unwrap_or_default().to_owned())
        .collect();
    Some((words, flags))
}

#[test]
fn every_runnable_sh_block_of_self_hosting_md_runs_as_written() {
    let doc = doc();
    let blocks = blocks(&doc);
    let mut env = TestEnv::new();
    env.start_daemon();
    env.run(&[
        "remember",
        "the self-hosting guide was followed to the letter",
    ])
    .ok();
    let shell = Shell::new(&env);
    let mut ran = Vec::new();
    for b in &blocks {
        match kind(b) {
            Kind::Run => {
                shell.run(b);
                ran.push(b.line);
            }
            Kind::Show => shell.check_shown(b),
            Kind::Yaml | Kind::Other => {}
        }
    }
    assert!(
        !ran.is_empty(),
        "docs/SELF-HOSTING.md has no runnable ```sh block"
    );
}

#[test]
fn every_yaml_block_of_self_hosting_md_loads_without_warnings() {
    for b in blocks(&doc()).iter().filter(|b| kind(b) == Kind::Yaml) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("agent.yaml"), &b.body).unwrap();
        let loaded = Settings::load(dir.path(), &EnvVars::default())
            .unwrap_or_else(|e| panic!("docs/SELF-HOSTING.md line {}: {e:#}\n{}", b.line, b.body));
        assert!(
            loaded.warnings.is_empty(),
            "docs/SELF-HOSTING.md line {}: {:?}\n{}",
            b.line,
            loaded.warnings,
            b.body
        );
    }
}

/// The extractor itself: fences, info strings and indentation.
#[test]
fn blocks_are_read_with_their_info_strings_and_indentation() {
    let text = "intro\n```sh\nsignet backup\n```\n- item\n  ```yaml\n  a:\n    b: 1\n  ```\n\
                ```sh no-run\ndocker compose up\n```\n";
    let found = blocks(text);
    let infos: Vec<&str> = found.iter().map(|b| b.info.as_str()).collect();
    assert_eq!(infos, ["sh", "yaml", "sh no-run"]);
    assert_eq!(found[1].body, "a:\n  b: 1\n");
    assert_eq!(found[0].line, 2);
    assert_eq!(
        signet_command("docker compose exec signet signet token create --role admin --ttl=30d"),
        Some((
            vec!["token".to_owned(), "create".to_owned()],
            vec!["--role".to_owned(), "--ttl".to_owned()]
        ))
    );
    assert_eq!(signet_command("docker compose logs signet"), None);
    assert_eq!(placeholder("restore backup-<time> <<EOF"), Some("<time>"));
    assert_eq!(
        code("signet backup  # into backup-<time>\n# all\necho a#b\n"),
        "signet backup  \n\necho a#b\n"
    );
}
