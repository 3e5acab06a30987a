//! What the harness hooks keep about sessions: `session_memories` rows, `summary_jobs` and
//! (read-only) `session_checkpoints`.

use rusqlite::{Connection, OptionalExtension, Row, params};
use signet_model::sessions::{Checkpoint, CheckpointQuery, SessionMemory, SummaryJob};

use crate::error::{Result, StoreError};

/// Inserts each row unless its `(session_key, memory_id)` pair is recorded; how many went in.
pub fn record(tx: &Connection, rows: &[SessionMemory]) -> Result<usize> {
    let mut stmt = tx.prepare_cached(
        "INSERT OR IGNORE INTO session_memories (id, session_key, memory_id, source, \
           effective_score, final_score, rank, was_injected, fts_hit_count, created_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?;
    let mut written = 0;
    for r in rows {
        written += stmt.execute(params![
            r.id,
            r.session_key,
            r.memory_id,
            r.source,
            r.effective_score,
            r.final_score,
            r.rank,
            i64::from(r.was_injected),
            r.fts_hit_count,
            r.created_at,
        ])?;
    }
    Ok(written)
}

/// Queues one transcript (`pending`, no attempts).
pub fn enqueue(tx: &Connection, job: &SummaryJob) -> Result<String> {
    let taken: bool = tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM summary_jobs WHERE id = ?1)",
        [&job.id],
        |r| r.get(0),
    )?;
    if taken {
        return Err(StoreError::Conflict(format!(
            "summary job {} is already queued",
            job.id
        )));
    }
    if let Some(key) = &job.session_key {
        let pending: Option<String> = tx
            .query_row(
                "SELECT id FROM summary_jobs WHERE session_key = ?1 AND status = 'pending' \
                 ORDER BY created_at DESC LIMIT 1",
                [key],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(id) = pending {
            tx.execute(
                "UPDATE summary_jobs SET transcript = ?2, harness = ?3, project = ?4 WHERE id = ?1",
                params![id, job.transcript, job.harness, job.project],
            )?;
            return Ok(id);
        }
    }
    tx.execute(
        "INSERT INTO summary_jobs (id, session_key, harness, project, transcript, status, \
           attempts, created_at) VALUES (?1, ?2, ?3, ?4, ?5, 'pending', 0, ?6)",
        params![
            job.id,
            job.session_key,
            job.harness,
            job.project,
            job.transcript,
            job.created_at,
        ],
    )?;
    Ok(job.id.clone())
}

const CHECKPOINT_COLUMNS: &str = "id, session_key, harness, project, project_normalized, \
     trigger, digest, prompt_count, memory_queries, recent_remembers, created_at";

fn checkpoint(r: &Row<'_>) -> rusqlite::Result<Checkpoint> {
    Ok(Checkpoint {
        id: r.get(0)?,
        session_key: r.get(1)?,
        harness: r.get(2)?,
        project: r.get(3)?,
        project_normalized: r.get(4)?,
        trigger: r.get(5)?,
        digest: r.get(6)?,
        prompt_count: r.get(7)?,
        memory_queries: r.get(8)?,
        recent_remembers: r.get(9)?,
        created_at: r.get(10)?,
    })
}

/// Checkpoints of a session or a project, newest first.
pub fn checkpoints(c: &Connection, q: &CheckpointQuery) -> Result<Vec<Checkpoint>> {
    let (filter, value, limit) = match q {
        CheckpointQuery::Session { session_key, limit } => {
            ("session_key = ?1", session_key.as_str(), *limit)
        }
        CheckpointQuery::Project { project, limit } => (
            "COALESCE(project_normalized, project) = ?1",
            project.as_str(),
            *limit,
        ),
    };
    let sql = format!(
        "SELECT {CHECKPOINT_COLUMNS} FROM session_checkpoints WHERE {filter} \
         ORDER BY created_at DESC, rowid DESC LIMIT ?2"
    );
    let mut stmt = c.prepare_cached(&sql)?;
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows = stmt.query_map(params![value, limit], checkpoint)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
