//! The extraction worker: one `extract` job per [`ExtractWorker::tick`] — lease, read the
//! source memory, extract facts and entities, decide each fact against its candidates, plan
//! the writes for the mode in force, and hand them to the store in one transaction with the
//! job's completion (upstream-facts §8.2–§8.3; ARCHITECTURE "The memory pipeline").

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use signet_model::documents::{FailedJob, LeasePolicy, LeasedJob};
use signet_model::memories::{Actor, NewMemory, RecallFilters};
use signet_model::pipeline::{
    Applied, EXTRACT, ExtractSource, ExtractWrite, GraphTriple, PlannedWrite, WriteOutcome,
};
use tokio_util::sync::CancellationToken;

use super::decision::{self, Action, Candidate, Decision};
use super::extraction::{self, Entity, Extraction, ExtractionLimits, Fact};
use super::ledger::CallError;
use super::service::{Mode, Pipeline, Worker};
use crate::analytics::{ErrorEntry, Stage};
use crate::config::PipelineSettings;
use crate::error::Result;
use crate::llm::LlmRequest;

/// Candidates considered per fact (upstream's top 5).
pub const CANDIDATES: usize = 5;
/// How often stale leases are recovered while running.
pub const REAP_EVERY: Duration = Duration::from_secs(60);

/// What one tick did.
#[derive(Debug, Clone, PartialEq)]
pub enum Tick {
    /// Nothing to do, or not allowed to do it now (the reason).
    Idle(Option<String>),
    /// A job was applied: its outcomes.
    Applied {
        job_id: String,
        memory_id: String,
        outcomes: Vec<WriteOutcome>,
    },
    /// The job's memory is gone or deleted: completed without an LLM call.
    Skipped { job_id: String, reason: String },
    /// The job was given back without using its attempt (the budget ran out mid-job).
    Released { job_id: String, reason: String },
    /// The attempt failed (`dead`: it was the last).
    Failed {
        job_id: String,
        error: String,
        dead: bool,
    },
    /// The write found the job no longer held by this attempt: nothing was written.
    Stale { job_id: String },
}

/// The background extractor. One per daemon.
pub struct ExtractWorker {
    pipeline: Pipeline,
    last_reap: std::sync::Mutex<Option<Instant>>,
}

/// Why a job stopped before its write.
enum Stop {
    /// Give the job back (not the job's fault).
    Release(String),
    /// Count a failed attempt.
    Fail(String),
}

impl From<CallError> for Stop {
    fn from(e: CallError) -> Self {
        match e {
            CallError::Budget(reason) => Stop::Release(reason),
            other => Stop::Fail(other.to_string()),
        }
    }
}

impl ExtractWorker {
    pub fn new(pipeline: Pipeline) -> Self {
        Self {
            pipeline,
            last_reap: std::sync::Mutex::new(None),
        }
    }

    fn policy(p: &PipelineSettings) -> LeasePolicy {
        LeasePolicy {
            lease_ms: p.worker.lease_timeout_ms as i64,
            ..LeasePolicy::default()
        }
    }

    /// One unit of work.
    pub async fn tick(&self) -> Tick {
        match self.try_tick().await {
            Ok(t) => t,
            Err(e) => {
                tracing::warn!(target: "pipeline", error = %e, "extraction tick failed");
                Tick::Idle(Some(e.to_string()))
            }
        }
    }

