//! Single-memory mutations: modify (PATCH), forget (soft delete) and recover, each inside a
//! transaction the caller opened. [`mutate`] loads the row and runs the one guard every
//! operation shares ([`refusal`]), then the operation's own rules, the row update and its
//! history row.

use rusqlite::{Connection, OptionalExtension, params};
use serde_json::json;
use signet_model::rules::{MutationRow, changed_fields, refusal, within_recover_window};

use super::write::{History, InsertHistory, live_by_hash};
use super::{Change, MemoryPatch, Mutation, MutationOutcome, RECOVER_WINDOW_MS};
use crate::error::Result;
use crate::row;

/// Runs one mutation: the shared guard, then modify, forget or recover.
pub fn mutate(tx: &Connection, m: &Mutation) -> Result<MutationOutcome> {
    let Some(cur) = load_current(tx, &m.id)? else {
        return Ok(MutationOutcome::NotFound);
    };
    if let Some(refused) = refusal(&cur, m) {
        return Ok(refused);
    }
    match &m.change {
        Change::Modify(patch) => modify(tx, m, patch, &cur),
        Change::Forget { force } => forget(tx, m, *force, &cur),
        Change::Recover => recover(tx, m, &cur),
    }
}

fn load_current(tx: &Connection, id: &str) -> Result<Option<MutationRow>> {
    Ok(tx
        .prepare_cached(
            "SELECT content, type AS memory_type, tags, importance, COALESCE(pinned, 0) AS pinned, \
             COALESCE(version, 1) AS version, COALESCE(is_deleted, 0) AS is_deleted, deleted_at, \
             content_hash FROM memories WHERE id = ?1",
        )?
        .query_row([id], row::decode::<MutationRow>)
        .optional()?)
}

/// Applies a PATCH: duplicate-hash guard, only-changed fields, history row.
fn modify(
    tx: &Connection,
    m: &Mutation,
    patch: &MemoryPatch,
    cur: &MutationRow,
) -> Result<MutationOutcome> {
    let current = cur.version;
    let changes = changed_fields(cur, patch);
    if changes.is_empty() {
        return Ok(MutationOutcome::NoChanges { current });
    }
    let content_changed = changes.contains(&"content");
    if let (true, Some((_, _, hash))) = (content_changed, &patch.content)
        && let Some(dup) = live_by_hash(tx, hash)?.filter(|d| d.id != m.id)
    {
        return Ok(MutationOutcome::DuplicateContentHash {
            current,
            duplicate_id: dup.id,
        });
    }
    apply_patch(tx, m, patch, &changes)?;
    let meta = json!({"changedFields": changes, "ifVersion": m.if_version, "contentChanged": content_changed});
    let new_content = patch
        .content
        .as_ref()
        .map_or(cur.content.as_str(), |c| c.0.as_str());
    History::new(&m.id, "updated", &m.actor, &m.now)
        .old_content(&cur.content)
        .new_content(new_content)
        .reason(&m.reason)
        .metadata(meta)
        .insert(tx)?;
    Ok(MutationOutcome::Updated {
        current,
        new: current + 1,
        content_changed,
    })
}

fn apply_patch(tx: &Connection, m: &Mutation, p: &MemoryPatch, changes: &[&str]) -> Result<()> {
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
        m.id,
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
        m.now,
        m.actor.changed_by,
    ])?;
    if let Some((_, _, hash)) = content {
        // The stored vector describes the old text: drop it so it is never served stale.
        tx.prepare_cached(
            "DELETE FROM embeddings WHERE source_type = 'memory' AND source_id = ?1 AND content_hash <> ?2",
        )?
        .execute(params![m.id, hash])?;
    }
    Ok(())
}

/// Soft-deletes one memory (the guard already applied the pinned / force / pipeline rules).
fn forget(
    tx: &Connection,
    m: &Mutation,
    force: bool,
    cur: &MutationRow,
) -> Result<MutationOutcome> {
    tx.prepare_cached(
        "UPDATE memories SET is_deleted = 1, deleted_at = ?2, updated_at = ?2, updated_by = ?3, \
         version = COALESCE(version, 1) + 1 WHERE id = ?1",
    )?
    .execute(params![m.id, m.now, m.actor.changed_by])?;
    History::new(&m.id, "deleted", &m.actor, &m.now)
        .old_content(&cur.content)
        .reason(&m.reason)
        .metadata(json!({"force": force, "ifVersion": m.if_version}))
        .insert(tx)?;
    Ok(MutationOutcome::Deleted {
        current: cur.version,
        new: cur.version + 1,
    })
}

/// Undoes a soft delete within the 30-day window, unless a live twin holds the content.
fn recover(tx: &Connection, m: &Mutation, cur: &MutationRow) -> Result<MutationOutcome> {
    let current = cur.version;
    if !within_recover_window(cur.deleted_at.as_deref(), &m.now) {
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
    .execute(params![m.id, m.now, m.actor.changed_by])?;
    History::new(&m.id, "recovered", &m.actor, &m.now)
        .new_content(&cur.content)
        .reason(&m.reason)
        .metadata(json!({"ifVersion": m.if_version, "retentionWindowMs": RECOVER_WINDOW_MS}))
        .insert(tx)?;
    Ok(MutationOutcome::Recovered {
        current,
        new: current + 1,
    })
}
