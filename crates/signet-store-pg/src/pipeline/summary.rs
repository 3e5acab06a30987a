//! Summary jobs (`summary_jobs`): lease, recover, the one-transaction write (memories, the
//! session's depth-0 `session_summaries` row and its links, the job's completion), failure.
//! The table has no lease time: a `processing` job is held until the next start-up's recovery.

use postgres::GenericClient;
use signet_model::Result;
use signet_model::documents::FailedJob;
use signet_model::memories::WriteOptions;
use signet_model::pipeline::{LeasedSummary, SessionSummaryRow, Summarised, SummaryWrite};

use crate::error::PgResultExt;
use crate::memories::write;

/// Leases the oldest pending job with attempts left (`SKIP LOCKED`: nodes leasing together
/// get different jobs).
/// The oldest pending job, or one a node that is gone left `processing` (summary jobs have no
/// lease time: the holder's liveness decides, see `node`).
pub(crate) fn lease(
    tx: &mut impl GenericClient,
    _now: &str,
    node: &str,
) -> Result<Option<LeasedSummary>> {
    let sql = format!(
        "SELECT id, session_key, harness, project, transcript, COALESCE(attempts, 0), \
           COALESCE(max_attempts, 3), created_at FROM summary_jobs \
         WHERE (status = 'pending' OR (status = 'processing' AND {gone})) \
           AND COALESCE(attempts, 0) < COALESCE(max_attempts, 3) \
         ORDER BY created_at ASC, seq ASC LIMIT 1 FOR UPDATE SKIP LOCKED",
        gone = crate::node::gone("leased_by", "$1", false),
    );
    let row = tx.query_opt(&sql, &[&node]).pg()?;
    let Some(r) = row else {
        return Ok(None);
    };
    let mut job = LeasedSummary {
        id: r.get(0),
        session_key: r.get(1),
        harness: r.get(2),
        project: r.get(3),
        transcript: r.get(4),
        attempts: r.get(5),
        max_attempts: r.get(6),
        created_at: r.get(7),
    };
    tx.execute(
        "UPDATE summary_jobs SET status = 'processing', leased_by = $2, \
           attempts = COALESCE(attempts, 0) + 1 WHERE id = $1",
        &[&job.id, &node],
    )
    .pg()?;
    job.attempts += 1;
    Ok(Some(job))
}

/// Every `processing` job of this node or of a node that is gone back to `pending`; how many.
/// A live peer's jobs stay with it.
pub(crate) fn recover(tx: &mut impl GenericClient, node: &str) -> Result<usize> {
    let sql = format!(
        "UPDATE summary_jobs SET status = 'pending', leased_by = NULL, \
           attempts = GREATEST(COALESCE(attempts, 0) - 1, 0) \
         WHERE status = 'processing' AND (leased_by = $1 OR {gone})",
        gone = crate::node::gone("leased_by", "$1", true),
    );
    let n = tx.execute(&sql, &[&node]).pg()?;
    Ok(usize::try_from(n).unwrap_or(usize::MAX))
}

/// The whole write of one summary job, or nothing when the attempt no longer holds it.
pub(crate) fn apply(tx: &mut impl GenericClient, w: &SummaryWrite) -> Result<Summarised> {
    let held = tx
        .query_opt(
            "SELECT 1 FROM summary_jobs WHERE id = $1 AND status = 'processing' \
               AND COALESCE(attempts, 0) = $2 FOR UPDATE",
            &[&w.job_id, &w.attempt],
        )
        .pg()?
        .is_some();
    if !held {
        return Ok(Summarised::Stale);
    }
    let opts = WriteOptions {
        enqueue_extraction: false,
        ..WriteOptions::default()
    };
    let mut inserted = Vec::with_capacity(w.memories.len());
    for m in &w.memories {
        if write::live_by_hash(tx, &m.content_hash)?.is_some()
            || write::insert_unless_raced(tx, m, opts, &w.actor, None)?.is_some()
        {
            continue;
        }
        inserted.push(m.id.clone());
    }
    if let Some(session) = &w.session {
        upsert_session(tx, session, &inserted, &w.now)?;
    }
    tx.execute(
        "UPDATE summary_jobs SET status = 'completed', completed_at = $2, result = $3, \
           error = NULL WHERE id = $1",
        &[&w.job_id, &w.now, &w.result],
    )
    .pg()?;
    Ok(Summarised::Written(inserted))
}

/// Upserts the session's depth-0 row (one per `session_key`) and links `memories` to it.
fn upsert_session(
    tx: &mut impl GenericClient,
    s: &SessionSummaryRow,
    memories: &[String],
    now: &str,
) -> Result<()> {
    let tokens = i64::try_from(s.content.chars().count() / 4).unwrap_or(i64::MAX);
    tx.execute(
        "INSERT INTO session_summaries AS x (id, project, depth, kind, content, token_count, \
           earliest_at, latest_at, session_key, harness, agent_id, created_at) \
         VALUES ($1, $2, 0, 'session', $3, $4, $5, $6, $7, $8, 'default', $9) \
         ON CONFLICT (session_key, depth) WHERE session_key IS NOT NULL DO UPDATE SET \
           project = excluded.project, content = excluded.content, \
           token_count = excluded.token_count, \
           earliest_at = LEAST(x.earliest_at, excluded.earliest_at), \
           latest_at = GREATEST(x.latest_at, excluded.latest_at), harness = excluded.harness",
        &[
            &s.id,
            &s.project,
            &s.content,
            &tokens,
            &s.earliest_at,
            &s.latest_at,
            &s.session_key,
            &s.harness,
            &now,
        ],
    )
    .pg()?;
    let id: String = tx
        .query_one(
            "SELECT id FROM session_summaries WHERE session_key = $1 AND depth = 0 LIMIT 1",
            &[&s.session_key],
        )
        .pg()?
        .get(0);
    for memory_id in memories {
        tx.execute(
            "INSERT INTO session_summary_memories (summary_id, memory_id) VALUES ($1, $2) \
             ON CONFLICT DO NOTHING",
            &[&id, memory_id],
        )
        .pg()?;
    }
    Ok(())
}

/// A failed attempt of a `processing` job: dead when out of attempts, else pending.
pub(crate) fn fail(
    tx: &mut impl GenericClient,
    id: &str,
    error: &str,
    _now: &str,
) -> Result<FailedJob> {
    let Some((status, outcome)) =
        crate::documents::jobs::failed_attempt(tx, "summary_jobs", "processing", id)?
    else {
        return Ok(FailedJob::Unknown);
    };
    tx.execute(
        "UPDATE summary_jobs SET status = $2, error = $3 WHERE id = $1",
        &[&id, &status, &error],
    )
    .pg()?;
    Ok(outcome)
}
