//! Session start, pre-compaction, compaction complete and session end.

use chrono::{DateTime, Utc};
use signet_api::{
    CompactionCompleteResponse, HookIdentity, HookMemory, PreCompactionResponse,
    SessionEndResponse, SessionStartResponse,
};
use signet_model::memories::{Actor, RecallRow, RowKey};
use signet_model::sessions::{CheckpointQuery, SummaryJob};

use super::inject::{self, SessionStartText};
use super::input::{
    CompactionCompleteInput, HookCall, PreCompactionInput, SessionEndInput, SessionStartInput,
};
use super::{Hooks, given, transcript};
use crate::auth::Scope;
use crate::config::{SessionStartHook, Settings};
use crate::error::{CoreError, Result};
use crate::memory::{RememberInput, scope_filter};

/// A checkpoint of the same project is recovered within this long of its writing.
const RECOVERY_WINDOW: chrono::Duration = chrono::Duration::hours(4);

/// Upstream's built-in pre-compaction guidelines.
pub const DEFAULT_GUIDELINES: &str = "Before the context is compacted, store what should \
outlive it as memories:\n\
- Decisions made, and why\n\
- Important information learned (facts, paths, commands, names)\n\
- Preferences the user expressed\n\
- Open threads and unfinished work\n\
- Errors hit and how they were resolved\n\
Write each memory in the first person, one durable fact per memory.";

fn start_stub(bypassed: Option<bool>) -> SessionStartResponse {
    SessionStartResponse {
        identity: None,
        memories: Vec::new(),
        recent_context: None,
        inject: String::new(),
        bypassed,
        session_token: None,
        session_token_expires_at: None,
        extra: Default::default(),
    }
}

fn end_answer(job_id: Option<String>, bypassed: Option<bool>) -> SessionEndResponse {
    SessionEndResponse {
        memories_saved: 0,
        queued: job_id.as_ref().map(|_| true),
        job_id,
        bypassed,
        extra: Default::default(),
    }
}

/// A session-start candidate and its score.
struct Candidate {
    row: RecallRow,
    score: f64,
}

/// `pinned ? 1 : importance × 0.95^ageDays`.
fn effective_score(row: &RecallRow, now: DateTime<Utc>) -> f64 {
    if row.pinned {
        return 1.0;
    }
    row.importance * 0.95f64.powf(age_days(&row.created_at, now))
}

fn age_days(created_at: &str, now: DateTime<Utc>) -> f64 {
    signet_model::time::parse(created_at).map_or(0.0, |t| {
        (now - t).num_milliseconds().max(0) as f64 / 86_400_000.0
    })
}

/// The workspace files session start injects (identity files only with `includeIdentity`).
#[derive(Default)]
struct Files {
    agents: Option<String>,
    soul: Option<String>,
    identity: Option<String>,
    user: Option<String>,
    memory: Option<String>,
}

impl Hooks {
    /// `POST /api/hooks/session-start`.
    pub async fn session_start(
        &self,
        req: SessionStartInput,
        scope: &Scope,
        cfg: &Settings,
        now: DateTime<Utc>,
    ) -> Result<SessionStartResponse> {
        if let Some(stub) = self.start_without_workspace(&req.call, now)? {
            return Ok(stub);
        }
        let hooks = &cfg.hooks.session_start;
        let files = self.read_files(hooks.include_identity).await?;
        let (name, description) = inject::identity(&cfg.agent, files.identity.as_deref());
        let pool = self
            .start_pool(hooks, req.project.as_deref(), scope, now)
            .await?;
        let contents = pool.iter().map(|c| c.row.content.as_str());
        let chosen = inject::within_budget(contents, inject::SESSION_START_BUDGET, usize::MAX);
        let lines: Vec<String> = pool[..chosen]
            .iter()
            .map(|c| inject::memory_line(&c.row.content, c.row.tags.as_deref(), &c.row.created_at))
            .collect();
        let recovery = self.recovery(&req, scope, now).await;
        let text = inject::session_start(&SessionStartText {
            date: &self.date(now),
            name: &name,
            description: description.as_deref(),
            agents: files.agents.as_deref(),
            soul: files.soul.as_deref(),
            identity: files.identity.as_deref(),
            user: files.user.as_deref(),
            memory_md: files.memory.as_deref(),
            memories: &lines,
            recovery: recovery.as_deref(),
            recovery_budget: cfg.pipeline.recovery_budget_chars,
            include_identity: hooks.include_identity,
            max_chars: hooks.max_inject_chars,
        });
        self.record_start(req.call.session_key.as_deref(), &pool, chosen, now)
            .await;
        Ok(SessionStartResponse {
            identity: Some(HookIdentity { name, description }),
            memories: pool[..chosen].iter().map(hook_memory).collect(),
            recent_context: files.memory,
            inject: text,
            ..start_stub(None)
        })
    }

