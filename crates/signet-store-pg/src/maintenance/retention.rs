//! The retention sweep's SQL: batches chosen by `LIMIT` in a subquery, deleted by id.

use postgres::GenericClient;
use signet_model::Result;
use signet_model::maintenance::{PruneStep, PurgedTombstones};

use super::rows;
use crate::error::PgResultExt;
use crate::sql::count;

/// Purges up to `limit` tombstones deleted before `cutoff`: their vectors and mentions (and
/// the entities left with none), archived to `memories_cold` first, then the rows.
pub(crate) fn purge_tombstones(
    tx: &mut impl GenericClient,
    cutoff: &str,
    limit: usize,
    now: &str,
) -> Result<PurgedTombstones> {
    let ids: Vec<String> = tx
        .query(
            "SELECT id FROM memories WHERE is_deleted IS TRUE AND deleted_at IS NOT NULL \
               AND deleted_at::timestamptz < $1::text::timestamptz \
             ORDER BY seq LIMIT $2 FOR UPDATE SKIP LOCKED",
            &[&cutoff, &count(limit)],
        )
        .pg()?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let mut out = PurgedTombstones::default();
    if ids.is_empty() {
        return Ok(out);
    }
    (out.mentions, out.entities) = mentions(tx, &ids)?;
    out.embeddings = rows(
        tx.execute(
            "DELETE FROM embeddings WHERE source_type = 'memory' AND source_id = ANY($1)",
            &[&ids],
        )
        .pg()?,
    );
    for id in &ids {
        let archive_id = uuid::Uuid::new_v4().to_string();
        crate::pipeline::archive(tx, id, &archive_id, "retention_decay", now)?;
    }
    tx.execute("DELETE FROM memories WHERE id = ANY($1)", &[&ids])
        .pg()?;
    out.ids = ids;
    Ok(out)
}

/// Drops the batch's mentions, decrements the entities they named (floored at 0) and deletes
/// those entities left with no mention, with their relations.
fn mentions(tx: &mut impl GenericClient, ids: &[String]) -> Result<(usize, usize)> {
    let named: Vec<(String, i64)> = tx
        .query(
            "SELECT entity_id, count(*) FROM memory_entity_mentions WHERE memory_id = ANY($1) \
             GROUP BY entity_id",
            &[&ids],
        )
        .pg()?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let removed = rows(
        tx.execute(
            "DELETE FROM memory_entity_mentions WHERE memory_id = ANY($1)",
            &[&ids],
        )
        .pg()?,
    );
    if named.is_empty() {
        return Ok((removed, 0));
    }
    let (entities, counts): (Vec<String>, Vec<i64>) = named.into_iter().unzip();
    let emptied: Vec<String> = tx
        .query(
            "UPDATE entities e SET mentions = GREATEST(0, COALESCE(e.mentions, 0) - n.n) \
             FROM unnest($1::text[], $2::bigint[]) AS n(id, n) WHERE e.id = n.id \
             RETURNING e.id, e.mentions",
            &[&entities, &counts],
        )
        .pg()?
        .iter()
        .filter(|r| r.get::<_, Option<i64>>(1).unwrap_or(0) == 0)
        .map(|r| r.get(0))
        .collect();
    tx.execute(
        "DELETE FROM relations WHERE source_entity_id = ANY($1) OR target_entity_id = ANY($1)",
        &[&emptied],
    )
    .pg()?;
    tx.execute(
        "DELETE FROM memory_entity_mentions WHERE entity_id = ANY($1)",
        &[&emptied],
    )
    .pg()?;
    let gone = tx
        .execute("DELETE FROM entities WHERE id = ANY($1)", &[&emptied])
        .pg()?;
    Ok((removed, rows(gone)))
}

/// Deletes up to `limit` rows of one retention step older than `cutoff`.
pub(crate) fn prune(
    tx: &mut impl GenericClient,
    step: PruneStep,
    cutoff: &str,
    limit: usize,
) -> Result<usize> {
    let (table, key, filter) = match step {
        PruneStep::History => (
            "memory_history",
            "seq",
            "created_at::timestamptz < $1::text::timestamptz",
        ),
        PruneStep::CompletedJobs => (
            "memory_jobs",
            "seq",
            "status = 'completed' AND COALESCE(completed_at, updated_at)::timestamptz \
             < $1::text::timestamptz",
        ),
        PruneStep::DeadJobs => (
            "memory_jobs",
            "seq",
            "status = 'dead' AND COALESCE(failed_at, updated_at)::timestamptz \
             < $1::text::timestamptz",
        ),
        // No predictor tables on PostgreSQL (upstream's predictor is not part of its model).
        PruneStep::PredictorPairs => return Ok(0),
    };
    let sql = format!(
        "DELETE FROM {table} WHERE {key} IN (SELECT {key} FROM {table} WHERE {filter} \
         LIMIT $2 FOR UPDATE SKIP LOCKED)"
    );
    Ok(rows(tx.execute(&sql, &[&cutoff, &count(limit)]).pg()?))
}