    async fn try_tick(&self) -> Result<Tick> {
        let p = self.pipeline.settings();
        if let Some(reason) = self.pipeline.blocked(&p).await {
            return Ok(Tick::Idle(Some(reason)));
        }
        let policy = Self::policy(&p);
        // The first tick frees every lease with its attempt given back (this worker is the
        // only one leasing extract jobs, so a lease held before it started belongs to a
        // process that died); later reaps free leases older than the lease timeout (a hung
        // attempt, which counts), every REAP_EVERY.
        let (reap, first) = {
            let mut last = self
                .last_reap
                .lock()
                .unwrap_or_else(|poison| poison.into_inner());
            let first = last.is_none();
            let due = last.is_none_or(|t| t.elapsed() >= REAP_EVERY);
            if due {
                *last = Some(Instant::now());
            }
            (due, first)
        };
        let store = self.pipeline.store().clone();
        let now_dt = self.pipeline.llm().now();
        let job = crate::blocking::run(move || {
            let now = signet_model::time::format_iso(now_dt);
            if first {
                // Only a dead process can hold a lease now: give the attempts back.
                let n = store.release_orphans(EXTRACT, &now)?;
                if n > 0 {
                    tracing::info!(target: "pipeline", released = n, "extraction jobs a previous process left leased are pending again");
                }
            } else if reap {
                let stale = now_dt - chrono::Duration::milliseconds(policy.lease_ms);
                let stale = signet_model::time::format_iso(stale);
                let n = store.recover_leases(EXTRACT, &stale, &now)?;
                if n > 0 {
                    tracing::info!(target: "pipeline", recovered = n, "stale extraction leases recovered");
                }
            }
            Ok(store.lease_job(EXTRACT, &now, &policy)?)
        })
        .await?;
        let Some(job) = job else {
            return Ok(Tick::Idle(None));
        };
        let started = Instant::now();
        let tick = self.process(job, &p).await?;
        self.pipeline
            .analytics()
            .record_latency("jobs", started.elapsed());
        Ok(tick)
    }

    async fn process(&self, job: LeasedJob, p: &PipelineSettings) -> Result<Tick> {
        let memory_id = job.memory_id.clone().unwrap_or_default();
        let store = self.pipeline.store().clone();
        let id = memory_id.clone();
        let source = crate::blocking::run(move || Ok(store.extract_source(&id)?)).await?;
        let source = match source {
            Some(s) if !s.is_deleted => s,
            other => {
                let reason = if other.is_some() {
                    "memory_deleted"
                } else {
                    "memory_not_found"
                };
                return self.skip(&job, reason).await;
            }
        };
        match self.plan(&job, &source, p).await {
            Ok(write) => self.apply(write).await,
            Err(Stop::Release(reason)) => self.release(&job, reason).await,
            Err(Stop::Fail(error)) => self.fail(&job, &memory_id, error).await,
        }
    }

    /// Extraction, decisions and the planned writes of one job.
    async fn plan(
        &self,
        job: &LeasedJob,
        source: &ExtractSource,
        p: &PipelineSettings,
    ) -> std::result::Result<ExtractWrite, Stop> {
        let limits = ExtractionLimits::with_min_confidence(p.extraction.min_confidence);
        let x = self.extract(job, source, p, &limits).await?;
        let mode = Mode::of(p);
        let mut warnings = x.warnings.clone();
        let mut proposals = Vec::with_capacity(x.facts.len());
        for fact in &x.facts {
            match self.decide(job, source, fact, p).await {
                Ok((decision, candidates, w)) => {
                    warnings.extend(w);
                    proposals.push((fact.clone(), decision, candidates));
                }
                Err(Stop::Release(r)) => return Err(Stop::Release(r)),
                Err(Stop::Fail(e)) => {
                    warnings.push(format!("decision failed for a fact: {e}"));
                    self.record_error(Stage::Decision, "DECISION_INVALID", &e, &source.memory_id);
                }
            }
        }
        let now = signet_model::time::format_iso(self.pipeline.llm().now());
        let model = self.pipeline.llm().model().to_owned();
        let mut planner = Planner::new(source, &x, mode, p, &model, now.clone());
        for (fact, decision, candidates) in &proposals {
            let blocked = self
                .contradiction(job, fact, decision, candidates, p, mode)
                .await?;
            planner.plan(fact, decision, candidates, blocked);
        }
        let entities = if p.graph.enabled {
            x.entities.iter().map(triple).collect()
        } else {
            Vec::new()
        };
        let result = json!({
            "facts": x.facts,
            "entities": x.entities,
            "proposals": planner.proposals,
            "writeMode": if mode == Mode::ControlledWrite { "phase-c" } else { "shadow" },
            "writeStats": planner.stats,
            "warnings": warnings,
        });
        let actor = Actor {
            changed_by: if mode == Mode::ControlledWrite {
                "pipeline-v2"
            } else {
                "pipeline-shadow"
            }
            .to_owned(),
            actor_type: Some("pipeline".to_owned()),
            session_id: None,
            request_id: None,
        };
        Ok(ExtractWrite {
            job_id: job.id.clone(),
            attempt: job.attempts,
            source_memory_id: source.memory_id.clone(),
            writes: planner.writes,
            entities,
            extraction_model: self.pipeline.llm().model().to_owned(),
            result: result.to_string(),
            actor,
            now,
        })
    }

