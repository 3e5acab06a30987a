//! The MCP server driven by real clients no one here wrote: the official Python SDK (`mcp`)
//! and TypeScript SDK (`@modelcontextprotocol/sdk`), each over streamable HTTP (the daemon's
//! `/mcp`) and over stdio (`signet mcp`, bridging to the daemon or, with none running,
//! starting one in-process). The client scripts live in `crates/signet-server/tests/mcp/`;
//! they run the calls a test asks for and print a JSON report that the test checks.
//!
//! The SDKs come from `scripts/fetch-mcp-clients.sh` (run by `scripts/test.sh`), found through
//! `SIGNET_MCP_CLIENTS`. Without it the tests say so and skip, except under
//! `SIGNET_REQUIRE_ALL` (set by the test script, and so CI), where they fail.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::{Value, json};

use crate::support::{BIN, TestEnv, free_port, http_json};

/// The installed SDKs, or `None` (a skip) when they are not installed and skipping is allowed.
fn clients(test: &str) -> Option<PathBuf> {
    let dir = std::env::var_os("SIGNET_MCP_CLIENTS").map(PathBuf::from);
    let ready = dir.as_deref().is_some_and(|d| {
        d.join("venv/bin/python").exists()
            && d.join("node/node_modules/@modelcontextprotocol/sdk")
                .exists()
    });
    if !ready {
        // scripts/test.sh (and so CI) sets SIGNET_REQUIRE_ALL: no silent skips there.
        assert!(
            std::env::var_os("SIGNET_REQUIRE_ALL").is_none(),
            "{test}: the MCP client SDKs are not installed (SIGNET_MCP_CLIENTS; run \
             scripts/fetch-mcp-clients.sh) but SIGNET_REQUIRE_ALL forbids skipping"
        );
        eprintln!("{test}: skipped, SIGNET_MCP_CLIENTS does not hold the MCP client SDKs");
        return None;
    }
    dir
}

/// The two SDKs.
#[derive(Debug, Clone, Copy)]
enum Sdk {
    Python,
    Node,
}

/// The two transports.
#[derive(Debug, Clone, Copy)]
enum Transport {
    Http,
    Stdio,
}

const SCRIPTS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../signet-server/tests/mcp");

/// Where the clients connect, and as whom.
struct Target<'a> {
    env: &'a TestEnv,
    /// The port `signet mcp` and the HTTP URL point at.
    port: u16,
    token: Option<&'a str>,
}

/// Runs one client with `calls`; its report.
fn run(dir: &Path, sdk: Sdk, transport: Transport, to: &Target, calls: &Value) -> Value {
    let mut cmd = match sdk {
        Sdk::Python => {
            let mut c = Command::new(dir.join("venv/bin/python"));
            c.arg(Path::new(SCRIPTS).join("client.py"));
            c
        }
        Sdk::Node => {
            // ESM resolves packages from the script's directory: run a copy beside node_modules.
            let copy = dir.join("node/client.mjs");
            let staged = dir.join(format!("node/.client.{}.mjs", std::process::id()));
            std::fs::copy(Path::new(SCRIPTS).join("client.mjs"), &staged).unwrap();
            std::fs::rename(&staged, &copy).unwrap();
            let mut c = Command::new("node");
            c.arg(copy);
            c
        }
    };
    let transport_name = match transport {
        Transport::Http => "http",
        Transport::Stdio => "stdio",
    };
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", to.env.home.path())
        .env("MCP_TRANSPORT", transport_name)
        .env("MCP_URL", format!("http://127.0.0.1:{}/mcp", to.port))
        .env("MCP_COMMAND", json!([BIN, "mcp"]).to_string())
        .env("MCP_CALLS", calls.to_string())
        .env("SIGNET_PATH", &to.env.workspace)
        .env("SIGNET_HOST", "127.0.0.1")
        .env("SIGNET_PORT", to.port.to_string())
        .env("SIGNET_HARNESS", "sdk-test")
        .env("SIGNET_EMBEDDER", "hash:64")
        .stdin(Stdio::null())
        .stderr(Stdio::inherit());
    if let Some(t) = to.token {
        cmd.env("MCP_TOKEN", t).env("SIGNET_TOKEN", t);
    }
    let out = cmd.output().expect("run the MCP client");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{sdk:?} {transport:?} client failed: {stdout}"
    );
    serde_json::from_str(stdout.trim())
        .unwrap_or_else(|e| panic!("{sdk:?} {transport:?}: {e}: {stdout}"))
}

