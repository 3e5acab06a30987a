//! The summary worker (upstream-facts §8.6): one queued session transcript per
//! [`SummaryWorker::tick`] becomes a `session_summary` memory, the session's depth-0
//! `session_summaries` row, a markdown note under `memory/`, and the durable facts of the
//! session — written in one transaction with the job's completion, by the attempt that holds
//! it.

use std::collections::HashSet;
use std::time::Duration;

use serde_json::{Value, json};
use signet_model::documents::FailedJob;
use signet_model::memories::{Actor, NewMemory, RecallFilters, RowKey};
use signet_model::pipeline::{LeasedSummary, SessionSummaryRow, Summarised, SummaryWrite};
use tokio_util::sync::CancellationToken;

use super::extraction::MEMORY_TYPES;
use super::json::recover;
use super::ledger::CallError;
use super::service::{Mode, Pipeline, Worker};
use crate::config::PipelineSettings;
use crate::error::Result;
use crate::llm::LlmRequest;

/// Transcripts longer than this are summarised in pieces of this size.
pub const CHUNK_CHARS: usize = 20_000;
/// At most this many facts per session.
pub const MAX_FACTS: usize = 15;
/// A fact is a near-duplicate when this share of its words (3+ chars) appear in one of the
/// top keyword matches.
pub const DUPLICATE_WORD_SHARE: f64 = 0.7;
/// Poll interval when idle, and after a failure.
pub const POLL: Duration = Duration::from_secs(5);
pub const AFTER_FAILURE: Duration = Duration::from_secs(15);

/// One fact of a session.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionFact {
    pub content: String,
    pub importance: f64,
    pub tags: Option<String>,
    pub fact_type: String,
}

/// What the model made of a transcript.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SessionNotes {
    pub summary: String,
    pub facts: Vec<SessionFact>,
}

/// The librarian prompt for one piece of a transcript.
pub fn build_prompt(transcript: &str, date: &str, part: Option<(usize, usize)>) -> String {
    let piece = match part {
        Some((i, n)) => format!(" (part {i} of {n})"),
        None => String::new(),
    };
    format!(
        "You are a session librarian. Read this coding-agent session transcript{piece} and \
         write notes a future session can use.\n\n\
         Return ONLY a JSON object:\n\
         {{\"summary\": \"# {date} Session Notes\\n\\n<markdown: what was worked on, decisions \
         and their reasons, open threads>\", \"facts\": [{{\"content\": \"<one durable, \
         self-contained fact>\", \"importance\": 0.3-0.5, \"tags\": \"comma,separated\", \
         \"type\": \"fact|preference|decision|rationale|procedural|semantic\"}}]}}\n\n\
         At most {MAX_FACTS} facts. Only facts that stay true after this session: preferences, \
         decisions, project conventions, how things work. No chit-chat, no transient state.\n\n\
         Transcript:\n{transcript}"
    )
}

/// The JSON schema of the answer.
pub fn schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "summary": {"type": "string"},
            "facts": {"type": "array", "items": {
                "type": "object",
                "properties": {
                    "content": {"type": "string"},
                    "importance": {"type": "number"},
                    "tags": {"type": "string"},
                    "type": {"type": "string"}
                },
                "required": ["content"]
            }}
        },
        "required": ["summary", "facts"]
    })
}

/// Reads an answer tolerantly (think blocks, fences, prose around the object, trailing
/// commas); `None` when there is no object with a summary or facts in it.
pub fn parse(raw: &str) -> Option<SessionNotes> {
    let v = recover(raw)?;
    let summary = v
        .get("summary")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .trim()
        .to_owned();
    let facts: Vec<SessionFact> = v
        .get("facts")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(fact).take(MAX_FACTS).collect())
        .unwrap_or_default();
    if summary.is_empty() && facts.is_empty() {
        return None;
    }
    Some(SessionNotes { summary, facts })
}

