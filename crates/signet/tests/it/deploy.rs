//! `deploy/docker/`: the compose file validates with the shipped `.env.example`, and the
//! container's entrypoint, run outside Docker against a temp workspace, writes a team-mode
//! `agent.yaml` once and starts a daemon that accepts it on a non-loopback bind. No Docker
//! engine is needed: `docker-compose` (Debian's, installed by `scripts/test.sh`) only parses.
//! Without `docker-compose` the compose test says so and skips, except under
//! `SIGNET_REQUIRE_ALL` (set by the test script), where it fails.

use std::fs::File;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use crate::support::{BIN, Foreground, TestEnv, health, http_json, poll, read};

fn docker_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../deploy/docker")
}

fn installed(bin: &str) -> bool {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {bin}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        // scripts/test.sh (and so CI) sets SIGNET_REQUIRE_ALL: no silent skips there.
        assert!(
            std::env::var_os("SIGNET_REQUIRE_ALL").is_none(),
            "{bin} is not installed but SIGNET_REQUIRE_ALL forbids skipping"
        );
        eprintln!("skipping: {bin} is not installed (scripts/test.sh installs it)");
    }
    found
}

#[test]
fn the_compose_file_validates_with_the_example_env() {
    if !installed("docker-compose") {
        return;
    }
    let dir = docker_dir();
    let out = Command::new("docker-compose")
        .arg("-f")
        .arg(dir.join("compose.yaml"))
        .arg("--env-file")
        .arg(dir.join(".env.example"))
        .arg("config")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for want in [
        "signet:",
        "caddy:",
        "SIGNET_BIND: 0.0.0.0",
        "published: 80",
        "published: 443",
        "signet-data:/data",
        "caddy-data:/data",
        "caddy-config:/config",
    ] {
        assert!(text.contains(want), "{want} missing from\n{text}");
    }
}

/// `sh deploy/docker/entrypoint.sh` as the container runs it, with the workspace, port and
/// binary of `env`; `signet_bin` replaces the `signet` the script execs.
fn entrypoint(env: &TestEnv, signet_bin: &str) -> Command {
    let mut cmd = Command::new("sh");
    cmd.arg(docker_dir().join("entrypoint.sh"))
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", env.home.path())
        .env("SIGNET_PATH", &env.workspace)
        .env("SIGNET_HOST", "127.0.0.1")
        .env("SIGNET_PORT", env.port.to_string())
        .env("SIGNET_BIN", signet_bin)
        .env("RUST_LOG", "info")
        .stdin(Stdio::null());
    cmd
}

#[test]
fn the_entrypoint_writes_a_team_config_once_and_the_daemon_starts_with_it() {
    let env = TestEnv::new();
    let config = env.workspace.join("agent.yaml");

    // First start, with a stand-in for the daemon: the config is written.
    let first = entrypoint(&env, "true").output().unwrap();
    assert!(first.status.success(), "{first:?}");
    assert!(
        String::from_utf8_lossy(&first.stderr).contains("wrote"),
        "{first:?}"
    );
    let written = std::fs::read_to_string(&config).unwrap();
    assert!(written.contains("auth:\n  mode: team\n"), "{written}");

    // The operator edits it; the next start keeps the edit and runs the real daemon, bound to
    // every interface as in the container (SIGNET_BIND defaults to 0.0.0.0 there).
    let edited = format!("{written}# edited by the operator\n");
    std::fs::write(&config, &edited).unwrap();
    let stderr = env.home.path().join("entrypoint.stderr");
    let child = entrypoint(&env, BIN)
        .stdout(Stdio::null())
        .stderr(File::create(&stderr).unwrap())
        .spawn()
        .unwrap();
    let mut daemon = Foreground { child, stderr };
    let pid = daemon.child.id();
    poll("the daemon the entrypoint started", || {
        if let Ok(Some(status)) = daemon.child.try_wait() {
            panic!("the daemon exited ({status}):\n{}", read(&daemon.stderr));
        }
        health(env.port).filter(|h| h["pid"] == pid)
    });
    assert_eq!(std::fs::read_to_string(&config).unwrap(), edited);

    // The image's HEALTHCHECK command.
    env.run(&["daemon", "status"]).ok();
    // Team mode: refused without a token, served with the documented bootstrap token.
    let refused = http_json(env.port, "GET", "/api/memories", &[], "");
    assert!(refused["error"].is_string(), "{refused}");
    let token = env.run(&["token", "create", "--role", "admin", "--sub", "bootstrap"]);
    let bearer = format!("authorization: Bearer {}", token.ok().stdout.trim());
    let served = http_json(env.port, "GET", "/api/memories", &[&bearer], "");
    assert!(served.get("error").is_none(), "{served}");

    drop(daemon);
}
