//! Batch forget (preview / execute with a confirm token) and batch modify.

use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use signet_api::{
    BatchForgetResponse, BatchModifyResponse, BatchModifyResult, ForgetCandidateItem,
    ForgetExecuted, ForgetPreview, MutationResponse, MutationStatus, UnidentifiedPatch,
};
use signet_model::memories::{
    Actor, CandidateQuery, Change, ForgetCandidate, MutationOutcome, RecallFilters,
};

use super::mutate::{PatchInput, mutation, outcome_response, resolve_actor};
use super::{Memories, input};
use crate::auth::Scope;
use crate::error::{CoreError, Result};
use crate::text;

/// Forgets of more candidates than this need the preview's confirm token.
pub const CONFIRM_THRESHOLD: usize = 25;
/// Most patches one batch modify may carry.
pub const MAX_BATCH_PATCHES: usize = 200;

/// The confirm token of a candidate set: first 32 hex chars of sha256 of the sorted ids.
pub fn confirm_token(ids: &[String]) -> String {
    let mut sorted: Vec<&str> = ids.iter().map(String::as_str).collect();
    sorted.sort_unstable();
    sorted.dedup();
    hex::encode(Sha256::digest(sorted.join("|").as_bytes()))[..32].to_owned()
}

fn candidate_query(obj: &Map<String, Value>) -> Result<CandidateQuery> {
    let limit = input::limit(obj.get("limit"), "limit", 20, 200)?;
    let mut ids: Vec<String> = Vec::new();
    match obj.get("ids") {
        None | Some(Value::Null) => {}
        Some(Value::Array(items)) => {
            for item in items {
                let id = item.as_str().map(str::trim).filter(|s| !s.is_empty());
                let Some(id) = id else {
                    return Err(CoreError::Invalid(
                        "ids must be an array of non-empty strings".into(),
                    ));
                };
                if !ids.iter().any(|x| x == id) {
                    ids.push(id.to_owned());
                }
            }
        }
        Some(_) => {
            return Err(CoreError::Invalid(
                "ids must be an array of non-empty strings".into(),
            ));
        }
    }
    let query = input::opt_trimmed(obj, "query")?;
    let filters = RecallFilters {
        memory_type: input::opt_trimmed(obj, "type")?,
        tags: input::opt_tags(obj.get("tags"), false)?
            .flatten()
            .map(|t| t.split(',').map(str::to_owned).collect())
            .unwrap_or_default(),
        who: input::opt_trimmed(obj, "who")?,
        source_type: input::opt_trimmed(obj, "source_type")?,
        since: input::opt_time(obj, "since", false)?,
        until: input::opt_time(obj, "until", true)?,
        ..Default::default()
    };
    if ids.is_empty() && query.is_none() && filters.is_empty() {
        return Err(CoreError::Invalid(
            "query, ids, or at least one filter (type/tags/who/source_type/since/until) is required".into(),
        ));
    }
    let keywords = query.as_deref().and_then(text::keyword_query);
    if query.is_some() && keywords.is_none() && ids.is_empty() {
        return Err(CoreError::Invalid("query has no searchable words".into()));
    }
    Ok(CandidateQuery {
        ids,
        keywords,
        filters,
        limit,
    })
}

fn candidate_item(c: &ForgetCandidate) -> ForgetCandidateItem {
    ForgetCandidateItem {
        id: c.id.clone(),
        score: (c.score * 1000.0).round() / 1000.0,
        pinned: c.pinned,
        version: c.version,
        extra: Default::default(),
    }
}

/// A validated `POST /api/memory/forget` (`TryFrom<&Value>` reads its body).
#[derive(Debug, Clone)]
pub struct BatchForgetInput {
    /// Which memories: ids, keywords, filters (the caller's scope is pinned by the forget).
    pub candidates: CandidateQuery,
    /// `mode: execute`'s fields; `None` for a preview.
    pub execute: Option<ForgetExecution>,
    /// The actor when no header or token names one (`changed_by`).
    pub changed_by: Option<String>,
}

/// Reads the body of `POST /api/memory/forget`.
impl TryFrom<&Value> for BatchForgetInput {
    type Error = CoreError;

    fn try_from(body: &Value) -> Result<Self> {
        let obj = input::object(body)?;
        let mode = input::opt_trimmed(obj, "mode")?.unwrap_or_else(|| "preview".into());
        if mode != "preview" && mode != "execute" {
            return Err(CoreError::Invalid("mode must be preview or execute".into()));
        }
        let candidates = candidate_query(obj)?;
        let execute = if mode == "execute" {
            Some(ForgetExecution::read(obj)?)
        } else {
            None
        };
        Ok(Self {
            candidates,
            execute,
            changed_by: input::opt_trimmed(obj, "changed_by")?,
        })
    }
}

