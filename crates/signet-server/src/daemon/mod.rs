//! Assembles a whole daemon: opens the store, builds the services and state, starts the
//! workers, serves HTTP, and shuts down in order. The binary and the integration tests both
//! start daemons through here, so tests exercise the real wiring.
//!
//! Shutdown order: stop accepting connections and let in-flight requests finish, cancel the
//! workers and wait for them (bounded), flush access counts, checkpoint the WAL.

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use signet_core::analytics::Analytics;
use signet_core::config::{self, EnvVars, LoadedConfig, Settings};
use signet_core::embedding::Embedder;
use signet_core::events::{Event, EventBus, HealthEvent};
use signet_core::maintenance::Maintenance;
use signet_core::memory::{Memories, MemoryPolicy};
use signet_core::retention::RetentionWorker;
use signet_core::semantic::{EmbeddingWorker, Resolved, Semantic, provider};
use signet_store::{MemoryStore, Store};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::logs::LogHub;
use crate::observe::Observe;
use crate::state::{AppState, DaemonInfo, Services};

/// How often the health worker probes the database.
pub const HEALTH_PROBE_EVERY: Duration = Duration::from_secs(5);
/// How long shutdown waits for workers.
pub const WORKER_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(10);
/// How often the WAL is checkpointed in the background.
pub const CHECKPOINT_EVERY: Duration = Duration::from_millis(500);
/// WAL size above which the background checkpoint truncates it.
pub const WAL_TRUNCATE_BYTES: u64 = 64 * 1024 * 1024;
/// Read connections in the pool.
pub const READERS: usize = 4;

