//! Scheduled backups (`backup: {schedule, dir, keep}` in agent.yaml): the daemon's worker
//! takes an overdue backup soon after start-up, prunes to `keep`, and diagnostics, `/metrics`
//! and `signet doctor` show its age; a folder it cannot write shows the error and a warning,
//! and the daemon keeps serving.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

use crate::support::{TestEnv, health, http_json, poll};

fn diagnostics_backup(port: u16) -> Value {
    http_json(port, "GET", "/api/diagnostics/backup", &[], "")
}

/// `GET path` over HTTP/1.0; the body as text.
fn http_text(port: u16, path: &str) -> String {
    let mut sock = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    sock.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(sock, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").unwrap();
    let mut text = String::new();
    sock.read_to_string(&mut text).unwrap();
    text.split_once("\r\n\r\n").unwrap().1.to_owned()
}

/// An old finished backup (a manifest dated 2001) and an older interrupted one (none).
fn old_backups(dir: &Path) -> (PathBuf, PathBuf) {
    let interrupted = dir.join("backup-20000101T000000000Z");
    let finished = dir.join("backup-20010101T000000000Z");
    std::fs::create_dir_all(&interrupted).unwrap();
    std::fs::create_dir_all(finished.join("memory")).unwrap();
    let manifest = serde_json::json!({
        "format": 1, "createdAt": "2001-01-01T00:00:00.000Z", "signetVersion": "0.0.0",
        "workspace": "/old", "files": [], "bytes": 0,
        "database": {"path": "memory/memories.db", "bytes": 0, "memories": 0, "history": 0,
                     "integrity": "ok"},
    });
    std::fs::write(finished.join("manifest.json"), manifest.to_string()).unwrap();
    (interrupted, finished)
}

#[test]
fn an_overdue_scheduled_backup_runs_after_start_up_prunes_and_shows_its_age() {
    let mut env = TestEnv::new();
    let dir = env.home.path().join("backups");
    let (interrupted, finished) = old_backups(&dir);
    env.write_config(&format!(
        "backup:\n  schedule: 1h\n  dir: {}\n  keep: 2\n",
        dir.display()
    ));
    std::fs::write(env.workspace.join("AGENTS.md"), "# the agent\n").unwrap();
    env.start_daemon();
    let body = serde_json::json!({"content": "remember this before the backup"}).to_string();
    let _ = http_json(env.port, "POST", "/api/memory/remember", &[], &body);

    // The last good backup (2001) is long overdue: the worker takes one soon after start-up.
    let d = poll("the scheduled backup", || {
        let d = diagnostics_backup(env.port);
        (d["lastBackupAt"]
            .as_str()
            .is_some_and(|at| !at.starts_with("2001")))
        .then_some(d)
    });
    assert_eq!(d["schedule"], "1h");
    assert_eq!(d["intervalSeconds"], 3600);
    assert_eq!(d["status"], "healthy", "{d}");
    assert_eq!(d["lastError"], Value::Null, "{d}");
    assert!(
        d["ageSeconds"]
            .as_i64()
            .is_some_and(|a| (0..3600).contains(&a)),
        "{d}"
    );
    assert_eq!(d["dir"], dir.display().to_string());

    // keep: 2 — the new backup and the newest older one stay, the oldest is gone.
    let newest = PathBuf::from(d["lastBackup"].as_str().unwrap());
    assert_eq!(d["count"], 2, "{d}");
    assert!(!interrupted.exists(), "the oldest backup was not pruned");
    assert!(finished.exists(), "the newest older backup was pruned");
    let counts = signet_store::backup::verify(&newest.join("memory/memories.db")).unwrap();
    assert!(counts.memories >= 1, "{counts:?}");
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(newest.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["database"]["integrity"], "ok");
    assert!(manifest["files"].to_string().contains("AGENTS.md"));

    // The whole report carries the domain; /metrics the timestamp; doctor a line.
    let report = http_json(env.port, "GET", "/api/diagnostics", &[], "");
    assert_eq!(report["backup"]["lastBackup"], d["lastBackup"]);
    let metrics = http_text(env.port, "/metrics");
    assert!(
        metrics.contains("signet_backup_last_success_timestamp_seconds "),
        "{metrics}"
    );
    let doctor = env.run(&["doctor"]);
    assert!(
        doctor.stdout.contains("backup") && doctor.stdout.contains("last good backup"),
        "{}",
        doctor.stdout
    );

    // A folder it cannot write (a file stands there), applied live: the error and a warning
    // in diagnostics, and the daemon keeps serving.
    let blocked = env.home.path().join("not-a-folder");
    std::fs::write(&blocked, "a file").unwrap();
    env.write_config(&format!(
        "backup:\n  schedule: 1h\n  dir: {}\n  keep: 2\n",
        blocked.display()
    ));
    let d = poll("the failed backup", || {
        let d = diagnostics_backup(env.port);
        d["lastError"].is_string().then_some(d)
    });
    assert_eq!(d["status"], "degraded", "{d}");
    assert_eq!(d["dir"], blocked.display().to_string());
    assert!(
        d["lastError"].as_str().unwrap().contains("not-a-folder"),
        "{d}"
    );
    let report = http_json(env.port, "GET", "/api/diagnostics", &[], "");
    let advice = report["advice"].as_array().unwrap();
    assert!(
        advice
            .iter()
            .any(|a| a["domain"] == "backup" && a["actions"].to_string().contains("backup.dir")),
        "{report}"
    );
    assert!(health(env.port).is_some(), "the daemon stopped serving");
}

#[test]
fn without_a_schedule_nothing_runs_and_diagnostics_says_so() {
    let mut env = TestEnv::new();
    env.write_config("search:\n  top_k: 5\n");
    env.start_daemon();
    let d = diagnostics_backup(env.port);
    assert_eq!(d["status"], "disabled", "{d}");
    assert_eq!(d["schedule"], "off");
    assert_eq!(d["count"], 0);
    assert!(
        d["note"].as_str().unwrap().contains("backup.schedule"),
        "{d}"
    );
    assert_eq!(
        d["dir"],
        env.workspace.join(".daemon/backups").display().to_string()
    );
    // A manual backup counts (the worker rescans the folder; doctor reads it directly).
    env.run(&["backup"]).ok();
    let doctor = env.run(&["doctor"]);
    assert!(
        doctor.stdout.contains("last good backup"),
        "{}",
        doctor.stdout
    );
}

#[test]
fn a_bad_backup_schedule_stops_start_up_naming_the_key() {
    let env = TestEnv::new();
    env.write_config("backup:\n  schedule: every now and then\n");
    let out = env.run(&["daemon", "start"]);
    assert!(!out.status.success(), "{out:?}");
    assert!(out.stderr.contains("backup.schedule"), "{}", out.stderr);
    let out = env.run(&["daemon", "start"]);
    assert!(out.stderr.contains("30m, 6h, 1d"), "{}", out.stderr);
}