/// A validated `POST /api/memory/modify` (`TryFrom<&Value>` reads its body).
#[derive(Debug, Clone)]
pub struct BatchModifyInput {
    /// One per patch, in request order (1 to [`MAX_BATCH_PATCHES`]).
    pub patches: Vec<BatchPatch>,
    /// The actor when no header or token names one (`changed_by`).
    pub changed_by: Option<String>,
}

/// One patch of a batch modify. A malformed patch does not fail the batch: it is answered
/// `invalid_request` in its place (after the scope check, when it names a memory).
#[derive(Debug, Clone)]
pub enum BatchPatch {
    /// No non-empty string `id` (answered with `"id": null`).
    Unidentified,
    /// A patch of memory `id`: its validated fields, or why they are invalid.
    Named {
        /// The memory, trimmed.
        id: String,
        /// The patch, or the message of its first invalid field.
        input: std::result::Result<Box<PatchInput>, String>,
    },
}

impl BatchPatch {
    /// Reads one element of `patches`; the batch's `reason` is the default of its own.
    fn read(patch: &Value, default_reason: Option<&str>) -> Self {
        let id = patch
            .get("id")
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty());
        match (id, patch.as_object()) {
            (Some(id), Some(obj)) => Self::Named {
                id: id.to_owned(),
                input: PatchInput::read(obj, default_reason)
                    .map(Box::new)
                    .map_err(|e| e.to_string()),
            },
            _ => Self::Unidentified,
        }
    }
}

/// Reads the body of `POST /api/memory/modify`.
impl TryFrom<&Value> for BatchModifyInput {
    type Error = CoreError;

    fn try_from(body: &Value) -> Result<Self> {
        let obj = input::object(body)?;
        let patches = match obj.get("patches") {
            Some(Value::Array(p)) if !p.is_empty() => p,
            _ => return Err(CoreError::Invalid("patches[] is required".into())),
        };
        if patches.len() > MAX_BATCH_PATCHES {
            return Err(CoreError::Invalid(format!(
                "patches[] exceeds maximum batch size ({MAX_BATCH_PATCHES})"
            )));
        }
        let default_reason = input::opt_trimmed(obj, "reason")?;
        let patches = patches
            .iter()
            .map(|p| BatchPatch::read(p, default_reason.as_deref()))
            .collect();
        Ok(Self {
            patches,
            changed_by: input::opt_trimmed(obj, "changed_by")?,
        })
    }
}

impl Memories {
    /// `POST /api/memory/forget`: a preview of the candidates, or their forgets.
    pub async fn batch_forget(
        &self,
        req: BatchForgetInput,
        actor: Actor,
        scope: &Scope,
    ) -> Result<BatchForgetResponse> {
        let BatchForgetInput {
            candidates: mut query,
            execute,
            changed_by,
        } = req;
        super::pin_filters(scope, &mut query.filters)?;
        let store = self.store.clone();
        let candidates = crate::blocking::run(move || Ok(store.forget_candidates(&query)?)).await?;
        let ids: Vec<String> = candidates.iter().map(|c| c.id.clone()).collect();
        let token = confirm_token(&ids);
        let requires_confirm = candidates.len() > CONFIRM_THRESHOLD;
        let Some(args) = execute else {
            return Ok(BatchForgetResponse::Preview(ForgetPreview {
                count: candidates.len(),
                requires_confirm,
                confirm_token: token,
                candidates: candidates.iter().map(candidate_item).collect(),
                extra: Default::default(),
            }));
        };
        if requires_confirm && args.confirm_token.as_deref() != Some(token.as_str()) {
            return Err(CoreError::InvalidWith(
                "confirm_token is required for large forget operations; run preview first".into(),
                json!({"requiresConfirm": true, "confirmToken": token, "count": candidates.len()}),
            ));
        }
        self.ensure_unfrozen()?;
        let actor = resolve_actor(actor, changed_by.as_deref());
        self.execute_forget(ids, args, actor).await
    }

