//! Decisions every backend makes the same way, written once: a single-memory mutation (the
//! guard, modify / forget / recover and their history rows, over [`MutationTx`]) and its
//! refusal codes, which fields a patch changes, the recover window, the `memory_history` row a
//! write records, the extraction audit's metadata, a job's state after a failed attempt, and
//! the order of an import (memory, then its history, then its vector).
//!
//! Only the logic lives here: each backend still loads the rows and writes them in its own SQL
//! (`signet-store` over rusqlite, `signet-store-pg` over `postgres`), calling these functions
//! between. Keeping them in one place is what keeps the two backends' answers identical (the
//! conformance suite checks the result; this keeps there being one rule to check).

use serde_json::{Map, Value};

use crate::JsonRow;
use crate::Result;
use crate::documents::FailedJob;
use crate::export::{ImportItem, ImportOutcome, ImportedItem, StoredEmbedding};
use crate::memories::{Actor, Change, MemoryPatch, Mutation, MutationOutcome, RECOVER_WINDOW_MS};
use crate::pipeline::WriteOutcome;

/// The columns of one memory a mutation decides on, loaded by the backend (locked on
/// PostgreSQL) inside the mutation's transaction.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct MutationRow {
    pub content: String,
    pub memory_type: String,
    pub tags: Option<String>,
    pub importance: Option<f64>,
    pub pinned: bool,
    pub version: i64,
    pub is_deleted: bool,
    pub deleted_at: Option<String>,
    pub content_hash: Option<String>,
}

