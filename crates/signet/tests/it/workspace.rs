//! Workspace resolution through `~/.config/signet/workspace.json`.

use crate::support::TestEnv;

#[test]
fn workspace_json_chooses_where_the_daemon_keeps_its_files() {
    let mut env = TestEnv::with_workspace_json();
    let pid = env.start_daemon();
    let recorded =
        std::fs::read_to_string(env.pid_file()).expect("pid file in the custom workspace");
    assert_eq!(recorded.trim(), pid.to_string());

    let st = env.run(&["status", "--json"]).json();
    assert_eq!(st["agentsDir"], env.workspace.to_str().unwrap());

    env.run(&["daemon", "stop"]).ok();
    assert!(env.workspace.join("memory/memories.db").exists());
    assert!(
        !env.home.path().join(".agents").exists(),
        "the default workspace must not be used"
    );
}
