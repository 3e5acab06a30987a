//! The graph and archive repairs' SQL: cold-archive counts, entity prunes (chunk groups,
//! singletons) and skipped summary jobs. A prune stages its batch in `temp.prune_entities`
//! and deletes by `IN (SELECT ...)`, so it needs no `DELETE ... LIMIT` and no bound list.

use rusqlite::Connection;

use super::{ColdCounts, EntityPrune, PrunedEntities, table_exists};
use crate::error::Result;

pub fn cold_counts(c: &Connection) -> Result<Option<ColdCounts>> {
    if !table_exists(c, "memories_cold")? {
        return Ok(None);
    }
    let mut counts = c.query_row(
        "SELECT COUNT(*), MIN(archived_at), MAX(archived_at), \
           COALESCE(SUM(length(CAST(content AS BLOB)) \
             + length(CAST(COALESCE(original_row_json, '') AS BLOB))), 0) \
         FROM memories_cold",
        [],
        |r| {
            Ok(ColdCounts {
                count: r.get(0)?,
                oldest: r.get(1)?,
                newest: r.get(2)?,
                total_bytes: r.get(3)?,
                by_reason: Vec::new(),
            })
        },
    )?;
    counts.by_reason = c
        .prepare_cached(
            "SELECT COALESCE(archived_reason, 'unknown') AS reason, COUNT(*) FROM memories_cold \
             GROUP BY reason ORDER BY reason",
        )?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(Some(counts))
}

/// The `WHERE` clause (over `entities e`) of what `which` selects (the mention bound is an
/// integer, written into the text).
fn selection(c: &Connection, which: EntityPrune) -> Result<String> {
    Ok(match which {
        EntityPrune::ChunkGroups => "e.entity_type = 'chunk_group'".to_owned(),
        EntityPrune::Singletons { max_mentions } => {
            let mut filter = format!(
                "e.entity_type <> 'chunk_group' AND COALESCE(e.pinned, 0) = 0 \
                 AND COALESCE(e.mentions, 0) <= {max_mentions}"
            );
            if table_exists(c, "entity_aspects")? {
                filter.push_str(
                    " AND NOT EXISTS (SELECT 1 FROM entity_aspects a WHERE a.entity_id = e.id)",
                );
            }
            if table_exists(c, "entity_attributes")? {
                // Attributes under an aspect were excluded with the aspect; a stub has none
                // and hangs off a memory that mentions the entity.
                filter.push_str(
                    " AND NOT EXISTS (SELECT 1 FROM entity_attributes t \
                       WHERE t.aspect_id IS NULL AND t.memory_id IN \
                         (SELECT memory_id FROM memory_entity_mentions WHERE entity_id = e.id))",
                );
            }
            filter
        }
    })
}

pub fn prunable(c: &Connection, which: EntityPrune) -> Result<usize> {
    if !table_exists(c, "entities")? {
        return Ok(0);
    }
    let filter = selection(c, which)?;
    let sql = format!("SELECT COUNT(*) FROM entities e WHERE {filter}");
    let n: i64 = c.prepare_cached(&sql)?.query_row([], |r| r.get(0))?;
    Ok(n as usize)
}

pub fn prune(tx: &Connection, which: EntityPrune, limit: usize) -> Result<PrunedEntities> {
    if !table_exists(tx, "entities")? {
        return Ok(PrunedEntities::default());
    }
    let filter = selection(tx, which)?;
    tx.execute_batch(
        "CREATE TEMP TABLE IF NOT EXISTS prune_entities (id TEXT PRIMARY KEY); \
         DELETE FROM temp.prune_entities;",
    )?;
    let sql = format!(
        "INSERT INTO temp.prune_entities (id) SELECT e.id FROM entities e WHERE {filter} \
         ORDER BY e.created_at, e.rowid LIMIT ?1"
    );
    tx.prepare_cached(&sql)?.execute([limit as i64])?;
    const BATCH: &str = "(SELECT id FROM temp.prune_entities)";
    let mut out = PrunedEntities::default();
    if table_exists(tx, "memory_entity_mentions")? {
        out.mentions = tx.execute(
            &format!("DELETE FROM memory_entity_mentions WHERE entity_id IN {BATCH}"),
            [],
        )?;
    }
    if table_exists(tx, "relations")? {
        out.relations = tx.execute(
            &format!(
                "DELETE FROM relations WHERE source_entity_id IN {BATCH} \
                   OR target_entity_id IN {BATCH}"
            ),
            [],
        )?;
    }
    // Foreign keys are off (upstream never enforced them), so the cascades of the knowledge
    // structure tables are done by hand.
    if table_exists(tx, "entity_dependencies")? {
        tx.execute(
            &format!(
                "DELETE FROM entity_dependencies WHERE source_entity_id IN {BATCH} \
                   OR target_entity_id IN {BATCH}"
            ),
            [],
        )?;
    }
    if table_exists(tx, "entity_aspects")? {
        if table_exists(tx, "entity_attributes")? {
            tx.execute(
                &format!(
                    "DELETE FROM entity_attributes WHERE aspect_id IN \
                       (SELECT id FROM entity_aspects WHERE entity_id IN {BATCH})"
                ),
                [],
            )?;
        }
        tx.execute(
            &format!("DELETE FROM entity_aspects WHERE entity_id IN {BATCH}"),
            [],
        )?;
    }
    out.entities = tx.execute(&format!("DELETE FROM entities WHERE id IN {BATCH}"), [])?;
    tx.execute("DELETE FROM temp.prune_entities", [])?;
    Ok(out)
}

/// Completed summary jobs with a session key and no depth-0 summary of that session.
const SKIPPED: &str = "status = 'completed' AND session_key IS NOT NULL AND NOT EXISTS \
    (SELECT 1 FROM session_summaries s WHERE s.session_key = summary_jobs.session_key \
       AND s.depth = 0)";

fn summaries_exist(c: &Connection) -> Result<bool> {
    Ok(table_exists(c, "summary_jobs")? && table_exists(c, "session_summaries")?)
}

pub fn skipped_summaries(c: &Connection) -> Result<usize> {
    if !summaries_exist(c)? {
        return Ok(0);
    }
    let sql = format!("SELECT COUNT(*) FROM summary_jobs WHERE {SKIPPED}");
    let n: i64 = c.prepare_cached(&sql)?.query_row([], |r| r.get(0))?;
    Ok(n as usize)
}

pub fn requeue_skipped(tx: &Connection, limit: usize) -> Result<usize> {
    if !summaries_exist(tx)? {
        return Ok(0);
    }
    let sql = format!(
        "UPDATE summary_jobs SET status = 'pending', attempts = 0, result = NULL, \
           completed_at = NULL, error = NULL \
         WHERE rowid IN (SELECT rowid FROM summary_jobs WHERE {SKIPPED} \
           ORDER BY created_at, rowid LIMIT ?1)"
    );
    Ok(tx.prepare_cached(&sql)?.execute([limit as i64])?)
}
