//! `signet doctor`: diagnostics on the database file, no daemon, read-only.

use crate::support::{TestEnv, poll};

fn db_path(env: &TestEnv) -> std::path::PathBuf {
    env.workspace.join("memory/memories.db")
}

#[test]
fn doctor_scores_the_database_and_says_what_to_do() {
    let env = TestEnv::new();
    let out = env.run(&["doctor"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(out.stderr.contains("no database"), "{}", out.stderr);

    let store = signet_store::Store::open(&db_path(&env), 1).unwrap();
    drop(store);
    let out = env.run(&["doctor"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(
        out.stdout.contains("composite   1.000  healthy"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("not measured offline") || out.stdout.contains("disabled"));

    let store = signet_store::Store::open(&db_path(&env), 1).unwrap();
    store
        .pool()
        .write(|c| {
            c.execute_batch(
                "INSERT INTO memory_jobs (id, job_type, status, created_at, updated_at) VALUES \
                   ('d1', 'extract', 'dead', strftime('%Y-%m-%dT%H:%M:%fZ','now'), strftime('%Y-%m-%dT%H:%M:%fZ','now')), \
                   ('l1', 'extract', 'leased', '2020-01-01T00:00:00.000Z', '2020-01-01T00:00:00.000Z');",
            )?;
            Ok(())
        })
        .unwrap();
    store.pool().checkpoint().unwrap();
    let history = |s: &signet_store::Store| -> i64 {
        s.pool()
            .read(|c| Ok(c.query_row("SELECT COUNT(*) FROM memory_history", [], |r| r.get(0))?))
            .unwrap()
    };
    let before = history(&store);
    let out = env.run(&["doctor"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(out.stdout.contains("queue"), "{}", out.stdout);
    // The default pipeline (claude-code) queues jobs and the extraction worker drains them,
    // so dead ones are worth requeueing once the provider works; the queue is not backing up
    // (nothing pending), so the provider is not blamed for that.
    assert!(
        out.stdout.contains("/api/repair/requeue-dead")
            && out.stdout.contains("/api/pipeline/status"),
        "{}",
        out.stdout
    );
    assert!(!out.stdout.contains("backing up"), "{}", out.stdout);
    assert!(
        out.stdout.contains("/api/repair/release-leases"),
        "{}",
        out.stdout
    );

    let out = env.run(&["doctor", "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v["report"]["queue"]["dead"], 1);
    assert_eq!(v["report"]["queue"]["staleLeases"], 1);
    assert_eq!(v["advice"][0]["domain"], "queue");
    assert_eq!(v["exitCode"], 1);
    assert_eq!(history(&store), before, "doctor writes nothing");
}

/// Issue 9, item 12: a fresh default workspace after ordinary use stays healthy, and doctor
/// says so. The default provider is claude-code; without the `claude` CLI the pipeline is
/// idle, so remember queues no extraction job (a queue nothing drains would only grow).
#[test]
fn ordinary_use_of_a_fresh_default_workspace_keeps_doctor_healthy() {
    let on_path = std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join("claude").is_file()));
    assert!(
        !on_path,
        "this test checks a machine without the `claude` CLI; one is on PATH"
    );
    let mut env = TestEnv::new();
    env.start_daemon();
    // The provider check (`claude --version`) runs beside start-up; wait for its verdict.
    poll("the pipeline to find claude missing", || {
        let status = env.run(&["status", "--json"]).json();
        (status["pipelineV2"]["extraction"]["enqueuing"] == false).then_some(())
    });
    for i in 0..60 {
        env.run(&[
            "remember",
            &format!("fact number {i} about the build system"),
        ])
        .ok();
    }
    env.run(&["recall", "build system"]).ok();
    env.run(&["daemon", "stop"]).ok();
    let out = env.run(&["doctor", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v["report"]["queue"]["depth"], 0, "{}", out.stdout);
    for a in v["advice"].as_array().unwrap() {
        assert_ne!(a["domain"], "queue", "{a}");
    }
    assert!(
        v["report"]["memory"]["status"] == "healthy",
        "{}",
        out.stdout
    );
    assert_eq!(out.status.code(), Some(0), "{}", out.stdout);
}

#[test]
fn doctor_refuses_a_file_that_is_not_a_signet_database() {
    let env = TestEnv::new();
    std::fs::create_dir_all(env.workspace.join("memory")).unwrap();
    std::fs::write(db_path(&env), b"").unwrap();
    let out = env.run(&["doctor"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(out.stderr.contains("no memories table"), "{}", out.stderr);
    assert_eq!(
        std::fs::metadata(db_path(&env)).unwrap().len(),
        0,
        "not migrated"
    );
}