/// One backend's statements for a single-memory mutation, inside the transaction its caller
/// opened; [`mutate`] decides what runs.
pub trait MutationTx {
    /// The columns the guard decides on (PostgreSQL locks the row until the commit).
    fn load(&mut self, id: &str) -> Result<Option<MutationRow>>;
    /// The id of a live memory holding the content `hash`, if any.
    fn live_with_hash(&mut self, hash: &str) -> Result<Option<String>>;
    /// Writes the patch's `changes` (as [`changed_fields`] names them), version + 1; a new
    /// content also resets extraction and embedding state and drops the stale vector.
    fn apply_patch(&mut self, m: &Mutation, patch: &MemoryPatch, changes: &[&str]) -> Result<()>;
    /// Soft-deletes `m.id`: deleted now, by `m.actor`, version + 1.
    fn mark_deleted(&mut self, m: &Mutation) -> Result<()>;
    /// Undoes the soft delete of `m.id`, version + 1.
    fn mark_recovered(&mut self, m: &Mutation) -> Result<()>;
    /// Inserts one `memory_history` row.
    fn history(&mut self, row: &HistoryRow<'_>) -> Result<()>;
}

/// Runs one mutation: the shared guard ([`refusal`]), then modify, forget or recover, each
/// with its own rules, its row update and its history row.
pub fn mutate(tx: &mut impl MutationTx, m: &Mutation) -> Result<MutationOutcome> {
    let Some(cur) = tx.load(&m.id)? else {
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

/// Applies a PATCH: duplicate-hash guard, only-changed fields, history row.
fn modify(
    tx: &mut impl MutationTx,
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
        && let Some(duplicate_id) = tx.live_with_hash(hash)?.filter(|d| *d != m.id)
    {
        return Ok(MutationOutcome::DuplicateContentHash {
            current,
            duplicate_id,
        });
    }
    tx.apply_patch(m, patch, &changes)?;
    let meta = serde_json::json!({"changedFields": changes, "ifVersion": m.if_version,
        "contentChanged": content_changed});
    let new_content = patch
        .content
        .as_ref()
        .map_or(cur.content.as_str(), |c| c.0.as_str());
    tx.history(
        &HistoryRow::new(&m.id, "updated", &m.actor, &m.now)
            .old_content(&cur.content)
            .new_content(new_content)
            .reason(&m.reason)
            .metadata(meta),
    )?;
    Ok(MutationOutcome::Updated {
        current,
        new: current + 1,
        content_changed,
    })
}

/// Soft-deletes one memory (the guard already applied the pinned / force / pipeline rules).
fn forget(
    tx: &mut impl MutationTx,
    m: &Mutation,
    force: bool,
    cur: &MutationRow,
) -> Result<MutationOutcome> {
    tx.mark_deleted(m)?;
    tx.history(
        &HistoryRow::new(&m.id, "deleted", &m.actor, &m.now)
            .old_content(&cur.content)
            .reason(&m.reason)
            .metadata(serde_json::json!({"force": force, "ifVersion": m.if_version})),
    )?;
    Ok(MutationOutcome::Deleted {
        current: cur.version,
        new: cur.version + 1,
    })
}

/// Undoes a soft delete within the 30-day window, unless a live twin holds the content.
fn recover(tx: &mut impl MutationTx, m: &Mutation, cur: &MutationRow) -> Result<MutationOutcome> {
    let current = cur.version;
    if !within_recover_window(cur.deleted_at.as_deref(), &m.now) {
        return Ok(MutationOutcome::RetentionExpired { current });
    }
    // A live twin with the same content would break the live-hash uniqueness: say so.
    if let Some(hash) = &cur.content_hash
        && let Some(duplicate_id) = tx.live_with_hash(hash)?
    {
        return Ok(MutationOutcome::DuplicateContentHash {
            current,
            duplicate_id,
        });
    }
    tx.mark_recovered(m)?;
    tx.history(
        &HistoryRow::new(&m.id, "recovered", &m.actor, &m.now)
            .new_content(&cur.content)
            .reason(&m.reason)
            .metadata(serde_json::json!({"ifVersion": m.if_version,
                "retentionWindowMs": RECOVER_WINDOW_MS})),
    )?;
    Ok(MutationOutcome::Recovered {
        current,
        new: current + 1,
    })
}

/// The guard every mutation passes, in order: the row is in the state the operation needs
/// (live; deleted for recover), its version is the one the caller read, and a pinned row is
/// deleted only with `force`, never by a pipeline actor. `None`: the operation may run.
pub fn refusal(cur: &MutationRow, m: &Mutation) -> Option<MutationOutcome> {
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

/// The fields `p` really changes on `cur`, by their history names (`content`, `type`,
/// `tags`, `importance`, `pinned`); a patch that changes none is a no-op.
pub fn changed_fields(cur: &MutationRow, p: &MemoryPatch) -> Vec<&'static str> {
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

/// Whether a memory deleted at `deleted_at` may still be recovered at `now`
/// ([`RECOVER_WINDOW_MS`]); an unreadable time is outside the window.
pub fn within_recover_window(deleted_at: Option<&str>, now: &str) -> bool {
    let (Some(d), Some(n)) = (
        deleted_at.and_then(crate::time::parse),
        crate::time::parse(now),
    ) else {
        return false;
    };
    let age = n.signed_duration_since(d).num_milliseconds();
    age <= RECOVER_WINDOW_MS
}

/// The snake_case code of a mutation the guard refused; `None` when it went through.
pub fn refusal_code(outcome: &MutationOutcome) -> Option<&'static str> {
    use MutationOutcome as O;
    match outcome {
        O::Updated { .. } | O::Deleted { .. } | O::Recovered { .. } => None,
        O::NoChanges { .. } => Some("no_changes"),
        O::NotFound => Some("not_found"),
        O::IsDeleted { .. } => Some("is_deleted"),
        O::AlreadyDeleted { .. } => Some("already_deleted"),
        O::NotDeleted { .. } => Some("not_deleted"),
        O::VersionConflict { .. } => Some("version_conflict"),
        O::DuplicateContentHash { .. } => Some("duplicate_content_hash"),
        O::PinnedRequiresForce { .. } => Some("pinned_requires_force"),
        O::AutonomousForceDenied { .. } => Some("autonomous_force_denied"),
        O::RetentionExpired { .. } => Some("retention_expired"),
    }
}

/// `metadata` (an object; anything else is kept under `metadata`) with `extra` keys set.
pub fn with_keys<'a>(metadata: &Value, extra: impl IntoIterator<Item = (&'a str, Value)>) -> Value {
    let mut map = match metadata {
        Value::Object(m) => m.clone(),
        Value::Null => Map::new(),
        other => Map::from_iter([("metadata".to_owned(), other.clone())]),
    };
    for (k, v) in extra {
        map.insert(k.to_owned(), v);
    }
    Value::Object(map)
}

/// An extraction's update or delete of `target` (`verb` `update` / `delete`) as the source's
/// audit metadata key and value (`updatedMemoryId`, or `skippedReason: update_<code>`) and,
/// when the guard refused it (`done` is the refusal code), the write's outcome.
pub fn settled(
    target: &str,
    verb: &str,
    done: std::result::Result<(), &'static str>,
) -> (String, Value, Option<WriteOutcome>) {
    match done {
        Ok(()) => (format!("{verb}dMemoryId"), target.into(), None),
        Err(code) => (
            "skippedReason".to_owned(),
            format!("{verb}_{code}").into(),
            Some(WriteOutcome::Refused {
                target_id: target.to_owned(),
                code: code.to_owned(),
            }),
        ),
    }
}

/// A job's next status after a failed attempt: `dead` once `attempts` reach `max`, else back
/// to `pending`.
pub fn after_failed_attempt(attempts: i64, max: i64) -> (&'static str, FailedJob) {
    if attempts >= max {
        ("dead", FailedJob::Dead)
    } else {
        ("pending", FailedJob::Retrying)
    }
}

/// A `memory_history` row under construction; the backend's `insert` writes it (with a new
/// id) in its own SQL.
#[derive(Debug, Clone)]
pub struct HistoryRow<'a> {
    pub memory_id: &'a str,
    pub event: &'a str,
    pub actor: &'a Actor,
    pub created_at: &'a str,
    pub old_content: Option<&'a str>,
    pub new_content: Option<&'a str>,
    pub reason: Option<&'a str>,
    pub metadata: Option<Value>,
}

