//! The graph and archive repairs' SQL: cold-archive counts, entity prunes (chunk groups,
//! singletons) and skipped summary jobs.

use postgres::GenericClient;
use signet_model::Result;
use signet_model::maintenance::{ColdCounts, EntityPrune, PrunedEntities};

use super::rows;
use crate::error::PgResultExt;
use crate::sql::count;

pub(crate) fn cold_counts(c: &mut impl GenericClient) -> Result<ColdCounts> {
    let r = c
        .query_one(
            "SELECT count(*), MIN(archived_at), MAX(archived_at), \
               COALESCE(SUM(octet_length(content) \
                 + octet_length(COALESCE(original_row_json, ''))), 0)::bigint \
             FROM memories_cold",
            &[],
        )
        .pg()?;
    let by_reason = c
        .query(
            "SELECT COALESCE(archived_reason, 'unknown') COLLATE \"C\" AS reason, count(*) \
             FROM memories_cold GROUP BY reason ORDER BY reason",
            &[],
        )
        .pg()?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    Ok(ColdCounts {
        count: r.get(0),
        oldest: r.get(1),
        newest: r.get(2),
        total_bytes: r.get(3),
        by_reason,
    })
}

/// The `WHERE` clause (over `entities e`) of what `which` selects (the mention bound is an
/// integer, written into the text).
fn selection(which: EntityPrune) -> String {
    match which {
        EntityPrune::ChunkGroups => "e.entity_type = 'chunk_group'".to_owned(),
        EntityPrune::Singletons { max_mentions } => format!(
            "e.entity_type <> 'chunk_group' AND COALESCE(e.pinned, false) = false \
             AND COALESCE(e.mentions, 0) <= {max_mentions} \
             AND NOT EXISTS (SELECT 1 FROM entity_aspects a WHERE a.entity_id = e.id) \
             AND NOT EXISTS (SELECT 1 FROM entity_attributes t \
               WHERE t.aspect_id IS NULL AND t.memory_id IN \
                 (SELECT memory_id FROM memory_entity_mentions WHERE entity_id = e.id))"
        ),
    }
}

pub(crate) fn prunable(c: &mut impl GenericClient, which: EntityPrune) -> Result<usize> {
    let sql = format!("SELECT count(*) FROM entities e WHERE {}", selection(which));
    let n: i64 = c.query_one(&sql, &[]).pg()?.get(0);
    Ok(usize::try_from(n).unwrap_or(0))
}

pub(crate) fn prune(
    tx: &mut impl GenericClient,
    which: EntityPrune,
    limit: usize,
) -> Result<PrunedEntities> {
    let sql = format!(
        "SELECT e.id FROM entities e WHERE {} ORDER BY e.created_at, e.seq LIMIT $1 \
         FOR UPDATE SKIP LOCKED",
        selection(which)
    );
    let batch: Vec<String> = tx
        .query(&sql, &[&count(limit)])
        .pg()?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let mut out = PrunedEntities::default();
    if batch.is_empty() {
        return Ok(out);
    }
    out.mentions = rows(
        tx.execute(
            "DELETE FROM memory_entity_mentions WHERE entity_id = ANY($1)",
            &[&batch],
        )
        .pg()?,
    );
    out.relations = rows(
        tx.execute(
            "DELETE FROM relations WHERE source_entity_id = ANY($1) OR target_entity_id = ANY($1)",
            &[&batch],
        )
        .pg()?,
    );
    // Aspects go with their entity (ON DELETE CASCADE); their attributes go first, as SQLite
    // deletes them (the foreign key would only clear their aspect).
    tx.execute(
        "DELETE FROM entity_attributes WHERE aspect_id IN \
           (SELECT id FROM entity_aspects WHERE entity_id = ANY($1))",
        &[&batch],
    )
    .pg()?;
    out.entities = rows(
        tx.execute("DELETE FROM entities WHERE id = ANY($1)", &[&batch])
            .pg()?,
    );
    Ok(out)
}

/// Completed summary jobs with a session key and no depth-0 summary of that session.
const SKIPPED: &str = "status = 'completed' AND session_key IS NOT NULL AND NOT EXISTS \
    (SELECT 1 FROM session_summaries s WHERE s.session_key = summary_jobs.session_key \
       AND s.depth = 0)";

pub(crate) fn skipped_summaries(c: &mut impl GenericClient) -> Result<usize> {
    let sql = format!("SELECT count(*) FROM summary_jobs WHERE {SKIPPED}");
    let n: i64 = c.query_one(&sql, &[]).pg()?.get(0);
    Ok(usize::try_from(n).unwrap_or(0))
}

pub(crate) fn requeue_skipped(tx: &mut impl GenericClient, limit: usize) -> Result<usize> {
    let sql = format!(
        "UPDATE summary_jobs SET status = 'pending', attempts = 0, result = NULL, \
           completed_at = NULL, error = NULL \
         WHERE seq IN (SELECT seq FROM summary_jobs WHERE {SKIPPED} \
           ORDER BY created_at, seq LIMIT $1 FOR UPDATE SKIP LOCKED)"
    );
    Ok(rows(tx.execute(&sql, &[&count(limit)]).pg()?))
}
