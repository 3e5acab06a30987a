//! The steps of [`Daemon::start`](super::Daemon::start), in the order it takes them: the
//! workspace's directories, the store, the live settings (with the policy forwarder and the
//! config watcher), the facts `/health` reports, the memory service (with the access-count
//! writer, the semantic side and the embedding worker), the document service (with its
//! worker, after recovering the leases a previous process left), the memory pipeline (with
//! its extraction worker, after recovering the summary jobs a previous process left), and the
//! auth gate.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use signet_api::PgvectorSection;
use signet_core::analytics::Analytics;
use signet_core::auth::AuthGate;
use signet_core::config::{
    self, AuthSettings, DatabaseUrlText, ExtractionProvider, PgvectorSetting, Settings,
    StorageBackend, StorageSettings,
};
use signet_core::documents::{DocumentWorker, Documents};
use signet_core::events::EventBus;
use signet_core::llm::{LlmProvider, NoProvider, pipeline_provider};
use signet_core::memory::{Memories, MemoryPolicy};
use signet_core::pipeline::{ExtractWorker, Pipeline, PipelineParts, SummaryWorker, system_now};
use signet_core::semantic::{EmbeddingWorker, Resolved, Semantic, provider};
use signet_model::{Backend, DocumentStore, MemoryStore, MigrationReport, PipelineStore};
use signet_store::Store;
use signet_store_pg::{DatabaseUrl, PgConfig, PgStore, PgvectorMode};
use tokio::net::TcpListener;
use tokio::sync::watch;

use super::workers::PolicyForwarder;
use super::workers::peer_sync::PeerSync;
use super::{DaemonConfig, DaemonError, READERS, Workers};
use crate::state::{DaemonInfo, PipelineSlot};

/// Creates the workspace's directories; returns the database path.
pub(super) fn prepare_workspace(workspace: &Path) -> Result<PathBuf, DaemonError> {
    for dir in [".daemon", ".daemon/logs", "memory"] {
        std::fs::create_dir_all(workspace.join(dir))?;
    }
    Ok(workspace.join("memory").join("memories.db"))
}

/// The database's write-ahead log (SQLite's name for it), which the checkpointer watches.
pub(super) fn wal_path(db: &Path) -> PathBuf {
    let mut wal = db.as_os_str().to_owned();
    wal.push("-wal");
    PathBuf::from(wal)
}

/// Opens (and migrates) the database that `storage` names on a blocking thread: the one place
/// that names a backend (SQLite's `path`, or PostgreSQL's `storage.url`). The daemon keeps it
/// as `Arc<dyn Backend>`, with the migration report. A PostgreSQL database that cannot be
/// opened stops start-up, naming `storage.url` with its password redacted; it never falls
/// back to the SQLite file. On PostgreSQL, also the server's pgvector capability.
pub(super) async fn open_store(
    path: PathBuf,
    storage: &StorageSettings,
) -> Result<(Arc<dyn Backend>, MigrationReport, Option<PgvectorSection>), DaemonError> {
    let mut pgvector = None;
    let store = match (storage.backend, &storage.url) {
        (StorageBackend::Postgres, Some(url)) => {
            let (store, capability) = open_postgres(storage, url).await?;
            pgvector = Some(capability);
            store
        }
        _ => {
            let p = path.clone();
            let opened = tokio::task::spawn_blocking(move || Store::open(&p, READERS))
                .await
                .map_err(|e| DaemonError::Io(std::io::Error::other(e)))?;
            let store: Arc<dyn Backend> =
                Arc::new(opened.map_err(|source| DaemonError::Store { path, source })?);
            store
        }
    };
    let report = store.migration().clone();
    if !report.applied.is_empty() {
        tracing::info!(target: "daemon", from = report.from_version, to = report.to_version,
            backup = ?report.backup, "database migrated");
    }
    Ok((store, report, pgvector))
}

