//! Each worker's `tick()`, called directly.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use signet_core::config::{EnvVars, Settings};
use signet_core::events::Event;
use signet_core::memory::MemoryPolicy;
use signet_store::Store;
use tokio::sync::watch;

use super::{HealthProbe, PolicyForwarder, WalCheckpointer};
use crate::daemon::{Daemon, DaemonConfig};

/// A keyword-only daemon over `workspace`, stopped again so that its own workers stay out of
/// the way; its state (and store) remain usable.
async fn stopped_daemon(workspace: &Path) -> crate::AppState {
    let env = EnvVars::default();
    let cfg = DaemonConfig {
        workspace: workspace.to_path_buf(),
        loaded: Settings::load(workspace, &env).expect("config"),
        env,
        watch_config: false,
        embedder: None,
        log_hub: None,
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let daemon = Daemon::start(cfg, &listener).await.expect("daemon starts");
    let state = daemon.state().clone();
    daemon.stop().await;
    state
}

#[tokio::test]
async fn health_probe_records_the_answer_and_announces_a_change() {
    let dir = tempfile::tempdir().unwrap();
    let state = stopped_daemon(dir.path()).await;
    let probe = HealthProbe::new(state.clone());
    let mut events = state.memories().events().subscribe();

    state.set_db_ok(false);
    assert!(probe.tick().await, "the database answers");
    assert!(state.db_ok(), "the answer is recorded for /health");
    let event = events.try_recv().expect("a change is announced");
    match event.as_ref() {
        Event::Health(h) => assert!(h.db && h.status == "healthy", "{h:?}"),
        other => panic!("expected a health event, got {}", other.name()),
    }

    assert!(probe.tick().await);
    assert!(events.try_recv().is_err(), "no change, no event");
}

fn wal_len(db: &Path) -> u64 {
    let mut wal = db.as_os_str().to_owned();
    wal.push("-wal");
    std::fs::metadata(PathBuf::from(wal)).map_or(0, |m| m.len())
}

#[tokio::test]
async fn checkpointer_truncates_the_wal_only_past_its_limit() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("memories.db");
    let store = Arc::new(Store::open(&db, 1).unwrap());
    assert!(wal_len(&db) > 0, "the migrations are still in the WAL");

    let passive = WalCheckpointer::new(store.clone(), u64::MAX);
    assert!(passive.tick().await.is_some_and(|frames| frames > 0));
    assert!(
        wal_len(&db) > 0,
        "below the limit the WAL file is reused, not truncated"
    );

    let truncating = WalCheckpointer::new(store, 0);
    assert!(truncating.tick().await.is_some());
    assert_eq!(wal_len(&db), 0, "past the limit the WAL is truncated");
}

#[tokio::test]
async fn checkpointer_skips_beats_while_the_wal_is_unchanged() {
    use super::CHECKPOINT_AT_LEAST_EVERY;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("memories.db");
    let store = Arc::new(Store::open(&db, 1).unwrap());
    let mut wal = db.as_os_str().to_owned();
    wal.push("-wal");
    let mut checkpointer =
        WalCheckpointer::new(store.clone(), u64::MAX).watching(PathBuf::from(wal));
    let t0 = std::time::Instant::now();
    assert!(checkpointer.beat(t0).await, "the first beat checkpoints");
    assert!(
        !checkpointer.beat(t0).await,
        "nothing was written since: no checkpoint"
    );

    // The store's own write is checkpointed at the next beat.
    store
        .pool()
        .write(|tx| {
            tx.execute_batch("CREATE TABLE IF NOT EXISTS t(x); INSERT INTO t VALUES (1);")?;
            Ok(())
        })
        .unwrap();
    assert!(
        checkpointer.beat(t0).await,
        "a write is checkpointed at the next beat"
    );
    assert!(!checkpointer.beat(t0).await);
    let every = CHECKPOINT_AT_LEAST_EVERY;
    assert!(
        checkpointer.beat(t0 + every).await,
        "once more a while later, for anything readers held back"
    );
    assert!(
        !checkpointer.beat(t0 + every * 2).await,
        "then an idle store is left alone"
    );

    // Another process's commit moves the log file: seen at the next look.
    let other = rusqlite::Connection::open(&db).unwrap();
    other.execute_batch("INSERT INTO t VALUES (2);").unwrap();
    assert!(
        !checkpointer.beat(t0 + every * 2).await,
        "the file is only looked at now and then"
    );
    assert!(
        checkpointer.beat(t0 + every * 3).await,
        "another process's write is checkpointed at the next look"
    );
}

#[test]
fn policy_forwarder_publishes_only_a_changed_policy() {
    let settings = Settings::default();
    let (settings_tx, settings_rx) = watch::channel(Arc::new(settings.clone()));
    let (policy_tx, mut policy_rx) = watch::channel(Arc::new(MemoryPolicy::from(&settings)));
    let (_off_tx, off_rx) = watch::channel(None);
    let mut forwarder = PolicyForwarder::new(settings_rx, off_rx, policy_tx);
    assert!(!forwarder.tick(), "the policy in force is not republished");

    let mut next = settings;
    next.network.port = 1;
    settings_tx.send(Arc::new(next.clone())).unwrap();
    assert!(!forwarder.tick(), "the port is not part of the policy");
    assert!(!policy_rx.has_changed().unwrap());

    next.pipeline.mutations_frozen = true;
    settings_tx.send(Arc::new(next)).unwrap();
    assert!(forwarder.tick());
    assert!(policy_rx.has_changed().unwrap());
    assert!(policy_rx.borrow_and_update().mutations_frozen);
}