    /// Facts and entities of the source, escalated to the strict prompt when the first answer
    /// has too many entities (upstream's levels 1 and 2; level 3 keeps the strict answer
    /// with its entities cut to the strict limit).
    async fn extract(
        &self,
        job: &LeasedJob,
        source: &ExtractSource,
        p: &PipelineSettings,
        limits: &ExtractionLimits,
    ) -> std::result::Result<Extraction, Stop> {
        let input = match extraction::prepare_input(&source.content, limits) {
            Ok(input) => input,
            Err(nothing) => return Ok(nothing),
        };
        let lease = p.worker.lease_timeout_ms;
        let first = self
            .extraction_call(job, extraction::build_prompt(&input, limits), p, lease)
            .await?;
        let x = extraction::parse(&first, limits);
        let (max_e, max_a) = (
            extraction::MAX_NEW_ENTITIES_PER_CHUNK,
            extraction::MAX_NEW_ATTRIBUTES_PER_ENTITY,
        );
        if extraction::escalation_passes(&x, max_e, max_a) {
            return Ok(x);
        }
        let strict = self
            .extraction_call(
                job,
                extraction::build_strict_prompt(&input, limits),
                p,
                lease,
            )
            .await?;
        let mut x2 = extraction::parse(&strict, limits);
        x2.warnings
            .push("escalated to the strict extraction prompt".into());
        if !extraction::escalation_passes(&x2, max_e, max_a) {
            x2.entities.truncate(extraction::LEVEL2_MAX_ENTITIES);
            x2.warnings
                .push("entities cut to the strict limit after escalation".into());
        }
        Ok(x2)
    }

    async fn extraction_call(
        &self,
        job: &LeasedJob,
        prompt: String,
        p: &PipelineSettings,
        lease: u64,
    ) -> std::result::Result<String, Stop> {
        let req = extraction::request(prompt, &p.extraction, lease);
        match self
            .pipeline
            .llm()
            .call(&req, "extraction", Some(&job.id), &p.budget)
            .await
        {
            Ok(r) => Ok(r.text),
            Err(CallError::Budget(reason)) => Err(Stop::Release(reason)),
            Err(e) => {
                let msg = format!("LLM extraction failed: {e}");
                let code = if msg.to_lowercase().contains("timed out")
                    || msg.to_lowercase().contains("timeout")
                {
                    "EXTRACTION_TIMEOUT"
                } else {
                    "EXTRACTION_PARSE_FAIL"
                };
                self.record_error(
                    Stage::Extraction,
                    code,
                    &msg,
                    job.memory_id.as_deref().unwrap_or(""),
                );
                Err(Stop::Fail(msg))
            }
        }
    }

    /// The decision for one fact: `add` without an LLM call when nothing is similar.
    async fn decide(
        &self,
        job: &LeasedJob,
        source: &ExtractSource,
        fact: &Fact,
        p: &PipelineSettings,
    ) -> std::result::Result<(Decision, Vec<Candidate>, Vec<String>), Stop> {
        let filters = RecallFilters {
            scope_user: source.scope_user.clone(),
            ..RecallFilters::default()
        };
        let found = self
            .pipeline
            .memories()
            .candidates(&fact.content, &source.memory_id, filters, CANDIDATES)
            .await
            .map_err(|e| Stop::Fail(format!("candidate search failed: {e}")))?;
        let candidates: Vec<Candidate> = found
            .into_iter()
            .map(|(row, _)| Candidate {
                id: row.id,
                memory_type: row.memory_type,
                content: row.content,
            })
            .collect();
        if candidates.is_empty() {
            return Ok((decision::no_candidates(fact), candidates, Vec::new()));
        }
        let req = LlmRequest::new(decision::build_prompt(fact, &candidates))
            .with_schema(decision::schema())
            .with_max_tokens(512)
            .with_timeout(Duration::from_millis(p.extraction.timeout_ms));
        let answer = self
            .pipeline
            .llm()
            .call(&req, "decision", Some(&job.id), &p.budget)
            .await?;
        let parsed = decision::parse(&answer.text, fact, &candidates).map_err(Stop::Fail)?;
        Ok((parsed.decision, candidates, parsed.warnings))
    }

