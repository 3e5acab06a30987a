//! The job queue over `memory_jobs`, for any `job_type`: lease, complete, fail, recover.
//! Each function runs inside a transaction the caller opened.

use rusqlite::{Connection, OptionalExtension, params};
use signet_model::documents::{FailedJob, LeasePolicy, LeasedJob};

use crate::error::Result;
use crate::row;

/// Milliseconds from the stored time `col` to the bound time `?now`, in SQL.
fn age_ms(col: &str) -> String {
    format!("((julianday(?2) - julianday({col})) * 86400000.0)")
}

/// Leases the oldest qualifying job of `kind` (see [`signet_model::JobQueue::lease_job`]).
pub fn lease(
    tx: &Connection,
    kind: &str,
    now: &str,
    policy: &LeasePolicy,
) -> Result<Option<LeasedJob>> {
    let Some(mut job) = candidate(tx, kind, now, policy)? else {
        return Ok(None);
    };
    tx.prepare_cached(
        "UPDATE memory_jobs SET status = 'leased', leased_at = ?2, updated_at = ?2, \
           attempts = COALESCE(attempts, 0) + 1 WHERE id = ?1",
    )?
    .execute(params![job.id, now])?;
    job.attempts += 1;
    Ok(Some(job))
}

/// The job [`lease`] would take, without taking it (a reader can ask: an idle worker's poll
/// then needs no write transaction).
pub fn candidate(
    tx: &Connection,
    kind: &str,
    now: &str,
    policy: &LeasePolicy,
) -> Result<Option<LeasedJob>> {
    let sql = format!(
        "SELECT id, job_type, memory_id, document_id, payload, \
           COALESCE(attempts, 0) AS attempts, COALESCE(max_attempts, 3) AS max_attempts \
         FROM memory_jobs \
         WHERE job_type = ?1 AND ( \
           (status = 'pending' AND COALESCE(attempts, 0) < COALESCE(max_attempts, 3) \
             AND (failed_at IS NULL OR {failed} >= MIN(?4 * (1 << MAX(COALESCE(attempts, 0) - 1, 0)), ?5))) \
           OR (status = 'leased' AND COALESCE(attempts, 0) < COALESCE(max_attempts, 3) \
             AND (leased_at IS NULL OR {leased} >= ?3))) \
         ORDER BY created_at ASC, rowid ASC LIMIT 1",
        failed = age_ms("failed_at"),
        leased = age_ms("leased_at"),
    );
    let job: Option<LeasedJob> = tx
        .prepare_cached(&sql)?
        .query_row(
            params![
                kind,
                now,
                policy.lease_ms,
                policy.backoff_base_ms,
                policy.backoff_max_ms
            ],
            row::decode,
        )
        .optional()?;
    Ok(job)
}

/// Marks a job completed; whether one was.
pub fn complete(tx: &Connection, id: &str, result: Option<&str>, now: &str) -> Result<bool> {
    let n = tx
        .prepare_cached(
            "UPDATE memory_jobs SET status = 'completed', result = ?2, completed_at = ?3, \
               updated_at = ?3, error = NULL WHERE id = ?1 AND status IN ('pending', 'leased')",
        )?
        .execute(params![id, result, now])?;
    Ok(n > 0)
}

/// Records a failed attempt of a leased job: dead when out of attempts, else pending.
pub fn fail(tx: &Connection, id: &str, error: &str, now: &str) -> Result<FailedJob> {
    let counts: Option<(i64, i64)> = tx
        .prepare_cached(
            "SELECT COALESCE(attempts, 0), COALESCE(max_attempts, 3) FROM memory_jobs \
             WHERE id = ?1 AND status = 'leased'",
        )?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let Some((attempts, max)) = counts else {
        return Ok(FailedJob::Unknown);
    };
    let (status, outcome) = signet_model::rules::after_failed_attempt(attempts, max);
    tx.prepare_cached(
        "UPDATE memory_jobs SET status = ?2, error = ?3, failed_at = ?4, updated_at = ?4 \
         WHERE id = ?1",
    )?
    .execute(params![id, status, error, now])?;
    Ok(outcome)
}

/// Whether [`recover`] has anything to do: a lease of `kind` taken before `leased_before`.
pub fn any_stale(conn: &Connection, kind: &str, leased_before: &str) -> Result<bool> {
    let found = conn
        .prepare_cached(&format!(
            "SELECT 1 FROM memory_jobs WHERE {STALE_LEASE} LIMIT 1"
        ))?
        .query_row(params![kind, leased_before], |_| Ok(()))
        .optional()?;
    Ok(found.is_some())
}

/// The jobs of kind `?1` leased before `?2`.
const STALE_LEASE: &str =
    "job_type = ?1 AND status = 'leased' AND (leased_at IS NULL OR leased_at < ?2)";

/// Stale leases of `kind` back to pending, or to dead when the interrupted attempt was the
/// job's last (its memory's extraction or its document then fails, as after a failed last
/// attempt); how many.
pub fn recover(tx: &Connection, kind: &str, leased_before: &str, now: &str) -> Result<usize> {
    const STALE: &str = STALE_LEASE;
    const LAST: &str = "COALESCE(attempts, 0) >= COALESCE(max_attempts, 3)";
    const ERROR: &str = "interrupted on its last attempt (the lease expired)";
    tx.prepare_cached(&format!(
        "UPDATE memories SET extraction_status = 'failed' WHERE id IN ( \
           SELECT memory_id FROM memory_jobs WHERE {STALE} AND {LAST} AND job_type = 'extract')"
    ))?
    .execute(params![kind, leased_before])?;
    tx.prepare_cached(&format!(
        "UPDATE documents SET status = 'failed', error = ?3, updated_at = ?4 WHERE id IN ( \
           SELECT document_id FROM memory_jobs WHERE {STALE} AND {LAST} \
             AND job_type = 'document_ingest') AND status NOT IN ('done', 'deleted')"
    ))?
    .execute(params![kind, leased_before, ERROR, now])?;
    let dead = tx
        .prepare_cached(&format!(
            "UPDATE memory_jobs SET status = 'dead', error = ?3, failed_at = ?4, updated_at = ?4 \
             WHERE {STALE} AND {LAST}"
        ))?
        .execute(params![kind, leased_before, ERROR, now])?;
    let pending = tx
        .prepare_cached(&format!(
            "UPDATE memory_jobs SET status = 'pending', updated_at = ?3 WHERE {STALE}"
        ))?
        .execute(params![kind, leased_before, now])?;
    Ok(dead + pending)
}

/// Every lease of `kind` back to pending with its attempt given back; how many.
pub fn release_orphans(tx: &Connection, kind: &str, now: &str) -> Result<usize> {
    Ok(tx
        .prepare_cached(
            "UPDATE memory_jobs SET status = 'pending', updated_at = ?2, \
               attempts = MAX(COALESCE(attempts, 0) - 1, 0) \
             WHERE job_type = ?1 AND status = 'leased'",
        )?
        .execute(params![kind, now])?)
}
