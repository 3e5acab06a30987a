//! Single-memory mutations on SQLite: the statements of [`MutationTx`], inside a transaction
//! the caller opened. What runs when (the guard, modify / forget / recover, their history
//! rows) is `signet_model::rules::mutate`, shared with the PostgreSQL backend.

use rusqlite::{Connection, OptionalExtension, params};
use signet_model::rules::{HistoryRow, MutationRow, MutationTx};

use super::write::{InsertHistory, live_by_hash};
use super::{MemoryPatch, Mutation, MutationOutcome};
use crate::error::Result;
use crate::row;

/// Runs one mutation (see `signet_model::rules::mutate`).
pub fn mutate(tx: &Connection, m: &Mutation) -> Result<MutationOutcome> {
    signet_model::rules::mutate(&mut Sqlite(tx), m)
}

/// The mutation's statements on one SQLite transaction.
struct Sqlite<'a>(&'a Connection);

impl MutationTx for Sqlite<'_> {
    fn load(&mut self, id: &str) -> Result<Option<MutationRow>> {
        load_current(self.0, id)
    }
    fn live_with_hash(&mut self, hash: &str) -> Result<Option<String>> {
        Ok(live_by_hash(self.0, hash)?.map(|d| d.id))
    }
    fn apply_patch(&mut self, m: &Mutation, patch: &MemoryPatch, changes: &[&str]) -> Result<()> {
        apply_patch(self.0, m, patch, changes)
    }
    fn mark_deleted(&mut self, m: &Mutation) -> Result<()> {
        self.0
            .prepare_cached(
                "UPDATE memories SET is_deleted = 1, deleted_at = ?2, updated_at = ?2, \
                 updated_by = ?3, version = COALESCE(version, 1) + 1 WHERE id = ?1",
            )?
            .execute(params![m.id, m.now, m.actor.changed_by])?;
        Ok(())
    }
    fn mark_recovered(&mut self, m: &Mutation) -> Result<()> {
        self.0
            .prepare_cached(
                "UPDATE memories SET is_deleted = 0, deleted_at = NULL, updated_at = ?2, \
                 updated_by = ?3, version = COALESCE(version, 1) + 1 WHERE id = ?1",
            )?
            .execute(params![m.id, m.now, m.actor.changed_by])?;
        Ok(())
    }
    fn history(&mut self, row: &HistoryRow<'_>) -> Result<()> {
        row.insert(self.0)
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
