//! The retention sweep's SQL. Every batch selects its rows by `rowid IN (SELECT ... LIMIT n)`,
//! so it needs no `DELETE ... LIMIT` (which SQLite only has with a compile-time flag).

use rusqlite::{Connection, params};

use super::{PruneStep, PurgedTombstones, table_exists};
use crate::error::Result;

/// Columns `memories_cold` copies by name when `memories` has them.
const COLD_COLUMNS: [&str; 18] = [
    "type",
    "category",
    "content",
    "confidence",
    "importance",
    "source_id",
    "source_type",
    "tags",
    "who",
    "why",
    "project",
    "content_hash",
    "normalized_content",
    "extraction_status",
    "embedding_model",
    "extraction_model",
    "update_count",
    "agent_id",
];

pub fn purge_tombstones(
    tx: &Connection,
    cutoff: &str,
    limit: usize,
    now: &str,
) -> Result<PurgedTombstones> {
    tx.execute_batch(
        "CREATE TEMP TABLE IF NOT EXISTS retention_batch (id TEXT PRIMARY KEY); \
         DELETE FROM temp.retention_batch;",
    )?;
    tx.prepare_cached(
        "INSERT INTO temp.retention_batch (id) SELECT id FROM memories WHERE rowid IN \
           (SELECT rowid FROM memories WHERE is_deleted = 1 AND deleted_at IS NOT NULL \
              AND julianday(deleted_at) < julianday(?1) LIMIT ?2)",
    )?
    .execute(params![cutoff, limit as i64])?;
    let ids: Vec<String> = tx
        .prepare_cached("SELECT id FROM temp.retention_batch")?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let mut out = PurgedTombstones::default();
    if ids.is_empty() {
        return Ok(out);
    }
    if table_exists(tx, "memory_entity_mentions")? && table_exists(tx, "entities")? {
        (out.mentions, out.entities) = mentions(tx)?;
    }
    out.embeddings = tx.execute(
        "DELETE FROM embeddings WHERE source_type = 'memory' \
           AND source_id IN (SELECT id FROM temp.retention_batch)",
        [],
    )?;
    if table_exists(tx, "memories_cold")? {
        archive(tx, Archived::Batch, "retention_decay", now)?;
    }
    tx.execute(
        "DELETE FROM memories WHERE id IN (SELECT id FROM temp.retention_batch)",
        [],
    )?;
    tx.execute("DELETE FROM temp.retention_batch", [])?;
    out.ids = ids;
    Ok(out)
}

/// Drops the batch's mentions, decrements the entities they named (floored at 0) and deletes
/// those entities left with no mention (only those: entities that never had mentions, such
/// as chunk groups, are not this sweep's business), with their relations.
fn mentions(tx: &Connection) -> Result<(usize, usize)> {
    tx.execute_batch(
        "CREATE TEMP TABLE IF NOT EXISTS retention_entities (entity_id TEXT PRIMARY KEY, n INTEGER); \
         DELETE FROM temp.retention_entities; \
         INSERT INTO temp.retention_entities (entity_id, n) SELECT entity_id, COUNT(*) \
           FROM memory_entity_mentions WHERE memory_id IN (SELECT id FROM temp.retention_batch) \
           GROUP BY entity_id;",
    )?;
    let removed = tx.execute(
        "DELETE FROM memory_entity_mentions WHERE memory_id IN (SELECT id FROM temp.retention_batch)",
        [],
    )?;
    tx.execute(
        "UPDATE entities SET mentions = MAX(0, COALESCE(mentions, 0) - \
           (SELECT n FROM temp.retention_entities r WHERE r.entity_id = entities.id)) \
         WHERE id IN (SELECT entity_id FROM temp.retention_entities)",
        [],
    )?;
    tx.execute_batch(
        "DELETE FROM temp.retention_entities WHERE entity_id NOT IN \
           (SELECT id FROM entities WHERE COALESCE(mentions, 0) = 0);",
    )?;
    if table_exists(tx, "relations")? {
        tx.execute(
            "DELETE FROM relations WHERE source_entity_id IN (SELECT entity_id FROM temp.retention_entities) \
               OR target_entity_id IN (SELECT entity_id FROM temp.retention_entities)",
            [],
        )?;
    }
    tx.execute(
        "DELETE FROM memory_entity_mentions WHERE entity_id IN (SELECT entity_id FROM temp.retention_entities)",
        [],
    )?;
    let entities = tx.execute(
        "DELETE FROM entities WHERE id IN (SELECT entity_id FROM temp.retention_entities)",
        [],
    )?;
    Ok((removed, entities))
}