/// Why a daemon could not start or stop cleanly.
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error("opening the database {path}: {source}")]
    Store {
        path: PathBuf,
        source: signet_store::StoreError,
    },
    #[error("configuration: {0}")]
    Config(#[from] config::ConfigError),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("auth secret: {0}")]
    Secret(#[from] signet_core::auth::SecretError),
}

/// Everything a daemon needs to start.
pub struct DaemonConfig {
    pub workspace: PathBuf,
    pub loaded: LoadedConfig,
    pub env: EnvVars,
    /// Watch `agent.yaml` and apply changes live.
    pub watch_config: bool,
    /// Use this embedding provider instead of the configured one (tests, benchmarks).
    pub embedder: Option<Arc<dyn Embedder>>,
    /// The log hub the process's tracing layer feeds (`None`: a fresh, private hub).
    pub log_hub: Option<LogHub>,
}

/// A started daemon, not yet serving.
pub struct Daemon {
    state: AppState,
    store: Arc<Store>,
    tracker: TaskTracker,
    cancel: CancellationToken,
}

impl Daemon {
    /// Opens the workspace's database and starts the workers; `listener` fixes the port.
    pub async fn start(cfg: DaemonConfig, listener: &TcpListener) -> Result<Self, DaemonError> {
        let db_path = cfg.workspace.join("memory").join("memories.db");
        for dir in [".daemon", ".daemon/logs", "memory"] {
            std::fs::create_dir_all(cfg.workspace.join(dir))?;
        }
        let store = open_store(db_path.clone()).await?;
        let settings = Arc::new(cfg.loaded.settings.clone());
        let (settings_tx, settings_rx) = watch::channel(settings.clone());
        let (policy_tx, policy_rx) =
            watch::channel(Arc::new(MemoryPolicy::from(settings.as_ref())));
        let tracker = TaskTracker::new();
        let cancel = CancellationToken::new();
        let dyn_store: Arc<dyn MemoryStore> = store.clone();
        let (access, access_worker) = signet_core::access::channel(dyn_store.clone());
        tracker.spawn(access_worker.run(cancel.child_token()));
        tracker.spawn(forward_policy(
            settings_rx.clone(),
            policy_tx,
            cancel.child_token(),
        ));
        if cfg.watch_config {
            config::spawn_watcher(
                cfg.workspace.clone(),
                cfg.env.clone(),
                settings_tx,
                cancel.child_token(),
                &tracker,
            )?;
        }
        let info = daemon_info(
            &cfg,
            &settings,
            db_path,
            store.migration_report().clone(),
            listener,
        )?;
        let (semantic, native_dir) = start_semantic(&cfg, &settings, dyn_store.clone()).await?;
        if semantic.configured() {
            let poll = Duration::from_millis(settings.pipeline.embedding_tracker.poll_ms);
            let worker = EmbeddingWorker::new(semantic.clone(), native_dir, poll);
            tracker.spawn(worker.run(cancel.child_token()));
        }
        let memories = Memories::new(dyn_store, policy_rx, access, semantic)
            .with_telemetry(EventBus::default(), Analytics::default());
        let maintenance = Maintenance::new(store.clone(), memories.clone(), settings_rx.clone());
        tracker
            .spawn(RetentionWorker::new(maintenance.retention().clone()).run(cancel.child_token()));
        let observe = Observe {
            logs: cfg.log_hub.clone().unwrap_or_default(),
            closing: CancellationToken::new(),
        };
        let services = Services {
            memories,
            maintenance,
            auth: auth_gate(&cfg.workspace, &settings.auth)?,
            observe,
        };
        let state = AppState::new(services, info, settings_rx);
        tracker.spawn(probe_health(state.clone(), cancel.child_token()));
        tracker.spawn(checkpoint_wal(store.clone(), cancel.child_token()));
        Ok(Self {
            state,
            store,
            tracker,
            cancel,
        })
    }

    /// The HTTP state (for tests that drive the router directly).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` resolves, then stops workers and checkpoints the database.
    pub async fn run(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), DaemonError> {
        let served = crate::serve(listener, self.state.clone(), shutdown).await;
        self.stop().await;
        Ok(served?)
    }

    /// Cancels workers, waits for them (bounded) and checkpoints the WAL.
    pub async fn stop(self) {
        self.cancel.cancel();
        self.tracker.close();
        if tokio::time::timeout(WORKER_SHUTDOWN_TIMEOUT, self.tracker.wait())
            .await
            .is_err()
        {
            tracing::warn!(target: "daemon", "workers did not stop within {WORKER_SHUTDOWN_TIMEOUT:?}");
        }
        let store = self.store.clone();
        let res = tokio::task::spawn_blocking(move || store.checkpoint()).await;
        match res {
            Ok(Ok(())) => tracing::info!(target: "daemon", "database checkpointed"),
            Ok(Err(e)) => tracing::warn!(target: "daemon", error = %e, "checkpoint failed"),
            Err(e) => tracing::warn!(target: "daemon", error = %e, "checkpoint task failed"),
        }
    }
}

/// Chooses the embedding provider; a native model is loaded later by the worker.
async fn start_semantic(
    cfg: &DaemonConfig,
    settings: &Settings,
    store: Arc<dyn MemoryStore>,
) -> Result<(Semantic, Option<PathBuf>), DaemonError> {
    let resolved = match &cfg.embedder {
        Some(e) => Resolved::Ready(e.clone()),
        None => provider::resolve(&settings.embedding, &cfg.workspace, &cfg.env),
    };
    match resolved {
        Resolved::Ready(embedder) => {
            tracing::info!(target: "embedding", provider = embedder.provider(), model = embedder.model(), "semantic recall enabled");
            let built =
                tokio::task::spawn_blocking(move || Semantic::with_embedder(store, embedder))
                    .await
                    .map_err(|e| DaemonError::Io(std::io::Error::other(e)))?;
            let semantic =
                built.map_err(|e| DaemonError::Io(std::io::Error::other(e.to_string())))?;
            Ok((semantic, None))
        }
        Resolved::Native(dir) => {
            let spec = &signet_core::embedding::models::ALL_MINILM_L6_V2;
            tracing::info!(target: "embedding", model = spec.name, "loading the native embedding model in the background");
            Ok((
                Semantic::pending_native(store, spec.name, spec.dimensions),
                Some(dir),
            ))
        }
        Resolved::KeywordOnly(reason) => {
            tracing::warn!(target: "embedding", %reason, "semantic recall disabled; recall is keyword-only");
            Ok((Semantic::disabled(store, reason), None))
        }
    }
}

async fn open_store(path: PathBuf) -> Result<Arc<Store>, DaemonError> {
    let p = path.clone();
    let opened = tokio::task::spawn_blocking(move || Store::open(&p, READERS))
        .await
        .map_err(|e| DaemonError::Io(std::io::Error::other(e)))?;
    let store = opened.map_err(|source| DaemonError::Store { path, source })?;
    let report = store.migration_report();
    if !report.applied.is_empty() {
        tracing::info!(target: "daemon", from = report.from_version, to = report.to_version,
            backup = ?report.backup, "database migrated");
    }
    Ok(Arc::new(store))
}

fn daemon_info(
    cfg: &DaemonConfig,
    settings: &Settings,
    db_path: PathBuf,
    migration: signet_store::schema::MigrationReport,
    listener: &TcpListener,
) -> Result<DaemonInfo, DaemonError> {
    let net = &settings.network;
    Ok(DaemonInfo {
        version: env!("CARGO_PKG_VERSION"),
        pid: std::process::id(),
        started: Instant::now(),
        started_at: signet_store::time::now_iso(),
        port: listener.local_addr()?.port(),
        host: net.host.clone(),
        bind_host: net.bind.clone(),
        workspace: cfg.workspace.clone(),
        db_path,
        log_dir: net
            .log_dir
            .clone()
            .unwrap_or_else(|| cfg.workspace.join(".daemon/logs")),
        log_file: net.log_file.clone(),
        migration,
        config_source: cfg.loaded.source.clone(),
        config_warnings: cfg.loaded.warnings.clone(),
    })
}

/// Publishes the memory policy whenever the settings change.
async fn forward_policy(
    mut settings: watch::Receiver<Arc<Settings>>,
    policy: watch::Sender<Arc<MemoryPolicy>>,
    cancel: CancellationToken,
) {
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return,
            changed = settings.changed() => {
                if changed.is_err() {
                    return;
                }
                let next = MemoryPolicy::from(settings.borrow_and_update().as_ref());
                policy.send_if_modified(|cur| {
                    let differs = **cur != next;
                    if differs { *cur = Arc::new(next.clone()); }
                    differs
                });
            }
        }
    }
}

