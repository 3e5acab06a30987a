//! Team mode from the command line: the first admin token from the secret file, the CLI with
//! and without a token, and `token inspect`.

use crate::support::{TestEnv, http_json};

#[test]
fn first_admin_token_from_the_host_then_the_cli_needs_it() {
    let mut env = TestEnv::new();
    std::fs::create_dir_all(&env.workspace).unwrap();
    std::fs::write(env.workspace.join("agent.yaml"), "auth:\n  mode: team\n").unwrap();
    let out = env.run(&["token", "create", "--role", "admin", "--sub", "bootstrap"]);
    out.ok();
    let admin = out.stdout.trim().to_owned();
    assert_eq!(admin.matches('.').count(), 1, "{admin}");
    assert!(env.workspace.join(".daemon/auth-secret").exists());
    let reader = env
        .run(&[
            "token",
            "create",
            "--role",
            "readonly",
            "--ttl",
            "1h",
            "--scope",
            "project=acme",
        ])
        .ok()
        .stdout
        .trim()
        .to_owned();

    env.start_daemon();
    let refused = env.run(&["remember", "team mode works"]);
    assert!(!refused.status.success());
    assert!(
        refused.stderr.contains("requires a token"),
        "{}",
        refused.stderr
    );
    assert!(
        refused.stderr.contains("SIGNET_TOKEN"),
        "{}",
        refused.stderr
    );

    let stored = env.run(&["remember", "team mode works", "--token", &admin, "--json"]);
    assert!(stored.json()["id"].is_string());
    let denied = env.run(&["remember", "readers cannot write", "--token", &reader]);
    assert!(!denied.status.success());
    assert!(
        denied.stderr.contains("lacks 'remember' permission"),
        "{}",
        denied.stderr
    );
    let expired = env.run(&["recall", "team", "--token", "abc.def"]);
    assert!(
        expired.stderr.contains("refused the token"),
        "{}",
        expired.stderr
    );

    let inspected = env.run(&["token", "inspect", &admin, "--json"]).json();
    assert_eq!(inspected["claims"]["sub"], "bootstrap");
    assert_eq!(inspected["claims"]["role"], "admin");
    assert_eq!(inspected["signature"], "valid");
    assert_eq!(inspected["expired"], false);
    let human = env.run(&["token", "inspect", &reader]).ok().stdout.clone();
    assert!(
        human.contains(r#"scope:     {"project":"acme"}"#),
        "{human}"
    );
}

#[test]
fn token_create_rejects_bad_input() {
    let env = TestEnv::new();
    for args in [
        &["token", "create", "--role", "root"][..],
        &["token", "create", "--role", "agent", "--ttl", "1w"],
        &["token", "create", "--role", "agent", "--scope", "tenant=x"],
    ] {
        let out = env.run(args);
        assert!(!out.status.success(), "{args:?}");
        assert!(!out.stderr.is_empty());
    }
    let out = env.run(&["token", "inspect", "not-a-token"]);
    assert!(out.stderr.contains("not a signet token"), "{}", out.stderr);
}

#[test]
fn log_lines_of_a_request_carry_its_request_id() {
    let mut env = TestEnv::new();
    env.start_daemon();
    let saved = http_json(
        env.port,
        "POST",
        "/api/memory/remember",
        &["x-signet-request-id: rid-e2e-1"],
        r#"{"content":"request ids reach the log"}"#,
    );
    let id = saved["id"].as_str().expect("an id").to_owned();
    let logs = http_json(
        env.port,
        "GET",
        "/api/logs?category=memory&limit=50",
        &[],
        "",
    );
    let entry = logs["logs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["data"]["id"] == id.as_str())
        .unwrap_or_else(|| panic!("no log entry for {id}: {logs}"));
    assert_eq!(entry["requestId"], "rid-e2e-1", "{entry}");
}