    /// Session start's answer when it reads no workspace: the empty stub of an internal call
    /// or a bypassed session, the short one of a repeated start. The session is claimed for
    /// its runtime path first (another path's live claim refuses, 409).
    fn start_without_workspace(
        &self,
        call: &HookCall,
        now: DateTime<Utc>,
    ) -> Result<Option<SessionStartResponse>> {
        if call.skip {
            return Ok(Some(start_stub(None)));
        }
        self.sessions.seen(&call.harness, now);
        self.sweep_claims(now);
        if let (Some(key), Some(path)) = (&call.session_key, call.runtime_path) {
            self.sessions
                .claim(key, path, now)
                .map_err(|c| CoreError::Conflict(c.to_string()))?;
        }
        if self.bypassed(call, now) {
            return Ok(Some(start_stub(Some(true))));
        }
        if let Some(key) = &call.session_key
            && self.with_memo(key, now, |m| std::mem::replace(&mut m.started, true))
        {
            return Ok(Some(SessionStartResponse {
                identity: Some(HookIdentity {
                    name: "Agent".into(),
                    description: None,
                }),
                inject: inject::repeated_session_start(&self.date(now)),
                ..start_stub(None)
            }));
        }
        Ok(None)
    }

    /// Session start's candidates: pinned memories and those scoring above 0.2 among the
    /// newest `recallLimit × 3`, the project's first, then best first, at most
    /// `candidatePoolLimit`.
    async fn start_pool(
        &self,
        hooks: &SessionStartHook,
        project: Option<&str>,
        scope: &Scope,
        now: DateTime<Utc>,
    ) -> Result<Vec<Candidate>> {
        let mut pool = self.candidates(hooks.recall_limit * 3, scope, now).await?;
        pool.retain(|c| c.row.pinned || c.score > 0.2);
        pool.sort_by(|a, b| {
            let here = |c: &Candidate| project.is_some() && c.row.project.as_deref() == project;
            here(b).cmp(&here(a)).then(b.score.total_cmp(&a.score))
        });
        pool.truncate(hooks.candidate_pool_limit);
        Ok(pool)
    }

