//! Single-memory mutations: PATCH, DELETE (soft) and recover.

use serde_json::{Map, Value};
use signet_api::{GuardQuery, MutationResponse, MutationStatus};
use signet_model::memories::{Actor, Change, MemoryPatch, Mutation, MutationOutcome};
use signet_model::time::now_iso;

use super::{Memories, input, notify};
use crate::analytics::codes;
use crate::auth::Scope;
use crate::error::{CoreError, Result};
use crate::text;

/// A validated PATCH (`TryFrom<&Value>` reads its body), also one patch of a batch modify.
#[derive(Debug, Clone)]
pub struct PatchInput {
    /// Why (required; a batch's own `reason` is the default of its patches).
    pub reason: String,
    /// The version the caller read; a different current version is a conflict.
    pub if_version: Option<i64>,
    /// The fields to change.
    pub patch: MemoryPatch,
    /// The actor when no header or token names one (`changed_by`; PATCH only).
    pub changed_by: Option<String>,
    /// The body's unknown fields, answered as `warnings` (PATCH only).
    pub warnings: Vec<String>,
}

impl PatchInput {
    /// The body fields a PATCH reads.
    pub const FIELDS: &'static [&'static str] = &[
        "content",
        "type",
        "tags",
        "importance",
        "pinned",
        "reason",
        "if_version",
        "changed_by",
    ];

    /// Reads the fields of a patch; `default_reason` is the batch-level reason, if any.
    pub(crate) fn read(obj: &Map<String, Value>, default_reason: Option<&str>) -> Result<Self> {
        let reason = match (obj.get("reason"), default_reason) {
            (None | Some(Value::Null), Some(d)) => d.to_owned(),
            (r, _) => input::reason(r)?,
        };
        let if_version = input::opt_if_version(obj.get("if_version"))?;
        let fields = ["content", "type", "tags", "importance", "pinned"];
        if !fields.iter().any(|f| obj.contains_key(*f)) {
            return Err(CoreError::Invalid(
                "at least one of content, type, tags, importance, pinned is required".into(),
            ));
        }
        let content = match obj.get("content") {
            None => None,
            Some(Value::String(s)) => {
                let n = text::normalize(s)
                    .ok_or_else(|| CoreError::Invalid("content must not be empty".into()))?;
                Some((n.storage, n.normalized, n.hash))
            }
            Some(_) => return Err(CoreError::Invalid("content must be a string".into())),
        };
        let memory_type = match obj.get("type") {
            None => None,
            Some(Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_owned()),
            Some(_) => return Err(CoreError::Invalid("type must be a non-empty string".into())),
        };
        let patch = MemoryPatch {
            content,
            memory_type,
            tags: input::opt_tags(obj.get("tags"), false)?,
            importance: input::opt_importance(obj.get("importance"))?,
            pinned: input::opt_bool(obj.get("pinned"), "pinned")?,
        };
        Ok(Self {
            reason,
            if_version,
            patch,
            changed_by: None,
            warnings: Vec::new(),
        })
    }

    /// The store mutation of this PATCH of memory `id` by `actor` (its `changed_by` filling an
    /// unnamed actor), timed now.
    pub fn into_mutation(self, id: String, actor: Actor) -> Mutation {
        let actor = resolve_actor(actor, self.changed_by.as_deref());
        let change = Change::Modify(self.patch);
        mutation(id, self.if_version, self.reason, actor, change)
    }
}

/// Reads the body of `PATCH /api/memory/{id}`.
impl TryFrom<&Value> for PatchInput {
    type Error = CoreError;

    fn try_from(body: &Value) -> Result<Self> {
        let obj = input::object(body)?;
        let mut patch = Self::read(obj, None)?;
        patch.changed_by = input::opt_trimmed(obj, "changed_by")?;
        patch.warnings = input::unknown_fields(obj, Self::FIELDS);
        Ok(patch)
    }
}

