//! `signet connect` / `signet disconnect` against a temp HOME (no harness installed), and
//! `signet hook` — the command the written hooks run — against a real daemon and none.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::{Value, json};

use crate::support::{Out, TestEnv, read};

/// Runs `signet args…` in the env's HOME (also the current directory), with `stdin`.
fn run_in(env: &TestEnv, args: &[&str], stdin: &str) -> Out {
    let mut cmd = env.command(args);
    cmd.current_dir(env.home.path());
    finish(cmd, stdin)
}

fn finish(mut cmd: Command, stdin: &str) -> Out {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().expect("wait");
    Out {
        status: out.status,
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn json_file(path: &Path) -> Value {
    serde_json::from_str(&read(path)).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn bak(path: &Path) -> PathBuf {
    PathBuf::from(format!("{}.signet-bak", path.display()))
}

/// The command of the first hook under `hooks.<event>` that runs `signet hook`.
fn hook_command(settings: &Value, event: &str) -> String {
    settings["hooks"][event]
        .as_array()
        .unwrap_or_else(|| panic!("no {event} hooks in {settings}"))
        .iter()
        .flat_map(|g| g["hooks"].as_array().unwrap())
        .filter_map(|h| h["command"].as_str())
        .find(|c| c.contains(" hook "))
        .unwrap_or_else(|| panic!("no signet hook for {event} in {settings}"))
        .to_owned()
}

const USER_SETTINGS: &str = r#"{
    "model": "opus",
    "hooks": {
        "SessionStart": [
            {
                "matcher": "startup",
                "hooks": [
                    {
                        "type": "command",
                        "command": "echo mine"
                    }
                ]
            }
        ]
    },
    "permissions": {
        "allow": [
            "Bash(ls)"
        ]
    }
}
"#;

const USER_CLAUDE_JSON: &str = r#"{
  "numStartups": 3,
  "mcpServers": {
    "other": {
      "command": "npx",
      "args": [
        "other-mcp"
      ]
    }
  },
  "projects": {}
}
"#;

#[test]
fn claude_code_connect_keeps_the_users_settings_twice_and_disconnect_restores_them() {
    let env = TestEnv::new();
    let settings = env.home.path().join(".claude/settings.json");
    let claude_json = env.home.path().join(".claude.json");
    write(&settings, USER_SETTINGS);
    write(&claude_json, USER_CLAUDE_JSON);

    let out = run_in(&env, &["connect", "claude-code"], "");
    out.stdout_has("updated");
    let s = json_file(&settings);
    let keys: Vec<_> = s.as_object().unwrap().keys().cloned().collect();
    assert!(
        read(&settings).find("\"model\"") < read(&settings).find("\"permissions\""),
        "key order kept: {keys:?}"
    );
    assert!(read(&settings).contains("\n    \"model\""), "indent kept");
    assert_eq!(s["model"], "opus");
    assert_eq!(s["permissions"]["allow"][0], "Bash(ls)");
    assert_eq!(
        s["hooks"]["SessionStart"][0]["hooks"][0]["command"],
        "echo mine"
    );
    let exe = std::fs::canonicalize(crate::support::BIN).unwrap();
    for (event, ours) in [
        ("SessionStart", "session-start"),
        ("UserPromptSubmit", "user-prompt-submit"),
        ("PreCompact", "pre-compaction"),
        ("SessionEnd", "session-end"),
    ] {
        let cmd = hook_command(&s, event);
        assert!(cmd.contains(&exe.display().to_string()), "{cmd}");
        assert!(
            cmd.contains(&format!("hook {ours} --harness claude-code")),
            "{cmd}"
        );
    }
    let c = json_file(&claude_json);
    assert_eq!(c["numStartups"], 3);
    assert_eq!(c["mcpServers"]["other"]["command"], "npx");
    let server = &c["mcpServers"]["signet"];
    assert_eq!(server["command"], exe.display().to_string());
    assert_eq!(server["args"], json!(["mcp"]));
    assert_eq!(server["env"]["SIGNET_HARNESS"], "claude-code");
    assert_eq!(read(&bak(&settings)), USER_SETTINGS);
    assert_eq!(read(&bak(&claude_json)), USER_CLAUDE_JSON);

    let (s1, c1) = (read(&settings), read(&claude_json));
    let again = run_in(&env, &["connect", "claude-code"], "");
    assert_eq!(
        again.ok().stdout.matches("unchanged").count(),
        2,
        "{again:?}"
    );
    assert_eq!(
        (read(&settings), read(&claude_json)),
        (s1, c1),
        "byte-identical"
    );

    let out = run_in(&env, &["disconnect", "claude-code"], "");
    out.stdout_has("restored from backup");
    assert_eq!(read(&settings), USER_SETTINGS, "byte-identical to before");
    assert_eq!(read(&claude_json), USER_CLAUDE_JSON);
    assert!(!bak(&settings).exists() && !bak(&claude_json).exists());
    let none = run_in(&env, &["disconnect", "claude-code"], "");
    assert_eq!(none.ok().stdout.matches("unchanged").count(), 2, "{none:?}");
}

#[test]
fn a_file_changed_after_connect_loses_only_signets_entries() {
    let env = TestEnv::new();
    let claude_json = env.home.path().join(".claude.json");
    write(&claude_json, USER_CLAUDE_JSON);
    run_in(&env, &["connect", "claude-code"], "").ok();
    let mut c = json_file(&claude_json);
    c["numStartups"] = json!(4);
    std::fs::write(&claude_json, serde_json::to_string_pretty(&c).unwrap()).unwrap();
    run_in(&env, &["disconnect", "claude-code"], "").ok();
    let after = json_file(&claude_json);
    let mut want: Value = serde_json::from_str(USER_CLAUDE_JSON).unwrap();
    want["numStartups"] = json!(4);
    assert_eq!(after, want, "semantically the user's file");
    assert!(
        bak(&claude_json).exists(),
        "the backup is kept when it differs"
    );
    let settings = env.home.path().join(".claude/settings.json");
    assert!(
        !settings.exists(),
        "a file signet created and emptied is deleted"
    );
}

const CODEX_TOML: &str = r#"# my codex settings
model = "o3"  # the default model

[mcp_servers.docs]
command = "docs-mcp"
args = ["--stdio"]
"#;

#[test]
fn codex_gets_hooks_json_and_a_toml_table_that_keeps_comments() {
    let env = TestEnv::new();
    let config = env.home.path().join(".codex/config.toml");
    let hooks = env.home.path().join(".codex/hooks.json");
    write(&config, CODEX_TOML);

    let dry = run_in(&env, &["connect", "codex", "--dry-run"], "");
    dry.stdout_has("would write");
    assert_eq!(read(&config), CODEX_TOML, "--dry-run writes nothing");
    assert!(!hooks.exists() && !bak(&config).exists());

    run_in(&env, &["connect", "codex"], "").ok();
    let text = read(&config);
    assert!(
        text.starts_with(CODEX_TOML),
        "the user's lines first, untouched:\n{text}"
    );
    assert!(text.contains("[mcp_servers.signet]"), "{text}");
    assert!(text.contains("args = [\"mcp\"]"), "{text}");
    assert!(text.contains("SIGNET_HARNESS = \"codex\""), "{text}");
    let h = json_file(&hooks);
    for (event, ours) in [
        ("SessionStart", "session-start"),
        ("UserPromptSubmit", "user-prompt-submit"),
        ("PreCompact", "pre-compaction"),
        ("Stop", "session-end"),
    ] {
        assert!(hook_command(&h, event).contains(&format!("hook {ours} --harness codex")));
    }
    let again = run_in(&env, &["connect", "codex"], "");
    assert_eq!(
        again.ok().stdout.matches("unchanged").count(),
        2,
        "{again:?}"
    );
    assert_eq!(read(&config), text);

    let dry = run_in(&env, &["disconnect", "codex", "--dry-run"], "");
    dry.stdout_has("would restore from backup");
    assert_eq!(read(&config), text, "--dry-run writes nothing");
    assert!(hooks.exists());
    run_in(&env, &["disconnect", "codex"], "").ok();
    assert_eq!(read(&config), CODEX_TOML, "byte-identical");
    assert!(!hooks.exists(), "hooks.json held only signet's hooks");
}

#[test]
fn opencode_gets_a_local_mcp_server_and_jsonc_is_refused() {
    let env = TestEnv::new();
    let path = env.home.path().join(".config/opencode/opencode.json");
    run_in(&env, &["connect", "opencode", "--dry-run"], "").stdout_has("would write");
    assert!(!path.exists());
    run_in(&env, &["connect", "opencode"], "").stdout_has("created");
    let o = json_file(&path);
    let server = &o["mcp"]["signet"];
    assert_eq!(server["type"], "local");
    assert_eq!(server["command"][1], "mcp");
    assert_eq!(server["enabled"], true);
    assert_eq!(server["environment"]["SIGNET_HARNESS"], "opencode");
    run_in(&env, &["disconnect", "opencode"], "").stdout_has("deleted");
    assert!(!path.exists());

    write(&path, "{\n  // mine\n  \"theme\": \"x\"\n}\n");
    let refused = run_in(&env, &["connect", "opencode"], "");
    assert!(!refused.status.success());
    assert!(refused.stderr.contains("comments"), "{}", refused.stderr);
    assert!(read(&path).contains("// mine"), "left as it was");
}

#[test]
fn the_http_transport_points_at_the_daemons_mcp_url() {
    let env = TestEnv::new();
    run_in(&env, &["connect", "codex", "--transport", "http"], "").ok();
    let text = read(&env.home.path().join(".codex/config.toml"));
    let url = format!("url = \"http://127.0.0.1:{}/mcp?harness=codex\"", env.port);
    assert!(text.contains(&url), "{text}");
    assert!(!text.contains("command"), "{text}");
    run_in(&env, &["connect", "claude-code", "--transport", "http"], "").ok();
    let c = json_file(&env.home.path().join(".claude.json"));
    assert_eq!(c["mcpServers"]["signet"]["type"], "http");
    run_in(&env, &["disconnect", "codex"], "").ok();
    assert!(!env.home.path().join(".codex/config.toml").exists());
}

#[test]
fn project_scope_writes_into_the_current_directory() {
    let env = TestEnv::new();
    run_in(&env, &["connect", "claude-code", "--scope", "project"], "").ok();
    let mcp = json_file(&env.home.path().join(".mcp.json"));
    assert_eq!(mcp["mcpServers"]["signet"]["args"], json!(["mcp"]));
    assert!(env.home.path().join(".claude/settings.json").exists());
    assert!(!env.home.path().join(".claude.json").exists());
}

#[test]
fn team_mode_writes_a_token_reference_and_never_a_token() {
    let env = TestEnv::new();
    env.write_config("auth:\n  mode: team\n");
    let token = "secret-token-value";
    let mut cmd = env.command(&["connect", "claude-code", "--token", token]);
    cmd.current_dir(env.home.path());
    let out = finish(cmd, "");
    out.stdout_has("signet token create --role agent --sub claude-code");
    let token_file = env.workspace.join(".daemon/tokens/claude-code");
    for path in [".claude/settings.json", ".claude.json"] {
        let text = read(&env.home.path().join(path));
        assert!(!text.contains(token), "{path} holds the token");
        assert!(
            text.contains(&token_file.display().to_string()),
            "{path}: {text}"
        );
    }
    let c = json_file(&env.home.path().join(".claude.json"));
    assert_eq!(
        c["mcpServers"]["signet"]["env"]["SIGNET_TOKEN_FILE"],
        token_file.display().to_string()
    );
    let s = json_file(&env.home.path().join(".claude/settings.json"));
    assert!(hook_command(&s, "SessionStart").contains("--token-file"));
    let http = run_in(&env, &["connect", "codex", "--transport", "http"], "");
    assert!(!http.status.success());
    assert!(http.stderr.contains("--transport stdio"), "{}", http.stderr);
}

const SESSION_START: &str = r#"{"session_id": "sess-1", "transcript_path": "/nonexistent.jsonl",
    "cwd": "/work/acme", "hook_event_name": "SessionStart", "source": "startup"}"#;