const EVERY: [(Sdk, Transport); 4] = [
    (Sdk::Python, Transport::Http),
    (Sdk::Python, Transport::Stdio),
    (Sdk::Node, Transport::Http),
    (Sdk::Node, Transport::Stdio),
];

/// The answer of call `i`, which must have succeeded, parsed.
fn answer(report: &Value, i: usize) -> Value {
    let call = &report["calls"][i];
    assert_eq!(call["isError"], false, "call {i}: {report}");
    serde_json::from_str(call["text"].as_str().unwrap()).unwrap()
}

/// The message of call `i`, which must have failed.
fn failure(report: &Value, i: usize) -> String {
    let call = &report["calls"][i];
    assert_eq!(call["isError"], true, "call {i} should fail: {report}");
    call["text"].as_str().unwrap().to_owned()
}

/// Every tool of the plan, then the error cases.
fn every_tool(label: &str) -> Value {
    json!([
        {"name": "memory_store", "arguments": {"content": format!("{label} rotates the deploy keys"),
            "type": "decision", "importance": 0.6, "tags": "ops,keys"}},
        {"name": "memory_get", "arguments": {"id": "$0.id"}},
        {"name": "memory_search", "arguments": {"query": format!("{label} deploy keys"), "limit": 5}},
        {"name": "memory_search", "arguments": {"query": "deploy keys", "min_score": 1.5}},
        {"name": "memory_list", "arguments": {"type": "decision", "limit": 50}},
        {"name": "memory_modify", "arguments": {"id": "$0.id", "importance": 0.9, "reason": "matters"}},
        {"name": "memory_feedback", "arguments": {"session_key": "s", "ratings": {"$0.id": 1}}},
        {"name": "memory_forget", "arguments": {"id": "$0.id", "reason": "done"}},
        {"name": "session_bypass", "arguments": {"session_key": "unclaimed", "enabled": true}},
        {"name": "memory_get", "arguments": {"id": "no-such-memory"}},
        {"name": "memory_store", "arguments": {"content": 42}},
        {"name": "memory_modify", "arguments": {"id": "$0.id", "reason": "nothing to change"}},
    ])
}

/// Checks the report of [`every_tool`].
fn check_every_tool(report: &Value, label: &str) {
    let what = format!("{label}: {report}");
    assert_eq!(report["initialize"]["server"], "signet", "{what}");
    let tools = report["tools"].as_array().unwrap();
    let mut names: Vec<&str> = tools.iter().map(|t| t["name"].as_str().unwrap()).collect();
    names.sort_unstable();
    assert_eq!(names, signet_server::mcp::TOOLS, "{what}");
    for t in tools {
        assert!(
            t["description"].as_str().is_some_and(|d| d.len() > 20),
            "{t}"
        );
        let props = t["schema"]["properties"].as_object().unwrap();
        assert!(props.values().all(|p| p["description"].is_string()), "{t}");
    }
    let id = answer(report, 0)["id"].as_str().unwrap().to_owned();
    let detail = answer(report, 1);
    assert_eq!(
        (detail["type"].as_str(), detail["tags"].as_str()),
        (Some("decision"), Some("ops,keys"))
    );
    let found = answer(report, 2);
    assert_eq!(found["results"][0]["id"], id.as_str(), "{what}");
    assert_eq!(
        answer(report, 3)["results"],
        json!([]),
        "min_score filters by score"
    );
    let listed = answer(report, 4);
    let memories = listed["memories"].as_array().unwrap();
    assert!(memories.iter().any(|m| m["id"] == id.as_str()), "{what}");
    assert!(memories.iter().all(|m| m["type"] == "decision"), "{what}");
    assert_eq!(answer(report, 5)["status"], "updated", "{what}");
    assert_eq!(answer(report, 6), json!({"ok": true, "recorded": 0}));
    assert_eq!(answer(report, 7)["status"], "deleted", "{what}");
    assert!(failure(report, 8).contains("Session not found"), "{what}");
    assert!(failure(report, 9).contains("404"), "{what}");
    assert!(failure(report, 10).contains("content"), "{what}");
    assert!(failure(report, 11).contains("at least one of"), "{what}");
}

