//! Failures a user meets: a taken port, a daemon that is not running.

use crate::support::TestEnv;

#[test]
fn second_daemon_on_the_same_port_fails_with_a_clear_message() {
    let mut first = TestEnv::new();
    let fg = first.start_foreground();
    let pid = fg.child.id();

    let same_ws = first.run(&["daemon", "run"]);
    assert!(!same_ws.status.success());
    assert!(
        same_ws
            .stderr
            .contains(&format!("already running (pid {pid})")),
        "{same_ws:?}"
    );

    let mut other = TestEnv::new();
    other.port = first.port;
    let out = other.run(&["daemon", "run"]);
    assert!(!out.status.success(), "{out:?}");
    let port = first.port.to_string();
    for want in [port.as_str(), "already in use", "--port", "SIGNET_PORT="] {
        assert!(
            out.stderr.contains(want),
            "{want:?} missing from {}",
            out.stderr
        );
    }
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
    assert!(
        !other.pid_file().exists(),
        "a failed start must not leave a pid file"
    );

    let start = other.run(&["daemon", "start"]);
    assert!(
        !start.status.success() && start.stderr.contains("another workspace"),
        "{start:?}"
    );
}

#[test]
fn client_commands_without_a_daemon_say_how_to_start_it() {
    let env = TestEnv::new();
    let url = format!("http://127.0.0.1:{}", env.port);
    for args in [
        &["recall", "anything"][..],
        &["status"],
        &["remember", "a fact"],
    ] {
        let out = env.run(args);
        assert_eq!(out.status.code(), Some(1), "{out:?}");
        assert!(
            out.stderr
                .contains(&format!("signet daemon is not running at {url}")),
            "{}",
            out.stderr
        );
        assert!(
            out.stderr.contains("`signet daemon start`"),
            "{}",
            out.stderr
        );
    }
    let status = env.run(&["daemon", "status"]);
    assert_eq!(status.status.code(), Some(1), "{status:?}");
    assert!(status.stdout.contains("not running"), "{status:?}");
    let stop = env.run(&["daemon", "stop"]);
    stop.stdout_has("not running");
}

#[test]
fn a_daemon_url_that_is_not_http_is_refused_naming_it() {
    let env = TestEnv::new();
    for url in ["ftp://127.0.0.1:21", "127.0.0.1:99999"] {
        let out = env.run(&["status", "--url", url]);
        assert_eq!(out.status.code(), Some(1), "{out:?}");
        assert!(
            out.stderr.contains(url) && out.stderr.contains("expected http://HOST:PORT"),
            "{}",
            out.stderr
        );
    }
}
