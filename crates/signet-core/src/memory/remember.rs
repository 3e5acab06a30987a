//! The remember write path: validate, parse prefixes, normalise, dedup, insert (or chunk).

use serde_json::Value;
use signet_api::{ChunkedMemory, RememberResponse, StoredMemory};
use signet_model::memories::{
    Actor, ChunkGroup, DedupHit, NewMemory, RememberOutcome, WriteOptions,
};
use signet_model::time::now_iso;

use super::{Memories, MemoryPolicy};
use super::{check_owner, input};
use crate::error::{CoreError, Result};
use crate::text;

/// A validated remember request: the body of `POST /api/memory/remember`, read by
/// `TryFrom<&Value>`.
#[derive(Debug, Clone, Default)]
pub struct RememberInput {
    /// The text, trimmed, prefixes (`critical:`, `[tags]:`) still in place.
    pub content: String,
    pub who: Option<String>,
    pub project: Option<String>,
    pub importance: Option<f64>,
    pub tags: Option<Option<String>>,
    pub pinned: Option<bool>,
    pub memory_type: Option<String>,
    pub source_type: Option<String>,
    pub source_id: Option<String>,
    /// When the memory happened (`createdAt`, ISO-8601); default now. For imports.
    pub created_at: Option<String>,
    /// The actor when no header or token names one (`changed_by`).
    pub changed_by: Option<String>,
    /// Stored as one memory however long (session summaries), never chunked. Not a body
    /// field: set by in-process callers.
    pub whole: bool,
    /// The body's unknown fields, answered as `warnings`.
    pub warnings: Vec<String>,
}

impl RememberInput {
    /// The body fields remember reads (`changed_by` names the actor without a header).
    pub const FIELDS: &'static [&'static str] = &[
        "content",
        "who",
        "project",
        "importance",
        "tags",
        "pinned",
        "type",
        "sourceType",
        "sourceId",
        "createdAt",
        "changed_by",
    ];
}

/// Reads the JSON body of `POST /api/memory/remember`.
impl TryFrom<&Value> for RememberInput {
    type Error = CoreError;

    fn try_from(body: &Value) -> Result<Self> {
        let obj = input::object(body)?;
        let content = input::required_text(obj, "content")?;
        Ok(Self {
            content,
            who: input::opt_trimmed(obj, "who")?,
            project: input::opt_trimmed(obj, "project")?,
            importance: input::opt_importance(obj.get("importance"))?,
            tags: input::opt_tags(obj.get("tags"), false)?,
            pinned: input::opt_bool(obj.get("pinned"), "pinned")?,
            memory_type: input::opt_trimmed(obj, "type")?,
            source_type: input::opt_trimmed(obj, "sourceType")?,
            source_id: input::opt_trimmed(obj, "sourceId")?,
            created_at: match input::opt_trimmed(obj, "createdAt")? {
                None => None,
                Some(t) => Some(
                    signet_model::time::parse(&t)
                        .map(signet_model::time::format_iso)
                        .ok_or_else(|| {
                            CoreError::Invalid("createdAt must be an ISO-8601 timestamp".into())
                        })?,
                ),
            },
            changed_by: input::opt_trimmed(obj, "changed_by")?,
            whole: false,
            warnings: input::unknown_fields(obj, Self::FIELDS),
        })
    }
}

/// The attributes every row of one remember shares.
struct Shared {
    who: String,
    why: &'static str,
    project: Option<String>,
    importance: f64,
    pinned: bool,
    tags: Option<String>,
    extraction_status: &'static str,
    created_at: String,
    /// The user of a user-scoped token, stamped as `scope_user`; never from the request.
    scope_user: Option<String>,
}

