//! Write transactions: remember, chunked remember, modify, forget, recover, access tracking.
//! Each public function runs inside a transaction the caller opened; it never commits itself.

use rusqlite::{Connection, OptionalExtension, params};
use serde_json::json;

use super::{
    Actor, ChunkGroup, DedupHit, MemoryPatch, MutationOutcome, NewMemory, RECOVER_WINDOW_MS,
    RememberOutcome, WriteOptions,
};
use crate::error::Result;

/// Dedups by (source_type, source_id) then by content hash among live rows; inserts otherwise.
pub fn remember(
    tx: &Connection,
    m: &NewMemory,
    opts: WriteOptions,
    actor: &Actor,
) -> Result<RememberOutcome> {
    if let Some(hit) = find_duplicate(tx, m)? {
        return Ok(RememberOutcome::Deduped(hit));
    }
    insert(tx, m, opts, actor)?;
    Ok(RememberOutcome::Inserted)
}

fn find_duplicate(tx: &Connection, m: &NewMemory) -> Result<Option<DedupHit>> {
    const COLS: &str = "id, type, tags, pinned, importance, content";
    if let Some(source_id) = &m.source_id {
        let sql = format!(
            "SELECT {COLS} FROM memories WHERE source_type = ?1 AND source_id = ?2 AND is_deleted = 0 LIMIT 1"
        );
        let hit = tx
            .prepare_cached(&sql)?
            .query_row(params![m.source_type, source_id], dedup_hit)
            .optional()?;
        if hit.is_some() {
            return Ok(hit);
        }
    }
    live_by_hash(tx, &m.content_hash)
}

fn live_by_hash(tx: &Connection, hash: &str) -> Result<Option<DedupHit>> {
    Ok(tx
        .prepare_cached(
            "SELECT id, type, tags, pinned, importance, content FROM memories \
             WHERE content_hash = ?1 AND is_deleted = 0 LIMIT 1",
        )?
        .query_row([hash], dedup_hit)
        .optional()?)
}

fn dedup_hit(r: &rusqlite::Row<'_>) -> rusqlite::Result<DedupHit> {
    Ok(DedupHit {
        id: r.get(0)?,
        memory_type: r.get(1)?,
        tags: r.get(2)?,
        pinned: r.get::<_, Option<i64>>(3)?.unwrap_or(0) != 0,
        importance: r.get::<_, Option<f64>>(4)?.unwrap_or(0.5),
        content: r.get(5)?,
    })
}

fn insert(tx: &Connection, m: &NewMemory, opts: WriteOptions, actor: &Actor) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO memories (id, content, normalized_content, content_hash, who, why, project, \
         importance, type, tags, pinned, is_deleted, extraction_status, embedding_model, \
         extraction_model, created_at, updated_at, updated_by, source_type, source_id, scope_user) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, 0, ?12, NULL, NULL, ?13, ?13, ?5, ?14, ?15, ?16)",
    )?
    .execute(params![
        m.id,
        m.content,
        m.normalized_content,
        m.content_hash,
        m.who,
        m.why,
        m.project,
        m.importance,
        m.memory_type,
        m.tags,
        m.pinned as i64,
        m.extraction_status,
        m.created_at,
        m.source_type,
        m.source_id,
        m.scope_user,
    ])?;
    let meta = json!({"source": "remember", "sourceType": m.source_type});
    let event = History::new(&m.id, "created", actor, &m.created_at)
        .new_content(&m.content)
        .metadata(meta);
    event.insert(tx)?;
    if opts.enqueue_extraction {
        enqueue_extraction(tx, &m.id, &m.created_at)?;
    }
    Ok(())
}

