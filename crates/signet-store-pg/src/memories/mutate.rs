//! Single-memory mutations on PostgreSQL: the statements of [`MutationTx`], inside a
//! transaction the caller opened. What runs when (the guard, modify / forget / recover, their
//! history rows) is `signet_model::rules::mutate`, shared with the SQLite backend.

use postgres::GenericClient;
use signet_model::Result;
use signet_model::memories::{MemoryPatch, Mutation, MutationOutcome};
use signet_model::rules::{HistoryRow, MutationRow, MutationTx};

use super::write::{InsertHistory, live_by_hash};
use crate::error::PgResultExt;

/// Runs one mutation (see `signet_model::rules::mutate`).
pub fn mutate(tx: &mut impl GenericClient, m: &Mutation) -> Result<MutationOutcome> {
    signet_model::rules::mutate(&mut Pg(tx), m)
}

/// The mutation's statements on one PostgreSQL transaction.
struct Pg<'a, C>(&'a mut C);

impl<C: GenericClient> MutationTx for Pg<'_, C> {
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
            .execute(
                "UPDATE memories SET is_deleted = true, deleted_at = $2, updated_at = $2, \
                 updated_by = $3, version = COALESCE(version, 1) + 1 WHERE id = $1",
                &[&m.id, &m.now, &m.actor.changed_by],
            )
            .pg()?;
        Ok(())
    }
    fn mark_recovered(&mut self, m: &Mutation) -> Result<()> {
        self.0
            .execute(
                "UPDATE memories SET is_deleted = false, deleted_at = NULL, updated_at = $2, \
                 updated_by = $3, version = COALESCE(version, 1) + 1 WHERE id = $1",
                &[&m.id, &m.now, &m.actor.changed_by],
            )
            .pg()?;
        Ok(())
    }
    fn history(&mut self, row: &HistoryRow<'_>) -> Result<()> {
        row.insert(self.0)
    }
}

fn load_current(tx: &mut impl GenericClient, id: &str) -> Result<Option<MutationRow>> {
    // FOR UPDATE: the guard decides on the row as it stays until the commit (another node's
    // mutation of the same memory waits here instead of racing the version check).
    let row = tx
        .query_opt(
            "SELECT content, type, tags, importance, COALESCE(pinned, false), \
             COALESCE(version, 1), COALESCE(is_deleted, false), deleted_at, content_hash \
             FROM memories WHERE id = $1 FOR UPDATE",
            &[&id],
        )
        .pg()?;
    Ok(row.map(|r| MutationRow {
        content: r.get(0),
        memory_type: r.get(1),
        tags: r.get(2),
        importance: r.get(3),
        pinned: r.get(4),
        version: r.get(5),
        is_deleted: r.get(6),
        deleted_at: r.get(7),
        content_hash: r.get(8),
    }))
}

fn apply_patch(
    tx: &mut impl GenericClient,
    m: &Mutation,
    p: &MemoryPatch,
    changes: &[&str],
) -> Result<()> {
    let has = |f: &str| changes.contains(&f);
    let content = p.content.as_ref().filter(|_| has("content"));
    tx.execute(
        "UPDATE memories SET \
           content = COALESCE($2, content), \
           normalized_content = CASE WHEN $2::text IS NULL THEN normalized_content ELSE NULLIF($3, $2) END, \
           content_hash = CASE WHEN $2::text IS NULL THEN content_hash ELSE $4 END, \
           extraction_status = CASE WHEN $2::text IS NULL THEN extraction_status ELSE 'none' END, \
           extraction_model = CASE WHEN $2::text IS NULL THEN extraction_model ELSE NULL END, \
           embedding_model = CASE WHEN $2::text IS NULL THEN embedding_model ELSE NULL END, \
           type = CASE WHEN $5 THEN $6 ELSE type END, \
           tags = CASE WHEN $7 THEN $8 ELSE tags END, \
           importance = CASE WHEN $9 THEN $10 ELSE importance END, \
           pinned = CASE WHEN $11 THEN $12 ELSE pinned END, \
           version = COALESCE(version, 1) + 1, update_count = COALESCE(update_count, 0) + 1, \
           updated_at = $13, updated_by = $14 \
         WHERE id = $1",
        &[
            &m.id,
            &content.map(|c| c.0.as_str()),
            &content.map(|c| c.1.as_str()),
            &content.map(|c| c.2.as_str()),
            &has("type"),
            &p.memory_type,
            &has("tags"),
            &p.tags.clone().flatten(),
            &has("importance"),
            &p.importance,
            &has("pinned"),
            &p.pinned,
            &m.now,
            &m.actor.changed_by,
        ],
    )
    .pg()?;
    if let Some((_, _, hash)) = content {
        // The stored vector describes the old text: drop it so it is never served stale.
        tx.execute(
            "DELETE FROM embeddings WHERE source_type = 'memory' AND source_id = $1 \
             AND content_hash <> $2",
            &[&m.id, hash],
        )
        .pg()?;
    }
    Ok(())
}