#[test]
fn both_sdks_call_every_tool_over_http_and_stdio() {
    let Some(dir) = clients("both_sdks_call_every_tool_over_http_and_stdio") else {
        return;
    };
    let mut env = TestEnv::new();
    env.start_daemon();
    let to = Target {
        env: &env,
        port: env.port,
        token: None,
    };
    for (sdk, transport) in EVERY {
        let label = format!("{sdk:?}-{transport:?}");
        let report = run(&dir, sdk, transport, &to, &every_tool(&label));
        check_every_tool(&report, &label);
    }
}

#[test]
fn stdio_starts_a_daemon_in_process_when_none_answers() {
    let Some(dir) = clients("stdio_starts_a_daemon_in_process_when_none_answers") else {
        return;
    };
    let env = TestEnv::new();
    let to = Target {
        env: &env,
        port: free_port(),
        token: None,
    };
    for sdk in [Sdk::Python, Sdk::Node] {
        let label = format!("{sdk:?}-in-process");
        let report = run(&dir, sdk, Transport::Stdio, &to, &every_tool(&label));
        check_every_tool(&report, &label);
    }
    let db = env.workspace.join("memory/memories.db");
    assert!(db.exists(), "the in-process daemon used the workspace");
}

#[test]
fn team_mode_tokens_decide_what_each_client_may_do() {
    let Some(dir) = clients("team_mode_tokens_decide_what_each_client_may_do") else {
        return;
    };
    let mut env = TestEnv::new();
    env.write_config("auth:\n  mode: team\n");
    let mint = |args: &[&str]| {
        let mut all = vec!["token", "create"];
        all.extend_from_slice(args);
        env.run(&all).ok().stdout.trim().to_owned()
    };
    let admin = mint(&["--role", "admin", "--sub", "admin"]);
    let acme = mint(&[
        "--role",
        "agent",
        "--sub",
        "acme-agent",
        "--scope",
        "project=acme",
    ]);
    env.start_daemon();
    let bearer = format!("Authorization: Bearer {admin}");
    let body = json!({"content": "globex ships the rocket in may", "project": "globex"});
    let globex = http_json(
        env.port,
        "POST",
        "/api/memory/remember",
        &[&bearer],
        &body.to_string(),
    );
    let globex = globex["id"].as_str().unwrap().to_owned();

    for (sdk, transport) in EVERY {
        let what = format!("{sdk:?} {transport:?}");
        let anonymous = Target {
            env: &env,
            port: env.port,
            token: None,
        };
        let report = run(&dir, sdk, transport, &anonymous, &json!([]));
        assert!(
            report["initialize"]["error"].is_string(),
            "{what}: no token, no session: {report}"
        );
        assert_eq!(report["tools"], json!([]), "{what}");

        let scoped = Target {
            env: &env,
            port: env.port,
            token: Some(&acme),
        };
        let calls = json!([
            {"name": "memory_store", "arguments": {"content": format!("acme prefers rust ({what})")}},
            {"name": "memory_get", "arguments": {"id": "$0.id"}},
            {"name": "memory_get", "arguments": {"id": globex}},
            {"name": "memory_modify", "arguments": {"id": globex, "content": "hijacked", "reason": "r"}},
            {"name": "memory_forget", "arguments": {"id": globex, "reason": "r"}},
            {"name": "memory_search", "arguments": {"query": "globex rocket"}},
            {"name": "memory_list", "arguments": {}},
        ]);
        let report = run(&dir, sdk, transport, &scoped, &calls);
        assert_eq!(
            answer(&report, 1)["project"],
            "acme",
            "{what}: the scope pins the project"
        );
        for i in 2..=4 {
            let text = failure(&report, i);
            assert!(
                text.contains("403") && text.contains("acme"),
                "{what}: {text}"
            );
        }
        assert_eq!(answer(&report, 5)["results"], json!([]), "{what}");
        let listed = answer(&report, 6);
        let memories = listed["memories"].as_array().unwrap();
        assert!(!memories.is_empty(), "{what}");
        assert!(
            memories.iter().all(|m| m["id"] != globex.as_str()),
            "{what}: {listed}"
        );
    }
    let path = format!("/api/memory/{globex}");
    let kept = http_json(env.port, "GET", &path, &[&bearer], "");
    assert_eq!(
        kept["content"], "globex ships the rocket in may",
        "unchanged"
    );
}
