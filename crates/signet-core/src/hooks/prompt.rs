//! A prompt's recall (`user-prompt-submit`) and the explicit `remember` and `recall` hooks.

use chrono::{DateTime, Utc};
use signet_api::{
    HookRecallItem, HookRecallResponse, HookRememberResponse, RecallMethod, RecallResponse,
    RecallResult, RememberResponse, UserPromptResponse,
};
use signet_model::memories::{Actor, RecallFilters};

use super::input::{HookRecallInput, HookRememberInput, UserPromptInput};
use super::{Hooks, REPEAT_WINDOW_TURNS, given, inject, query};
use crate::auth::Scope;
use crate::error::Result;
use crate::memory::{RecallInput, RecallMode, RememberInput};

/// How many memories a prompt's recall asks for, and the importance it needs.
const PROMPT_RECALL_LIMIT: usize = 10;
const PROMPT_IMPORTANCE_MIN: f64 = 0.3;

fn prompt_answer(inject: String, bypassed: Option<bool>) -> UserPromptResponse {
    UserPromptResponse {
        inject,
        memory_count: 0,
        query_terms: None,
        engine: None,
        bypassed,
        extra: Default::default(),
    }
}

fn remember_answer(
    id: Option<String>,
    deduped: bool,
    bypassed: Option<bool>,
) -> HookRememberResponse {
    HookRememberResponse {
        success: true,
        saved: id.is_some(),
        id,
        deduped: deduped.then_some(true),
        bypassed,
        extra: Default::default(),
    }
}

fn recall_answer(results: Vec<HookRecallItem>, bypassed: Option<bool>) -> HookRecallResponse {
    HookRecallResponse {
        count: results.len(),
        memories: results.clone(),
        results,
        bypassed,
        extra: Default::default(),
    }
}

/// The id a remember answered (the first chunk's for a chunked memory).
pub(super) fn first_id(r: &RememberResponse) -> Option<String> {
    match r {
        RememberResponse::Stored(m) => Some(m.id.clone()),
        RememberResponse::Chunked(c) => c.ids.first().cloned(),
    }
}

fn engine(m: RecallMethod) -> &'static str {
    match m {
        RecallMethod::Hybrid => "hybrid",
        RecallMethod::Keyword => "keyword",
        RecallMethod::Vector => "vector",
    }
}

impl Hooks {
    /// `POST /api/hooks/user-prompt-submit`: memories relevant to the prompt, if the best
    /// reaches the score gate, within 500 characters and 5 items, none a recent prompt of
    /// this session already injected.
    pub async fn user_prompt(
        &self,
        req: UserPromptInput,
        scope: &Scope,
        now: DateTime<Utc>,
    ) -> Result<UserPromptResponse> {
        if !req.call.skip {
            self.sessions.seen(&req.call.harness, now);
        }
        if let Some(bypassed) = self.stub_instead(&req.call, now)? {
            return Ok(prompt_answer(String::new(), bypassed));
        }
        let date = self.date(now);
        let header = inject::date_header(&date);
        let key = req.call.session_key.as_deref();
        let turn = key.map(|k| self.next_turn(k, now));
        let q = query::shape(&req.prompt, req.last_assistant.as_deref());
        let Some(found) = self.prompt_recall(&q, scope).await? else {
            return Ok(prompt_answer(header, None));
        };
        let recent = key
            .map(|k| self.recently_injected(k, now))
            .unwrap_or_default();
        let fresh: Vec<&RecallResult> = found
            .results
            .iter()
            .filter(|r| !recent.contains(&r.id))
            .collect();
        let chosen = inject::within_budget(
            fresh.iter().map(|r| r.content.as_str()),
            inject::PROMPT_BUDGET,
            inject::PROMPT_MAX_ITEMS,
        );
        let picked = &fresh[..chosen];
        if let (Some(k), Some(turn)) = (key, turn) {
            self.record_prompt(k, turn, &found.results, picked, now)
                .await;
        }
        if picked.is_empty() {
            return Ok(prompt_answer(header, None));
        }
        let terms = q.terms.join(" ");
        let lines: Vec<String> = picked
            .iter()
            .map(|r| format!("- {} ({})", r.content, inject::short_date(&r.created_at)))
            .collect();
        let ids: Vec<&str> = picked.iter().map(|r| r.id.as_str()).collect();
        let engine = engine(found.method);
        let text = inject::prompt_recall(&date, &terms, engine, &lines, &ids, key.is_some());
        Ok(UserPromptResponse {
            memory_count: picked.len(),
            query_terms: Some(terms),
            engine: Some(engine.to_owned()),
            ..prompt_answer(text, None)
        })
    }