impl<'a> HistoryRow<'a> {
    pub fn new(memory_id: &'a str, event: &'a str, actor: &'a Actor, at: &'a str) -> Self {
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
    pub fn old_content(mut self, c: &'a str) -> Self {
        self.old_content = Some(c);
        self
    }
    pub fn new_content(mut self, c: &'a str) -> Self {
        self.new_content = Some(c);
        self
    }
    pub fn reason(mut self, r: &'a str) -> Self {
        self.reason = Some(r);
        self
    }
    pub fn metadata(mut self, m: Value) -> Self {
        self.metadata = Some(m);
        self
    }
    /// The metadata as stored (JSON text).
    pub fn metadata_text(&self) -> Option<String> {
        self.metadata.as_ref().map(Value::to_string)
    }
}

/// What an import writes, one backend's statements: [`import_items`] decides the order and
/// what goes with what.
pub trait ImportTarget {
    /// Inserts one exported memory row (or finds it already there).
    fn memory(&mut self, row: &JsonRow) -> Result<ImportOutcome>;
    /// Inserts one history row (its `memory_id` already set); how many rows were written (0
    /// when it was there already or refused).
    fn history(&mut self, row: &JsonRow) -> Result<usize>;
    /// Saves a vector for the memory `id`; whether it was stored.
    fn vector(&mut self, id: &str, v: &StoredEmbedding) -> Result<bool>;
}

/// Imports `items` in order: each memory (or the existing one it names), then its history
/// (only for an inserted or attached memory: a duplicate keeps its own), then its vector
/// (also for a duplicate, which may lack one).
pub fn import_items(t: &mut impl ImportTarget, items: &[ImportItem]) -> Result<Vec<ImportedItem>> {
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let outcome = match (&item.memory, &item.target) {
            (Some(row), _) => t.memory(row)?,
            (None, Some(id)) => ImportOutcome::Attached { id: id.clone() },
            (None, None) => ImportOutcome::Skipped {
                reason: "history or a vector without its memory".into(),
            },
        };
        let (mut history, mut vector_saved) = (0, false);
        if let ImportOutcome::Inserted { id } | ImportOutcome::Attached { id } = &outcome {
            for h in &item.history {
                let mut h = h.clone();
                h.insert("memory_id".into(), Value::String(id.clone()));
                history += t.history(&h)?;
            }
        }
        if let (
            ImportOutcome::Inserted { id }
            | ImportOutcome::Duplicate { id }
            | ImportOutcome::Attached { id },
            Some(v),
        ) = (&outcome, &item.vector)
        {
            vector_saved = t.vector(id, v)?;
        }
        out.push(ImportedItem {
            outcome,
            history,
            vector_saved,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(pinned: bool, is_deleted: bool) -> MutationRow {
        MutationRow {
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

    #[test]
    fn a_patch_changes_only_what_differs() {
        let cur = row(false, false);
        let same = MemoryPatch {
            memory_type: Some("fact".into()),
            tags: Some(None),
            pinned: Some(false),
            ..MemoryPatch::default()
        };
        assert!(changed_fields(&cur, &same).is_empty());
        let other = MemoryPatch {
            content: Some(("d".into(), "d".into(), "h".into())),
            importance: Some(0.5),
            ..MemoryPatch::default()
        };
        assert_eq!(changed_fields(&cur, &other), vec!["content", "importance"]);
    }

    #[test]
    fn the_recover_window_is_thirty_days_and_unreadable_times_are_outside() {
        let now = "2025-02-01T00:00:00.000Z";
        assert!(within_recover_window(Some("2025-01-15T00:00:00.000Z"), now));
        assert!(!within_recover_window(
            Some("2024-11-01T00:00:00.000Z"),
            now
        ));
        assert!(!within_recover_window(None, now));
        assert!(!within_recover_window(Some("yesterday"), now));
    }

    #[test]
    fn a_failed_attempt_is_dead_once_attempts_reach_the_maximum() {
        assert_eq!(after_failed_attempt(1, 3), ("pending", FailedJob::Retrying));
        assert_eq!(after_failed_attempt(3, 3), ("dead", FailedJob::Dead));
    }

    #[test]
    fn audit_metadata_keeps_the_object_and_wraps_anything_else() {
        let v = with_keys(&serde_json::json!({"a": 1}), [("b", 2.into())]);
        assert_eq!(v, serde_json::json!({"a": 1, "b": 2}));
        let v = with_keys(&serde_json::json!("x"), [("b", 2.into())]);
        assert_eq!(v, serde_json::json!({"metadata": "x", "b": 2}));
        assert_eq!(with_keys(&Value::Null, []), serde_json::json!({}));
        let (key, value, refused) = settled("m1", "update", Err("is_deleted"));
        assert_eq!(
            (key.as_str(), value),
            ("skippedReason", "update_is_deleted".into())
        );
        assert!(refused.is_some());
        assert_eq!(settled("m1", "delete", Ok(())).0, "deletedMemoryId");
    }
}
