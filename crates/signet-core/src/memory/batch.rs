//! Batch forget (preview / execute with a confirm token) and batch modify.

use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use signet_api::{
    BatchForgetResponse, BatchModifyResponse, BatchModifyResult, ForgetCandidateItem,
    ForgetExecuted, ForgetPreview, MutationResponse, MutationStatus, UnidentifiedPatch,
};
use signet_store::memories::{
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

impl Memories {
    /// `POST /api/memory/forget`.
    pub async fn batch_forget(
        &self,
        body: Value,
        actor: Actor,
        scope: &Scope,
    ) -> Result<BatchForgetResponse> {
        let obj = input::object(&body)?;
        let mode = input::opt_trimmed(obj, "mode")?.unwrap_or_else(|| "preview".into());
        if mode != "preview" && mode != "execute" {
            return Err(CoreError::Invalid("mode must be preview or execute".into()));
        }
        let mut query = candidate_query(obj)?;
        super::pin_filters(scope, &mut query.filters)?;
        let execute = if mode == "execute" {
            Some(ExecuteArgs::from_json(obj)?)
        } else {
            None
        };
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
        let actor = resolve_actor(actor, Some(obj));
        self.execute_forget(ids, args, actor).await
    }

    async fn execute_forget(
        &self,
        ids: Vec<String>,
        args: ExecuteArgs,
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

    /// `POST /api/memory/modify`.
    pub async fn batch_modify(
        &self,
        body: Value,
        actor: Actor,
        scope: &Scope,
    ) -> Result<BatchModifyResponse> {
        let obj = input::object(&body)?;
        self.ensure_unfrozen()?;
        let patches = match obj.get("patches") {
            Some(Value::Array(p)) if !p.is_empty() => p.clone(),
            _ => return Err(CoreError::Invalid("patches[] is required".into())),
        };
        if patches.len() > MAX_BATCH_PATCHES {
            return Err(CoreError::Invalid(format!(
                "patches[] exceeds maximum batch size ({MAX_BATCH_PATCHES})"
            )));
        }
        let default_reason = input::opt_trimmed(obj, "reason")?;
        let actor = resolve_actor(actor, Some(obj));
        let store = self.store.clone();
        let semantic = self.semantic.clone();
        let scope = scope.clone();
        let (events, analytics) = (self.events.clone(), self.analytics.clone());
        crate::blocking::run(move || {
            let mut results = Vec::with_capacity(patches.len());
            let mut updated = 0;
            for p in &patches {
                let notify = |id: &str, o: &MutationOutcome| {
                    super::notify::after_commit(&events, &analytics, store.as_ref(), id, o, &actor)
                };
                let r = apply_one(
                    store.as_ref(),
                    p,
                    default_reason.as_deref(),
                    &actor,
                    &scope,
                    notify,
                )?;
                updated += (r.status() == MutationStatus::Updated) as usize;
                if r.content_changed() {
                    semantic.content_changed(r.id().unwrap_or_default());
                }
                results.push(r);
            }
            Ok(BatchModifyResponse {
                total: patches.len(),
                updated,
                results,
                extra: Default::default(),
            })
        })
        .await
    }
}

fn apply_one(
    store: &dyn signet_store::MemoryStore,
    patch: &Value,
    default_reason: Option<&str>,
    actor: &Actor,
    scope: &Scope,
    notify: impl FnOnce(&str, &MutationOutcome),
) -> Result<BatchModifyResult> {
    let id = patch
        .get("id")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty());
    let refused = |id: &str, status, msg: String| {
        BatchModifyResult::Outcome(MutationResponse::new(id, status).error(msg))
    };
    let (Some(id), Some(obj)) = (id, patch.as_object()) else {
        // Without a non-empty id the answer names none (`"id": null`), as upstream's does.
        let unnamed = UnidentifiedPatch::new("each patch needs an id");
        return Ok(match id {
            Some(id) => refused(id, MutationStatus::InvalidRequest, unnamed.error),
            None => BatchModifyResult::Unidentified(unnamed),
        });
    };
    if let Err(e) = super::check_owner(store, id, scope) {
        return Ok(refused(id, MutationStatus::ScopeDenied, e.to_string()));
    }
    let input = match PatchInput::from_json(obj, default_reason) {
        Ok(i) => i,
        Err(e) => return Ok(refused(id, MutationStatus::InvalidRequest, e.to_string())),
    };
    let o = store.mutate(input.into_mutation(id.to_owned(), actor.clone()))?;
    notify(id, &o);
    Ok(BatchModifyResult::Outcome(outcome_response(id, &o)))
}

/// Fields only execute mode reads.
struct ExecuteArgs {
    reason: String,
    force: bool,
    confirm_token: Option<String>,
}

impl ExecuteArgs {
    fn from_json(obj: &Map<String, Value>) -> Result<Self> {
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
