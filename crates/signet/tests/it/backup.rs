//! `signet backup` and `signet restore`: a consistent snapshot while the daemon writes,
//! pruning, the secret's mode, and restoring with the daemon down only.

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use rusqlite::{Connection, OpenFlags};
use serde_json::json;

use crate::support::{TestEnv, poll, remember};

fn open(db: &Path) -> Connection {
    Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap()
}

fn has_memory(c: &Connection, id: &str) -> bool {
    c.query_row("SELECT COUNT(*) FROM memories WHERE id = ?1", [id], |r| {
        r.get::<_, i64>(0)
    })
    .unwrap()
        == 1
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn backups(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    v.sort();
    v
}

#[test]
fn backup_is_consistent_under_writes_and_restore_needs_the_daemon_down() {
    let mut env = TestEnv::new();
    env.write_config("name: backup-test\n");
    std::fs::write(env.workspace.join("AGENTS.md"), "# the agent\n").unwrap();
    signet_core::auth::load_or_create_secret(&env.workspace).unwrap();
    env.start_daemon();

    // A writer hammers the daemon from a thread; `acked` holds every acknowledged write.
    let acked = Arc::new(Mutex::new(Vec::<String>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (acked, stop, port) = (acked.clone(), stop.clone(), env.port);
        std::thread::spawn(move || {
            let mut i = 0;
            while !stop.load(Ordering::Relaxed) {
                let id = remember(port, &format!("hammered memory number {i}"));
                acked.lock().unwrap().push(id);
                i += 1;
            }
        })
    };
    poll("five acknowledged writes", || {
        (acked.lock().unwrap().len() >= 5).then_some(())
    });
    let before: Vec<String> = acked.lock().unwrap().clone();
    let out = env.run(&["backup", "--json"]).json();
    let during = acked.lock().unwrap().len();
    stop.store(true, Ordering::Relaxed);
    writer.join().unwrap();
    assert!(
        during > before.len(),
        "the writer kept writing during the backup"
    );

    let folder = PathBuf::from(out["backup"].as_str().unwrap());
    assert_eq!(
        folder.parent().unwrap(),
        env.workspace.join(".daemon/backups")
    );
    let copy = folder.join("memory/memories.db");
    let c = open(&copy);
    let check: String = c
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    for id in &before {
        assert!(
            has_memory(&c, id),
            "the backup lacks {id}, acknowledged before it"
        );
    }
    let rows: i64 = c
        .query_row("SELECT COUNT(*) FROM memories", [], |r| r.get(0))
        .unwrap();
    assert_eq!(out["database"]["memories"], rows);
    drop(c);
    assert_eq!(mode(&folder.join(".daemon/auth-secret")), 0o600);
    assert_eq!(mode(&folder), 0o700);
    assert_eq!(
        std::fs::read(folder.join("agent.yaml")).unwrap(),
        b"name: backup-test\n"
    );
    let files = out["files"].to_string();
    assert!(
        files.contains("AGENTS.md") && files.contains("auth-secret"),
        "{files}"
    );

    // Written after the backup: gone once it is restored.
    let after = remember(env.port, "written after the backup");
    std::fs::write(env.workspace.join("AGENTS.md"), "# changed later\n").unwrap();

    let folder_arg = folder.to_str().unwrap();
    let refused = env.run(&["restore", folder_arg]);
    assert!(!refused.status.success(), "{refused:?}");
    assert!(refused.stderr.contains("is running"), "{}", refused.stderr);

    env.run(&["daemon", "stop"]).ok();
    let done = env.run(&["restore", folder_arg]);
    done.ok().stdout_has("integrity ok");

    let db = env.workspace.join("memory/memories.db");
    let c = open(&db);
    assert!(
        !has_memory(&c, &after),
        "a memory written after the backup survived"
    );
    for id in &before {
        assert!(has_memory(&c, id), "{id} is missing after the restore");
    }
    drop(c);
    assert_eq!(
        std::fs::read_to_string(env.workspace.join("AGENTS.md")).unwrap(),
        "# the agent\n"
    );
    assert_eq!(mode(&env.workspace.join(".daemon/auth-secret")), 0o600);

    // What it replaced is kept: the database (holding the later memory) and the files.
    let names: Vec<String> = std::fs::read_dir(env.workspace.join("memory"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    let old_db = names
        .iter()
        .find(|n| {
            n.starts_with("memories.db.before-restore-")
                && !n.ends_with("-wal")
                && !n.ends_with("-shm")
        })
        .unwrap_or_else(|| panic!("no replaced database kept: {names:?}"));
    let c = open(&env.workspace.join("memory").join(old_db));
    assert!(has_memory(&c, &after));
    drop(c);
    let kept_md = std::fs::read_dir(&env.workspace)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().contains("AGENTS.md.before-restore-"))
        .expect("the replaced AGENTS.md is kept");
    assert_eq!(
        std::fs::read_to_string(kept_md).unwrap(),
        "# changed later\n"
    );

    // The restored workspace serves again, with the restored memories.
    env.start_daemon();
    let recalled = env.run(&["recall", "hammered", "--json"]).json();
    assert!(
        recalled["results"]
            .as_array()
            .is_some_and(|r| !r.is_empty()),
        "{recalled}"
    );
}

#[test]
fn keep_prunes_older_backups_and_to_chooses_the_folder() {
    let env = TestEnv::new();
    let db = env.workspace.join("memory/memories.db");
    std::fs::create_dir_all(db.parent().unwrap()).unwrap();
    drop(signet_store::Store::open(&db, 1).unwrap());
    signet_core::auth::load_or_create_secret(&env.workspace).unwrap();
    let dir = env.home.path().join("elsewhere");
    let dir_arg = dir.to_str().unwrap();

    for _ in 0..3 {
        env.run(&["backup", "--to", dir_arg]).ok();
    }
    let all = backups(&dir);
    assert_eq!(all.len(), 3, "{all:?}");

    let out = env.run(&["backup", "--to", dir_arg, "--keep", "2"]);
    out.ok().stdout_has("pruned 2 older backups");
    let left = backups(&dir);
    assert_eq!(left.len(), 2, "{left:?}");
    assert_eq!(left[0], all[2], "the newest earlier backup stays");
    for b in &left {
        assert_eq!(mode(&b.join(".daemon/auth-secret")), 0o600);
    }

    let zero = env.run(&["backup", "--keep", "0"]);
    assert!(!zero.status.success());
}

#[test]
fn a_backup_has_a_manifest_and_restore_refuses_one_that_disagrees_with_it() {
    let env = TestEnv::new();
    let db = env.workspace.join("memory/memories.db");
    std::fs::create_dir_all(db.parent().unwrap()).unwrap();
    drop(signet_store::Store::open(&db, 1).unwrap());
    let out = env.run(&["backup", "--json"]).json();
    let folder = PathBuf::from(out["backup"].as_str().unwrap());
    let path = folder.join("manifest.json");
    assert_eq!(out["manifest"], path.display().to_string());
    let mut manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(
        manifest["database"]["memories"],
        out["database"]["memories"]
    );
    assert_eq!(manifest["database"]["integrity"], "ok");
    assert!(manifest["createdAt"].as_str().unwrap().ends_with('Z'));
    assert_eq!(manifest["signetVersion"], env!("CARGO_PKG_VERSION"));

    manifest["database"]["memories"] = json!(12345);
    std::fs::write(&path, manifest.to_string()).unwrap();
    let refused = env.run(&["restore", folder.to_str().unwrap()]);
    assert!(!refused.status.success(), "{refused:?}");
    assert!(
        refused.stderr.contains("manifest.json says 12345 memories"),
        "{}",
        refused.stderr
    );
    assert!(db.is_file(), "the refused restore moved the database");
}

/// A database past the progress threshold (64 MiB): 70 history rows of 1 MiB each.
fn large_workspace(env: &TestEnv) {
    let db = env.workspace.join("memory/memories.db");
    std::fs::create_dir_all(db.parent().unwrap()).unwrap();
    drop(signet_store::Store::open(&db, 1).unwrap());
    let c = Connection::open(&db).unwrap();
    c.execute_batch("PRAGMA foreign_keys = OFF; BEGIN").unwrap();
    let blob = "y".repeat(1 << 20);
    for i in 0..70 {
        c.execute(
            "INSERT INTO memory_history (id, memory_id, event, old_content, changed_by, created_at)
             VALUES (?1, 'm', 'created', ?2, 'test', '2026-01-01T00:00:00Z')",
            rusqlite::params![format!("big-{i}"), blob],
        )
        .unwrap();
    }
    c.execute_batch("COMMIT; PRAGMA wal_checkpoint(TRUNCATE)")
        .unwrap();
    assert!(std::fs::metadata(&db).unwrap().len() > 64 << 20);
}

#[test]
fn a_large_backup_draws_a_progress_bar_on_a_terminal_only() {
    let env = TestEnv::new();
    large_workspace(&env);
    // `script` runs the command on a pseudo-terminal and writes what it showed to stdout.
    let shown = std::process::Command::new("timeout")
        .args(["60", "script", "-qefc"])
        .arg(format!("{} backup", crate::support::BIN))
        .arg("/dev/null")
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", env.home.path())
        .env("SIGNET_PATH", &env.workspace)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&shown.stdout);
    assert!(shown.status.success(), "{text}");
    assert!(
        text.contains("snapshot [") && text.contains("100%"),
        "{text}"
    );
    assert!(text.contains("backed up"), "{text}");
    // Not a terminal: no bar.
    let piped = env.run(&["backup"]);
    piped.ok();
    assert!(!piped.stderr.contains("snapshot ["), "{}", piped.stderr);
}

#[test]
fn a_restore_that_cannot_copy_leaves_the_workspace_database_in_place() {
    let env = TestEnv::new();
    let db = env.workspace.join("memory/memories.db");
    std::fs::create_dir_all(db.parent().unwrap()).unwrap();
    {
        let store = signet_store::Store::open(&db, 1).unwrap();
        store
            .pool()
            .write(|tx| {
                tx.execute(
                    "INSERT INTO memories (id, content, created_at, updated_at) \
                     VALUES ('precious', 'the precious memory', '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z')",
                    [],
                )?;
                Ok(())
            })
            .unwrap();
    }
    let out = env.run(&["backup", "--json"]).json();
    let folder = out["backup"].as_str().unwrap().to_owned();
    // The copy cannot be written: a folder squats on its temporary name.
    let squatter = env.workspace.join("memory/memories.db.restoring");
    std::fs::create_dir(&squatter).unwrap();
    let failed = env.run(&["restore", &folder]);
    assert!(!failed.status.success());
    assert!(
        has_memory(&open(&db), "precious"),
        "the database stayed where it was"
    );
    std::fs::remove_dir(&squatter).unwrap();
    env.run(&["restore", &folder]).ok();
    assert!(has_memory(&open(&db), "precious"));
}