    async fn execute_forget(
        &self,
        ids: Vec<String>,
        args: ForgetExecution,
        actor: Actor,
    ) -> Result<BatchForgetResponse> {
        let store = self.store.clone();
        let semantic = self.semantic.clone();
        let (events, analytics) = (self.events.clone(), self.analytics.clone());
        crate::blocking::run(move || {
            let mut results = Vec::with_capacity(ids.len());
            let mut deleted = 0;
            for id in &ids {
                let change = Change::Forget { force: args.force };
                let m = mutation(id.clone(), None, args.reason.clone(), actor.clone(), change);
                let o = store.mutate(m)?;
                super::notify::after_commit(&events, &analytics, store.as_ref(), id, &o, &actor);
                if matches!(o, MutationOutcome::Deleted { .. }) {
                    deleted += 1;
                    semantic.remove(id);
                }
                results.push(outcome_response(id, &o));
            }
            Ok(BatchForgetResponse::Execute(ForgetExecuted {
                requested: ids.len(),
                deleted,
                results,
                extra: Default::default(),
            }))
        })
        .await
    }

    /// `POST /api/memory/modify`: each patch in its own transaction, in request order.
    pub async fn batch_modify(
        &self,
        req: BatchModifyInput,
        actor: Actor,
        scope: &Scope,
    ) -> Result<BatchModifyResponse> {
        self.ensure_unfrozen()?;
        let BatchModifyInput {
            patches,
            changed_by,
        } = req;
        let actor = resolve_actor(actor, changed_by.as_deref());
        let store = self.store.clone();
        let semantic = self.semantic.clone();
        let scope = scope.clone();
        let (events, analytics) = (self.events.clone(), self.analytics.clone());
        crate::blocking::run(move || {
            let mut results = Vec::with_capacity(patches.len());
            let mut updated = 0;
            let total = patches.len();
            for p in patches {
                let notify = |id: &str, o: &MutationOutcome| {
                    super::notify::after_commit(&events, &analytics, store.as_ref(), id, o, &actor)
                };
                let r = apply_one(store.as_ref(), p, &actor, &scope, notify)?;
                updated += (r.status() == MutationStatus::Updated) as usize;
                if r.content_changed() {
                    semantic.content_changed(r.id().unwrap_or_default());
                }
                results.push(r);
            }
            Ok(BatchModifyResponse {
                total,
                updated,
                results,
                extra: Default::default(),
            })
        })
        .await
    }
}

fn apply_one(
    store: &dyn signet_model::MemoryStore,
    patch: BatchPatch,
    actor: &Actor,
    scope: &Scope,
    notify: impl FnOnce(&str, &MutationOutcome),
) -> Result<BatchModifyResult> {
    let refused = |id: &str, status, msg: String| {
        BatchModifyResult::Outcome(MutationResponse::new(id, status).error(msg))
    };
    let BatchPatch::Named { id, input } = patch else {
        // Without a non-empty id the answer names none (`"id": null`), as upstream's does.
        let unnamed = UnidentifiedPatch::new("each patch needs an id");
        return Ok(BatchModifyResult::Unidentified(unnamed));
    };
    if let Err(e) = super::check_owner(store, &id, scope) {
        return Ok(refused(&id, MutationStatus::ScopeDenied, e.to_string()));
    }
    let input = match input {
        Ok(i) => *i,
        Err(e) => return Ok(refused(&id, MutationStatus::InvalidRequest, e)),
    };
    let o = store.mutate(input.into_mutation(id.clone(), actor.clone()))?;
    notify(&id, &o);
    Ok(BatchModifyResult::Outcome(outcome_response(&id, &o)))
}

/// The fields only `mode: execute` reads.
#[derive(Debug, Clone)]
pub struct ForgetExecution {
    /// Why (required).
    pub reason: String,
    /// Forget pinned memories too.
    pub force: bool,
    /// The preview's token, required for more than [`CONFIRM_THRESHOLD`] candidates.
    pub confirm_token: Option<String>,
}

impl ForgetExecution {
    fn read(obj: &Map<String, Value>) -> Result<Self> {
        if obj.contains_key("if_version") {
            return Err(CoreError::Invalid(
                "if_version is not supported for batch forget; use DELETE /api/memory/:id for version-guarded deletes".into(),
            ));
        }
        let reason = input::reason(obj.get("reason"))
            .map_err(|_| CoreError::Invalid("reason is required for execute mode".into()))?;
        Ok(Self {
            reason,
            force: input::opt_bool(obj.get("force"), "force")?.unwrap_or(false),
            confirm_token: input::opt_trimmed(obj, "confirm_token")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confirm_token_is_order_independent() {
        let a = confirm_token(&["b".into(), "a".into()]);
        let b = confirm_token(&["a".into(), "b".into(), "a".into()]);
        assert_eq!(a, b);
        assert_eq!(a.len(), 32);
        assert_eq!(a, hex::encode(Sha256::digest(b"a|b"))[..32]);
    }
}
