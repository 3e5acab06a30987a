//! [`Pipeline`]: the state the extraction and summary workers share with the HTTP routes —
//! the metered provider, the live safety switches, pause and resume, the budget's last
//! verdict — and the status and job answers built from it.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use signet_api::{
    BudgetState, GraphState, JobList, JobListQuery, JobStatus, LedgerState, LlmTotals,
    PipelineControl, PipelineStatus, ProviderState, QueueState, WorkerState,
};
use signet_model::PipelineStore;
use signet_model::pipeline::{JobQuery, JobRecord};
use tokio::sync::watch;

use super::ledger::{Metered, Now};
use crate::analytics::Analytics;
use crate::config::{ExtractionProvider, PipelineSettings, Settings};
use crate::error::{CoreError, Result};
use crate::llm::LlmProvider;
use crate::memory::Memories;

/// The statuses a `memory_jobs` row takes.
const JOB_STATUSES: [&str; 4] = ["pending", "leased", "completed", "dead"];
/// The `memory_jobs.job_type`s upstream writes (the structural ones are upstream's workers).
const JOB_TYPES: [&str; 4] = [
    "extract",
    "document_ingest",
    "structural_classify",
    "structural_dependency",
];

/// The validated query of `GET /api/pipeline/jobs`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobListParams(pub JobQuery);

impl TryFrom<&JobListQuery> for JobListParams {
    type Error = CoreError;

    fn try_from(q: &JobListQuery) -> Result<Self> {
        use crate::memory::input::{query_limit, query_offset};
        Ok(Self(JobQuery {
            status: one_of(q.status.as_deref(), "status", &JOB_STATUSES)?,
            job_type: one_of(q.type_.as_deref(), "type", &JOB_TYPES)?,
            limit: query_limit(q.limit.as_deref(), "limit", 50, 500)?,
            offset: query_offset(q.offset.as_deref())?,
        }))
    }
}

/// `v` trimmed when it is one of `allowed`; absent or blank: `None`.
fn one_of(v: Option<&str>, key: &str, allowed: &[&str]) -> Result<Option<String>> {
    match v.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) if allowed.contains(&s) => Ok(Some(s.to_owned())),
        Some(_) => Err(CoreError::Invalid(format!(
            "{key} must be one of {}",
            allowed.join(", ")
        ))),
    }
}

/// What a pipeline is built from.
pub struct PipelineParts {
    pub store: Arc<dyn PipelineStore>,
    /// The memory service: candidate search, embedding of new facts, live events.
    pub memories: Memories,
    /// The extraction provider (built once, at start-up: `llm::pipeline_provider`).
    pub provider: Arc<dyn LlmProvider>,
    /// Why that provider cannot be used, if it cannot (the pipeline then stays idle).
    pub unavailable: Option<String>,
    /// The live settings: the safety switches and the budget apply at the next job.
    pub settings: watch::Receiver<Arc<Settings>>,
    pub analytics: Analytics,
    /// The workspace (session summaries are also written under `memory/`).
    pub workspace: PathBuf,
    pub now: Now,
}

/// How the workers write, from the switches in force (upstream's modes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Disabled,
    Frozen,
    Shadow,
    ControlledWrite,
}

impl Mode {
    pub fn of(p: &PipelineSettings) -> Self {
        if !p.enabled {
            Self::Disabled
        } else if p.mutations_frozen {
            Self::Frozen
        } else if p.shadow_mode {
            Self::Shadow
        } else {
            Self::ControlledWrite
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Disabled => "disabled",
            Self::Frozen => "frozen",
            Self::Shadow => "shadow",
            Self::ControlledWrite => "controlled-write",
        }
    }
}