/// Connects to the PostgreSQL database of `storage`, migrates it and decides its vector path
/// (`storage.pgvector`, `signet_store_pg::VectorCapability`): pgvector where the database has
/// it (`auto`, `on`), else the in-process index; `on` without it stops start-up.
async fn open_postgres(
    storage: &StorageSettings,
    url: &DatabaseUrlText,
) -> Result<(Arc<dyn Backend>, PgvectorSection), DaemonError> {
    let shown = url.redacted();
    let failed = |error| DaemonError::Database {
        url: shown.clone(),
        error,
    };
    let config = PgConfig {
        url: DatabaseUrl::parse(url.expose()).map_err(failed)?,
        pool: storage.pool as usize,
        schema: storage.schema.clone(),
    };
    let mode = match storage.pgvector {
        PgvectorSetting::Auto => PgvectorMode::Auto,
        PgvectorSetting::On => PgvectorMode::On,
        PgvectorSetting::Off => PgvectorMode::Off,
    };
    tracing::info!(target: "daemon", url = %shown, pool = storage.pool,
        schema = storage.schema.as_deref().unwrap_or("(search path)"),
        pgvector = mode.as_str(), "storage: PostgreSQL");
    let opened = tokio::task::spawn_blocking(move || {
        PgStore::open_with(&config, mode).map(|s| {
            let capability = s.vector_capability();
            (s, capability)
        })
    })
    .await
    .map_err(|e| DaemonError::Io(std::io::Error::other(e)))?;
    let (store, capability) = opened.map_err(failed)?;
    let pgvector = match capability {
        Ok(c) => PgvectorSection {
            available: c.available.is_some(),
            installed: c.installed,
            used: c.used,
            reason: Some(c.reason),
            extra: Default::default(),
        },
        Err(e) => PgvectorSection {
            reason: Some(format!("the extension catalog could not be read: {e}")),
            ..Default::default()
        },
    };
    let index = if pgvector.used {
        signet_store_pg::PGVECTOR
    } else {
        signet_store_pg::IN_PROCESS
    };
    tracing::info!(target: "daemon", available = pgvector.available, used = pgvector.used,
        reason = pgvector.reason.as_deref().unwrap_or(""), "storage: vectors served by the {index} index");
    Ok((Arc::new(store), pgvector))
}

/// Where this node starts following the others' changes: the change feed's head, read before
/// the vector index loads (`None` without a feed; `Some(-1)`: unknown yet, read later).
pub(super) async fn feed_head(store: &Arc<dyn Backend>) -> Option<i64> {
    store.change_feed()?;
    let store = store.clone();
    let head = tokio::task::spawn_blocking(move || store.change_feed().map(|f| f.head())).await;
    match head {
        Ok(Some(Ok(seq))) => Some(seq),
        Ok(Some(Err(e))) => {
            tracing::warn!(target: "sync", error = %e, "reading the change feed's head; trying again later");
            Some(-1)
        }
        _ => Some(-1),
    }
}

/// The peer sync worker on a shared database: follows the other nodes' changes from `head`;
/// records this node's id and the sync's counters in `info`.
pub(super) fn peer_sync(
    store: &Arc<dyn Backend>,
    memories: &Memories,
    head: Option<i64>,
    info: &mut DaemonInfo,
    workers: &Workers,
) {
    let Some(head) = head else { return };
    let Some(sync) = PeerSync::new(store.clone(), memories.clone(), head) else {
        return;
    };
    info.node = store.change_feed().map(|f| f.node().to_owned());
    info.peer_sync = Some(sync.status());
    tracing::info!(target: "sync", node = info.node.as_deref().unwrap_or(""), from = head,
        "following the other nodes' changes");
    workers.spawn(|cancel| sync.run(cancel));
}

/// The settings as loaded, the settings in force now, and the memory policy derived from them.
pub(super) struct LiveSettings {
    /// What start-up validated; the network, auth and provider choices stay as they were.
    pub(super) initial: Arc<Settings>,
    /// Republished by the config watcher on every valid `agent.yaml` change.
    pub(super) settings: watch::Receiver<Arc<Settings>>,
    /// Republished by the policy forwarder when a change alters it.
    pub(super) policy: watch::Receiver<Arc<MemoryPolicy>>,
    /// Why the pipeline's provider is unusable, once known: remember then queues nothing.
    pub(super) extraction_off: watch::Sender<Option<String>>,
}