fn fact(v: &Value) -> Option<SessionFact> {
    let content = v.get("content")?.as_str()?.trim();
    if content.chars().count() < super::extraction::MIN_FACT_CHARS {
        return None;
    }
    let fact_type = v
        .get("type")
        .and_then(Value::as_str)
        .filter(|t| MEMORY_TYPES.contains(t))
        .unwrap_or("fact");
    let tags = match v.get("tags") {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Array(a)) => Some(
            a.iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(","),
        ),
        _ => None,
    };
    Some(SessionFact {
        content: content.chars().take(2_000).collect(),
        importance: v
            .get("importance")
            .and_then(Value::as_f64)
            .unwrap_or(0.4)
            .clamp(0.3, 0.5),
        tags: crate::text::clean_tags(tags.as_deref().unwrap_or("").split(','), true),
        fact_type: fact_type.to_owned(),
    })
}

/// Splits a transcript into pieces of at most [`CHUNK_CHARS`] characters, on line breaks
/// where it can.
pub fn pieces(transcript: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for line in transcript.lines() {
        if !cur.is_empty() && cur.chars().count() + line.chars().count() + 1 > CHUNK_CHARS {
            out.push(std::mem::take(&mut cur));
        }
        if line.chars().count() > CHUNK_CHARS {
            let chars: Vec<char> = line.chars().collect();
            for c in chars.chunks(CHUNK_CHARS) {
                out.push(c.iter().collect());
            }
            continue;
        }
        if !cur.is_empty() {
            cur.push('\n');
        }
        cur.push_str(line);
    }
    if !cur.trim().is_empty() {
        out.push(cur);
    }
    out
}

/// Words of 3+ characters, lowercased.
fn words(s: &str) -> HashSet<String> {
    s.split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.chars().count() >= 3)
        .map(str::to_lowercase)
        .collect()
}

/// Whether `existing` holds at least [`DUPLICATE_WORD_SHARE`] of the fact's words.
pub fn near_duplicate(fact: &str, existing: &str) -> bool {
    let f = words(fact);
    if f.is_empty() {
        return false;
    }
    let e = words(existing);
    let shared = f.iter().filter(|w| e.contains(*w)).count();
    shared as f64 / f.len() as f64 >= DUPLICATE_WORD_SHARE
}

/// What one tick did.
#[derive(Debug, Clone, PartialEq)]
pub enum Tick {
    Idle(Option<String>),
    /// The session was summarised: the memories written.
    Summarised {
        job_id: String,
        memories: Vec<String>,
    },
    Released {
        job_id: String,
        reason: String,
    },
    Failed {
        job_id: String,
        error: String,
        dead: bool,
    },
    Stale {
        job_id: String,
    },
}

/// The background summariser. One per daemon.
pub struct SummaryWorker {
    pipeline: Pipeline,
}

impl SummaryWorker {
    pub fn new(pipeline: Pipeline) -> Self {
        Self { pipeline }
    }

    pub async fn tick(&self) -> Tick {
        match self.try_tick().await {
            Ok(t) => t,
            Err(e) => {
                tracing::warn!(target: "summary-worker", error = %e, "summary tick failed");
                Tick::Idle(Some(e.to_string()))
            }
        }
    }

    async fn try_tick(&self) -> Result<Tick> {
        let p = self.pipeline.settings();
        let mode = Mode::of(&p);
        if mode == Mode::Shadow || mode == Mode::Frozen {
            return Ok(Tick::Idle(Some(format!(
                "session summaries wait while the pipeline is in {} mode",
                mode.as_str()
            ))));
        }
        if let Some(reason) = self.pipeline.blocked(&p).await {
            return Ok(Tick::Idle(Some(reason)));
        }
        let store = self.pipeline.store().clone();
        let now = signet_model::time::format_iso(self.pipeline.llm().now());
        let job = crate::blocking::run(move || Ok(store.lease_summary(&now)?)).await?;
        let Some(job) = job else {
            return Ok(Tick::Idle(None));
        };
        match self.summarise(&job, &p).await {
            Ok(notes) => self.write(&job, notes).await,
            Err(CallError::Budget(reason)) => self.release(&job, reason).await,
            Err(e) => self.fail(&job, e.to_string()).await,
        }
    }

