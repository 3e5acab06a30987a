//! The job queue over `memory_jobs`, for any `job_type`: lease, complete, fail, recover.
//! Leasing takes the oldest qualifying row `FOR UPDATE SKIP LOCKED`, so nodes leasing at the
//! same moment each get a different job and none waits for another's transaction.

use postgres::{GenericClient, Row};
use signet_model::Result;
use signet_model::documents::{FailedJob, LeasePolicy, LeasedJob};

use crate::error::PgResultExt;

/// Milliseconds from the stored time `col` to the bound time `$2`, in SQL.
fn age_ms(col: &str) -> String {
    format!("(extract(epoch FROM ($2::text::timestamptz - {col}::timestamptz)) * 1000.0)")
}

fn leased_job(r: &Row) -> LeasedJob {
    LeasedJob {
        id: r.get(0),
        job_type: r.get(1),
        memory_id: r.get(2),
        document_id: r.get(3),
        payload: r.get(4),
        attempts: r.get(5),
        max_attempts: r.get(6),
    }
}

/// Leases the oldest qualifying job of `kind` (see [`signet_model::JobQueue::lease_job`]).
pub(crate) fn lease(
    tx: &mut impl GenericClient,
    kind: &str,
    now: &str,
    policy: &LeasePolicy,
    node: &str,
) -> Result<Option<LeasedJob>> {
    let sql = format!(
        "SELECT id, job_type, memory_id, document_id, payload, \
           COALESCE(attempts, 0), COALESCE(max_attempts, 3) \
         FROM memory_jobs \
         WHERE job_type = $1 AND COALESCE(attempts, 0) < COALESCE(max_attempts, 3) AND ( \
           (status = 'pending' AND (failed_at IS NULL OR {failed} >= LEAST( \
              $4::bigint * (1::bigint << GREATEST(COALESCE(attempts, 0) - 1, 0)::int), $5::bigint))) \
           OR (status = 'leased' AND (leased_at IS NULL OR {leased} >= $3::bigint OR {dead}))) \
         ORDER BY created_at ASC, seq ASC LIMIT 1 FOR UPDATE SKIP LOCKED",
        failed = age_ms("failed_at"),
        leased = age_ms("leased_at"),
        dead = crate::node::gone("leased_by", "$6", false),
    );
    let row = tx
        .query_opt(
            &sql,
            &[
                &kind,
                &now,
                &policy.lease_ms,
                &policy.backoff_base_ms,
                &policy.backoff_max_ms,
                &node,
            ],
        )
        .pg()?;
    let Some(mut job) = row.as_ref().map(leased_job) else {
        return Ok(None);
    };
    tx.execute(
        "UPDATE memory_jobs SET status = 'leased', leased_at = $2, updated_at = $2, \
           leased_by = $3, attempts = COALESCE(attempts, 0) + 1 WHERE id = $1",
        &[&job.id, &now, &node],
    )
    .pg()?;
    job.attempts += 1;
    Ok(Some(job))
}

/// Marks a job completed; whether one was.
pub(crate) fn complete(
    tx: &mut impl GenericClient,
    id: &str,
    result: Option<&str>,
    now: &str,
) -> Result<bool> {
    let n = tx
        .execute(
            "UPDATE memory_jobs SET status = 'completed', result = $2, completed_at = $3, \
               updated_at = $3, error = NULL WHERE id = $1 AND status IN ('pending', 'leased')",
            &[&id, &result, &now],
        )
        .pg()?;
    Ok(n > 0)
}

/// Records a failed attempt of a leased job: dead when out of attempts, else pending.
pub(crate) fn fail(
    tx: &mut impl GenericClient,
    id: &str,
    error: &str,
    now: &str,
) -> Result<FailedJob> {
    let Some((status, outcome)) = failed_attempt(tx, "memory_jobs", "leased", id)? else {
        return Ok(FailedJob::Unknown);
    };
    tx.execute(
        "UPDATE memory_jobs SET status = $2, error = $3, failed_at = $4, updated_at = $4 \
         WHERE id = $1",
        &[&id, &status, &error, &now],
    )
    .pg()?;
    Ok(outcome)
}

