//! The operator's guide (`../shared/reference/self-hosting.md`) to the letter: its YAML
//! snippets go through our config loader, and its `curl` / `jq` / `base64` lines run in bash
//! against live daemons (local, hybrid and team mode), with only the port and the
//! `<admin-token>` placeholders filled in. The guide's rendering lost the YAML indentation, so
//! the snippets are kept here indented and checked to appear in the guide line for line.

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;
use signet_core::auth::{Role, Scope};
use signet_core::config::{EnvVars, Settings};

use crate::auth::token;
use crate::common::TestServer;

fn guide() -> String {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/reference/self-hosting.md");
    std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "the guide must be beside the repository ({}): {e}",
            path.display()
        )
    })
}

/// The guide's YAML snippets, indented as YAML needs.
const SNIPPETS: &[&str] = &[
    "auth:\n  mode: team\n",
    "auth:\n  mode: team\n  defaultTokenTtlSeconds: 604800 # 7 days\n  sessionTokenTtlSeconds: 86400 # 24 hours\n",
    "auth:\n  mode: team\n  rateLimits:\n    forget:\n      windowMs: 60000\n      max: 10\n",
    "auth:\n  mode: hybrid\n",
    "memory:\n  pipelineV2:\n    enabled: false\n    extraction:\n      provider: none\n",
    "memory:\n  pipelineV2:\n    enabled: true\n",
];

#[test]
fn every_yaml_snippet_of_the_guide_loads_without_warnings() {
    let text = guide();
    let guide_lines: Vec<&str> = text.lines().map(str::trim).collect();
    for snippet in SNIPPETS {
        let flat: Vec<&str> = snippet.lines().map(str::trim).collect();
        assert!(
            guide_lines
                .windows(flat.len())
                .any(|w| w == flat.as_slice()),
            "the guide no longer has this snippet:\n{snippet}"
        );
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("agent.yaml"), snippet).unwrap();
        let loaded = Settings::load(dir.path(), &EnvVars::default())
            .unwrap_or_else(|e| panic!("{snippet}: {e}"));
        assert!(
            loaded.warnings.is_empty(),
            "{snippet}: {:?}",
            loaded.warnings
        );
    }
}

/// The guide's "bind to all interfaces" line, in team mode (as the guide says to use it),
/// starts; in local mode it is refused with a message pointing at team mode.
#[test]
fn binding_all_interfaces_needs_team_mode() {
    let env: EnvVars = [("SIGNET_HOST", "0.0.0.0"), ("SIGNET_PORT", "3850")]
        .into_iter()
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let err = Settings::load(dir.path(), &env).unwrap_err().to_string();
    assert!(err.contains("auth: {mode: team}"), "{err}");
    std::fs::write(dir.path().join("agent.yaml"), SNIPPETS[0]).unwrap();
    let loaded = Settings::load(dir.path(), &env).unwrap();
    assert_eq!(loaded.settings.network.bind, "0.0.0.0");
}

/// Every shell command of the guide that talks to the daemon: lines starting with `curl`,
/// `TOKEN=` or `echo "${TOKEN`, with `\` continuations and multi-line quoted JSON joined.
fn guide_commands() -> Vec<String> {
    let text = guide();
    let mut out = Vec::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        let line = line.trim();
        match current.as_mut() {
            Some(cmd) => {
                cmd.push('\n');
                cmd.push_str(line);
            }
            None if line.starts_with("curl ")
                || line.starts_with("TOKEN=")
                || line.starts_with("echo \"${TOKEN") =>
            {
                current = Some(line.to_owned());
            }
            None => continue,
        }
        let cmd = current.as_ref().unwrap();
        let open_quote = cmd.matches('\'').count() % 2 == 1;
        if !open_quote && !cmd.ends_with('\\') {
            out.push(current.take().unwrap());
        }
    }
    out
}