/// Inserts the chunks of one long remember and their `chunk_group` entity; returns the ids
/// inserted (chunks whose content already lives are skipped, as upstream does).
pub fn remember_chunks(
    tx: &Connection,
    group: &ChunkGroup,
    opts: WriteOptions,
    actor: &Actor,
    now: &str,
) -> Result<Vec<String>> {
    let name = format!("chunk-group:{}", group.group_id);
    tx.prepare_cached(
        "INSERT INTO entities (id, name, canonical_name, entity_type, agent_id, mentions, created_at, updated_at) \
         VALUES (?1, ?2, ?2, 'chunk_group', 'default', 0, ?3, ?3)",
    )?
    .execute(params![group.group_id, name, now])?;
    let mut ids = Vec::with_capacity(group.chunks.len());
    for chunk in &group.chunks {
        if live_by_hash(tx, &chunk.content_hash)?.is_some() {
            continue;
        }
        insert(tx, chunk, opts, actor)?;
        tx.prepare_cached(
            "INSERT OR IGNORE INTO memory_entity_mentions (memory_id, entity_id, mention_text, confidence, created_at) \
             VALUES (?1, ?2, 'chunk', 1.0, ?3)",
        )?
        .execute(params![chunk.id, group.group_id, now])?;
        ids.push(chunk.id.clone());
    }
    Ok(ids)
}

fn enqueue_extraction(tx: &Connection, memory_id: &str, now: &str) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO memory_jobs (id, memory_id, job_type, status, attempts, max_attempts, created_at, updated_at) \
         SELECT ?1, ?2, 'extract', 'pending', 0, 3, ?3, ?3 WHERE NOT EXISTS ( \
           SELECT 1 FROM memory_jobs WHERE memory_id = ?2 AND job_type = 'extract' \
           AND status IN ('pending', 'leased'))",
    )?
    .execute(params![uuid::Uuid::new_v4().to_string(), memory_id, now])?;
    Ok(())
}

/// The columns a mutation needs to decide its outcome.
struct Current {
    content: String,
    memory_type: String,
    tags: Option<String>,
    importance: Option<f64>,
    pinned: bool,
    version: i64,
    is_deleted: bool,
    deleted_at: Option<String>,
    content_hash: Option<String>,
}

fn load_current(tx: &Connection, id: &str) -> Result<Option<Current>> {
    Ok(tx
        .prepare_cached(
            "SELECT content, type, tags, importance, pinned, COALESCE(version, 1), \
             COALESCE(is_deleted, 0), deleted_at, content_hash FROM memories WHERE id = ?1",
        )?
        .query_row([id], |r| {
            Ok(Current {
                content: r.get(0)?,
                memory_type: r.get(1)?,
                tags: r.get(2)?,
                importance: r.get(3)?,
                pinned: r.get::<_, Option<i64>>(4)?.unwrap_or(0) != 0,
                version: r.get(5)?,
                is_deleted: r.get::<_, i64>(6)? != 0,
                deleted_at: r.get(7)?,
                content_hash: r.get(8)?,
            })
        })
        .optional()?)
}

/// Applies a PATCH: version guard, duplicate-hash guard, only-changed fields, history row.
pub fn modify(
    tx: &Connection,
    id: &str,
    patch: &MemoryPatch,
    if_version: Option<i64>,
    reason: &str,
    actor: &Actor,
    now: &str,
) -> Result<MutationOutcome> {
    let Some(cur) = load_current(tx, id)? else {
        return Ok(MutationOutcome::NotFound);
    };
    let current = cur.version;
    if cur.is_deleted {
        return Ok(MutationOutcome::IsDeleted { current });
    }
    if if_version.is_some_and(|v| v != current) {
        return Ok(MutationOutcome::VersionConflict { current });
    }
    let changes = diff(&cur, patch);
    if changes.is_empty() {
        return Ok(MutationOutcome::NoChanges { current });
    }
    let content_changed = changes.contains(&"content");
    if let (true, Some((_, _, hash))) = (content_changed, &patch.content)
        && let Some(dup) = live_by_hash(tx, hash)?.filter(|d| d.id != id)
    {
        return Ok(MutationOutcome::DuplicateContentHash {
            current,
            duplicate_id: dup.id,
        });
    }
    apply_patch(tx, id, patch, &changes, actor, now)?;
    let meta = json!({"changedFields": changes, "ifVersion": if_version, "contentChanged": content_changed});
    let new_content = patch
        .content
        .as_ref()
        .map_or(cur.content.as_str(), |c| c.0.as_str());
    History::new(id, "updated", actor, now)
        .old_content(&cur.content)
        .new_content(new_content)
        .reason(reason)
        .metadata(meta)
        .insert(tx)?;
    Ok(MutationOutcome::Updated {
        current,
        new: current + 1,
        content_changed,
    })
}

