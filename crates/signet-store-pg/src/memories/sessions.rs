//! What the harness hooks keep about sessions: `session_memories` rows (and the agents'
//! ratings of them), `summary_jobs` and (read-only) `session_checkpoints`.

use postgres::GenericClient;
use signet_model::sessions::{Checkpoint, CheckpointQuery, SessionMemory, SummaryJob};
use signet_model::{Result, StoreError};

use crate::error::PgResultExt;
use crate::sql::count;

/// Inserts each row unless its `(session_key, memory_id)` pair is recorded; how many went in.
pub(crate) fn record(tx: &mut impl GenericClient, rows: &[SessionMemory]) -> Result<usize> {
    let mut written = 0;
    for r in rows {
        written += tx
            .execute(
                "INSERT INTO session_memories (id, session_key, memory_id, source, \
                   effective_score, final_score, rank, was_injected, fts_hit_count, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING",
                &[
                    &r.id,
                    &r.session_key,
                    &r.memory_id,
                    &r.source,
                    &r.effective_score,
                    &r.final_score,
                    &r.rank,
                    &r.was_injected,
                    &r.fts_hit_count,
                    &r.created_at,
                ],
            )
            .pg()?;
    }
    Ok(usize::try_from(written).unwrap_or(usize::MAX))
}

/// Applies each rating to the `(session_key, memory_id)` row as a running mean.
pub(crate) fn feedback(
    tx: &mut impl GenericClient,
    session_key: &str,
    ratings: &[(String, f64)],
) -> Result<usize> {
    let mut recorded = 0;
    for (memory_id, rating) in ratings {
        recorded += tx
            .execute(
                "UPDATE session_memories SET \
                   agent_relevance_score = CASE WHEN agent_relevance_score IS NULL THEN $1 \
                     ELSE (agent_relevance_score * COALESCE(agent_feedback_count, 0) + $1) \
                          / (COALESCE(agent_feedback_count, 0) + 1) END, \
                   agent_feedback_count = COALESCE(agent_feedback_count, 0) + 1 \
                 WHERE session_key = $2 AND memory_id = $3",
                &[rating, &session_key, memory_id],
            )
            .pg()?;
    }
    Ok(usize::try_from(recorded).unwrap_or(usize::MAX))
}

/// Queues one transcript (`pending`, no attempts), or hands it to the session's pending job.
pub(crate) fn enqueue(tx: &mut impl GenericClient, job: &SummaryJob) -> Result<String> {
    let taken = tx
        .query_opt("SELECT 1 FROM summary_jobs WHERE id = $1", &[&job.id])
        .pg()?
        .is_some();
    if taken {
        return Err(StoreError::Conflict(format!(
            "summary job {} is already queued",
            job.id
        )));
    }
    if let Some(key) = &job.session_key {
        // FOR UPDATE: two nodes ending the same session's turns hand over one after the other.
        let pending = tx
            .query_opt(
                "SELECT id FROM summary_jobs WHERE session_key = $1 AND status = 'pending' \
                 ORDER BY created_at DESC LIMIT 1 FOR UPDATE",
                &[key],
            )
            .pg()?;
        if let Some(row) = pending {
            let id: String = row.get(0);
            tx.execute(
                "UPDATE summary_jobs SET transcript = $2, harness = $3, project = $4 WHERE id = $1",
                &[&id, &job.transcript, &job.harness, &job.project],
            )
            .pg()?;
            return Ok(id);
        }
    }
    tx.execute(
        "INSERT INTO summary_jobs (id, session_key, harness, project, transcript, status, \
           attempts, created_at) VALUES ($1, $2, $3, $4, $5, 'pending', 0, $6)",
        &[
            &job.id,
            &job.session_key,
            &job.harness,
            &job.project,
            &job.transcript,
            &job.created_at,
        ],
    )
    .pg()?;
    Ok(job.id.clone())
}

/// Checkpoints of a session or a project, newest first.
pub(crate) fn checkpoints(
    c: &mut impl GenericClient,
    q: &CheckpointQuery,
) -> Result<Vec<Checkpoint>> {
    let (filter, value, limit) = match q {
        CheckpointQuery::Session { session_key, limit } => {
            ("session_key = $1", session_key.as_str(), *limit)
        }
        CheckpointQuery::Project { project, limit } => (
            "COALESCE(project_normalized, project) = $1",
            project.as_str(),
            *limit,
        ),
    };
    let sql = format!(
        "SELECT id, session_key, harness, project, project_normalized, trigger, digest, \
           prompt_count, memory_queries, recent_remembers, created_at \
         FROM session_checkpoints WHERE {filter} ORDER BY created_at DESC, seq DESC LIMIT $2"
    );
    let rows = c.query(&sql, &[&value, &count(limit)]).pg()?;
    Ok(rows
        .iter()
        .map(|r| Checkpoint {
            id: r.get(0),
            session_key: r.get(1),
            harness: r.get(2),
            project: r.get(3),
            project_normalized: r.get(4),
            trigger: r.get(5),
            digest: r.get(6),
            prompt_count: r.get(7),
            memory_queries: r.get(8),
            recent_remembers: r.get(9),
            created_at: r.get(10),
        })
        .collect())
}