impl LiveSettings {
    /// The channels, the policy forwarder, and the config watcher when `cfg` asks for one.
    pub(super) fn start(cfg: &DaemonConfig, workers: &Workers) -> Result<Self, DaemonError> {
        let initial = Arc::new(cfg.loaded.settings.clone());
        let (settings_tx, settings) = watch::channel(initial.clone());
        // A provider known unusable without running anything (a CLI not on PATH, a missing
        // key) queues no extraction from the first request on.
        let off = signet_core::llm::quick_unusable(&initial.pipeline.extraction, &cfg.env);
        let first = PolicyForwarder::derive(initial.as_ref(), off.as_deref());
        let (policy_tx, policy) = watch::channel(Arc::new(first));
        let (extraction_off, off_rx) = watch::channel(off);
        let forwarder = PolicyForwarder::new(settings.clone(), off_rx, policy_tx);
        workers.spawn(|cancel| forwarder.run(cancel));
        if cfg.watch_config {
            config::spawn_watcher(
                cfg.workspace.clone(),
                cfg.env.clone(),
                settings_tx,
                workers.cancel.child_token(),
                &workers.tracker,
            )?;
        }
        Ok(Self {
            initial,
            settings,
            policy,
            extraction_off,
        })
    }
}

/// The facts about this process that `/health` and `/api/status` show.
pub(super) fn daemon_info(
    cfg: &DaemonConfig,
    settings: &Settings,
    db_path: PathBuf,
    migration: MigrationReport,
    pgvector: Option<PgvectorSection>,
    listener: &TcpListener,
) -> Result<DaemonInfo, DaemonError> {
    let net = &settings.network;
    Ok(DaemonInfo {
        version: env!("CARGO_PKG_VERSION"),
        pid: std::process::id(),
        started: Instant::now(),
        started_at: signet_model::time::now_iso(),
        port: listener.local_addr()?.port(),
        host: net.host.clone(),
        bind_host: net.bind.clone(),
        workspace: cfg.workspace.clone(),
        db_path,
        storage: settings.storage.clone(),
        pgvector,
        log_dir: net
            .log_dir
            .clone()
            .unwrap_or_else(|| cfg.workspace.join(".daemon/logs")),
        log_file: net.log_file.clone(),
        migration,
        node: None,
        peer_sync: None,
        config_source: cfg.loaded.source.clone(),
        config_warnings: cfg.loaded.warnings.clone(),
    })
}

/// The memory service, with its workers: the access-count writer, and the embedding worker
/// when semantic recall is configured.
pub(super) async fn memories(
    cfg: &DaemonConfig,
    live: &LiveSettings,
    store: Arc<dyn MemoryStore>,
    graph: Arc<dyn PipelineStore>,
    workers: &Workers,
) -> Result<Memories, DaemonError> {
    let (access, access_worker) = signet_core::access::channel(store.clone());
    workers.spawn(|cancel| access_worker.run(cancel));
    let (semantic, native_dir) = semantic(cfg, &live.initial, store.clone()).await?;
    if semantic.configured() {
        let poll = Duration::from_millis(live.initial.pipeline.embedding_tracker.poll_ms);
        let worker = EmbeddingWorker::new(semantic.clone(), native_dir, poll);
        workers.spawn(|cancel| worker.run(cancel));
    }
    Ok(Memories::new(store, live.policy.clone(), access, semantic)
        .with_telemetry(EventBus::default(), Analytics::default())
        .with_graph(graph))
}

/// The document service and its worker. Every ingest lease still held belongs to a process
/// that is gone (one daemon owns the database), so they are recovered before the worker
/// starts; a failure to recover is logged, and the worker's own stale-lease recovery takes
/// over once the lease times out.
pub(super) async fn documents(
    cfg: &DaemonConfig,
    live: &LiveSettings,
    store: Arc<dyn DocumentStore>,
    memories: &Memories,
    workers: &Workers,
) -> Documents {
    let docs = Documents::new(
        store,
        memories.semantic().clone(),
        live.settings.clone(),
        cfg.workspace.clone(),
    );
    let worker = DocumentWorker::new(docs.clone());
    workers.spawn(|cancel| worker.run(cancel));
    docs
}

