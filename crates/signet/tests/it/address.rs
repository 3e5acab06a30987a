//! The daemon records where it listens (`.daemon/daemon.json`), so client commands in a shell
//! without `SIGNET_PORT` find it; `daemon status` tells running, down and not answering apart
//! by its exit status.

use std::process::{Command, Stdio};

use serde_json::Value;

use crate::support::{TestEnv, health, is_alive, parse_pid, read};

#[test]
fn a_daemon_on_another_port_is_found_from_a_shell_without_signet_port() {
    let mut env = TestEnv::new();
    let pid = env.start_daemon();
    let url = format!("http://127.0.0.1:{}", env.port);
    assert_eq!(
        read(&env.pid_file()),
        format!("{pid}\n"),
        "upstream's pid file format"
    );
    let state: Value = serde_json::from_str(&read(&env.workspace.join(".daemon/daemon.json")))
        .expect("daemon.json is JSON");
    assert_eq!(state["pid"], pid);
    assert_eq!(
        (state["host"].as_str(), state["port"].as_u64()),
        (Some("127.0.0.1"), Some(u64::from(env.port)))
    );
    assert_eq!(state["url"], url.as_str());
    assert_eq!(state["workspace"], env.workspace.to_str().unwrap());
    assert!(
        state["startedAt"].is_string() && state["version"].is_string(),
        "{state}"
    );

    let status = env.run_without_address(&["status", "--json"]).json();
    assert_eq!(status["pid"], pid);
    let bare = format!("127.0.0.1:{}", env.port);
    let schemeless = env
        .run_without_address(&["status", "--json", "--url", &bare])
        .json();
    assert_eq!(schemeless["pid"], pid);
    let human = env.run_without_address(&["status"]);
    human.stdout_has(&url);
    env.run_without_address(&["remember", "the recorded port is used"])
        .ok();
    let found = env.run_without_address(&["recall", "recorded", "port"]);
    found.stdout_has("the recorded port is used");
    let daemon_status = env.run_without_address(&["daemon", "status"]);
    daemon_status.stdout_has(&format!("running (pid {pid}) on {url}"));
    let start = env.run_without_address(&["daemon", "start"]);
    start.stdout_has(&format!("already running (pid {pid}) on {url}"));
    let elsewhere = crate::support::free_port().to_string();
    let moved = env.run_without_address(&["daemon", "start", "--port", &elsewhere]);
    assert_eq!(moved.status.code(), Some(1), "{moved:?}");
    assert!(
        moved
            .stderr
            .contains(&format!("already running (pid {pid}) on {url}")),
        "{moved:?}"
    );

    let restarted = env.run_without_address(&["daemon", "restart"]);
    let new_pid = parse_pid(restarted.ok().stdout.split("started").nth(1).unwrap_or(""));
    assert_ne!(new_pid, pid, "{restarted:?}");
    assert!(
        restarted.stdout.contains(&url),
        "restarted on the recorded port: {restarted:?}"
    );
    assert_eq!(
        health(env.port).expect("the new daemon answers")["pid"],
        new_pid
    );

    let stopped = env.run_without_address(&["daemon", "stop"]);
    stopped.stdout_has(&format!("stopped (pid {new_pid})"));
    assert!(!is_alive(new_pid));
    assert!(
        !env.workspace.join(".daemon/daemon.json").exists(),
        "daemon.json left behind"
    );
    assert!(!env.pid_file().exists(), "pid file left behind");
}

#[test]
fn daemon_status_exit_status_tells_running_down_and_not_answering_apart() {
    let mut env = TestEnv::new();
    let down = env.run(&["daemon", "status"]);
    assert_eq!(down.status.code(), Some(1), "{down:?}");
    assert!(down.stdout.contains("not running"), "{down:?}");
    let down = env.run(&["daemon", "status", "--json"]);
    assert_eq!(down.status.code(), Some(1), "{down:?}");
    assert_eq!(
        serde_json::from_str::<Value>(&down.stdout).unwrap()["running"],
        false
    );

    let mut stand_in = Command::new("sleep")
        .arg("60")
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    std::fs::create_dir_all(env.pid_file().parent().unwrap()).unwrap();
    std::fs::write(env.pid_file(), format!("{}\n", stand_in.id())).unwrap();
    let mute = env.run(&["daemon", "status"]);
    let _ = stand_in.kill();
    let _ = stand_in.wait();
    std::fs::remove_file(env.pid_file()).unwrap();
    assert_eq!(mute.status.code(), Some(2), "{mute:?}");
    assert!(mute.stdout.contains("does not answer"), "{mute:?}");

    env.start_daemon();
    env.run(&["daemon", "status"]).ok();
    let help = env.run(&["daemon", "status", "--help"]);
    for want in ["0", "1", "2", "not running", "healthy"] {
        assert!(
            help.ok().stdout.contains(want),
            "{want:?} missing from {}",
            help.stdout
        );
    }
}

#[test]
fn start_on_a_port_another_program_holds_names_the_port() {
    let env = TestEnv::new();
    let _holder = std::net::TcpListener::bind(("127.0.0.1", env.port)).expect("hold the port");
    let out = env.run(&["daemon", "start"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let port = env.port.to_string();
    for want in [
        "exited during startup",
        "daemon.err.log",
        "already in use",
        port.as_str(),
    ] {
        assert!(
            out.stderr.contains(want),
            "{want:?} missing from {}",
            out.stderr
        );
    }
    assert!(!env.pid_file().exists() && !env.workspace.join(".daemon/daemon.json").exists());
}
