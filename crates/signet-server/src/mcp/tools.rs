//! The MCP tools: upstream's names and arguments, each one service call with the caller the
//! route guard authenticated, its own permission (and rate limit) checked first. Answers are
//! the HTTP routes' wire types, pretty-printed in one text item; refusals, validation errors
//! and missing memories are `isError` results naming the reason.

use std::collections::HashMap;

use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use rmcp::handler::server::common::{Extension, schema_for_type};
use rmcp::model::{CallToolResult, ContentBlock, JsonObject};
use rmcp::{tool, tool_handler, tool_router};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use signet_api::GuardQuery;
use signet_core::auth::{Caller, Operation, Permission, Scope};
use signet_core::memory::{
    FeedbackInput, GuardInput, ListParams, PatchInput, RecallInput, RememberInput, outcome_response,
};
use signet_model::memories::{Actor, Mutation, MutationOutcome};

use super::args::{
    self, BypassArgs, FeedbackArgs, ForgetArgs, GetArgs, ListArgs, ModifyArgs, SearchArgs,
    StoreArgs,
};
use crate::actor::{CallerActor, header};
use crate::error::{ApiError, Kind};
use crate::permission::{self, Guard, Scoping};
use crate::state::AppState;

/// Every tool, in the order `tools/list` sorts them.
pub const TOOLS: [&str; 8] = [
    "memory_feedback",
    "memory_forget",
    "memory_get",
    "memory_list",
    "memory_modify",
    "memory_search",
    "memory_store",
    "session_bypass",
];

/// The MCP server of one request: the daemon's state (rmcp makes one per request).
#[derive(Clone)]
pub struct Signet {
    state: AppState,
}

impl Signet {
    /// A server over the daemon's state.
    pub fn new(state: AppState) -> Self {
        Self { state }
    }
}

/// One authorized tool call: the caller the route guard authenticated and the actor its
/// writes name.
struct Call {
    caller: Caller,
    actor: Actor,
}

/// What a tool needs: its permission, the rate-limited operation it counts against, and (as
/// every memory tool filters by scope) `Filters`.
fn guard(permission: Permission, limit: Option<Operation>) -> Guard {
    Guard {
        permission,
        limit,
        scoping: Scoping::Filters,
    }
}

/// `harness` from the query string (`?harness=`, percent-decoded) or the `x-signet-harness`
/// header.
fn harness(parts: &Parts) -> Option<String> {
    let query = Query::<HashMap<String, String>>::try_from_uri(&parts.uri).ok();
    query
        .and_then(|Query(mut q)| q.remove("harness"))
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty() && h.len() <= 256)
        .or_else(|| header(parts, "x-signet-harness"))
}

impl Signet {
    /// Authorizes `tool` for the request's caller with `guard` (the same checks as a route
    /// guard after authentication) and names the actor: the token's `sub` or the
    /// `x-signet-actor` header as on HTTP, else the harness (or `mcp-server`), of type
    /// `harness` unless the caller says otherwise.
    async fn authorize(
        &self,
        parts: &mut Parts,
        tool: &str,
        guard: Guard,
    ) -> Result<Call, ApiError> {
        let caller = parts.extensions.get::<Caller>().cloned().ok_or_else(|| {
            tracing::error!(target: "mcp", "a tool ran without the route guard's caller");
            ApiError::internal()
        })?;
        permission::admit(self.state.auth(), &caller, guard, &format!("mcp {tool}"))?;
        let Ok(CallerActor(mut actor)) = CallerActor::from_request_parts(parts, &()).await;
        if header(parts, "x-signet-actor-type").is_none() {
            actor.actor_type = Some("harness".into());
        }
        if actor.changed_by.is_empty() {
            actor.changed_by = harness(parts).unwrap_or_else(|| "mcp-server".into());
        }
        Ok(Call { caller, actor })
    }

    /// A tool's arguments decoded as `A` (refused before anything else), then its call
    /// authorized as [`Signet::authorize`] does.
    async fn prepare<A: DeserializeOwned>(
        &self,
        parts: &mut Parts,
        args: JsonObject,
        tool: &str,
        guard: Guard,
    ) -> Result<(A, Call), ApiError> {
        let a = args::parse(args)?;
        Ok((a, self.authorize(parts, tool, guard).await?))
    }

    /// A mutation tool's answer: the mutation run in its scope (the `MutationResponse` of its
    /// memory), or the error that came first.
    async fn mutation(&self, tool: &str, m: Result<(Mutation, Scope), ApiError>) -> CallToolResult {
        let run = async {
            let (m, scope) = m?;
            let id = m.id.clone();
            Ok((id, self.state.memories().mutate(m, &scope).await?))
        };
        match run.await {
            Ok((id, outcome)) => mutation_answer(tool, &id, &outcome),
            Err(e) => failure(tool, &e),
        }
    }
}

/// The answer as one pretty-printed JSON text item.
fn success<T: Serialize>(answer: &T) -> CallToolResult {
    let text = serde_json::to_string_pretty(answer).unwrap_or_default();
    CallToolResult::success(vec![ContentBlock::text(text)])
}

