//! Signals: SIGTERM shuts a foreground daemon down cleanly.

use crate::support::{TestEnv, read, signal};

#[test]
fn sigterm_stops_a_foreground_daemon_and_removes_its_pid_and_state_files() {
    let mut env = TestEnv::new();
    let mut fg = env.start_foreground();
    let pid = fg.child.id();
    assert_eq!(read(&env.pid_file()).trim(), pid.to_string());
    let healthy: serde_json::Value =
        serde_json::from_str(&read(&env.workspace.join(".daemon/last-healthy-start"))).unwrap();
    assert_eq!(healthy["pid"], pid);
    assert!(healthy["startedAt"].is_string() && healthy["version"].is_string());

    let state = env.workspace.join(".daemon/daemon.json");
    assert!(
        read(&state).contains(&format!("\"pid\": {pid}")),
        "{}",
        read(&state)
    );

    assert!(signal(pid, "-TERM"));
    let status = fg.wait();
    assert!(status.success(), "exit status {status}");
    assert!(!env.pid_file().exists(), "pid file left behind");
    assert!(!state.exists(), "daemon.json left behind");
    let log = read(&env.workspace.join(".daemon/logs/daemon.out.log"));
    assert!(
        log.contains("signet daemon ready") && log.contains("SIGTERM received"),
        "{log}"
    );
}