/// Which rows [`archive`] copies.
pub(crate) enum Archived<'a> {
    /// The retention sweep's batch (`temp.retention_batch`), each under a random archive id.
    Batch,
    /// One memory, under the given archive id.
    One {
        memory_id: &'a str,
        archive_id: &'a str,
    },
}

/// Copies rows of `memories` to `memories_cold` with `reason` (`retention_decay`,
/// `superseded`, `pipeline_delete`): the columns both tables have, plus the whole row as JSON.
/// Returns how many rows were copied.
pub(crate) fn archive(
    tx: &Connection,
    which: Archived<'_>,
    reason: &str,
    now: &str,
) -> Result<usize> {
    let cols: Vec<String> = tx
        .prepare_cached("SELECT name FROM pragma_table_info('memories')")?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let quoted = |c: &str| format!("\"{}\"", c.replace('"', "\"\""));
    let row_json = cols
        .iter()
        .map(|c| format!("'{}', m.{}", c.replace('\'', "''"), quoted(c)))
        .collect::<Vec<_>>()
        .join(", ");
    let copied: Vec<&str> = COLD_COLUMNS
        .iter()
        .copied()
        .filter(|c| cols.iter().any(|have| have == c))
        .collect();
    let (archive_id, filter, id, memory_id) = match which {
        Archived::Batch => (
            "lower(hex(randomblob(16)))",
            "m.id IN (SELECT id FROM temp.retention_batch)",
            None,
            None,
        ),
        Archived::One {
            memory_id,
            archive_id,
        } => ("?3", "m.id = ?4", Some(archive_id), Some(memory_id)),
    };
    let sql = format!(
        "INSERT INTO memories_cold (archive_id, memory_id, original_created_at, archived_at, archived_reason, \
           original_row_json, {targets}) \
         SELECT {archive_id}, m.id, COALESCE(m.created_at, ?1), ?1, ?2, \
           json_object({row_json}), {sources} \
         FROM memories m WHERE {filter}",
        targets = copied.join(", "),
        sources = copied
            .iter()
            .map(|c| format!("m.{c}"))
            .collect::<Vec<_>>()
            .join(", "),
    );
    let mut stmt = tx.prepare(&sql)?;
    Ok(match (id, memory_id) {
        (Some(id), Some(memory_id)) => stmt.execute(params![now, reason, id, memory_id])?,
        _ => stmt.execute(params![now, reason])?,
    })
}

pub fn prune(tx: &Connection, step: PruneStep, cutoff: &str, limit: usize) -> Result<usize> {
    let (table, filter) = match step {
        PruneStep::History => ("memory_history", "julianday(created_at) < julianday(?1)"),
        PruneStep::CompletedJobs => (
            "memory_jobs",
            "status = 'completed' AND julianday(COALESCE(completed_at, updated_at)) < julianday(?1)",
        ),
        PruneStep::DeadJobs => (
            "memory_jobs",
            "status = 'dead' AND julianday(COALESCE(failed_at, updated_at)) < julianday(?1)",
        ),
        PruneStep::PredictorPairs => (
            "predictor_training_pairs",
            "julianday(created_at) < julianday(?1)",
        ),
    };
    if !table_exists(tx, table)? {
        return Ok(0);
    }
    let sql = format!(
        "DELETE FROM {table} WHERE rowid IN (SELECT rowid FROM {table} WHERE {filter} LIMIT ?2)"
    );
    Ok(tx
        .prepare_cached(&sql)?
        .execute(params![cutoff, limit as i64])?)
}