/// An `isError` result: `"<tool> failed (<status>): <reason>"`, the reason being the HTTP
/// error's message (its whole body when it has more fields).
fn failure(tool: &str, e: &ApiError) -> CallToolResult {
    let status = e.kind().status();
    let body = e.body();
    let only_message = body.as_object().is_some_and(|o| o.len() == 1);
    let reason = match body.get("error").and_then(Value::as_str) {
        Some(m) if only_message => m.to_owned(),
        _ => serde_json::to_string_pretty(body).unwrap_or_default(),
    };
    let text = format!("{tool} failed ({status}): {reason}");
    CallToolResult::error(vec![ContentBlock::text(text)])
}

/// The tool's answer from a service result.
fn answer<T: Serialize>(tool: &str, r: Result<T, ApiError>) -> CallToolResult {
    match r {
        Ok(v) => success(&v),
        Err(e) => failure(tool, &e),
    }
}

/// A body value: the JSON of `v`, or nothing.
fn opt<T: Serialize>(v: Option<T>) -> Value {
    v.map_or(Value::Null, |v| json!(v))
}

/// A JSON object of the fields that are set (a body the HTTP validators read).
fn body(fields: &[(&str, Value)]) -> Value {
    let map = fields
        .iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect();
    Value::Object(map)
}

/// A mutation outcome: the `MutationResponse`, as an error unless it is done.
fn mutation_answer(tool: &str, id: &str, o: &MutationOutcome) -> CallToolResult {
    let response = outcome_response(id, o);
    let kind = Kind::from(o.kind());
    if kind == Kind::Done {
        return success(&response);
    }
    let text = serde_json::to_string_pretty(&response).unwrap_or_default();
    let text = format!("{tool} failed ({}): {text}", kind.status());
    CallToolResult::error(vec![ContentBlock::text(text)])
}

