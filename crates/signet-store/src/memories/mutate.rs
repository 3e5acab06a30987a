//! Single-memory mutations: modify (PATCH), forget (soft delete) and recover, each inside a
//! transaction the caller opened. [`mutate`] loads the row and runs the one guard every
//! operation shares ([`refusal`]), then the operation's own rules, the row update and its
//! history row.

use rusqlite::{Connection, OptionalExtension, params};
use serde_json::json;

use super::write::{History, live_by_hash};
use super::{Change, MemoryPatch, Mutation, MutationOutcome, RECOVER_WINDOW_MS};
use crate::error::Result;
use crate::row;

/// The columns a mutation needs to decide its outcome.
#[derive(serde::Deserialize)]
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

fn load_current(tx: &Connection, id: &str) -> Result<Option<Current>> {
    Ok(tx
        .prepare_cached(
            "SELECT content, type AS memory_type, tags, importance, COALESCE(pinned, 0) AS pinned, \
             COALESCE(version, 1) AS version, COALESCE(is_deleted, 0) AS is_deleted, deleted_at, \
             content_hash FROM memories WHERE id = ?1",
        )?
        .query_row([id], row::decode::<Current>)
        .optional()?)
}

/// The guard every mutation passes, in order: the row is in the state the operation needs
/// (live; deleted for recover), its version is the one the caller read, and a pinned row is
/// deleted only with `force`, never by a pipeline actor. `None`: the operation may run.
fn refusal(cur: &Current, m: &Mutation) -> Option<MutationOutcome> {
    use MutationOutcome as O;
    let current = cur.version;
    let wrong_state = match (&m.change, cur.is_deleted) {
        (Change::Modify(_), true) => Some(O::IsDeleted { current }),
        (Change::Forget { .. }, true) => Some(O::AlreadyDeleted { current }),
        (Change::Recover, false) => Some(O::NotDeleted { current }),
        _ => None,
    };
    if wrong_state.is_some() {
        return wrong_state;
    }
    if m.if_version.is_some_and(|v| v != current) {
        return Some(O::VersionConflict { current });
    }
    match m.change {
        Change::Forget { force: false } if cur.pinned => Some(O::PinnedRequiresForce { current }),
        Change::Forget { force: true }
            if cur.pinned && m.actor.actor_type.as_deref() == Some("pipeline") =>
        {
            Some(O::AutonomousForceDenied { current })
        }
        _ => None,
    }
}

/// Applies a PATCH: duplicate-hash guard, only-changed fields, history row.
fn modify(
    tx: &Connection,
    m: &Mutation,
    patch: &MemoryPatch,
    cur: &Current,
) -> Result<MutationOutcome> {
    let current = cur.version;
    let changes = diff(cur, patch);
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

fn apply_patch(tx: &Connection, m: &Mutation, p: &MemoryPatch, changes: &[&str]) -> Result<()> {
    let has = |f: &str| changes.contains(&f);
    let content = p.content.as_ref().filter(|_| has("content"));
    tx.prepare_cached(
        "UPDATE memories SET \
           content = COALESCE(?2, content), \
           normalized_content = CASE WHEN ?2 IS NULL THEN normalized_content ELSE NULLIF(?3, ?2) END, \
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
fn forget(tx: &Connection, m: &Mutation, force: bool, cur: &Current) -> Result<MutationOutcome> {
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
fn recover(tx: &Connection, m: &Mutation, cur: &Current) -> Result<MutationOutcome> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memories::Actor;

    fn row(pinned: bool, is_deleted: bool) -> Current {
        Current {
            content: "c".into(),
            memory_type: "fact".into(),
            tags: None,
            importance: None,
            pinned,
            version: 3,
            is_deleted,
            deleted_at: None,
            content_hash: None,
        }
    }

    fn mutation(change: Change, if_version: Option<i64>, actor_type: Option<&str>) -> Mutation {
        Mutation {
            id: "m1".into(),
            if_version,
            reason: "test".into(),
            actor: Actor {
                changed_by: "tester".into(),
                actor_type: actor_type.map(str::to_owned),
                ..Actor::default()
            },
            now: "2025-01-01T00:00:00.000Z".into(),
            change,
        }
    }

    const FORGET: Change = Change::Forget { force: false };
    const FORCE: Change = Change::Forget { force: true };

    #[test]
    fn the_state_rule_comes_before_the_version_guard() {
        use MutationOutcome as O;
        let stale = Some(1);
        let modify = Change::Modify(MemoryPatch::default());
        let cases = [
            (modify, true, O::IsDeleted { current: 3 }),
            (FORGET, true, O::AlreadyDeleted { current: 3 }),
            (Change::Recover, false, O::NotDeleted { current: 3 }),
        ];
        for (change, deleted, expected) in cases {
            let m = mutation(change, stale, None);
            assert_eq!(refusal(&row(false, deleted), &m), Some(expected));
        }
    }

    #[test]
    fn the_version_guard_comes_before_the_pinned_rules() {
        let pinned = row(true, false);
        let stale = mutation(FORGET, Some(2), None);
        let conflict = MutationOutcome::VersionConflict { current: 3 };
        assert_eq!(refusal(&pinned, &stale), Some(conflict));
        let fresh = mutation(FORGET, Some(3), None);
        let needs_force = MutationOutcome::PinnedRequiresForce { current: 3 };
        assert_eq!(refusal(&pinned, &fresh), Some(needs_force));
    }

    #[test]
    fn pinned_rows_need_force_and_a_non_pipeline_actor() {
        let (pinned, plain) = (row(true, false), row(false, false));
        let denied = MutationOutcome::AutonomousForceDenied { current: 3 };
        let by_pipeline = mutation(FORCE, None, Some("pipeline"));
        assert_eq!(refusal(&pinned, &by_pipeline), Some(denied));
        assert!(refusal(&pinned, &mutation(FORCE, None, Some("operator"))).is_none());
        assert!(refusal(&plain, &mutation(FORGET, None, None)).is_none());
        let patch = Change::Modify(MemoryPatch::default());
        assert!(refusal(&pinned, &mutation(patch, Some(3), None)).is_none());
        let deleted = row(true, true);
        assert!(refusal(&deleted, &mutation(Change::Recover, None, None)).is_none());
    }
}
