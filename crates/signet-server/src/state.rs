//! Shared state of the HTTP layer: the services and the facts about this daemon process.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{PoisonError, RwLock};
use std::time::Instant;

use signet_core::auth::AuthGate;
use signet_core::config::{Settings, StorageSettings};
use signet_core::documents::Documents;
use signet_core::export::Transfer;
use signet_core::hooks::Hooks;
use signet_core::maintenance::Maintenance;
use signet_core::memory::Memories;
use signet_core::pipeline::Pipeline;
use signet_core::sessions::Sessions;
use signet_model::MigrationReport;
use tokio::sync::watch;

use crate::observe::Observe;

/// Facts about the running daemon shown by `/health` and `/api/status`.
#[derive(Debug, Clone)]
pub struct DaemonInfo {
    pub version: &'static str,
    pub pid: u32,
    pub started: Instant,
    pub started_at: String,
    pub port: u16,
    pub host: String,
    pub bind_host: String,
    pub workspace: PathBuf,
    pub db_path: PathBuf,
    /// The backend the daemon opened (`storage`), as start-up read it.
    pub storage: StorageSettings,
    /// PostgreSQL only: the server's pgvector capability, read at open.
    pub pgvector: Option<signet_api::PgvectorSection>,
    pub log_dir: PathBuf,
    pub log_file: Option<PathBuf>,
    pub migration: MigrationReport,
    /// This node's id on a shared database (`None` on SQLite).
    pub node: Option<String>,
    /// How this node follows the others' writes (shared databases only).
    pub peer_sync: Option<Arc<crate::daemon::workers::peer_sync::PeerSyncStatus>>,
    pub config_source: Option<PathBuf>,
    pub config_warnings: Vec<String>,
}

/// The services a daemon assembles, handed to [`AppState::new`] in one piece.
pub struct Services {
    /// Remember, read, mutate, recall.
    pub memories: Memories,
    /// Diagnostics, repairs, retention.
    pub maintenance: Maintenance,
    /// Documents and their ingestion.
    pub documents: Documents,
    /// The memory pipeline (extraction, its ledger, pause and resume).
    pub pipeline: PipelineSlot,
    /// Export and import (`/api/export`, `/api/import`).
    pub transfer: Transfer,
    /// Who may call what (fixed at start).
    pub auth: AuthGate,
    /// Log hub and the live-stream shutdown signal.
    pub observe: Observe,
}

/// The pipeline the routes see. Checking a CLI provider (`claude --version`) can take seconds,
/// so start-up does not wait for it: until the check is done the slot holds a provisional
/// pipeline whose status says it is checking, and the extraction worker's task swaps the real
/// one in. Cheap to clone; clones share the slot.
#[derive(Clone)]
pub struct PipelineSlot {
    current: Arc<RwLock<Pipeline>>,
}

impl PipelineSlot {
    pub fn new(pipeline: Pipeline) -> Self {
        Self {
            current: Arc::new(RwLock::new(pipeline)),
        }
    }

    /// The pipeline in place now.
    pub fn get(&self) -> Pipeline {
        self.current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Puts `next` in place; an operator's pause of the one it replaces carries over.
    pub fn replace(&self, next: Pipeline) {
        let mut cur = self.current.write().unwrap_or_else(PoisonError::into_inner);
        if cur.is_paused() {
            next.pause();
        }
        *cur = next;
    }
}

/// Everything a handler can reach. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    memories: Memories,
    maintenance: Maintenance,
    documents: Documents,
    pipeline: PipelineSlot,
    transfer: Transfer,
    info: DaemonInfo,
    settings: watch::Receiver<Arc<Settings>>,
    db_ok: AtomicBool,
    auth: AuthGate,
    observe: Observe,
    /// Session claims, bypass flags and harness sightings (in memory; a restart forgets them).
    sessions: Sessions,
    /// The harness hooks (over `memories` and `sessions`).
    hooks: Hooks,
}

impl AppState {
    /// State over the given services.
    pub fn new(
        services: Services,
        info: DaemonInfo,
        settings: watch::Receiver<Arc<Settings>>,
    ) -> Self {
        let Services {
            memories,
            maintenance,
            documents,
            pipeline,
            transfer,
            auth,
            observe,
        } = services;
        let sessions = Sessions::new();
        // The date header names the machine's zone (`TZ`, else the system's), else UTC.
        let zone = signet_core::hooks::inject::zone_name(std::env::var("TZ").ok().as_deref());
        let hooks = Hooks::new(
            memories.clone(),
            sessions.clone(),
            info.workspace.clone(),
            zone,
        );
        let inner = Inner {
            memories,
            maintenance,
            documents,
            pipeline,
            transfer,
            info,
            settings,
            db_ok: AtomicBool::new(true),
            auth,
            observe,
            sessions,
            hooks,
        };
        Self {
            inner: Arc::new(inner),
        }
    }

    /// The memory service.
    pub fn memories(&self) -> &Memories {
        &self.inner.memories
    }

    /// Export and import.
    pub fn transfer(&self) -> &Transfer {
        &self.inner.transfer
    }

    /// Diagnostics, repairs and retention.
    pub fn maintenance(&self) -> &Maintenance {
        &self.inner.maintenance
    }

    /// Documents and their ingestion.
    pub fn documents(&self) -> &Documents {
        &self.inner.documents
    }

    /// The memory pipeline (status, jobs, pause and resume, the LLM ledger).
    pub fn pipeline(&self) -> Pipeline {
        self.inner.pipeline.get()
    }

    /// Facts about this process.
    pub fn info(&self) -> &DaemonInfo {
        &self.inner.info
    }

    /// The auth policy (mode, token signer, rate limits), fixed at start.
    pub fn auth(&self) -> &AuthGate {
        &self.inner.auth
    }

    /// The settings in force now.
    pub fn settings(&self) -> Arc<Settings> {
        self.inner.settings.borrow().clone()
    }

    /// The last database health probe's answer (kept fresh by the health worker).
    pub fn db_ok(&self) -> bool {
        self.inner.db_ok.load(Ordering::Relaxed)
    }

    /// The log hub and the live streams' shutdown signal.
    pub fn observe(&self) -> &Observe {
        &self.inner.observe
    }

    /// The session tracker.
    pub fn sessions(&self) -> &Sessions {
        &self.inner.sessions
    }

    /// The harness hooks.
    pub fn hooks(&self) -> &Hooks {
        &self.inner.hooks
    }

    /// Records a database health probe.
    pub fn set_db_ok(&self, ok: bool) {
        self.inner.db_ok.store(ok, Ordering::Relaxed);
    }
}