    /// Whether an update is blocked by a contradiction with its target: the syntactic check
    /// (recorded as a risk), then the semantic LLM check when enabled.
    async fn contradiction(
        &self,
        job: &LeasedJob,
        fact: &Fact,
        d: &Decision,
        candidates: &[Candidate],
        p: &PipelineSettings,
        mode: Mode,
    ) -> std::result::Result<bool, Stop> {
        let Action::Update { target, content } = &d.action else {
            return Ok(false);
        };
        if mode != Mode::ControlledWrite || !p.allow_update_delete || !p.semantic_contradiction {
            return Ok(false);
        }
        let Some(old) = candidates.iter().find(|c| &c.id == target) else {
            return Ok(false);
        };
        let new = if content.is_empty() {
            &fact.content
        } else {
            content
        };
        if decision::syntactic_contradiction(new, &old.content)
            || !decision::needs_semantic_check(new, &old.content)
        {
            return Ok(false);
        }
        let req = LlmRequest::new(decision::build_contradiction_prompt(new, &old.content))
            .with_schema(decision::contradiction_schema())
            .with_max_tokens(256)
            .with_timeout(Duration::from_millis(p.semantic_contradiction_timeout_ms));
        match self
            .pipeline
            .llm()
            .call(&req, "contradiction", Some(&job.id), &p.budget)
            .await
        {
            Ok(r) => Ok(decision::contradiction_blocks(&r.text)),
            Err(CallError::Budget(reason)) => Err(Stop::Release(reason)),
            // The check is advisory: a failed check blocks nothing.
            Err(_) => Ok(false),
        }
    }

    async fn apply(&self, write: ExtractWrite) -> Result<Tick> {
        let store = self.pipeline.store().clone();
        let (job_id, memory_id) = (write.job_id.clone(), write.source_memory_id.clone());
        let added = write
            .writes
            .iter()
            .any(|w| matches!(w, PlannedWrite::Add { .. } | PlannedWrite::Update { .. }));
        let applied = crate::blocking::run(move || Ok(store.apply_extraction(&write)?)).await?;
        Ok(match applied {
            Applied::Written(outcomes) => {
                if added {
                    // New and changed facts need vectors: wake the embedding worker (an
                    // update changes an older memory, so its next pass looks everywhere).
                    self.pipeline.memories().semantic().notify_changed();
                }
                tracing::info!(target: "pipeline", job = %job_id, memory = %memory_id, writes = outcomes.len(), "extraction applied");
                Tick::Applied {
                    job_id,
                    memory_id,
                    outcomes,
                }
            }
            Applied::Stale => {
                tracing::warn!(target: "pipeline", job = %job_id, "extraction result discarded: the job is no longer held by this attempt");
                Tick::Stale { job_id }
            }
        })
    }

    async fn skip(&self, job: &LeasedJob, reason: &str) -> Result<Tick> {
        let store = self.pipeline.store().clone();
        let (id, result) = (job.id.clone(), json!({ "skipped": reason }).to_string());
        let now = signet_model::time::format_iso(self.pipeline.llm().now());
        crate::blocking::run(move || Ok(store.complete_job(&id, Some(&result), &now)?)).await?;
        Ok(Tick::Skipped {
            job_id: job.id.clone(),
            reason: reason.to_owned(),
        })
    }

    async fn release(&self, job: &LeasedJob, reason: String) -> Result<Tick> {
        let store = self.pipeline.store().clone();
        let (id, attempt) = (job.id.clone(), job.attempts);
        let now = signet_model::time::format_iso(self.pipeline.llm().now());
        crate::blocking::run(move || Ok(store.release_job(&id, attempt, &now)?)).await?;
        self.pipeline.set_budget(Some(reason.clone()));
        Ok(Tick::Released {
            job_id: job.id.clone(),
            reason,
        })
    }

