//! Assembles a whole daemon: opens the store, builds the services and state, starts the
//! workers, serves HTTP, and shuts down in order. The binary and the integration tests both
//! start daemons through here, so tests exercise the real wiring.
//!
//! `mod.rs` holds [`Daemon`] (start, serve, stop) and its configuration; `assemble` the steps
//! of a start (workspace, store, live settings, services, pipeline, auth); [`workers`] the daemon's own
//! workers (health probe, WAL checkpointer, policy forwarder, scheduled backups).
//!
//! Shutdown order: stop accepting connections and let in-flight requests finish, cancel the
//! workers and wait for them (bounded), flush access counts, checkpoint the WAL.

mod assemble;
pub mod workers;

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use signet_core::config::{self, EnvVars, LoadedConfig};
use signet_core::embedding::Embedder;
use signet_core::maintenance::Maintenance;
use signet_core::retention::RetentionWorker;
use signet_model::Backend;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::logs::LogHub;
use crate::observe::Observe;
use crate::state::{AppState, Services};
use workers::{HealthProbe, WalCheckpointer};

pub use workers::{
    CHECKPOINT_AT_LEAST_EVERY, CHECKPOINT_EVERY, HEALTH_PROBE_EVERY, WAL_TRUNCATE_BYTES,
};

/// How long shutdown waits for workers.
pub const WORKER_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(10);
/// Read connections in the pool.
pub const READERS: usize = 4;

/// Why a daemon could not start or stop cleanly.
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error("opening the database {path}: {source}")]
    Store {
        path: PathBuf,
        source: signet_model::StoreError,
    },
    /// `storage.url` (or `SIGNET_DATABASE_URL`) names a database that cannot be opened;
    /// `url` has its password redacted.
    // The store's error is part of this one's text, not its `source`: a report that prints
    // the chain would say it twice.
    #[error("opening the PostgreSQL database {url} (storage.url or SIGNET_DATABASE_URL): {error}")]
    Database {
        url: String,
        error: signet_model::StoreError,
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
    /// The backend, as the trait (only `assemble::open_store` names SQLite).
    store: Arc<dyn Backend>,
    workers: Workers,
}

/// Every background task of the daemon: one tracker, and one token whose children the workers
/// watch.
#[derive(Default)]
struct Workers {
    tracker: TaskTracker,
    cancel: CancellationToken,
}

impl Workers {
    /// Spawns `run(child token)` on the tracker.
    fn spawn<F>(&self, run: impl FnOnce(CancellationToken) -> F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        self.tracker.spawn(run(self.cancel.child_token()));
    }

    /// Cancels every worker and waits for them, at most [`WORKER_SHUTDOWN_TIMEOUT`].
    async fn stop(&self) {
        self.cancel.cancel();
        self.tracker.close();
        if tokio::time::timeout(WORKER_SHUTDOWN_TIMEOUT, self.tracker.wait())
            .await
            .is_err()
        {
            tracing::warn!(target: "daemon", "workers did not stop within {WORKER_SHUTDOWN_TIMEOUT:?}");
        }
    }
}

impl Daemon {
    /// Opens the workspace's database and starts the workers; `listener` fixes the port.
    pub async fn start(cfg: DaemonConfig, listener: &TcpListener) -> Result<Self, DaemonError> {
        let db_path = assemble::prepare_workspace(&cfg.workspace)?;
        let wal = assemble::wal_path(&db_path);
        let (store, migration, pgvector) =
            assemble::open_store(db_path.clone(), &cfg.loaded.settings.storage).await?;
        assemble::recover_summaries(store.clone()).await;
        let head = assemble::feed_head(&store).await;
        let workers = Workers::default();
        let live = assemble::LiveSettings::start(&cfg, &workers)?;
        let mut info =
            assemble::daemon_info(&cfg, &live.initial, db_path, migration, pgvector, listener)?;
        let memories =
            assemble::memories(&cfg, &live, store.clone(), store.clone(), &workers).await?;
        assemble::peer_sync(&store, &memories, head, &mut info, &workers);
        let maintenance = Maintenance::new(store.clone(), memories.clone(), live.settings.clone());
        let backups =
            workers::backup::BackupWorker::new(cfg.workspace.clone(), live.settings.clone());
        maintenance.attach_backup(backups.monitor());
        workers.spawn(|cancel| backups.run(cancel));
        let retention = RetentionWorker::new(maintenance.retention().clone());
        workers.spawn(|cancel| retention.run(cancel));
        let documents = assemble::documents(&cfg, &live, store.clone(), &memories, &workers).await;
        let pipeline = assemble::pipeline(&cfg, &live, store.clone(), &memories, &workers).await;
        let slot = pipeline.clone();
        maintenance.attach_pipeline(Arc::new(move || slot.get().idle_reason()));
        let transfer = signet_core::export::Transfer::live(store.clone(), memories.clone());
        let services = Services {
            transfer,
            memories,
            maintenance,
            documents,
            pipeline,
            auth: assemble::auth_gate(&cfg.workspace, &live.initial.auth)?,
            observe: Observe {
                logs: cfg.log_hub.clone().unwrap_or_default(),
                closing: CancellationToken::new(),
            },
        };
        let state = AppState::new(services, info, live.settings);
        let probe = HealthProbe::new(state.clone());
        workers.spawn(|cancel| probe.run(cancel));
        let checkpointer = WalCheckpointer::new(store.clone(), WAL_TRUNCATE_BYTES).watching(wal);
        workers.spawn(|cancel| checkpointer.run(cancel));
        Ok(Self {
            state,
            store,
            workers,
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
        self.workers.stop().await;
        let store = self.store.clone();
        let res = tokio::task::spawn_blocking(move || store.checkpoint()).await;
        match res {
            Ok(Ok(())) => tracing::info!(target: "daemon", "database checkpointed"),
            Ok(Err(e)) => tracing::warn!(target: "daemon", error = %e, "checkpoint failed"),
            Err(e) => tracing::warn!(target: "daemon", error = %e, "checkpoint task failed"),
        }
    }
}