/// The next status of the `table` job `id` after a failed attempt, its row locked; `None`
/// when no such job is `held` (leased, processing). Shared by both queues (`memory_jobs`,
/// `summary_jobs`); each writes its own columns.
pub(crate) fn failed_attempt(
    tx: &mut impl GenericClient,
    table: &str,
    held: &str,
    id: &str,
) -> Result<Option<(&'static str, FailedJob)>> {
    let sql = format!(
        "SELECT COALESCE(attempts, 0), COALESCE(max_attempts, 3) FROM {table} \
         WHERE id = $1 AND status = $2 FOR UPDATE"
    );
    let row = tx.query_opt(&sql, &[&id, &held]).pg()?;
    Ok(row.map(|r| signet_model::rules::after_failed_attempt(r.get(0), r.get(1))))
}

/// Stale leases of `kind` back to pending, or to dead when the interrupted attempt was the
/// job's last (its memory's extraction or its document then fails); how many.
pub(crate) fn recover(
    tx: &mut impl GenericClient,
    kind: &str,
    leased_before: &str,
    now: &str,
) -> Result<usize> {
    const STALE: &str =
        "job_type = $1 AND status = 'leased' AND (leased_at IS NULL OR leased_at < $2)";
    const LAST: &str = "COALESCE(attempts, 0) >= COALESCE(max_attempts, 3)";
    const ERROR: &str = "interrupted on its last attempt (the lease expired)";
    tx.execute(
        &format!(
            "UPDATE memories SET extraction_status = 'failed' WHERE id IN ( \
               SELECT memory_id FROM memory_jobs WHERE {STALE} AND {LAST} AND job_type = 'extract')"
        ),
        &[&kind, &leased_before],
    )
    .pg()?;
    tx.execute(
        &format!(
            "UPDATE documents SET status = 'failed', error = $3, updated_at = $4 WHERE id IN ( \
               SELECT document_id FROM memory_jobs WHERE {STALE} AND {LAST} \
                 AND job_type = 'document_ingest') AND status NOT IN ('done', 'deleted')"
        ),
        &[&kind, &leased_before, &ERROR, &now],
    )
    .pg()?;
    let dead = tx
        .execute(
            &format!(
                "UPDATE memory_jobs SET status = 'dead', error = $3, failed_at = $4, \
                 updated_at = $4 WHERE {STALE} AND {LAST}"
            ),
            &[&kind, &leased_before, &ERROR, &now],
        )
        .pg()?;
    let pending = tx
        .execute(
            &format!("UPDATE memory_jobs SET status = 'pending', updated_at = $3 WHERE {STALE}"),
            &[&kind, &leased_before, &now],
        )
        .pg()?;
    Ok(usize::try_from(dead + pending).unwrap_or(usize::MAX))
}

/// Every lease of `kind` held by this node or by a node that is gone (see `node`) back to
/// pending with its attempt given back; how many. A live peer's leases stay with it.
pub(crate) fn release_orphans(
    tx: &mut impl GenericClient,
    kind: &str,
    now: &str,
    node: &str,
) -> Result<usize> {
    let sql = format!(
        "UPDATE memory_jobs SET status = 'pending', updated_at = $2, leased_by = NULL, \
           attempts = GREATEST(COALESCE(attempts, 0) - 1, 0) \
         WHERE job_type = $1 AND status = 'leased' AND (leased_by = $3 OR {gone})",
        gone = crate::node::gone("leased_by", "$3", true),
    );
    let n = tx.execute(&sql, &[&kind, &now, &node]).pg()?;
    Ok(usize::try_from(n).unwrap_or(usize::MAX))
}