    /// Counts an access of what session start injected (the first `chosen` of the pool) and,
    /// with a session key, records the whole pool in `session_memories`.
    async fn record_start(
        &self,
        key: Option<&str>,
        pool: &[Candidate],
        chosen: usize,
        now: DateTime<Utc>,
    ) {
        let injected = pool[..chosen].iter().map(|c| c.row.id.clone()).collect();
        self.touch(injected, now).await;
        let Some(key) = key else {
            return;
        };
        let at = signet_model::time::format_iso(now);
        let rows = pool
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let scores = (Some(c.score), c.score);
                given(key, &c.row.id, "effective", scores, i, i < chosen, &at)
            })
            .collect();
        self.record_given(rows).await;
    }

    async fn read_files(&self, include_identity: bool) -> Result<Files> {
        let dir = self.workspace.clone();
        crate::blocking::run(move || {
            let read = |f| inject::read_file(&dir, f);
            let mut files = Files {
                memory: read(inject::MEMORY_MD),
                ..Files::default()
            };
            if include_identity {
                files.agents = read(inject::AGENTS_MD);
                files.soul = read(inject::SOUL_MD);
                files.identity = read(inject::IDENTITY_MD);
                files.user = read(inject::USER_MD);
            }
            Ok(files)
        })
        .await
    }

    /// The newest `limit` live memories inside `scope`, scored.
    async fn candidates(
        &self,
        limit: usize,
        scope: &Scope,
        now: DateTime<Utc>,
    ) -> Result<Vec<Candidate>> {
        let store = self.memories.store().clone();
        let filter = scope_filter(scope);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = crate::blocking::run(move || {
            let (listed, _) = store.list(limit, 0, &filter, None)?;
            let keys: Vec<RowKey> = listed.into_iter().map(|m| m.id.into()).collect();
            Ok(store.recall_rows(&keys)?)
        })
        .await?;
        Ok(rows
            .into_iter()
            .map(|row| Candidate {
                score: effective_score(&row, now),
                row,
            })
            .collect())
    }

    /// The digest of this session's latest checkpoint, else of the project's latest within
    /// four hours. Unscoped callers only (a digest is not filtered by scope).
    async fn recovery(
        &self,
        req: &SessionStartInput,
        scope: &Scope,
        now: DateTime<Utc>,
    ) -> Option<String> {
        if !scope.is_empty() {
            return None;
        }
        let store = self.memories.store().clone();
        let key = req.call.session_key.clone();
        let project = req.project.clone();
        let found = crate::blocking::run(move || {
            if let Some(session_key) = key {
                let q = CheckpointQuery::Session {
                    session_key,
                    limit: 1,
                };
                if let Some(c) = store.checkpoints(&q)?.into_iter().next() {
                    return Ok(Some(c));
                }
            }
            let Some(project) = project else {
                return Ok(None);
            };
            let q = CheckpointQuery::Project { project, limit: 1 };
            Ok(store.checkpoints(&q)?.into_iter().next().filter(|c| {
                signet_model::time::parse(&c.created_at).is_some_and(|t| now - t < RECOVERY_WINDOW)
            }))
        })
        .await;
        match found {
            Ok(c) => c.map(|c| super::redact(&c.digest)),
            Err(e) => {
                tracing::warn!(target: "hooks", error = %e, "checkpoints not read");
                None
            }
        }
    }

    /// `POST /api/hooks/pre-compaction`.
    pub async fn pre_compaction(
        &self,
        req: PreCompactionInput,
        scope: &Scope,
        cfg: &Settings,
        now: DateTime<Utc>,
    ) -> Result<PreCompactionResponse> {
        self.check_claim(&req.call, now)?;
        let answer = |summary_prompt: String, guidelines: String, bypassed| PreCompactionResponse {
            summary_prompt,
            guidelines,
            bypassed,
            extra: Default::default(),
        };
        if self.bypassed(&req.call, now) {
            return Ok(answer(String::new(), String::new(), Some(true)));
        }
        let pre = &cfg.hooks.pre_compaction;
        let guidelines = pre
            .summary_guidelines
            .clone()
            .unwrap_or_else(|| DEFAULT_GUIDELINES.to_owned());
        let mut prompt =
            format!("Pre-compaction memory flush. Store durable memories now.\n\n{guidelines}\n\n");
        if pre.include_recent_memories && pre.memory_limit > 0 {
            let mut recent = self.candidates(200, scope, now).await?;
            let rank = |c: &Candidate| {
                c.row.importance * 0.1 + 1.0 / (1.0 + age_days(&c.row.created_at, now)) * 0.9
            };
            recent.sort_by(|a, b| rank(b).total_cmp(&rank(a)));
            recent.truncate(pre.memory_limit);
            if !recent.is_empty() {
                prompt.push_str("\nRecent memories for reference:\n");
                let lines: Vec<String> = recent
                    .iter()
                    .map(|c| format!("- {}", c.row.content))
                    .collect();
                prompt.push_str(&lines.join("\n"));
            }
        }
        Ok(answer(prompt, guidelines, None))
    }

    /// `POST /api/hooks/compaction-complete`: the summary becomes a `session_summary` memory.
    pub async fn compaction_complete(
        &self,
        req: CompactionCompleteInput,
        actor: Actor,
        scope: &Scope,
        now: DateTime<Utc>,
    ) -> Result<CompactionCompleteResponse> {
        self.check_claim(&req.call, now)?;
        let answer = |memory_id, bypassed| CompactionCompleteResponse {
            success: true,
            memory_id,
            bypassed,
            extra: Default::default(),
        };
        if self.bypassed(&req.call, now) {
            return Ok(answer(None, Some(true)));
        }
        let harness = req.call.harness.clone();
        let actor = super::hook_actor(actor, &harness);
        let input = RememberInput {
            content: req.summary,
            who: Some(scope.agent.clone().unwrap_or_else(|| "system".into())),
            importance: Some(0.8),
            tags: Some(Some(format!("session,summary,{harness}"))),
            pinned: Some(false),
            memory_type: Some("session_summary".into()),
            source_type: Some(harness),
            whole: true,
            ..RememberInput::default()
        };
        let stored = self.memories.remember(input, actor, scope).await?;
        if let Some(key) = &req.call.session_key {
            self.with_memo(key, now, |m| m.injected.clear());
        }
        Ok(answer(super::prompt::first_id(&stored), None))
    }

    /// `POST /api/hooks/session-end`: queues the transcript; always ends the session's claim.
    pub async fn session_end(
        &self,
        req: SessionEndInput,
        scope: &Scope,
        now: DateTime<Utc>,
    ) -> Result<SessionEndResponse> {
        if req.call.skip {
            return Ok(end_answer(None, None));
        }
        self.sessions.seen(&req.call.harness, now);
        let out = if self.bypassed(&req.call, now) {
            Ok(end_answer(None, Some(true)))
        } else {
            self.queue_transcript(&req, scope, now).await
        };
        if let Some(key) = &req.call.session_key {
            self.sessions.release(key);
            self.forget_session(key);
        }
        out
    }

    async fn queue_transcript(
        &self,
        req: &SessionEndInput,
        scope: &Scope,
        now: DateTime<Utc>,
    ) -> Result<SessionEndResponse> {
        let Some(path) = req
            .transcript_path
            .clone()
            .filter(|_| req.reason.as_deref() != Some("clear"))
        else {
            return Ok(end_answer(None, None));
        };
        let harness = req.call.harness.clone();
        let text = crate::blocking::run(move || {
            let raw = transcript::read(std::path::Path::new(&path))?;
            Ok(transcript::normalize(&raw, &harness))
        })
        .await?;
        if text.chars().count() < transcript::MIN_TRANSCRIPT_CHARS {
            return Ok(end_answer(None, None));
        }
        // The pipeline off (`enabled: false`, `provider: none`, an unusable provider) queues
        // nothing; the path was still checked.
        if let Some(reason) = self.memories.policy().extraction.off_reason() {
            tracing::debug!(target: "hooks", reason, "session transcript not queued");
            return Ok(end_answer(None, None));
        }
        let job = SummaryJob {
            id: uuid::Uuid::new_v4().to_string(),
            session_key: req.call.session_key.clone(),
            harness: req.call.harness.clone(),
            project: scope.project.clone().or_else(|| req.cwd.clone()),
            transcript: transcript::cap(text),
            created_at: signet_model::time::format_iso(now),
        };
        let store = self.memories.store().clone();
        let id = crate::blocking::run(move || Ok(store.enqueue_summary(&job)?)).await?;
        tracing::info!(target: "hooks", job = %id, "transcript queued for summary");
        Ok(end_answer(Some(id), None))
    }
}

fn hook_memory(c: &Candidate) -> HookMemory {
    HookMemory {
        id: c.row.id.clone(),
        content: c.row.content.clone(),
        type_: c.row.memory_type.clone(),
        importance: c.row.importance,
        created_at: c.row.created_at.clone(),
    }
}