fn diff(cur: &Current, p: &MemoryPatch) -> Vec<&'static str> {
    let mut out = Vec::new();
    if p.content.as_ref().is_some_and(|c| c.0 != cur.content) {
        out.push("content");
    }
    if p.memory_type
        .as_ref()
        .is_some_and(|t| *t != cur.memory_type)
    {
        out.push("type");
    }
    if p.tags.as_ref().is_some_and(|t| *t != cur.tags) {
        out.push("tags");
    }
    if p.importance.is_some_and(|i| Some(i) != cur.importance) {
        out.push("importance");
    }
    if p.pinned.is_some_and(|b| b != cur.pinned) {
        out.push("pinned");
    }
    out
}

fn apply_patch(
    tx: &Connection,
    id: &str,
    p: &MemoryPatch,
    changes: &[&str],
    actor: &Actor,
    now: &str,
) -> Result<()> {
    let has = |f: &str| changes.contains(&f);
    let content = p.content.as_ref().filter(|_| has("content"));
    tx.prepare_cached(
        "UPDATE memories SET \
           content = COALESCE(?2, content), \
           normalized_content = CASE WHEN ?2 IS NULL THEN normalized_content ELSE ?3 END, \
           content_hash = CASE WHEN ?2 IS NULL THEN content_hash ELSE ?4 END, \
           extraction_status = CASE WHEN ?2 IS NULL THEN extraction_status ELSE 'none' END, \
           extraction_model = CASE WHEN ?2 IS NULL THEN extraction_model ELSE NULL END, \
           embedding_model = CASE WHEN ?2 IS NULL THEN embedding_model ELSE NULL END, \
           type = CASE WHEN ?5 THEN ?6 ELSE type END, \
           tags = CASE WHEN ?7 THEN ?8 ELSE tags END, \
           importance = CASE WHEN ?9 THEN ?10 ELSE importance END, \
           pinned = CASE WHEN ?11 THEN ?12 ELSE pinned END, \
           version = COALESCE(version, 1) + 1, update_count = COALESCE(update_count, 0) + 1, \
           updated_at = ?13, updated_by = ?14 \
         WHERE id = ?1",
    )?
    .execute(params![
        id,
        content.map(|c| &c.0),
        content.map(|c| &c.1),
        content.map(|c| &c.2),
        has("type"),
        p.memory_type,
        has("tags"),
        p.tags.clone().flatten(),
        has("importance"),
        p.importance,
        has("pinned"),
        p.pinned.map(|b| b as i64),
        now,
        actor.changed_by,
    ])?;
    if let Some((_, _, hash)) = content {
        // The stored vector describes the old text: drop it so it is never served stale.
        tx.prepare_cached(
            "DELETE FROM embeddings WHERE source_type = 'memory' AND source_id = ?1 AND content_hash <> ?2",
        )?
        .execute(params![id, hash])?;
    }
    Ok(())
}

/// Soft-deletes one memory (the pinned / force / pipeline rules apply).
pub fn forget(
    tx: &Connection,
    id: &str,
    force: bool,
    if_version: Option<i64>,
    reason: &str,
    actor: &Actor,
    now: &str,
) -> Result<MutationOutcome> {
    let Some(cur) = load_current(tx, id)? else {
        return Ok(MutationOutcome::NotFound);
    };
    let current = cur.version;
    if cur.is_deleted {
        return Ok(MutationOutcome::AlreadyDeleted { current });
    }
    if if_version.is_some_and(|v| v != current) {
        return Ok(MutationOutcome::VersionConflict { current });
    }
    if cur.pinned && !force {
        return Ok(MutationOutcome::PinnedRequiresForce { current });
    }
    if cur.pinned && actor.actor_type.as_deref() == Some("pipeline") {
        return Ok(MutationOutcome::AutonomousForceDenied { current });
    }
    tx.prepare_cached(
        "UPDATE memories SET is_deleted = 1, deleted_at = ?2, updated_at = ?2, updated_by = ?3, \
         version = COALESCE(version, 1) + 1 WHERE id = ?1",
    )?
    .execute(params![id, now, actor.changed_by])?;
    History::new(id, "deleted", actor, now)
        .old_content(&cur.content)
        .reason(reason)
        .metadata(json!({"force": force, "ifVersion": if_version}))
        .insert(tx)?;
    Ok(MutationOutcome::Deleted {
        current,
        new: current + 1,
    })
}

