//! Hot reload through the real file watcher, and the `reload` unit it runs.

use super::*;

const WAIT: Duration = Duration::from_secs(10);

fn write(dir: &Path, text: &str) {
    std::fs::write(dir.join("agent.yaml"), text).unwrap();
}

fn channel_for(
    dir: &Path,
    env: &EnvVars,
) -> (watch::Sender<Arc<Settings>>, watch::Receiver<Arc<Settings>>) {
    watch::channel(Arc::new(Settings::load(dir, env).unwrap().settings))
}

#[tokio::test]
async fn watcher_publishes_changed_settings_and_stops_on_cancel() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "search:\n  top_k: 5\n");
    let env = EnvVars::default();
    let (tx, mut rx) = channel_for(dir.path(), &env);
    let (cancel, tracker) = (CancellationToken::new(), TaskTracker::new());
    spawn_watcher(dir.path().to_owned(), env, tx, cancel.clone(), &tracker).unwrap();

    write(dir.path(), "search:\n  top_k: 7\n");
    tokio::time::timeout(WAIT, rx.changed())
        .await
        .expect("no reload within the timeout")
        .unwrap();
    assert_eq!(rx.borrow_and_update().search.top_k, 7);

    // An invalid write followed by a valid one: only valid settings are ever published.
    write(dir.path(), "search:\n  top_k: -1\n");
    write(dir.path(), "search:\n  top_k: 9\n");
    tokio::time::timeout(WAIT, rx.changed())
        .await
        .expect("no reload within the timeout")
        .unwrap();
    assert_eq!(rx.borrow_and_update().search.top_k, 9);

    cancel.cancel();
    tracker.close();
    tokio::time::timeout(WAIT, tracker.wait())
        .await
        .expect("watcher did not stop");
}

#[test]
fn invalid_reload_keeps_previous_settings() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "auth:\n  mode: team\n");
    let env = EnvVars::default();
    let (tx, rx) = channel_for(dir.path(), &env);
    write(dir.path(), "auth:\n  mode: wide-open\n");
    let err = reload(dir.path(), &env, &tx).unwrap_err();
    assert!(
        matches!(err, ConfigError::Invalid { ref key, .. } if key == "auth.mode"),
        "{err}"
    );
    write(dir.path(), "auth:\n  mode: [\n");
    assert!(matches!(
        reload(dir.path(), &env, &tx),
        Err(ConfigError::Parse { .. })
    ));
    assert!(!rx.has_changed().unwrap());
    assert_eq!(rx.borrow().auth.mode, super::super::AuthMode::Team);
}

#[test]
fn reload_publishes_only_real_changes_and_keeps_cli_network() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "search:\n  top_k: 5\n");
    let env = EnvVars::default();
    let (tx, mut rx) = channel_for(dir.path(), &env);
    tx.send_modify(|s| Arc::make_mut(s).network.port = 4999); // a CLI override
    rx.borrow_and_update();
    assert!(
        !reload(dir.path(), &env, &tx).unwrap(),
        "unchanged file must not publish"
    );
    write(dir.path(), "search:\n  top_k: 6\n");
    assert!(reload(dir.path(), &env, &tx).unwrap());
    let current = rx.borrow_and_update();
    assert_eq!((current.search.top_k, current.network.port), (6, 4999));
}

#[test]
fn restart_required_lists_network_and_auth_changes() {
    let old = Settings::default();
    let mut new = old.clone();
    new.search.top_k = 3;
    assert!(restart_required(&old, &new).is_empty());
    new.network.port = 1234;
    new.auth.mode = super::super::AuthMode::Hybrid;
    new.auth.rate_limits.admin.max = 1;
    assert_eq!(
        restart_required(&old, &new),
        ["network.port", "auth.mode", "auth.rateLimits"]
    );
}