/// Copies the WAL into the database file off the write path (commits never fsync), and
/// truncates it when it grows past [`WAL_TRUNCATE_BYTES`].
async fn checkpoint_wal(store: Arc<Store>, cancel: CancellationToken) {
    let mut every = tokio::time::interval(CHECKPOINT_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = every.tick() => {
                let s = store.clone();
                let res = tokio::task::spawn_blocking(move || s.pool().checkpoint_background(WAL_TRUNCATE_BYTES)).await;
                if let Ok(Err(e)) = res {
                    tracing::debug!(target: "daemon", error = %e, "background checkpoint skipped");
                }
            }
        }
    }
}

/// Keeps `AppState::db_ok` fresh so `/health` never queues behind the read pool.
async fn probe_health(state: AppState, cancel: CancellationToken) {
    let mut every = tokio::time::interval(HEALTH_PROBE_EVERY);
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = every.tick() => {
                let ok = state.memories().ping().await;
                if ok != state.db_ok() {
                    tracing::warn!(target: "daemon", db_ok = ok, "database health changed");
                    state.memories().events().publish(Event::Health(HealthEvent {
                        status: if ok { "healthy" } else { "degraded" }.into(),
                        db: ok,
                        timestamp: signet_store::time::now_iso(),
                    }));
                }
                state.set_db_ok(ok);
            }
        }
    }
}

/// The auth gate. In team and hybrid modes the secret is loaded or created (a bad one stops
/// start-up); in local mode an existing secret is loaded so an admin who lost every token can
/// switch to local, mint one, and switch back.
fn auth_gate(
    workspace: &std::path::Path,
    auth: &signet_core::config::AuthSettings,
) -> Result<signet_core::auth::AuthGate, DaemonError> {
    use signet_core::auth::{self, AuthGate, SecretError};
    use signet_core::config::AuthMode;
    let secret = if auth.mode == AuthMode::Local {
        match auth::read_secret(workspace) {
            Ok(s) => Some(s),
            Err(SecretError::Missing { .. }) => None,
            Err(e) => {
                tracing::warn!(target: "auth", error = %e, "ignoring the auth secret in local mode");
                None
            }
        }
    } else {
        let (secret, created) = auth::load_or_create_secret(workspace)?;
        if created {
            tracing::info!(target: "auth", path = %auth::secret_path(workspace).display(), "created the auth secret");
        }
        Some(secret)
    };
    tracing::info!(target: "auth", mode = auth.mode.as_str(), "auth mode");
    Ok(AuthGate::new(auth, secret.as_deref()))
}