/// A validated DELETE or recover: fields from the body, falling back to the query string.
#[derive(Debug, Clone)]
pub struct GuardInput {
    /// Why (required).
    pub reason: String,
    /// Delete a pinned memory too (DELETE only).
    pub force: bool,
    /// The version the caller read; a different current version is a conflict.
    pub if_version: Option<i64>,
    /// The actor when no header or token names one (the body's `changed_by`).
    pub changed_by: Option<String>,
    /// The body's unknown fields, answered as `warnings`.
    pub warnings: Vec<String>,
}

impl GuardInput {
    /// The body fields a DELETE or recover reads.
    pub const FIELDS: &'static [&'static str] = &["reason", "force", "if_version", "changed_by"];

    /// The soft delete of memory `id` by `actor`, timed now.
    pub fn into_forget(self, id: String, actor: Actor) -> Mutation {
        let actor = resolve_actor(actor, self.changed_by.as_deref());
        let change = Change::Forget { force: self.force };
        mutation(id, self.if_version, self.reason, actor, change)
    }

    /// The recover of memory `id` by `actor`, timed now (`force` plays no part).
    pub fn into_recover(self, id: String, actor: Actor) -> Mutation {
        let actor = resolve_actor(actor, self.changed_by.as_deref());
        mutation(id, self.if_version, self.reason, actor, Change::Recover)
    }
}

/// Reads a DELETE or recover: the body (empty or an object) and the query string, each field
/// from the body unless it is absent or null there.
impl TryFrom<(&Value, &GuardQuery)> for GuardInput {
    type Error = CoreError;

    fn try_from((body, query): (&Value, &GuardQuery)) -> Result<Self> {
        let empty = Map::new();
        let obj = match body {
            Value::Null => &empty,
            b => input::object(b)?,
        };
        let get = |k: &str, fallback: &Option<String>| -> Option<Value> {
            obj.get(k)
                .filter(|v| !v.is_null())
                .cloned()
                .or_else(|| input::query_value(fallback.as_deref()))
        };
        let force = get("force", &query.force);
        Ok(Self {
            reason: input::reason(get("reason", &query.reason).as_ref())?,
            force: input::opt_bool(force.as_ref(), "force")?.unwrap_or(false),
            if_version: input::opt_if_version(get("if_version", &query.if_version).as_ref())?,
            changed_by: input::opt_trimmed(obj, "changed_by")?,
            warnings: input::unknown_fields(obj, Self::FIELDS),
        })
    }
}

/// A store mutation timed now.
pub(crate) fn mutation(
    id: String,
    if_version: Option<i64>,
    reason: String,
    actor: Actor,
    change: Change,
) -> Mutation {
    Mutation {
        id,
        if_version,
        reason,
        actor,
        now: now_iso(),
        change,
    }
}

/// Fills an unresolved actor (no `x-signet-actor` header, no token) from the body's
/// `changed_by` (trimmed, non-empty), else `daemon`.
pub fn resolve_actor(mut actor: Actor, changed_by: Option<&str>) -> Actor {
    if actor.changed_by.is_empty() {
        actor.changed_by = changed_by
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .unwrap_or("daemon")
            .to_owned();
    }
    actor
}