    async fn fail(&self, job: &LeasedJob, memory_id: &str, error: String) -> Result<Tick> {
        let store = self.pipeline.store().clone();
        let (id, msg) = (job.id.clone(), error.clone());
        let now = signet_model::time::format_iso(self.pipeline.llm().now());
        let failed =
            crate::blocking::run(move || Ok(store.fail_extraction(&id, &msg, &now)?)).await?;
        let dead = failed == FailedJob::Dead;
        tracing::warn!(target: "pipeline", job = %job.id, memory = %memory_id, dead, error = %error, "extraction attempt failed");
        Ok(Tick::Failed {
            job_id: job.id.clone(),
            error,
            dead,
        })
    }

    fn record_error(&self, stage: Stage, code: &str, message: &str, memory_id: &str) {
        let mut e = ErrorEntry::now(stage, code, message);
        e.memory_id = Some(memory_id.to_owned()).filter(|m| !m.is_empty());
        self.pipeline.analytics().record_error(e);
    }

    /// Ticks until cancelled: at once while there is work, every `worker.pollMs` when idle,
    /// backing off `min(1 s × 2^failures, 30 s)` after failed attempts.
    pub async fn run(self, cancel: CancellationToken) {
        self.pipeline.set_running(Worker::Extraction, true);
        let mut failures: u32 = 0;
        loop {
            let tick = tokio::select! {
                _ = cancel.cancelled() => break,
                t = self.tick() => t,
            };
            let wait = match &tick {
                Tick::Applied { .. } | Tick::Skipped { .. } | Tick::Stale { .. } => {
                    failures = failures.saturating_sub(1);
                    Duration::ZERO
                }
                Tick::Failed { .. } => {
                    failures = failures.saturating_add(1).min(16);
                    Duration::from_millis((1000u64 << failures.min(5)).min(30_000))
                }
                Tick::Idle(_) | Tick::Released { .. } => {
                    Duration::from_millis(self.pipeline.settings().worker.poll_ms)
                }
            };
            if wait.is_zero() {
                continue;
            }
            tokio::select! {
                _ = cancel.cancelled() => break,
                _ = tokio::time::sleep(wait) => {}
            }
        }
        self.pipeline.set_running(Worker::Extraction, false);
    }
}

/// A relation of the extraction as the store's graph triple.
fn triple(e: &Entity) -> GraphTriple {
    GraphTriple {
        source: e.source.clone(),
        source_type: e.source_type.clone(),
        relationship: e.relationship.clone(),
        target: e.target.clone(),
        target_type: e.target_type.clone(),
        confidence: e.confidence,
    }
}

/// Turns decisions into planned writes for the mode in force, and counts them.
struct Planner<'a> {
    source: &'a ExtractSource,
    mode: Mode,
    settings: &'a PipelineSettings,
    model: &'a str,
    now: String,
    fact_count: usize,
    entity_count: usize,
    writes: Vec<PlannedWrite>,
    proposals: Vec<Value>,
    stats: Value,
}

impl<'a> Planner<'a> {
    fn new(
        source: &'a ExtractSource,
        x: &Extraction,
        mode: Mode,
        settings: &'a PipelineSettings,
        model: &'a str,
        now: String,
    ) -> Self {
        Self {
            source,
            mode,
            settings,
            model,
            now,
            fact_count: x.facts.len(),
            entity_count: x.entities.len(),
            writes: Vec::new(),
            proposals: Vec::new(),
            stats: json!({
                "added": 0, "updated": 0, "deleted": 0, "deduped": 0,
                "skippedLowConfidence": 0, "blockedDestructive": 0, "reviewNeeded": 0,
                "embeddingsAdded": 0, "writtenFacts": 0, "dedupedFacts": 0,
            }),
        }
    }

    fn bump(&mut self, key: &str) {
        if let Some(n) = self.stats.get_mut(key).and_then(|v| v.as_i64()) {
            self.stats[key] = json!(n + 1);
        }
    }

    fn meta(&self, fact: &Fact, d: &Decision, candidates: &[Candidate]) -> Value {
        let target = d.action.target();
        json!({
            "proposedAction": d.action.name(),
            "targetMemoryId": target,
            "targetContent": target.and_then(|t| candidates.iter().find(|c| c.id == t)).map(|c| c.content.clone()),
            "confidence": d.confidence,
            "decisionConfidence": d.confidence,
            "factConfidence": fact.confidence,
            "fact": fact.content,
            "factType": fact.fact_type,
            "extractionModel": self.model,
            "factCount": self.fact_count,
            "entityCount": self.entity_count,
            "sourceMemoryId": self.source.memory_id,
        })
    }