    /// Counts a prompt of the session and forgets injections older than the repeat window;
    /// the prompt's turn.
    fn next_turn(&self, key: &str, now: DateTime<Utc>) -> u64 {
        self.with_memo(key, now, |m| {
            m.turn += 1;
            m.injected.retain(|(t, _)| m.turn - t < REPEAT_WINDOW_TURNS);
            m.turn
        })
    }

    /// The ids the session's recent prompts injected.
    fn recently_injected(&self, key: &str, now: DateTime<Utc>) -> Vec<String> {
        self.with_memo(key, now, |m| {
            m.injected.iter().map(|(_, id)| id.clone()).collect()
        })
    }

    /// The ranked recall of a shaped prompt (at least importance 0.3), or `None` when the
    /// prompt has nothing to search for or the best result misses the score gate.
    async fn prompt_recall(
        &self,
        q: &query::PromptQuery,
        scope: &Scope,
    ) -> Result<Option<RecallResponse>> {
        if q.terms.is_empty() && q.vector_text.is_empty() {
            return Ok(None);
        }
        let recall = RecallInput {
            query: if q.vector_text.is_empty() {
                q.terms.join(" ")
            } else {
                q.vector_text.clone()
            },
            keyword_query: (!q.terms.is_empty()).then(|| q.terms.join(" OR ")),
            limit: PROMPT_RECALL_LIMIT,
            filters: RecallFilters {
                importance_min: Some(PROMPT_IMPORTANCE_MIN),
                ..RecallFilters::default()
            },
            mode: RecallMode::Hybrid,
            explain: false,
            warnings: Vec::new(),
        };
        let found = self.memories.recall(recall, scope).await?;
        let gated = found
            .results
            .first()
            .is_none_or(|r| r.score < inject::SCORE_GATE);
        Ok((!gated).then_some(found))
    }

    /// Remembers what this turn injected and records every result in `session_memories`.
    async fn record_prompt(
        &self,
        key: &str,
        turn: u64,
        results: &[RecallResult],
        picked: &[&RecallResult],
        now: DateTime<Utc>,
    ) {
        self.with_memo(key, now, |m| {
            m.injected
                .extend(picked.iter().map(|r| (turn, r.id.clone())));
        });
        let at = signet_model::time::format_iso(now);
        let rows = results
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let injected = picked.iter().any(|p| p.id == r.id);
                given(key, &r.id, &r.source, (None, r.score), i, injected, &at)
            })
            .collect();
        self.record_given(rows).await;
    }

    /// `POST /api/hooks/remember`: a remember like `POST /api/memory/remember` (prefixes,
    /// dedup, embedding, history), written by `who` or else the harness; an
    /// `idempotencyKey` seen before returns the memory it wrote.
    pub async fn remember(
        &self,
        req: HookRememberInput,
        actor: Actor,
        scope: &Scope,
        now: DateTime<Utc>,
    ) -> Result<HookRememberResponse> {
        if let Some(bypassed) = self.stub_instead(&req.call, now)? {
            return Ok(remember_answer(None, false, bypassed));
        }
        let who = req
            .who
            .or_else(|| scope.agent.clone())
            .unwrap_or_else(|| req.call.harness.clone());
        let input = RememberInput {
            content: req.content,
            who: Some(who),
            project: req.project,
            source_type: Some("explicit".into()),
            source_id: req.idempotency_key,
            ..RememberInput::default()
        };
        let actor = super::hook_actor(actor, &req.call.harness);
        let stored = self.memories.remember(input, actor, scope).await?;
        let deduped = matches!(&stored, RememberResponse::Stored(m) if m.deduped);
        Ok(remember_answer(first_id(&stored), deduped, None))
    }

    /// `POST /api/hooks/recall`: the ranked recall (keyword and vector legs), best first.
    pub async fn recall(
        &self,
        req: HookRecallInput,
        scope: &Scope,
        now: DateTime<Utc>,
    ) -> Result<HookRecallResponse> {
        if let Some(bypassed) = self.stub_instead(&req.call, now)? {
            return Ok(recall_answer(Vec::new(), bypassed));
        }
        let recall = RecallInput {
            query: req.query,
            limit: req.limit,
            filters: RecallFilters {
                project: req.project,
                ..RecallFilters::default()
            },
            ..RecallInput::default()
        };
        let found = self.memories.recall(recall, scope).await?;
        let items = found
            .results
            .into_iter()
            .map(|r| HookRecallItem {
                id: r.id,
                content: r.content,
                type_: r.type_,
                importance: r.importance.unwrap_or_default(),
                tags: r.tags,
                created_at: r.created_at,
                score: r.score,
            })
            .collect();
        Ok(recall_answer(items, None))
    }
}