/// The wire answer of a mutation outcome (the server derives the status from `kind()`).
pub fn outcome_response(id: &str, o: &MutationOutcome) -> MutationResponse {
    use MutationOutcome as O;
    use MutationStatus as S;
    let r = |status| MutationResponse::new(id, status);
    match o {
        O::Updated {
            current,
            new,
            content_changed,
        } => {
            let mut r = r(S::Updated).versions(*current, Some(*new));
            r.content_changed = Some(*content_changed);
            r
        }
        O::NoChanges { current } => r(S::NoChanges).versions(*current, None),
        O::Deleted { current, new } => r(S::Deleted).versions(*current, Some(*new)),
        O::Recovered { current, new } => {
            let mut r = r(S::Recovered).versions(*current, Some(*new));
            r.retention_days = Some(30);
            r
        }
        O::NotFound => r(S::NotFound).error("Not found"),
        O::IsDeleted { current } => {
            refused(r(S::Deleted), *current, "Cannot modify deleted memory")
        }
        O::AlreadyDeleted { current } => {
            refused(r(S::AlreadyDeleted), *current, "Memory is already deleted")
        }
        O::NotDeleted { current } => refused(r(S::NotDeleted), *current, "Memory is not deleted"),
        O::VersionConflict { current } => {
            refused(r(S::VersionConflict), *current, "Version conflict")
        }
        O::DuplicateContentHash {
            current,
            duplicate_id,
        } => {
            let mut r = refused(
                r(S::DuplicateContentHash),
                *current,
                "Duplicate content hash",
            );
            r.duplicate_memory_id = Some(duplicate_id.clone());
            r
        }
        O::PinnedRequiresForce { current } => refused(
            r(S::PinnedRequiresForce),
            *current,
            "Pinned memories require force=true",
        ),
        O::AutonomousForceDenied { current } => refused(
            r(S::AutonomousForceDenied),
            *current,
            "Autonomous agents cannot force-delete pinned memories",
        ),
        O::RetentionExpired { current } => refused(
            r(S::RetentionExpired),
            *current,
            "Recover window expired (30 days)",
        ),
    }
}

/// An outcome that changed nothing: the current version and why.
fn refused(r: MutationResponse, current: i64, why: &str) -> MutationResponse {
    r.versions(current, None).error(why)
}

impl Memories {
    /// One single-memory mutation (PATCH, DELETE, recover): kill switch, one store transaction on
    /// the blocking pool (after the scope check), its event / conflict record, then the vector
    /// index brought in step.
    /// Build `m` with [`PatchInput::into_mutation`], [`GuardInput::into_forget`] or
    /// [`GuardInput::into_recover`].
    pub async fn mutate(&self, m: Mutation, scope: &Scope) -> Result<MutationOutcome> {
        self.ensure_unfrozen()?;
        let (store, scope) = (self.store.clone(), scope.clone());
        let (events, analytics) = (self.events.clone(), self.analytics.clone());
        let id = m.id.clone();
        let outcome = crate::blocking::run(move || {
            if let Err(e) = super::check_owner(store.as_ref(), &m.id, &scope) {
                let code = codes::MUTATION_SCOPE_DENIED;
                let entry = notify::mutation_error(code, e.to_string(), &m.id, &m.actor);
                analytics.record_error(entry);
                return Err(e);
            }
            let (key, actor) = (m.id.clone(), m.actor.clone());
            let outcome = store.mutate(m)?;
            notify::after_commit(&events, &analytics, store.as_ref(), &key, &outcome, &actor);
            Ok(outcome)
        })
        .await?;
        self.after_mutation(&id, &outcome).await;
        Ok(outcome)
    }

    /// Keeps the vector index in step with a committed mutation.
    pub(crate) async fn after_mutation(&self, id: &str, outcome: &MutationOutcome) {
        match outcome {
            MutationOutcome::Updated {
                content_changed: true,
                ..
            } => self.semantic.content_changed(id),
            MutationOutcome::Deleted { .. } => self.semantic.remove(id),
            MutationOutcome::Recovered { .. } => {
                let (sem, id) = (self.semantic.clone(), id.to_owned());
                let res = crate::blocking::run(move || sem.restore(&id)).await;
                if let Err(e) = res {
                    tracing::warn!(target: "embedding", error = %e, "could not restore a recovered memory's vector");
                    self.semantic.notify_changed();
                }
            }
            _ => {}
        }
    }

    pub(crate) fn ensure_unfrozen(&self) -> Result<()> {
        if self.policy().mutations_frozen {
            Err(CoreError::Frozen)
        } else {
            Ok(())
        }
    }
}