    /// The model's notes over every piece of the transcript: the summaries joined, the facts
    /// pooled (at most [`MAX_FACTS`]).
    async fn summarise(
        &self,
        job: &LeasedSummary,
        p: &PipelineSettings,
    ) -> std::result::Result<SessionNotes, CallError> {
        let date = job.created_at.get(..10).unwrap_or("").to_owned();
        let parts = pieces(&job.transcript);
        let n = parts.len();
        let mut notes = SessionNotes::default();
        for (i, piece) in parts.iter().enumerate() {
            let part = (n > 1).then_some((i + 1, n));
            let req = LlmRequest::new(build_prompt(piece, &date, part))
                .with_schema(schema())
                .with_max_tokens(8_000)
                .with_timeout(Duration::from_millis(p.extraction.timeout_ms.max(120_000)));
            let answer = self
                .pipeline
                .llm()
                .call(&req, "summary", Some(&job.id), &p.budget)
                .await?;
            let Some(part_notes) = parse(&answer.text) else {
                return Err(CallError::Llm(crate::llm::LlmError::Malformed {
                    provider: self.pipeline.llm().name().to_owned(),
                    message: "the summary answer has no JSON object with a summary".into(),
                }));
            };
            if !part_notes.summary.is_empty() {
                if !notes.summary.is_empty() {
                    notes.summary.push_str("\n\n");
                }
                notes.summary.push_str(&part_notes.summary);
            }
            notes.facts.extend(part_notes.facts);
        }
        notes.facts.truncate(MAX_FACTS);
        Ok(notes)
    }

    async fn write(&self, job: &LeasedSummary, notes: SessionNotes) -> Result<Tick> {
        let now = signet_model::time::format_iso(self.pipeline.llm().now());
        let facts = self.novel_facts(notes.facts).await?;
        let source_id = job.session_key.clone().unwrap_or_else(|| job.id.clone());
        let memory = |content: &str, kind: &str, importance: f64, tags: Option<String>| {
            crate::text::normalize(content).map(|n| NewMemory {
                id: uuid::Uuid::new_v4().to_string(),
                content: n.storage,
                normalized_content: n.normalized,
                content_hash: n.hash,
                memory_type: kind.to_owned(),
                tags,
                who: job.harness.clone(),
                why: "session-summary".into(),
                project: job.project.clone(),
                importance,
                pinned: false,
                source_type: "session-summary".into(),
                source_id: Some(source_id.clone()),
                extraction_status: "none".into(),
                created_at: now.clone(),
                scope_user: None,
            })
        };
        let mut memories = Vec::with_capacity(facts.len() + 1);
        memories.extend(memory(&notes.summary, "session_summary", 0.5, None));
        memories.extend(
            facts
                .iter()
                .filter_map(|f| memory(&f.content, &f.fact_type, f.importance, f.tags.clone())),
        );
        self.write_note(job, &notes.summary);
        let session = job.session_key.clone().map(|key| SessionSummaryRow {
            id: uuid::Uuid::new_v4().to_string(),
            session_key: key,
            project: job.project.clone(),
            harness: job.harness.clone(),
            content: notes.summary.clone(),
            earliest_at: job.created_at.clone(),
            latest_at: now.clone(),
        });
        let write = SummaryWrite {
            job_id: job.id.clone(),
            attempt: job.attempts,
            memories,
            session,
            result: "ok".into(),
            actor: Actor {
                changed_by: "summary-worker".into(),
                actor_type: Some("pipeline".into()),
                session_id: job.session_key.clone(),
                request_id: None,
            },
            now,
        };
        let store = self.pipeline.store().clone();
        let done = crate::blocking::run(move || Ok(store.apply_summary(&write)?)).await?;
        Ok(match done {
            Summarised::Written(ids) => {
                if !ids.is_empty() {
                    self.pipeline.memories().semantic().notify();
                }
                tracing::info!(target: "summary-worker", job = %job.id, memories = ids.len(), "session summarised");
                Tick::Summarised {
                    job_id: job.id.clone(),
                    memories: ids,
                }
            }
            Summarised::Stale => Tick::Stale {
                job_id: job.id.clone(),
            },
        })
    }