/// The pipeline's shared state. Cheap to clone.
#[derive(Clone)]
pub struct Pipeline {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn PipelineStore>,
    memories: Memories,
    llm: Metered,
    settings: watch::Receiver<Arc<Settings>>,
    analytics: Analytics,
    workspace: PathBuf,
    unavailable: Option<String>,
    paused: AtomicBool,
    extraction_running: AtomicBool,
    summary_running: AtomicBool,
    /// The budget's last verdict (`Some`: exhausted, why).
    budget: Mutex<Option<String>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Pipeline {
    pub fn new(p: PipelineParts) -> Self {
        let llm = Metered::new(p.provider, p.store.clone(), p.now);
        Self {
            inner: Arc::new(Inner {
                store: p.store,
                memories: p.memories,
                llm,
                settings: p.settings,
                analytics: p.analytics,
                workspace: p.workspace,
                unavailable: p.unavailable,
                paused: AtomicBool::new(false),
                extraction_running: AtomicBool::new(false),
                summary_running: AtomicBool::new(false),
                budget: Mutex::new(None),
            }),
        }
    }

    pub(crate) fn store(&self) -> &Arc<dyn PipelineStore> {
        &self.inner.store
    }

    pub(crate) fn memories(&self) -> &Memories {
        &self.inner.memories
    }

    pub(crate) fn llm(&self) -> &Metered {
        &self.inner.llm
    }

    pub(crate) fn analytics(&self) -> &Analytics {
        &self.inner.analytics
    }

    pub(crate) fn workspace(&self) -> &std::path::Path {
        &self.inner.workspace
    }

    /// The pipeline settings in force now.
    pub fn settings(&self) -> PipelineSettings {
        self.inner.settings.borrow().pipeline.clone()
    }

    /// The mode in force now.
    pub fn mode(&self) -> Mode {
        Mode::of(&self.inner.settings.borrow().pipeline)
    }

    /// Whether the workers have anything to do: the pipeline is enabled with a provider.
    pub fn is_active(&self) -> bool {
        let p = &self.inner.settings.borrow().pipeline;
        p.enabled
            && p.extraction.provider != ExtractionProvider::None
            && self.llm().name() != "none"
    }

    /// Whether an operator paused the pipeline.
    pub fn is_paused(&self) -> bool {
        self.inner.paused.load(Ordering::SeqCst)
    }

    /// Stops the workers from leasing jobs (a job in progress finishes).
    pub fn pause(&self) -> PipelineControl {
        self.inner.paused.store(true, Ordering::SeqCst);
        tracing::info!(target: "pipeline", "pipeline paused by an operator");
        self.control()
    }

    /// Lets the workers lease jobs again.
    pub fn resume(&self) -> PipelineControl {
        self.inner.paused.store(false, Ordering::SeqCst);
        tracing::info!(target: "pipeline", "pipeline resumed by an operator");
        self.control()
    }

    fn control(&self) -> PipelineControl {
        PipelineControl {
            paused: self.is_paused(),
            mode: self.mode().as_str().to_owned(),
        }
    }

    pub(crate) fn set_running(&self, worker: Worker, running: bool) {
        let flag = match worker {
            Worker::Extraction => &self.inner.extraction_running,
            Worker::Summary => &self.inner.summary_running,
        };
        flag.store(running, Ordering::SeqCst);
    }

    /// Records the budget's verdict; a change is logged.
    pub(crate) fn set_budget(&self, verdict: Option<String>) {
        let mut cur = lock(&self.inner.budget);
        if *cur != verdict {
            match &verdict {
                Some(reason) => tracing::warn!(target: "pipeline", "{reason}"),
                None => {
                    tracing::info!(target: "pipeline", "LLM budget available again; the pipeline resumes")
                }
            }
            *cur = verdict;
        }
    }

    /// Why the budget stops the workers (last checked), if it does.
    pub fn budget_exhausted(&self) -> Option<String> {
        lock(&self.inner.budget).clone()
    }

    /// Why the workers lease nothing now, if they do not (the budget as last checked).
    pub fn idle_reason(&self) -> Option<String> {
        self.idle_reason_before_budget(&self.settings())
            .or_else(|| self.budget_exhausted())
    }

    /// The reasons to lease nothing that need no ledger read: the pipeline off, no provider,
    /// an operator's pause.
    pub(crate) fn idle_reason_before_budget(&self, p: &PipelineSettings) -> Option<String> {
        if !p.enabled {
            return Some("memory.pipelineV2.enabled is false".into());
        }
        if p.extraction.provider == ExtractionProvider::None {
            return Some("memory.pipelineV2.extraction.provider is none".into());
        }
        if let Some(reason) = &self.inner.unavailable {
            return Some(reason.clone());
        }
        if self.llm().name() == "none" {
            return Some("memory.pipelineV2.extraction.provider is none".into());
        }
        if self.is_paused() {
            return Some("paused by an operator (POST /api/pipeline/resume)".into());
        }
        None
    }

    /// Why a worker may lease nothing now: an idle reason, else the budget (checked now).
    pub(crate) async fn blocked(&self, p: &PipelineSettings) -> Option<String> {
        match self.idle_reason_before_budget(p) {
            Some(reason) => Some(reason),
            None => self.check_budget(p).await,
        }
    }

    /// Checks the budget against the ledger now and records the verdict: why no call may be
    /// made, if none may. A ledger that cannot be read stops the workers too (fail closed).
    pub(crate) async fn check_budget(&self, p: &PipelineSettings) -> Option<String> {
        let verdict = match self.llm().blocked(&p.budget).await {
            Ok(v) => v,
            Err(e) => Some(format!("the LLM budget cannot be checked: {e}")),
        };
        self.set_budget(verdict.clone());
        verdict
    }

    /// `GET /api/memory/jobs/:id`.
    pub async fn job(&self, id: &str) -> Result<Option<JobStatus>> {
        let (store, id) = (self.store().clone(), id.to_owned());
        let row = crate::blocking::run(move || Ok(store.job(&id)?)).await?;
        Ok(row.map(job_status))
    }

    /// `GET /api/pipeline/jobs`: a page of `memory_jobs`, newest first.
    pub async fn jobs(&self, p: JobListParams) -> Result<JobList> {
        let store = self.store().clone();
        let page = crate::blocking::run(move || Ok(store.jobs(&p.0)?)).await?;
        Ok(JobList {
            jobs: page.jobs.into_iter().map(job_status).collect(),
            total: page.total,
        })
    }

    /// The ledger's sums: last hour, last day, all time, per provider.
    pub async fn ledger(&self) -> Result<LedgerState> {
        let now = self.llm().now();
        let hour = signet_model::time::format_iso(now - chrono::Duration::hours(1));
        let day = signet_model::time::format_iso(now - chrono::Duration::hours(24));
        let store = self.store().clone();
        crate::blocking::run(move || {
            let by_provider = store
                .llm_totals_by_provider(None)?
                .into_iter()
                .map(|p| (format!("{}/{}", p.provider, p.model), p.totals))
                .collect();
            Ok(LedgerState {
                last_hour: store.llm_totals(Some(&hour))?,
                last_day: store.llm_totals(Some(&day))?,
                total: store.llm_totals(None)?,
                by_provider,
            })
        })
        .await
    }

    /// All-time ledger sums per `"<provider>/<model>"` (`/api/analytics/usage`).
    pub async fn usage(&self) -> Result<BTreeMap<String, LlmTotals>> {
        Ok(self.ledger().await?.by_provider)
    }

    /// `GET /api/pipeline/status`.
    pub async fn status(&self) -> Result<PipelineStatus> {
        let p = self.settings();
        let store = self.store().clone();
        let (counts, graph) =
            crate::blocking::run(move || Ok((store.job_counts()?, store.graph_counts()?))).await?;
        let ledger = self.ledger().await?;
        let budget = self.budget_state(&p, &ledger).await;
        let running = |f: &AtomicBool| WorkerState {
            running: f.load(Ordering::SeqCst),
        };
        let workers = [
            ("extraction", running(&self.inner.extraction_running)),
            ("summary", running(&self.inner.summary_running)),
            ("document", WorkerState { running: true }),
            ("retention", WorkerState { running: true }),
            ("maintenance", WorkerState::default()),
            ("synthesis", WorkerState::default()),
            ("structuralClassify", WorkerState::default()),
            ("structuralDependency", WorkerState::default()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        let mut queues: BTreeMap<String, QueueState> = ["memory", "summary"]
            .into_iter()
            .map(|q| (q.to_owned(), QueueState::default()))
            .collect();
        for c in counts {
            let q = queues.entry(c.queue.clone()).or_default();
            match c.status.as_str() {
                "pending" => q.pending += c.count,
                "leased" | "processing" => q.leased += c.count,
                "completed" => q.completed += c.count,
                "failed" => q.failed += c.count,
                "dead" => q.dead += c.count,
                _ => {}
            }
            *q.by_type
                .entry(c.job_type)
                .or_default()
                .entry(c.status)
                .or_default() += c.count;
        }
        let idle = self.idle_reason();
        let latency = self.analytics().latency_report().jobs;
        let error_summary = self
            .analytics()
            .errors(&Default::default())
            .summary
            .into_iter()
            .filter(|(code, _)| code.starts_with("EXTRACTION_") || code.starts_with("DECISION_"))
            .collect();
        Ok(PipelineStatus {
            mode: Mode::of(&p).as_str().to_owned(),
            paused: idle.is_some(),
            paused_reason: idle,
            workers,
            queues,
            provider: self.provider_state(&p),
            ledger,
            budget,
            latency,
            error_summary,
            graph: GraphState {
                enabled: p.graph.enabled,
                entities: graph.entities,
                relations: graph.relations,
                mentions: graph.mentions,
            },
            extra: Default::default(),
        })
    }

    async fn budget_state(&self, p: &PipelineSettings, ledger: &LedgerState) -> BudgetState {
        let w = super::ledger::Windows {
            tokens_last_day: ledger.last_day.input_tokens + ledger.last_day.output_tokens,
            calls_last_hour: ledger.last_hour.calls,
        };
        let reason = Metered::exhausted_by(&p.budget, w);
        BudgetState {
            max_tokens_per_day: p.budget.max_tokens_per_day,
            max_calls_per_hour: p.budget.max_calls_per_hour,
            tokens_last_day: w.tokens_last_day,
            calls_last_hour: w.calls_last_hour,
            exhausted: reason.is_some(),
            reason,
        }
    }

    fn provider_state(&self, p: &PipelineSettings) -> ProviderState {
        let h = self.llm().health();
        let health = if !p.enabled || self.llm().name() == "none" {
            "disabled"
        } else if h.circuit_open {
            "down"
        } else {
            match h.last_ok {
                None => "unknown",
                Some(true) => "ok",
                Some(false) => "degraded",
            }
        };
        ProviderState {
            name: self.llm().name().to_owned(),
            model: self.llm().model().to_owned(),
            health: health.to_owned(),
            last_error: h.last_error,
            last_success_at: h.last_success_at,
        }
    }
}

/// The workers whose running flag the status shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Worker {
    Extraction,
    Summary,
}

/// Upstream's job answer.
fn job_status(j: JobRecord) -> JobStatus {
    let result = j
        .result
        .as_deref()
        .map(|r| serde_json::from_str(r).unwrap_or_else(|_| serde_json::Value::String(r.into())));
    JobStatus {
        attempt_count: j.attempts,
        last_error: j.error.clone(),
        next_attempt_at: None,
        last_error_code: None,
        id: j.id,
        memory_id: j.memory_id,
        document_id: j.document_id,
        job_type: j.job_type,
        status: j.status,
        attempts: j.attempts,
        max_attempts: j.max_attempts,
        error: j.error,
        leased_at: j.leased_at,
        completed_at: j.completed_at,
        failed_at: j.failed_at,
        created_at: j.created_at,
        updated_at: j.updated_at,
        result,
    }
}