/// Undoes a soft delete within the 30-day window.
pub fn recover(
    tx: &Connection,
    id: &str,
    if_version: Option<i64>,
    reason: &str,
    actor: &Actor,
    now: &str,
) -> Result<MutationOutcome> {
    let Some(cur) = load_current(tx, id)? else {
        return Ok(MutationOutcome::NotFound);
    };
    let current = cur.version;
    if !cur.is_deleted {
        return Ok(MutationOutcome::NotDeleted { current });
    }
    if if_version.is_some_and(|v| v != current) {
        return Ok(MutationOutcome::VersionConflict { current });
    }
    if !within_recover_window(cur.deleted_at.as_deref(), now) {
        return Ok(MutationOutcome::RetentionExpired { current });
    }
    // A live twin with the same content would break the live-hash uniqueness: say so.
    if let Some(hash) = &cur.content_hash
        && let Some(dup) = live_by_hash(tx, hash)?
    {
        return Ok(MutationOutcome::DuplicateContentHash {
            current,
            duplicate_id: dup.id,
        });
    }
    tx.prepare_cached(
        "UPDATE memories SET is_deleted = 0, deleted_at = NULL, updated_at = ?2, updated_by = ?3, \
         version = COALESCE(version, 1) + 1 WHERE id = ?1",
    )?
    .execute(params![id, now, actor.changed_by])?;
    History::new(id, "recovered", actor, now)
        .new_content(&cur.content)
        .reason(reason)
        .metadata(json!({"ifVersion": if_version, "retentionWindowMs": RECOVER_WINDOW_MS}))
        .insert(tx)?;
    Ok(MutationOutcome::Recovered {
        current,
        new: current + 1,
    })
}

fn within_recover_window(deleted_at: Option<&str>, now: &str) -> bool {
    let (Some(d), Some(n)) = (
        deleted_at.and_then(crate::time::parse),
        crate::time::parse(now),
    ) else {
        return false;
    };
    let age = n.signed_duration_since(d).num_milliseconds();
    age <= RECOVER_WINDOW_MS
}

/// Bumps `access_count` and `last_accessed` for recalled memories.
pub fn touch_accessed(tx: &Connection, ids: &[String], now: &str) -> Result<()> {
    let mut stmt = tx.prepare_cached(
        "UPDATE memories SET last_accessed = ?2, access_count = COALESCE(access_count, 0) + 1 WHERE id = ?1",
    )?;
    for id in ids {
        stmt.execute(params![id, now])?;
    }
    Ok(())
}

/// A `memory_history` row under construction.
pub(crate) struct History<'a> {
    memory_id: &'a str,
    event: &'a str,
    actor: &'a Actor,
    created_at: &'a str,
    old_content: Option<&'a str>,
    new_content: Option<&'a str>,
    reason: Option<&'a str>,
    metadata: Option<serde_json::Value>,
}

impl<'a> History<'a> {
    pub(crate) fn new(memory_id: &'a str, event: &'a str, actor: &'a Actor, at: &'a str) -> Self {
        Self {
            memory_id,
            event,
            actor,
            created_at: at,
            old_content: None,
            new_content: None,
            reason: None,
            metadata: None,
        }
    }
    fn old_content(mut self, c: &'a str) -> Self {
        self.old_content = Some(c);
        self
    }
    fn new_content(mut self, c: &'a str) -> Self {
        self.new_content = Some(c);
        self
    }
    fn reason(mut self, r: &'a str) -> Self {
        self.reason = Some(r);
        self
    }
    fn metadata(mut self, m: serde_json::Value) -> Self {
        self.metadata = Some(m);
        self
    }
    pub(crate) fn insert(&self, tx: &Connection) -> Result<()> {
        tx.prepare_cached(
            "INSERT INTO memory_history (id, memory_id, event, old_content, new_content, changed_by, \
             reason, metadata, created_at, actor_type, session_id, request_id) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        )?
        .execute(params![
            uuid::Uuid::new_v4().to_string(),
            self.memory_id,
            self.event,
            self.old_content,
            self.new_content,
            self.actor.changed_by,
            self.reason,
            self.metadata.as_ref().map(|m| m.to_string()),
            self.created_at,
            self.actor.actor_type,
            self.actor.session_id,
            self.actor.request_id,
        ])?;
        Ok(())
    }
}