#[tool_router]
impl Signet {
    #[tool(
        input_schema = schema_for_type::<SearchArgs>(),
        description = "Search the memories for what is relevant to a query (hybrid keyword and \
                       semantic search), best first. Use it before answering anything that may \
                       depend on what was learned, decided or preferred earlier.",
        annotations(read_only_hint = true)
    )]
    async fn memory_search(
        &self,
        Extension(mut parts): Extension<Parts>,
        args: JsonObject,
    ) -> CallToolResult {
        const TOOL: &str = "memory_search";
        let r = async {
            let (a, call): (SearchArgs, _) = self
                .prepare(&mut parts, args, TOOL, guard(Permission::Recall, None))
                .await?;
            if a.min_score.is_some_and(|m| !m.is_finite()) {
                return Err(ApiError::bad_request("min_score must be a number"));
            }
            let req = RecallInput::try_from(&body(&[
                ("query", json!(a.query)),
                ("limit", opt(a.limit)),
                ("type", opt(a.memory_type)),
            ]))?;
            let scope = call.caller.scope();
            let mut found = self.state.memories().recall(req, &scope).await?;
            if let Some(min) = a.min_score {
                found.results.retain(|r| r.score >= min);
            }
            Ok(found)
        };
        answer(TOOL, r.await)
    }

    #[tool(
        input_schema = schema_for_type::<StoreArgs>(),
        description = "Store a memory: one self-contained fact, preference, decision or lesson \
                       worth keeping across sessions. An exact duplicate of a live memory is \
                       not stored twice (the answer says deduped)."
    )]
    async fn memory_store(
        &self,
        Extension(mut parts): Extension<Parts>,
        args: JsonObject,
    ) -> CallToolResult {
        const TOOL: &str = "memory_store";
        let r = async {
            let (a, call): (StoreArgs, _) = self
                .prepare(&mut parts, args, TOOL, guard(Permission::Remember, None))
                .await?;
            let req = RememberInput::try_from(&body(&[
                ("content", json!(a.content)),
                ("type", opt(a.memory_type)),
                ("importance", opt(a.importance)),
                ("tags", opt(a.tags)),
            ]))?;
            let scope = call.caller.scope();
            Ok(self
                .state
                .memories()
                .remember(req, call.actor, &scope)
                .await?)
        };
        answer(TOOL, r.await)
    }

    #[tool(
        input_schema = schema_for_type::<GetArgs>(),
        description = "Read one memory by id, with all its fields.",
        annotations(read_only_hint = true)
    )]
    async fn memory_get(
        &self,
        Extension(mut parts): Extension<Parts>,
        args: JsonObject,
    ) -> CallToolResult {
        const TOOL: &str = "memory_get";
        let r = async {
            let (a, call): (GetArgs, _) = self
                .prepare(&mut parts, args, TOOL, guard(Permission::Recall, None))
                .await?;
            let scope = call.caller.scope();
            Ok(self.state.memories().get(a.id, &scope).await?)
        };
        answer(TOOL, r.await)
    }

    #[tool(
        input_schema = schema_for_type::<ListArgs>(),
        description = "List memories, newest first, a page at a time, optionally of one type; \
                       with counts of all memories.",
        annotations(read_only_hint = true)
    )]
    async fn memory_list(
        &self,
        Extension(mut parts): Extension<Parts>,
        args: JsonObject,
    ) -> CallToolResult {
        const TOOL: &str = "memory_list";
        let r = async {
            let (a, call): (ListArgs, _) = self
                .prepare(&mut parts, args, TOOL, guard(Permission::Recall, None))
                .await?;
            let query = signet_api::ListQuery {
                limit: a.limit.map(|l| l.to_string()),
                offset: a.offset.map(|o| o.to_string()),
            };
            let mut params = ListParams::try_from(&query)?;
            params.memory_type = a
                .memory_type
                .map(|t| t.trim().to_owned())
                .filter(|t| !t.is_empty());
            let scope = call.caller.scope();
            Ok(self.state.memories().list(params, &scope).await?)
        };
        answer(TOOL, r.await)
    }

    #[tool(
        input_schema = schema_for_type::<ModifyArgs>(),
        description = "Change a memory's content, type, importance or tags, saying why. The old \
                       version stays in the memory's history.",
        annotations(destructive_hint = true, idempotent_hint = false)
    )]
    async fn memory_modify(
        &self,
        Extension(mut parts): Extension<Parts>,
        args: JsonObject,
    ) -> CallToolResult {
        const TOOL: &str = "memory_modify";
        let g = guard(Permission::Modify, Some(Operation::Modify));
        let m = async {
            let (a, call): (ModifyArgs, _) = self.prepare(&mut parts, args, TOOL, g).await?;
            let req = PatchInput::try_from(&body(&[
                ("content", opt(a.content)),
                ("type", opt(a.memory_type)),
                ("importance", opt(a.importance)),
                ("tags", opt(a.tags)),
                ("reason", json!(a.reason)),
            ]))?;
            Ok((req.into_mutation(a.id, call.actor), call.caller.scope()))
        };
        self.mutation(TOOL, m.await).await
    }

    #[tool(
        input_schema = schema_for_type::<ForgetArgs>(),
        description = "Forget a memory (a soft delete, recoverable for 30 days), saying why. A \
                       pinned memory needs force.",
        annotations(destructive_hint = true)
    )]
    async fn memory_forget(
        &self,
        Extension(mut parts): Extension<Parts>,
        args: JsonObject,
    ) -> CallToolResult {
        const TOOL: &str = "memory_forget";
        let g = guard(Permission::Forget, Some(Operation::Forget));
        let m = async {
            let (a, call): (ForgetArgs, _) = self.prepare(&mut parts, args, TOOL, g).await?;
            let req = GuardInput::try_from((
                &body(&[("reason", json!(a.reason)), ("force", opt(a.force))]),
                &GuardQuery::default(),
            ))?;
            if req.force {
                let g = guard(Permission::Forget, Some(Operation::ForceDelete));
                permission::admit(self.state.auth(), &call.caller, g, "mcp memory_forget")?;
            }
            Ok((req.into_forget(a.id, call.actor), call.caller.scope()))
        };
        self.mutation(TOOL, m.await).await
    }

    #[tool(
        input_schema = schema_for_type::<FeedbackArgs>(),
        description = "Rate how useful the memories injected into a session were, from -1 \
                       (useless or wrong) to 1 (exactly what was needed); future sessions are \
                       ranked with it."
    )]
    async fn memory_feedback(
        &self,
        Extension(mut parts): Extension<Parts>,
        args: JsonObject,
    ) -> CallToolResult {
        const TOOL: &str = "memory_feedback";
        let r = async {
            let (a, call): (FeedbackArgs, _) = self
                .prepare(&mut parts, args, TOOL, guard(Permission::Remember, None))
                .await?;
            let req = FeedbackInput::try_from(&json!({
                "sessionKey": a.session_key,
                "feedback": a.ratings,
            }))?;
            let scope = call.caller.scope();
            Ok(self.state.memories().feedback(req, &scope).await?)
        };
        answer(TOOL, r.await)
    }

    #[tool(
        input_schema = schema_for_type::<BypassArgs>(),
        description = "Turn memory injection off (enabled: true) or back on (enabled: false) for \
                       a running session: while bypassed, the harness hooks neither inject nor \
                       record memories."
    )]
    async fn session_bypass(
        &self,
        Extension(mut parts): Extension<Parts>,
        args: JsonObject,
    ) -> CallToolResult {
        const TOOL: &str = "session_bypass";
        let r = async {
            let (a, _): (BypassArgs, _) = self
                .prepare(&mut parts, args, TOOL, guard(Permission::Remember, None))
                .await?;
            crate::routes::sessions::set_bypass(&self.state, &a.session_key, a.enabled)
        };
        answer(TOOL, r.await)
    }
}

#[tool_handler(
    name = "signet",
    instructions = "Signet is the agent's long-term memory. Search it (memory_search) before \
                    relying on what you think you know about the user or the project; store \
                    durable facts, preferences and decisions (memory_store); correct or forget \
                    what is wrong (memory_modify, memory_forget)."
)]
impl rmcp::ServerHandler for Signet {}