#[test]
fn the_written_hook_commands_talk_to_a_real_daemon() {
    let mut env = TestEnv::new();
    env.start_daemon();
    run_in(
        &env,
        &["remember", "the acme deploy uses blue-green rollouts"],
        "",
    )
    .ok();
    run_in(&env, &["connect", "claude-code"], "").ok();
    let s = json_file(&env.home.path().join(".claude/settings.json"));

    // As the harness runs it: through sh, with the environment of the user's shell.
    let sh = |event: &str, stdin: &str| {
        let shell = env.command(&[]);
        let mut sh = Command::new("sh");
        sh.args(["-c", &hook_command(&s, event)])
            .env_clear()
            .envs(shell.get_envs().filter_map(|(k, v)| Some((k, v?))))
            .current_dir(env.home.path());
        finish(sh, stdin)
    };
    let start = sh("SessionStart", SESSION_START);
    let v: Value =
        serde_json::from_str(start.ok().stdout.trim()).unwrap_or_else(|e| panic!("{e}: {start:?}"));
    assert_eq!(v["hookSpecificOutput"]["hookEventName"], "SessionStart");
    let inject = v["hookSpecificOutput"]["additionalContext"]
        .as_str()
        .unwrap();
    assert!(inject.contains("[memory active"), "{inject}");
    assert!(inject.contains("blue-green"), "{inject}");

    let prompt = sh(
        "UserPromptSubmit",
        r#"{"session_id": "sess-1", "cwd": "/work/acme", "prompt": "how do acme rollouts work?"}"#,
    );
    let v: Value = serde_json::from_str(prompt.ok().stdout.trim())
        .unwrap_or_else(|e| panic!("{e}: {prompt:?}"));
    assert_eq!(v["hookSpecificOutput"]["hookEventName"], "UserPromptSubmit");
    assert!(
        v["hookSpecificOutput"]["additionalContext"]
            .as_str()
            .unwrap()
            .contains("Current Date"),
        "{v}"
    );
    for event in ["PreCompact", "SessionEnd"] {
        let out = sh(event, r#"{"session_id": "sess-1", "cwd": "/work/acme"}"#);
        assert_eq!(out.ok().stdout, "", "{event} prints nothing: {out:?}");
        assert_eq!(out.stderr, "", "{event}: {out:?}");
    }
}

#[test]
fn a_hook_with_no_daemon_prints_nothing_and_exits_zero() {
    let env = TestEnv::new();
    let out = run_in(
        &env,
        &["hook", "session-start", "--harness", "claude-code"],
        SESSION_START,
    );
    assert!(out.status.success(), "{out:?}");
    assert_eq!(out.stdout, "");
    assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
    assert!(out.stderr.contains("skipped"), "{}", out.stderr);
    let garbage = run_in(&env, &["hook", "session-end", "-H", "codex"], "not json");
    assert!(garbage.status.success() && garbage.stdout.is_empty());
    let mut cmd = env.command(&["hook", "session-start", "-H", "codex"]);
    cmd.env("SIGNET_NO_HOOKS", "1");
    let off = finish(cmd, SESSION_START);
    assert!(
        off.status.success() && off.stdout.is_empty() && off.stderr.is_empty(),
        "{off:?}"
    );
}

#[test]
fn team_mode_hooks_read_a_private_token_file() {
    let mut env = TestEnv::new();
    env.write_config("auth:\n  mode: team\n");
    let token = run_in(
        &env,
        &["token", "create", "--role", "agent", "--sub", "claude-code"],
        "",
    );
    let token_file = env.workspace.join(".daemon/tokens/claude-code");
    write(&token_file, &token.ok().stdout);
    env.start_daemon();
    let hook = [
        "hook",
        "session-start",
        "--harness",
        "claude-code",
        "--token-file",
    ];
    let args: Vec<&str> = hook
        .iter()
        .copied()
        .chain([token_file.to_str().unwrap()])
        .collect();

    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&token_file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let loose = run_in(&env, &args, SESSION_START);
    assert!(
        loose.status.success() && loose.stdout.is_empty(),
        "{loose:?}"
    );
    assert!(loose.stderr.contains("chmod 600"), "{}", loose.stderr);

    std::fs::set_permissions(&token_file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let out = run_in(&env, &args, SESSION_START);
    let v: Value =
        serde_json::from_str(out.ok().stdout.trim()).unwrap_or_else(|e| panic!("{e}: {out:?}"));
    assert!(
        v["hookSpecificOutput"]["additionalContext"]
            .as_str()
            .unwrap()
            .contains("[memory active"),
        "{v}"
    );
    let anonymous = run_in(&env, &hook[..4], SESSION_START);
    assert!(anonymous.status.success() && anonymous.stdout.is_empty());
    assert!(anonymous.stderr.contains("token"), "{}", anonymous.stderr);
}
