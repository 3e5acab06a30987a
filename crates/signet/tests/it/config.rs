//! `daemon start` and `restart` check the configuration the way the daemon will load it, before
//! touching a running daemon, and show its warnings.

use crate::support::{TestEnv, health, is_alive};

/// `auth.mode` misspelt: a config the daemon refuses at start-up.
const BAD_AUTH_MODE: &str = "search:\n  top_k: 5\nauth:\n  mode: tem\n";

fn assert_names_key_value_and_file(stderr: &str) {
    for want in ["auth.mode", r#""tem""#, "agent.yaml"] {
        assert!(stderr.contains(want), "{want:?} missing from {stderr}");
    }
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn restart_with_an_invalid_config_leaves_the_running_daemon_up() {
    let mut env = TestEnv::new();
    let pid = env.start_daemon();
    env.write_config(BAD_AUTH_MODE);

    let out = env.run(&["daemon", "restart"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert_names_key_value_and_file(&out.stderr);
    assert!(
        out.stderr.contains(&format!("pid {pid}")),
        "should say which daemon keeps running: {}",
        out.stderr
    );
    assert!(is_alive(pid), "the running daemon was stopped");
    let h = health(env.port).expect("the old daemon still answers");
    assert_eq!(h["pid"], pid);
}

#[test]
fn start_with_an_invalid_config_shows_the_config_error_itself() {
    let env = TestEnv::new();
    env.write_config(BAD_AUTH_MODE);
    let out = env.run(&["daemon", "start"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert_names_key_value_and_file(&out.stderr);
    assert!(
        !out.stderr.contains("exited during startup") && !out.stderr.contains("daemon.err.log"),
        "the config error, not a log tail: {}",
        out.stderr
    );
    assert!(!env.pid_file().exists());

    env.write_config("search: [unclosed\n");
    let out = env.run(&["daemon", "start"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(
        out.stderr.contains("agent.yaml") && out.stderr.contains("line 1"),
        "{}",
        out.stderr
    );
    assert!(
        !out.stderr.contains("exited during startup"),
        "{}",
        out.stderr
    );
}

#[test]
fn start_and_restart_print_config_warnings() {
    let mut env = TestEnv::new();
    env.write_config("foo: 1\nsearch:\n  top_k: 5\n");
    let warning = "warning: unknown key foo (ignored)";
    let started = env.start_daemon_output();
    assert!(started.stderr.contains(warning), "{started:?}");
    let restarted = env.run(&["daemon", "restart"]);
    assert!(restarted.ok().stderr.contains(warning), "{restarted:?}");
    assert!(!restarted.stdout.contains("warning"), "{restarted:?}");
}