    /// The facts no top keyword match already holds (upstream's near-duplicate rule).
    async fn novel_facts(&self, facts: Vec<SessionFact>) -> Result<Vec<SessionFact>> {
        let store = self.pipeline.memories().store().clone();
        crate::blocking::run(move || {
            let mut out = Vec::with_capacity(facts.len());
            for f in facts {
                let dup = match crate::text::keyword_query_any(&f.content) {
                    Some(q) => {
                        let keys: Vec<RowKey> = store
                            .keyword_search(&q, &RecallFilters::default(), 10)?
                            .into_iter()
                            .map(|hit| RowKey {
                                id: hit.id,
                                position: hit.position,
                            })
                            .collect();
                        store
                            .recall_rows(&keys)?
                            .iter()
                            .any(|row| near_duplicate(&f.content, &row.content))
                    }
                    None => false,
                };
                if !dup {
                    out.push(f);
                }
            }
            Ok(out)
        })
        .await
    }

    /// `memory/<date>-session-<job>.md` in the workspace (named by the job, so a retried job
    /// rewrites its own note). A failure is logged: the database holds the summary anyway.
    fn write_note(&self, job: &LeasedSummary, summary: &str) {
        if summary.trim().is_empty() {
            return;
        }
        let date = job.created_at.get(..10).unwrap_or("undated");
        let short: String = job
            .id
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .take(8)
            .collect();
        let dir = self.pipeline.workspace().join("memory");
        let path = dir.join(format!("{date}-session-{short}.md"));
        let res = std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&path, summary));
        if let Err(e) = res {
            tracing::warn!(target: "summary-worker", path = %path.display(), error = %e, "could not write the session note");
        }
    }

    async fn release(&self, job: &LeasedSummary, reason: String) -> Result<Tick> {
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

    async fn fail(&self, job: &LeasedSummary, error: String) -> Result<Tick> {
        let store = self.pipeline.store().clone();
        let (id, msg) = (job.id.clone(), error.clone());
        let now = signet_model::time::format_iso(self.pipeline.llm().now());
        let failed = crate::blocking::run(move || Ok(store.fail_summary(&id, &msg, &now)?)).await?;
        let dead = failed == FailedJob::Dead;
        tracing::warn!(target: "summary-worker", job = %job.id, dead, error = %error, "summary attempt failed");
        Ok(Tick::Failed {
            job_id: job.id.clone(),
            error,
            dead,
        })
    }

    /// Ticks until cancelled: at once while there is work, every 5 s when idle, 15 s after a
    /// failure.
    pub async fn run(self, cancel: CancellationToken) {
        self.pipeline.set_running(Worker::Summary, true);
        loop {
            let tick = tokio::select! {
                _ = cancel.cancelled() => break,
                t = self.tick() => t,
            };
            let wait = match tick {
                Tick::Summarised { .. } | Tick::Stale { .. } => continue,
                Tick::Failed { .. } => AFTER_FAILURE,
                Tick::Idle(_) | Tick::Released { .. } => POLL,
            };
            tokio::select! {
                _ = cancel.cancelled() => break,
                _ = tokio::time::sleep(wait) => {}
            }
        }
        self.pipeline.set_running(Worker::Summary, false);
    }
}