    fn audit(&mut self, reason: &str, mut meta: Value, extra: Value) {
        if let (Some(m), Some(e)) = (meta.as_object_mut(), extra.as_object()) {
            m.extend(e.clone());
        }
        self.writes.push(PlannedWrite::Audit {
            reason: reason.to_owned(),
            metadata: meta,
        });
    }

    fn plan(&mut self, fact: &Fact, d: &Decision, candidates: &[Candidate], blocked: bool) {
        let meta = self.meta(fact, d, candidates);
        self.proposals.push(json!({
            "action": d.action.name(),
            "targetId": d.action.target(),
            "confidence": d.confidence,
            "reason": d.reason,
            "fact": fact.content,
        }));
        if self.mode != Mode::ControlledWrite {
            let extra = json!({"shadow": true, "createdMemoryId": null});
            return self.audit(&d.reason, meta, extra);
        }
        let min = self.settings.extraction.min_confidence;
        let destructive = matches!(d.action, Action::Update { .. } | Action::Delete { .. });
        if destructive && !self.settings.allow_update_delete {
            self.bump("blockedDestructive");
            let risk = d
                .action
                .target()
                .and_then(|t| candidates.iter().find(|c| c.id == t))
                .is_some_and(|c| decision::syntactic_contradiction(&fact.content, &c.content));
            let extra = json!({"blockedReason": "destructive_mutations_disabled", "contradictionRisk": risk});
            return self.audit(&d.reason, meta, extra);
        }
        match &d.action {
            Action::None => self.audit(&d.reason, meta, json!({})),
            Action::Add | Action::Update { .. } if fact.confidence < min => {
                self.bump("skippedLowConfidence");
                self.audit(
                    &d.reason,
                    meta,
                    json!({"skippedReason": "low_fact_confidence"}),
                );
            }
            Action::Update { .. } if blocked => {
                self.bump("reviewNeeded");
                let extra =
                    json!({"blockedReason": "semantic_contradiction", "reviewNeeded": true});
                self.audit(&d.reason, meta, extra);
            }
            Action::Add => match self.new_memory(fact) {
                Some(memory) => {
                    self.bump("added");
                    self.bump("writtenFacts");
                    self.writes.push(PlannedWrite::Add {
                        memory,
                        reason: d.reason.clone(),
                        metadata: meta,
                    });
                }
                None => self.audit(
                    &d.reason,
                    meta,
                    json!({"skippedReason": "empty_fact_content"}),
                ),
            },
            Action::Update { target, content } => {
                let text = if content.trim().is_empty() {
                    &fact.content
                } else {
                    content
                };
                match crate::text::normalize(text) {
                    Some(n) => {
                        self.bump("updated");
                        self.writes.push(PlannedWrite::Update {
                            target_id: target.clone(),
                            content: n.storage,
                            normalized_content: n.normalized,
                            content_hash: n.hash,
                            reason: d.reason.clone(),
                            metadata: meta,
                        });
                    }
                    None => self.audit(
                        &d.reason,
                        meta,
                        json!({"skippedReason": "empty_fact_content"}),
                    ),
                }
            }
            Action::Delete { target } => {
                self.bump("deleted");
                self.writes.push(PlannedWrite::Delete {
                    target_id: target.clone(),
                    reason: d.reason.clone(),
                    metadata: meta,
                });
            }
        }
    }

    /// The memory an `add` inserts (upstream's columns for an extracted fact).
    fn new_memory(&self, fact: &Fact) -> Option<NewMemory> {
        let n = crate::text::normalize(&fact.content)?;
        Some(NewMemory {
            id: uuid::Uuid::new_v4().to_string(),
            content: n.storage,
            normalized_content: n.normalized,
            content_hash: n.hash,
            memory_type: fact.fact_type.clone(),
            tags: None,
            who: "pipeline-v2".into(),
            why: "extracted-fact".into(),
            project: self.source.project.clone(),
            importance: fact.confidence.clamp(0.0, 1.0),
            pinned: false,
            source_type: "pipeline-v2".into(),
            source_id: Some(self.source.memory_id.clone()),
            extraction_status: "completed".into(),
            created_at: self.now.clone(),
            scope_user: self.source.scope_user.clone(),
        })
    }
}
