//! Health, status, features, identity, config files, the route table, hot reload, shutdown.

use reqwest::StatusCode;
use serde_json::json;

use crate::common::{TestServer, column, eventually};

#[tokio::test]
async fn health_and_status_describe_the_daemon() {
    let s = TestServer::start().await;
    let (st, h) = s.get("/health").await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(h["status"], "healthy");
    assert_eq!(h["pid"], std::process::id());
    assert_eq!(h["db"], true);
    assert!(h["uptime"].as_f64().unwrap() >= 0.0);
    assert!(h["version"].is_string());
    s.remember("status counts me").await;
    let (st, v) = s.get("/api/status").await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(v["status"], "running");
    assert_eq!(v["memories"]["total"], 1);
    assert_eq!(
        v["schema"]["to_version"],
        signet_store::schema::LATEST_VERSION
    );
    assert_eq!(v["memoryDb"], true);
    assert_eq!(v["auth"]["mode"], "local");
    assert_eq!(v["embedding"]["provider"], "test-hash");
    assert_eq!(v["storage"]["vectorIndex"], "in-process");
    assert_eq!(v["storage"]["pgvector"], serde_json::Value::Null);
}

#[tokio::test]
async fn features_and_identity_come_from_the_workspace() {
    let s = TestServer::start_with_yaml(Some(
        "features:\n  dashboard: true\n  predictor: false\nagent:\n  name: Mira\n",
    ))
    .await;
    assert_eq!(
        s.get("/api/features").await.1,
        json!({"dashboard": true, "predictor": false})
    );
    assert_eq!(s.get("/api/identity").await.1["name"], "Unknown");
    std::fs::write(
        s.workspace.join("IDENTITY.md"),
        "# Identity\n- name: Mira\n- creature: owl\n- vibe: calm\n",
    )
    .unwrap();
    assert_eq!(
        s.get("/api/identity").await.1,
        json!({"name": "Mira", "creature": "owl", "vibe": "calm"})
    );
}

#[tokio::test]
async fn config_files_are_listed_and_written_inside_the_workspace_only() {
    let s = TestServer::start().await;
    std::fs::write(s.workspace.join("SOUL.md"), "soul").unwrap();
    std::fs::write(s.workspace.join("zeta.md"), "z").unwrap();
    std::fs::write(s.workspace.join("notes.txt"), "hidden").unwrap();
    let (st, v) = s
        .post(
            "/api/config",
            json!({"file": "agent.yaml", "content": "features:\n  x: true\n"}),
        )
        .await;
    assert_eq!((st, v), (StatusCode::OK, json!({"success": true})));
    let (_, v) = s.get("/api/config").await;
    let names = column(&v["files"], "name");
    assert_eq!(names, ["agent.yaml", "SOUL.md", "zeta.md"]);
    assert_eq!(v["files"][1]["size"], 4);
    for bad in [
        "../escape.md",
        "/etc/passwd.md",
        "sub/dir.md",
        "..\\x.md",
        "x.sh",
        ".env.md",
        "a..md",
    ] {
        let (st, e) = s
            .post("/api/config", json!({"file": bad, "content": "pwned"}))
            .await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{bad}: {e}");
    }
    assert!(!s.workspace.parent().unwrap().join("escape.md").exists());
    let (st, _) = s.post("/api/config", json!({"file": "x.md"})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    let bad = "memory:\n  pipelineV2:\n    guardrails:\n      maxContentChars: 3\n";
    let (st, e) = s
        .post("/api/config", json!({"file": "agent.yaml", "content": bad}))
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{e}");
    assert!(
        e["error"].as_str().unwrap().contains("maxContentChars"),
        "{e}"
    );
    let kept = std::fs::read_to_string(s.workspace.join("agent.yaml")).unwrap();
    assert_eq!(
        kept, "features:\n  x: true\n",
        "the invalid file was not written"
    );
}

#[test]
fn every_route_declares_a_permission_and_only_health_auth_status_and_the_dashboard_are_open() {
    use signet_server::permission::{Operation, Permission, Scoping};
    let table = signet_server::routes::table();
    assert!(table.len() >= 20);
    let open: Vec<_> = table
        .iter()
        .filter(|r| r.permission == Permission::Open)
        .map(|r| r.path)
        .collect();
    assert_eq!(
        open,
        ["/health", "/", "/assets/{*path}", "/api/auth/status"]
    );
    for r in &table {
        // Every route that reads or changes memories filters by scope or refuses scoped tokens.
        if r.path.contains("memor") {
            assert_ne!(
                r.scoping,
                Scoping::NoMemories,
                "{} {}",
                r.method_name,
                r.path
            );
        }
        // Every destructive memory route and every admin write is rate-limited.
        let destructive = matches!(r.permission, Permission::Forget | Permission::Modify)
            || (r.permission == Permission::Admin && r.method_name != "GET");
        assert_eq!(
            destructive,
            r.limit.is_some(),
            "{} {}",
            r.method_name,
            r.path
        );
        if r.permission == Permission::Admin && r.method_name != "GET" {
            assert_eq!(r.limit, Some(Operation::Admin), "{}", r.path);
        }
    }
    let mut seen = std::collections::HashSet::new();
    for r in &table {
        assert!(
            seen.insert((r.method_name, r.path)),
            "duplicate route {} {}",
            r.method_name,
            r.path
        );
    }
}

#[tokio::test]
async fn agent_yaml_edits_apply_without_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("agent.yaml"),
        "memory:\n  pipelineV2:\n    enabled: false\n",
    )
    .unwrap();
    let s = TestServer::start_in(dir.path(), true).await;
    assert_eq!(
        s.remember_json(json!({"content": "before"})).await.0,
        StatusCode::OK
    );
    std::fs::write(
        dir.path().join("agent.yaml"),
        "memory:\n  pipelineV2:\n    mutationsFrozen: true\n",
    )
    .unwrap();
    let frozen = eventually(|| async {
        s.remember_json(json!({"content": "probe"})).await.0 == StatusCode::SERVICE_UNAVAILABLE
    })
    .await;
    assert!(frozen, "kill switch never applied");
    // An invalid edit is rejected and the previous settings stay in force.
    std::fs::write(
        dir.path().join("agent.yaml"),
        "memory:\n  pipelineV2:\n    mutationsFrozen: perhaps\n",
    )
    .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    assert_eq!(
        s.remember_json(json!({"content": "still"})).await.0,
        StatusCode::SERVICE_UNAVAILABLE
    );
    s.shutdown().await;
}

#[tokio::test]
async fn shutdown_checkpoints_and_keeps_every_acknowledged_write() {
    let dir = tempfile::tempdir().unwrap();
    let s = TestServer::start_in(dir.path(), false).await;
    let mut ids = Vec::new();
    for i in 0..50 {
        ids.push(s.remember(&format!("durable note {i}")).await);
    }
    s.shutdown().await;
    let db = dir.path().join("memory/memories.db");
    let wal = dir.path().join("memory/memories.db-wal");
    assert!(
        std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0) == 0,
        "WAL checkpointed"
    );
    let conn = rusqlite::Connection::open(&db).unwrap();
    let n: i64 = conn
        .query_row("SELECT COUNT(*) FROM memories", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 50);
    drop(conn);
    let again = TestServer::start_in(dir.path(), false).await;
    for id in ids {
        assert_eq!(
            again.get(&format!("/api/memory/{id}")).await.0,
            StatusCode::OK
        );
    }
}
