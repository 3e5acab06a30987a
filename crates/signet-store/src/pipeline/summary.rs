//! Summary jobs (`summary_jobs`): lease, recover, the one-transaction write (memories, the
//! session's depth-0 `session_summaries` row and its links, the job's completion), failure.
//! The table has no lease time: a `processing` job is held until the daemon's next start-up.

use rusqlite::{Connection, OptionalExtension, params};
use signet_model::documents::FailedJob;
use signet_model::memories::WriteOptions;
use signet_model::pipeline::{LeasedSummary, SessionSummaryRow, Summarised, SummaryWrite};

use crate::error::Result;
use crate::memories::write;
use crate::row;

/// Leases the oldest pending job with attempts left. `summary_jobs` records no lease time.
pub fn lease(tx: &Connection, now: &str) -> Result<Option<LeasedSummary>> {
    let Some(mut job) = candidate(tx, now)? else {
        return Ok(None);
    };
    tx.prepare_cached(
        "UPDATE summary_jobs SET status = 'processing', attempts = COALESCE(attempts, 0) + 1 \
         WHERE id = ?1",
    )?
    .execute([&job.id])?;
    job.attempts += 1;
    Ok(Some(job))
}

/// The job [`lease`] would take, without taking it (a reader can ask: an idle worker's poll
/// then needs no write transaction).
pub fn candidate(tx: &Connection, _now: &str) -> Result<Option<LeasedSummary>> {
    let job: Option<LeasedSummary> = tx
        .prepare_cached(
            "SELECT id, session_key, harness, project, transcript, COALESCE(attempts, 0) AS attempts, \
               COALESCE(max_attempts, 3) AS max_attempts, created_at \
             FROM summary_jobs \
             WHERE status = 'pending' AND COALESCE(attempts, 0) < COALESCE(max_attempts, 3) \
             ORDER BY created_at ASC, rowid ASC LIMIT 1",
        )?
        .query_row([], row::decode)
        .optional()?;
    Ok(job)
}

/// Every `processing` job back to `pending`; how many.
pub fn recover(tx: &Connection) -> Result<usize> {
    Ok(tx
        .prepare_cached(
            "UPDATE summary_jobs SET status = 'pending', \
               attempts = MAX(COALESCE(attempts, 0) - 1, 0) WHERE status = 'processing'",
        )?
        .execute([])?)
}

/// The whole write of one summary job, or nothing when the attempt no longer holds it.
pub fn apply(tx: &Connection, w: &SummaryWrite) -> Result<Summarised> {
    let held: bool = tx
        .prepare_cached(
            "SELECT EXISTS(SELECT 1 FROM summary_jobs WHERE id = ?1 AND status = 'processing' \
               AND COALESCE(attempts, 0) = ?2)",
        )?
        .query_row(params![w.job_id, w.attempt], |r| r.get(0))?;
    if !held {
        return Ok(Summarised::Stale);
    }
    let opts = WriteOptions {
        enqueue_extraction: false,
        ..WriteOptions::default()
    };
    let mut inserted = Vec::with_capacity(w.memories.len());
    for m in &w.memories {
        if write::live_by_hash(tx, &m.content_hash)?.is_some() {
            continue;
        }
        write::insert(tx, m, opts, &w.actor)?;
        inserted.push(m.id.clone());
    }
    if let Some(session) = &w.session {
        upsert_session(tx, session, &inserted, &w.now)?;
    }
    tx.prepare_cached(
        "UPDATE summary_jobs SET status = 'completed', completed_at = ?2, result = ?3, error = NULL \
         WHERE id = ?1",
    )?
    .execute(params![w.job_id, w.now, w.result])?;
    Ok(Summarised::Written(inserted))
}

/// Upserts the session's depth-0 row (one per `session_key`) and links `memories` to it.
fn upsert_session(
    tx: &Connection,
    s: &SessionSummaryRow,
    memories: &[String],
    now: &str,
) -> Result<()> {
    let tokens = (s.content.chars().count() / 4) as i64;
    tx.prepare_cached(
        "INSERT INTO session_summaries (id, project, depth, kind, content, token_count, \
           earliest_at, latest_at, session_key, harness, agent_id, created_at) \
         VALUES (?1, ?2, 0, 'session', ?3, ?4, ?5, ?6, ?7, ?8, 'default', ?9) \
         ON CONFLICT (session_key, depth) WHERE session_key IS NOT NULL DO UPDATE SET \
           project = excluded.project, content = excluded.content, \
           token_count = excluded.token_count, \
           earliest_at = MIN(earliest_at, excluded.earliest_at), \
           latest_at = MAX(latest_at, excluded.latest_at), harness = excluded.harness",
    )?
    .execute(params![
        s.id,
        s.project,
        s.content,
        tokens,
        s.earliest_at,
        s.latest_at,
        s.session_key,
        s.harness,
        now,
    ])?;
    let id: String = tx
        .prepare_cached(
            "SELECT id FROM session_summaries WHERE session_key = ?1 AND depth = 0 LIMIT 1",
        )?
        .query_row([&s.session_key], |r| r.get(0))?;
    let mut link = tx.prepare_cached(
        "INSERT OR IGNORE INTO session_summary_memories (summary_id, memory_id) VALUES (?1, ?2)",
    )?;
    for memory_id in memories {
        link.execute(params![id, memory_id])?;
    }
    Ok(())
}

/// A failed attempt of a `processing` job: dead when out of attempts, else pending.
pub fn fail(tx: &Connection, id: &str, error: &str, _now: &str) -> Result<FailedJob> {
    let counts: Option<(i64, i64)> = tx
        .prepare_cached(
            "SELECT COALESCE(attempts, 0), COALESCE(max_attempts, 3) FROM summary_jobs \
             WHERE id = ?1 AND status = 'processing'",
        )?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let Some((attempts, max)) = counts else {
        return Ok(FailedJob::Unknown);
    };
    let (status, outcome) = signet_model::rules::after_failed_attempt(attempts, max);
    tx.prepare_cached("UPDATE summary_jobs SET status = ?2, error = ?3 WHERE id = ?1")?
        .execute(params![id, status, error])?;
    Ok(outcome)
}