impl Shared {
    /// The request's attributes, the prefixes' where the request leaves them out, the caller's
    /// scope pinned (`project`, `who`).
    fn new(
        req: &RememberInput,
        parsed: &text::Prefixed,
        policy: &MemoryPolicy,
        scope: &crate::auth::Scope,
        (project, who): (Option<String>, Option<String>),
    ) -> Self {
        let pinned = req.pinned.unwrap_or(parsed.pinned);
        Self {
            who: who.unwrap_or_else(|| "daemon".into()),
            why: if pinned {
                "explicit-critical"
            } else {
                "explicit"
            },
            project,
            importance: req.importance.unwrap_or(parsed.importance),
            pinned,
            tags: req.tags.clone().unwrap_or_else(|| parsed.tags.clone()),
            extraction_status: if policy.extraction.enqueues() {
                "pending"
            } else {
                "none"
            },
            created_at: req.created_at.clone().unwrap_or_else(now_iso),
            scope_user: scope.user.clone(),
        }
    }
}

impl Memories {
    /// Stores one memory (or its chunks) and answers with upstream's response shape (and the
    /// request's `warnings`). `actor` is the caller's; the body's `changed_by` fills it when
    /// no header or token named one.
    pub async fn remember(
        &self,
        mut req: RememberInput,
        actor: Actor,
        scope: &crate::auth::Scope,
    ) -> Result<RememberResponse> {
        let warnings = std::mem::take(&mut req.warnings);
        let mut answer = self.remember_one(req, actor, scope).await?;
        answer.set_warnings(warnings);
        Ok(answer)
    }

    async fn remember_one(
        &self,
        req: RememberInput,
        actor: Actor,
        scope: &crate::auth::Scope,
    ) -> Result<RememberResponse> {
        let actor = super::resolve_actor(actor, req.changed_by.as_deref());
        let owner = pin_owner(&req, scope)?;
        let policy = self.policy();
        if policy.mutations_frozen {
            return Err(CoreError::Frozen);
        }
        let parsed = text::parse_prefixes(&req.content);
        let shared = Shared::new(&req, &parsed, &policy, scope, owner);
        let opts = WriteOptions {
            enqueue_extraction: policy.extraction.enqueues(),
            extraction_attempts: policy.extraction_attempts,
        };
        if !req.whole && req.content.chars().count() > policy.max_content_chars {
            return self
                .remember_chunked(&parsed.content, shared, &policy, opts, actor)
                .await;
        }
        let row = single_row(&req, &parsed.content, &shared)?;
        let (row, outcome) = self.insert_or_dedup(row, opts, actor, scope).await?;
        if matches!(outcome, RememberOutcome::Inserted) {
            self.announce_created(&row, opts.enqueue_extraction);
        }
        Ok(remember_response(row, outcome))
    }

    /// Writes `row` unless identical content exists; a duplicate outside the caller's scope is
    /// refused rather than revealed.
    async fn insert_or_dedup(
        &self,
        row: NewMemory,
        opts: WriteOptions,
        actor: Actor,
        scope: &crate::auth::Scope,
    ) -> Result<(NewMemory, RememberOutcome)> {
        let (store, scope) = (self.store.clone(), scope.clone());
        crate::blocking::run(move || {
            let outcome = store.remember(&row, opts, &actor)?;
            if let RememberOutcome::Deduped(hit) = &outcome
                && check_owner(store.as_ref(), &hit.id, &scope).is_err()
            {
                return Err(CoreError::Forbidden(
                    "identical content already exists outside this token's scope".into(),
                ));
            }
            Ok((row, outcome))
        })
        .await
    }

    /// After an insert: wakes the embedding worker, publishes the event, logs.
    fn announce_created(&self, row: &NewMemory, job: bool) {
        self.semantic.notify();
        self.publish_created(
            &row.id,
            Some(&row.memory_type),
            row.project.as_deref(),
            &row.who,
            row.scope_user.as_deref(),
            job,
        );
        tracing::info!(target: "memory", id = %row.id, "memory saved");
    }