/// Runs `script` in bash with `pipefail`; returns stdout, failing on a non-zero exit.
fn bash(script: &str) -> String {
    // Tests using this run on a multi-thread runtime: the daemon keeps serving while the
    // test thread waits for curl.
    let out = Command::new("timeout")
        .args(["30", "bash", "-o", "pipefail", "-c", script])
        .output()
        .expect("bash runs (curl, jq and base64 are installed by scripts/test.sh)");
    assert!(
        out.status.success(),
        "{script}\nexit {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The guide's command with our port and a real token in place of the placeholders.
fn fill(cmd: &str, s: &TestServer, tok: &str) -> String {
    let port = s.base.rsplit(':').next().unwrap();
    cmd.replace("localhost:3850", &format!("localhost:{port}"))
        .replace("<admin-token>", tok)
        .replace("<your-token>", tok)
}

fn json(out: &str) -> Value {
    serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"))
}

fn find<'a>(cmds: &'a [String], needle: &str) -> Vec<&'a String> {
    let found: Vec<&String> = cmds.iter().filter(|c| c.contains(needle)).collect();
    assert!(
        !found.is_empty(),
        "no guide command contains {needle}: {cmds:#?}"
    );
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_guides_monitoring_commands_answer_in_local_mode() {
    let s = TestServer::start().await;
    s.remember("a memory so the report has something to score")
        .await;
    let cmds = guide_commands();
    let health = json(&bash(&fill(find(&cmds, "/health | jq .")[0], &s, "")));
    assert_eq!(health["status"], "healthy");
    assert!(health["uptime"].is_number() && health["pid"].is_number());
    let score = bash(&fill(find(&cmds, "jq '.score'")[0], &s, ""));
    let score: f64 = score
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("score: {score}"));
    assert!((0.0..=1.0).contains(&score));
    let v = json(&bash(&fill(
        find(&cmds, "{score, memory, mutation}")[0],
        &s,
        "",
    )));
    for key in ["score", "memory", "mutation"] {
        assert!(!v[key].is_null(), "{key} is null in {v}");
    }
    assert!(v["memory"]["status"].is_string(), "{v}");
    let mode = bash(&fill(find(&cmds, "/api/auth/status | jq .mode")[0], &s, ""));
    assert_eq!(mode.trim(), "\"local\"");
    // The analytics endpoints the guide lists.
    for path in ["usage", "errors", "latency", "logs"] {
        let url = format!("{}/api/analytics/{path}", s.base);
        json(&bash(&format!("curl -sf {url} | jq -c .")));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_guides_bootstrap_token_command_works_in_hybrid_mode() {
    let s = TestServer::start_with_yaml(Some(SNIPPETS[3])).await;
    let cmds = guide_commands();
    let bootstrap = find(&cmds, "\"sub\": \"ci-runner\"")[0];
    assert!(!bootstrap.contains("Authorization"), "{bootstrap}");
    let v = json(&bash(&fill(bootstrap, &s, "")));
    let tok = v["token"].as_str().unwrap_or_else(|| panic!("{v}"));
    assert_eq!(v["claims"]["sub"], "ci-runner");
    assert_eq!(v["claims"]["role"], "agent");
    // The guide's expiry check decodes it with base64 -d.
    let tok_line = find(&cmds, "TOKEN=")[0];
    let decode = find(&cmds, "base64 -d")[0];
    let script = format!("{}\n{}", fill(tok_line, &s, tok), decode);
    let exp: i64 = bash(&script).trim().parse().unwrap();
    assert_eq!(exp, v["claims"]["exp"].as_i64().unwrap());
    assert_eq!(exp - v["claims"]["iat"].as_i64().unwrap(), 2_592_000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_guides_team_mode_commands_work_with_an_admin_token() {
    let s = TestServer::start_with_yaml(Some(SNIPPETS[1])).await;
    let admin = token(&s, Role::Admin, "bootstrap", Scope::default());
    let cmds = guide_commands();
    let mode = bash(&fill(find(&cmds, "/api/auth/status | jq .mode")[0], &s, ""));
    assert_eq!(mode.trim(), "\"team\"");
    let scoped = find(&cmds, "claude-code:acme")[0];
    let v = json(&bash(&fill(scoped, &s, &admin)));
    assert_eq!(v["claims"]["scope"]["project"], "acme", "{v}");
    assert_eq!(
        v["claims"]["exp"].as_i64().unwrap() - v["claims"]["iat"].as_i64().unwrap(),
        86_400
    );
    let requeue = find(&cmds, "requeue-dead-jobs")[0];
    let v = json(&bash(&fill(requeue, &s, &admin)));
    assert!(v.get("error").is_none(), "{v}");
    assert_eq!(v["success"], true, "{v}");
    // Without the token the same command is refused (team mode fails closed).
    let refused = bash(&fill(requeue, &s, "not-a-token"));
    assert!(json(&refused)["error"].is_string(), "{refused}");
    // The token's exp by the guide's recipe.
    let script = format!(
        "{}\n{}",
        fill(find(&cmds, "TOKEN=")[0], &s, &admin),
        find(&cmds, "base64 -d")[0]
    );
    let exp: i64 = bash(&script).trim().parse().unwrap();
    assert!(exp > chrono::Utc::now().timestamp());
}