/// The memory pipeline and its extraction and summary workers (the extraction worker's first
/// tick recovers the extract leases a previous process left). The provider is the one the
/// settings name at start-up; a CLI provider's `--version` check (up to 10 s) runs in the
/// worker's task, so start-up does not wait for it — meanwhile the status says so.
pub(super) async fn pipeline(
    cfg: &DaemonConfig,
    live: &LiveSettings,
    store: Arc<dyn PipelineStore>,
    memories: &Memories,
    workers: &Workers,
) -> PipelineSlot {
    let off = live.extraction_off.clone();
    let extraction = live.initial.pipeline.extraction.clone();
    let (env, settings, workspace) = (
        cfg.env.clone(),
        live.settings.clone(),
        cfg.workspace.clone(),
    );
    let (memories, analytics) = (memories.clone(), memories.analytics().clone());
    let configured = extraction.provider.as_str();
    let parts = move |provider: Arc<dyn LlmProvider>, unavailable: Option<String>| PipelineParts {
        store: store.clone(),
        memories: memories.clone(),
        provider,
        unavailable,
        settings: settings.clone(),
        analytics: analytics.clone(),
        workspace: workspace.clone(),
        now: system_now(),
    };
    let checks_cli = matches!(
        extraction.provider,
        ExtractionProvider::ClaudeCode | ExtractionProvider::Codex
    );
    if !checks_cli {
        let (provider, unavailable) = pipeline_provider(&extraction, &env).await;
        off.send_replace(unavailable.clone());
        let pipeline = started(parts(provider, unavailable), configured);
        let (extract, summary) = (
            ExtractWorker::new(pipeline.clone()),
            SummaryWorker::new(pipeline.clone()),
        );
        workers.spawn(|cancel| extract.run(cancel));
        workers.spawn(|cancel| summary.run(cancel));
        return PipelineSlot::new(pipeline);
    }
    let checking = format!("checking the extraction provider {configured} (`--version`)");
    let slot = PipelineSlot::new(Pipeline::new(parts(Arc::new(NoProvider), Some(checking))));
    let handle = slot.clone();
    workers.spawn(move |cancel| async move {
        let (provider, unavailable) = tokio::select! {
            _ = cancel.cancelled() => return,
            p = pipeline_provider(&extraction, &env) => p,
        };
        off.send_replace(unavailable.clone());
        let pipeline = started(parts(provider, unavailable), configured);
        handle.replace(pipeline.clone());
        // Both workers in this task (the summary jobs a previous process left were recovered
        // by `recover_summaries` before any worker started).
        tokio::join!(
            ExtractWorker::new(pipeline.clone()).run(cancel.clone()),
            SummaryWorker::new(pipeline).run(cancel),
        );
    });
    slot
}

/// The pipeline over `parts`, announced in one log line: mode, provider, model, and why it
/// is idle if it is.
fn started(parts: PipelineParts, configured: &str) -> Pipeline {
    let model = parts.provider.model().to_owned();
    let pipeline = Pipeline::new(parts);
    let mode = pipeline.mode().as_str();
    match pipeline.idle_reason() {
        None => tracing::info!(target: "pipeline", mode, provider = configured, %model,
            "memory pipeline running: mode {mode}, provider {configured}, model {model}"),
        // An unusable provider has no model: the reason says what is wrong.
        Some(why) => tracing::info!(target: "pipeline", mode, provider = configured,
            "memory pipeline idle: mode {mode}, provider {configured}: {why}"),
    }
    pipeline
}

/// Every `processing` summary job back to `pending`: one daemon owns the database, so each
/// was orphaned by a crash. Called before any worker starts; a failure is logged (those jobs
/// then wait until the next start).
pub(super) async fn recover_summaries(store: Arc<dyn PipelineStore>) {
    match tokio::task::spawn_blocking(move || store.recover_summaries()).await {
        Ok(Ok(0)) => {}
        Ok(Ok(n)) => {
            tracing::info!(target: "pipeline", recovered = n, "summary jobs left processing by a previous process are pending again");
        }
        Ok(Err(e)) => {
            tracing::warn!(target: "pipeline", error = %e, "recovering summary jobs failed");
        }
        Err(e) => tracing::warn!(target: "pipeline", error = %e, "recovering summary jobs failed"),
    }
}

/// Chooses the embedding provider; a native model is loaded later by the worker.
async fn semantic(
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

/// The auth gate. In team and hybrid modes the secret is loaded or created (a bad one stops
/// start-up); in local mode an existing secret is loaded so an admin who lost every token can
/// switch to local, mint one, and switch back.
pub(super) fn auth_gate(workspace: &Path, auth: &AuthSettings) -> Result<AuthGate, DaemonError> {
    use signet_core::auth::{self, SecretError};
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