    async fn remember_chunked(
        &self,
        content: &str,
        shared: Shared,
        policy: &MemoryPolicy,
        opts: WriteOptions,
        actor: Actor,
    ) -> Result<RememberResponse> {
        let group = chunk_group(content, &shared, policy)?;
        let group_id = group.group_id.clone();
        let store = self.store.clone();
        let now = shared.created_at.clone();
        let ids =
            crate::blocking::run(move || Ok(store.remember_chunks(&group, opts, &actor, &now)?))
                .await?;
        self.semantic.notify();
        for id in &ids {
            let (project, user) = (shared.project.as_deref(), shared.scope_user.as_deref());
            self.publish_created(
                id,
                None,
                project,
                &shared.who,
                user,
                opts.enqueue_extraction,
            );
        }
        tracing::info!(target: "memory", group = %group_id, chunks = ids.len(), "memory saved in chunks");
        Ok(RememberResponse::Chunked(ChunkedMemory {
            chunked: true,
            chunk_count: ids.len(),
            ids,
            group_id,
            warnings: Vec::new(),
            extra: Default::default(),
        }))
    }
}

/// The request's `project` and `who`, pinned to the caller's scope.
fn pin_owner(
    req: &RememberInput,
    scope: &crate::auth::Scope,
) -> Result<(Option<String>, Option<String>)> {
    let forbid = CoreError::Forbidden;
    let project = scope.pin("project", req.project.clone()).map_err(forbid)?;
    let who = scope.pin("who", req.who.clone()).map_err(forbid)?;
    Ok((project, who))
}

/// The row of a memory short enough to store whole; its type inferred unless given.
fn single_row(req: &RememberInput, content: &str, shared: &Shared) -> Result<NewMemory> {
    let norm =
        text::normalize(content).ok_or_else(|| CoreError::Invalid("content is required".into()))?;
    let memory_type = req
        .memory_type
        .clone()
        .unwrap_or_else(|| text::infer_type(&norm.storage).into());
    Ok(new_row(
        norm,
        memory_type,
        shared,
        req.source_type.clone(),
        req.source_id.clone(),
    ))
}

/// The rows of a memory too long to store whole: sentence chunks sharing one group id.
fn chunk_group(content: &str, shared: &Shared, policy: &MemoryPolicy) -> Result<ChunkGroup> {
    let group_id = uuid::Uuid::new_v4().to_string();
    let chunks: Vec<NewMemory> = text::chunk_sentences(content, policy.chunk_target_chars)
        .iter()
        .filter_map(|c| text::normalize(c))
        .map(|n| {
            let t = text::infer_type(&n.storage).to_owned();
            new_row(n, t, shared, Some("chunk".into()), Some(group_id.clone()))
        })
        .collect();
    if chunks.is_empty() {
        return Err(CoreError::Invalid(
            "content produced no valid chunks".into(),
        ));
    }
    Ok(ChunkGroup { group_id, chunks })
}

/// Upstream's response: the new row, or the existing one it duplicates (`deduped`).
fn remember_response(row: NewMemory, outcome: RememberOutcome) -> RememberResponse {
    let (deduped, m) = match outcome {
        RememberOutcome::Inserted => (
            false,
            DedupHit {
                id: row.id,
                memory_type: row.memory_type,
                tags: row.tags,
                pinned: row.pinned,
                importance: row.importance,
                content: row.content,
            },
        ),
        RememberOutcome::Deduped(hit) => (true, hit),
    };
    RememberResponse::Stored(StoredMemory {
        id: m.id,
        type_: m.memory_type,
        tags: m.tags,
        pinned: m.pinned,
        importance: m.importance,
        content: m.content,
        embedded: false,
        deduped,
        warnings: Vec::new(),
        extra: Default::default(),
    })
}

fn new_row(
    n: text::Normalized,
    memory_type: String,
    s: &Shared,
    source_type: Option<String>,
    source_id: Option<String>,
) -> NewMemory {
    NewMemory {
        id: uuid::Uuid::new_v4().to_string(),
        content: n.storage,
        normalized_content: n.normalized,
        content_hash: n.hash,
        memory_type,
        tags: s.tags.clone(),
        who: s.who.clone(),
        why: s.why.into(),
        project: s.project.clone(),
        importance: s.importance,
        pinned: s.pinned,
        source_type: source_type.unwrap_or_else(|| "manual".into()),
        source_id,
        extraction_status: s.extraction_status.into(),
        created_at: s.created_at.clone(),
        scope_user: s.scope_user.clone(),
    }
}
