//! The harness lifecycle hooks (`/api/hooks/*`): what a harness calls at session start, on
//! each prompt, to remember and recall, around a context compaction and at session end.
//!
//! Each hook is one method of [`Hooks`] taking its typed input (upstream's request fields and
//! 400 messages, [`input`]) and answering a `signet_api::hooks` wire type. The rules shared by
//! every hook, in order: `x-signet-no-hooks: 1` ([`HookCall::skip`]) answers the empty stub;
//! a session claimed by the other runtime path is a `Conflict` (409 `session claimed by
//! <path> path`); a bypassed session answers the stub with `bypassed: true`. The stubs are the
//! same types as the full answers, with empty values.
//!
//! Writes go through [`Memories`] like any other remember (dedup, hash, embedding, history,
//! extraction), recalls through the ranked recall, both inside the caller's token scope.
//! Session start and prompts record what they gave each session in `session_memories`;
//! session end queues the transcript in `summary_jobs` for the summary pipeline.
//!
//! State: the session tracker ([`Sessions`], shared with `/api/sessions`) and, per session,
//! whether session start already served it and which memories the last prompts injected —
//! in memory, bounded, forgotten at session end or restart (as upstream).

mod checkpoints;
mod harnesses;
pub mod inject;
pub mod input;
mod lifecycle;
mod prompt;
pub mod query;
mod token;
pub mod transcript;

use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};

use chrono::{DateTime, Utc};
use signet_model::sessions::SessionMemory;

pub use checkpoints::{CheckpointRequest, redact};
pub use input::{
    CompactionCompleteInput, HookCall, HookRecallInput, HookRememberInput, PreCompactionInput,
    SessionEndInput, SessionStartInput, UserPromptInput,
};
pub use token::session_token;

use crate::error::{CoreError, Result};
use crate::memory::Memories;
use crate::sessions::Sessions;

/// Prompts during which a memory a prompt injected is not injected again.
const REPEAT_WINDOW_TURNS: u64 = 5;

/// Most sessions whose hook state is kept (the least recently used is forgotten).
const MAX_TRACKED_SESSIONS: usize = 1_024;

/// What the hooks remember about one session between calls.
#[derive(Debug, Default)]
struct SessionMemo {
    /// Session start served this session (a repeat gets the short stub).
    started: bool,
    /// Prompts seen.
    turn: u64,
    /// `(turn, memory id)` of what the recent prompts injected.
    injected: VecDeque<(u64, String)>,
    last_used: Option<DateTime<Utc>>,
}

/// The hook service. Cheap to clone; clones share the per-session state.
#[derive(Clone)]
pub struct Hooks {
    memories: Memories,
    sessions: Sessions,
    /// The workspace whose AGENTS.md, SOUL.md, IDENTITY.md, USER.md and MEMORY.md are injected.
    workspace: PathBuf,
    /// The IANA zone the date header names (`None`: UTC).
    zone: Option<String>,
    memos: Arc<Mutex<HashMap<String, SessionMemo>>>,
    /// When expired claims were last swept (session start sweeps every [`SWEEP_EVERY`]).
    swept: Arc<Mutex<Option<DateTime<Utc>>>>,
}

/// How often session start drops expired claims (upstream's stale-claim cleanup interval).
const SWEEP_EVERY: chrono::Duration = chrono::Duration::minutes(15);

impl Hooks {
    /// Hooks over `memories`, claiming sessions in `sessions`, reading identity files from
    /// `workspace`, dating in `zone` (see [`inject::zone_name`]).
    pub fn new(
        memories: Memories,
        sessions: Sessions,
        workspace: PathBuf,
        zone: Option<String>,
    ) -> Self {
        Self {
            memories,
            sessions,
            workspace,
            zone,
            memos: Arc::default(),
            swept: Arc::default(),
        }
    }

