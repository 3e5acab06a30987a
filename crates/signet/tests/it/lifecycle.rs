//! The everyday path: start, inspect, remember, recall, stop.

use crate::support::{TestEnv, is_alive};

#[test]
fn start_status_remember_recall_stop() {
    let mut env = TestEnv::new();
    let pid = env.start_daemon();
    assert!(is_alive(pid));
    assert_eq!(
        std::fs::read_to_string(env.pid_file()).unwrap().trim(),
        pid.to_string()
    );

    let again = env.run(&["daemon", "start"]);
    again.stdout_has(&format!("already running (pid {pid})"));

    let st = env.run(&["daemon", "status", "--json"]).json();
    assert_eq!(
        (st["running"].clone(), st["pid"].clone()),
        (true.into(), pid.into()),
        "{st}"
    );
    let human = env.run(&["daemon", "status"]);
    human.stdout_has(&format!("running (pid {pid})"));

    let api = env.run(&["status", "--json"]).json();
    assert_eq!(api["pid"], pid);
    assert_eq!(api["agentsDir"], env.workspace.to_str().unwrap());
    let human = env.run(&["status"]);
    human.stdout_has("memories   0");

    let id = remember_and_recall(&env);

    let stopped = env.run(&["daemon", "stop"]);
    stopped.stdout_has(&format!("stopped (pid {pid})"));
    assert!(!env.pid_file().exists(), "pid file left behind");
    assert!(!is_alive(pid), "daemon still running");
    assert!(env.workspace.join("memory/memories.db").exists());
    assert!(!id.is_empty());

    let again = env.run(&["daemon", "stop"]);
    again.stdout_has("not running");
}

/// Remembers one memory, checks dedup and recall (human and JSON); returns its id.
fn remember_and_recall(env: &TestEnv) -> String {
    let text = "The deploy key lives in the ops vault";
    let out = env.run(&[
        "remember",
        text,
        "--tags",
        "ops,infra",
        "--importance",
        "0.9",
    ]);
    let line = out.ok().stdout.trim().to_owned();
    let id = line
        .strip_prefix("Remembered ")
        .and_then(|rest| rest.split(' ').next())
        .unwrap_or_else(|| panic!("unexpected remember output {line:?}"))
        .to_owned();
    let dup = env.run(&["remember", text]);
    assert_eq!(dup.ok().stdout.trim(), format!("Already remembered {id}"));

    let human = env.run(&["recall", "deploy", "vault"]);
    let first = human
        .ok()
        .stdout
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned();
    assert!(
        first.contains(&id[..8]) && first.contains(text),
        "{first:?}"
    );

    let json = env.run(&["recall", "deploy", "--json"]).json();
    let hit = &json["results"][0];
    assert_eq!(
        (hit["id"].as_str(), hit["tags"].as_str()),
        (Some(id.as_str()), Some("ops,infra")),
        "{json}"
    );
    assert_eq!(hit["importance"], 0.9);
    assert_eq!(json["query"], "deploy");

    let none = env.run(&["recall", "zebra"]);
    assert_eq!(none.ok().stdout.trim(), "No memories matched.");
    id
}