    /// Drops expired claims when the last sweep is [`SWEEP_EVERY`] old (so claims that were
    /// never released do not pile up).
    fn sweep_claims(&self, now: DateTime<Utc>) {
        let mut last = self.swept.lock().unwrap_or_else(|p| p.into_inner());
        if last.is_none_or(|t| now - t >= SWEEP_EVERY) {
            *last = Some(now);
            drop(last);
            let gone = self.sessions.sweep(now);
            if gone > 0 {
                tracing::debug!(target: "hooks", gone, "expired session claims dropped");
            }
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, SessionMemo>> {
        // Every change is a single map operation, so a poisoned lock is still consistent.
        self.memos.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs `f` on the session's memo (created if new; the oldest is forgotten past the bound).
    fn with_memo<T>(
        &self,
        key: &str,
        now: DateTime<Utc>,
        f: impl FnOnce(&mut SessionMemo) -> T,
    ) -> T {
        let mut memos = self.lock();
        if !memos.contains_key(key) && memos.len() >= MAX_TRACKED_SESSIONS {
            let oldest = memos
                .iter()
                .min_by_key(|(_, m)| m.last_used)
                .map(|(k, _)| k.clone());
            if let Some(k) = oldest {
                memos.remove(&k);
            }
        }
        let memo = memos.entry(key.to_owned()).or_default();
        memo.last_used = Some(now);
        f(memo)
    }

    fn forget_session(&self, key: &str) {
        self.lock().remove(key);
    }

    /// The date line in this daemon's zone.
    fn date(&self, now: DateTime<Utc>) -> String {
        inject::date_line(now, self.zone.as_deref())
    }

    /// The gate of the mid-session hooks (user prompt, remember, recall): `Some(bypassed)`
    /// when the hook answers its stub instead of running, `bypassed` being the stub's field
    /// (`None` for an internal call, `x-signet-no-hooks`; `Some(true)` for a bypassed
    /// session). Another path's live claim refuses (409) before the bypass is looked at.
    fn stub_instead(&self, call: &HookCall, now: DateTime<Utc>) -> Result<Option<Option<bool>>> {
        if call.skip {
            return Ok(Some(None));
        }
        self.check_claim(call, now)?;
        Ok(self.bypassed(call, now).then_some(Some(true)))
    }

    /// The claim rule of mid-session hooks: another path's live claim refuses (409).
    fn check_claim(&self, call: &HookCall, now: DateTime<Utc>) -> Result<()> {
        match (&call.session_key, call.runtime_path) {
            (Some(key), Some(path)) => self
                .sessions
                .check(key, path, now)
                .map_err(|c| CoreError::Conflict(c.to_string())),
            _ => Ok(()),
        }
    }

    /// Whether the call's session is bypassed (the hooks answer stubs).
    fn bypassed(&self, call: &HookCall, now: DateTime<Utc>) -> bool {
        call.session_key
            .as_deref()
            .is_some_and(|k| self.sessions.is_bypassed(k, now))
    }

    /// Records what a hook gave a session (nothing without a session key). A failure is
    /// logged, never the caller's problem: the answer is already decided.
    async fn record_given(&self, rows: Vec<SessionMemory>) {
        if rows.is_empty() {
            return;
        }
        let store = self.memories.store().clone();
        let written = crate::blocking::run(move || Ok(store.record_session_memories(&rows)?)).await;
        if let Err(e) = written {
            tracing::warn!(target: "hooks", error = %e, "session memories not recorded");
        }
    }

    /// Counts an access of each id at `now` (what session start injected).
    async fn touch(&self, ids: Vec<String>, now: DateTime<Utc>) {
        if ids.is_empty() {
            return;
        }
        let store = self.memories.store().clone();
        let now = signet_model::time::format_iso(now);
        let counts: Vec<(String, u32)> = ids.into_iter().map(|id| (id, 1)).collect();
        let done = crate::blocking::run(move || Ok(store.touch_accessed(&counts, &now)?)).await;
        if let Err(e) = done {
            tracing::warn!(target: "hooks", error = %e, "access not recorded");
        }
    }
}

/// The actor of a hook's write: the caller's, named after the harness when no header or
/// token names one.
fn hook_actor(
    mut actor: signet_model::memories::Actor,
    harness: &str,
) -> signet_model::memories::Actor {
    if actor.changed_by.is_empty() {
        actor.changed_by = harness.to_owned();
        actor.actor_type.get_or_insert_with(|| "harness".to_owned());
    }
    actor
}

/// One `session_memories` row of `session_key` for `memory_id`.
fn given(
    session_key: &str,
    memory_id: &str,
    source: &str,
    scores: (Option<f64>, f64),
    rank: usize,
    was_injected: bool,
    now: &str,
) -> SessionMemory {
    SessionMemory {
        id: uuid::Uuid::new_v4().to_string(),
        session_key: session_key.to_owned(),
        memory_id: memory_id.to_owned(),
        source: source.to_owned(),
        effective_score: scores.0,
        final_score: scores.1,
        rank: i64::try_from(rank).unwrap_or(i64::MAX),
        was_injected,
        fts_hit_count: i64::from(matches!(source, "keyword" | "hybrid")),
        created_at: now.to_owned(),
    }
}
