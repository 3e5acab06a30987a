//! Extract jobs: the source memory they read, their one-transaction write (planned writes in
//! order, the graph, the source's extraction state, the job's completion), their failure, and
//! the `memory_jobs` rows and counts the status endpoints show.

use postgres::{GenericClient, Row};
use serde_json::Value;
use signet_model::Result;
use signet_model::documents::FailedJob;
use signet_model::memories::{Change, MemoryPatch, Mutation, WriteOptions};
use signet_model::pipeline::{
    Applied, EXTRACT, ExtractSource, ExtractWrite, JobCount, JobPage, JobQuery, JobRecord,
    PlannedWrite, WriteOutcome,
};
use signet_model::rules::{refusal_code, settled, with_keys};

use super::{archive, graph};
use crate::documents::jobs;
use crate::error::PgResultExt;
use crate::memories::mutate::mutate;
use crate::memories::write::{self, History, InsertHistory, Provenance};
use crate::sql::count;

/// The memory an extract job names, deleted or not.
pub(crate) fn source(c: &mut impl GenericClient, memory_id: &str) -> Result<Option<ExtractSource>> {
    let row = c
        .query_opt(
            "SELECT id, content, COALESCE(is_deleted, false), project, scope_user \
             FROM memories WHERE id = $1",
            &[&memory_id],
        )
        .pg()?;
    Ok(row.map(|r| ExtractSource {
        memory_id: r.get(0),
        content: r.get(1),
        is_deleted: r.get(2),
        project: r.get(3),
        scope_user: r.get(4),
    }))
}

/// Whether the extract job `id` is leased by `attempt`.
fn held(tx: &mut impl GenericClient, id: &str, attempt: i64) -> Result<bool> {
    // FOR UPDATE: the job's row stays as checked until this write commits (a reaper on
    // another node cannot re-lease it in between).
    Ok(tx
        .query_opt(
            "SELECT 1 FROM memory_jobs WHERE id = $1 AND job_type = $2 \
               AND status = 'leased' AND COALESCE(attempts, 0) = $3 FOR UPDATE",
            &[&id, &EXTRACT, &attempt],
        )
        .pg()?
        .is_some())
}

/// The whole write of one extract job, or nothing when the attempt no longer holds the job.
pub(crate) fn apply(tx: &mut impl GenericClient, w: &ExtractWrite) -> Result<Applied> {
    if !held(tx, &w.job_id, w.attempt)? {
        return Ok(Applied::Stale);
    }
    let mut outcomes = Vec::with_capacity(w.writes.len());
    for planned in &w.writes {
        outcomes.push(one(tx, w, planned)?);
    }
    graph::persist(tx, &w.source_memory_id, &w.entities, &w.now)?;
    tx.execute(
        "UPDATE memories SET extraction_status = 'completed', extraction_model = $2 WHERE id = $1",
        &[&w.source_memory_id, &w.extraction_model],
    )
    .pg()?;
    jobs::complete(tx, &w.job_id, Some(&w.result), &w.now)?;
    Ok(Applied::Written(outcomes))
}

fn one(
    tx: &mut impl GenericClient,
    w: &ExtractWrite,
    planned: &PlannedWrite,
) -> Result<WriteOutcome> {
    match planned {
        PlannedWrite::Audit { reason, metadata } => {
            audit(tx, w, reason, metadata.clone())?;
            Ok(WriteOutcome::Audited)
        }
        PlannedWrite::Add {
            memory,
            reason,
            metadata,
        } => {
            let opts = WriteOptions {
                enqueue_extraction: false,
                ..WriteOptions::default()
            };
            let holder = match write::live_by_hash(tx, &memory.content_hash)? {
                Some(hit) => Some(hit),
                None => {
                    let why = Provenance {
                        reason,
                        metadata: metadata.clone(),
                    };
                    write::insert_unless_raced(tx, memory, opts, &w.actor, Some(why))?
                }
            };
            let (outcome, created, deduped) = match holder {
                Some(hit) => (
                    WriteOutcome::Deduped {
                        existing_id: hit.id.clone(),
                    },
                    Value::Null,
                    Value::String(hit.id),
                ),
                None => {
                    let id = memory.id.clone();
                    (
                        WriteOutcome::Added { id: id.clone() },
                        id.into(),
                        Value::Null,
                    )
                }
            };
            let extra = [("createdMemoryId", created), ("dedupedExistingId", deduped)];
            audit(tx, w, reason, with_keys(metadata, extra))?;
            Ok(outcome)
        }
        PlannedWrite::Update {
            target_id,
            content,
            normalized_content,
            content_hash,
            reason,
            metadata,
        } => {
            let patch = MemoryPatch {
                content: Some((
                    content.clone(),
                    normalized_content.clone(),
                    content_hash.clone(),
                )),
                ..MemoryPatch::default()
            };
            let change = Change::Modify(patch);
            let done = guarded(tx, w, target_id, reason, change, "superseded")?;
            if done.is_ok() {
                // As upstream: the new content is the pipeline's own, already extracted.
                tx.execute(
                    "UPDATE memories SET extraction_status = 'completed', extraction_model = $2 \
                     WHERE id = $1",
                    &[target_id, &w.extraction_model],
                )
                .pg()?;
            }
            let outcome = settle(tx, w, target_id, reason, metadata, done, "update")?;
            Ok(outcome.unwrap_or_else(|| WriteOutcome::Updated {
                id: target_id.clone(),
            }))
        }
        PlannedWrite::Delete {
            target_id,
            reason,
            metadata,
        } => {
            let change = Change::Forget { force: false };
            let done = guarded(tx, w, target_id, reason, change, "pipeline_delete")?;
            let outcome = settle(tx, w, target_id, reason, metadata, done, "delete")?;
            Ok(outcome.unwrap_or_else(|| WriteOutcome::Deleted {
                id: target_id.clone(),
            }))
        }
    }
}

/// Runs one change of `target` through the shared mutation guard, archiving the row to
/// `memories_cold` (`cold_reason`) first; a refusal undoes the archive and is `Err(code)`.
fn guarded(
    tx: &mut impl GenericClient,
    w: &ExtractWrite,
    target: &str,
    reason: &str,
    change: Change,
    cold_reason: &str,
) -> Result<std::result::Result<(), &'static str>> {
    tx.batch_execute("SAVEPOINT pipeline_write").pg()?;
    let archive_id = uuid::Uuid::new_v4().to_string();
    archive(tx, target, &archive_id, cold_reason, &w.now)?;
    let m = Mutation {
        id: target.to_owned(),
        if_version: None,
        reason: reason.to_owned(),
        actor: w.actor.clone(),
        now: w.now.clone(),
        change,
    };
    let refused = refusal_code(&mutate(tx, &m)?);
    let end = match refused {
        Some(_) => "ROLLBACK TO pipeline_write; RELEASE pipeline_write",
        None => "RELEASE pipeline_write",
    };
    tx.batch_execute(end).pg()?;
    Ok(refused.map_or(Ok(()), Err))
}

/// The source's audit row of an update or delete; `None` when it went through, else the
/// refusal.
fn settle(
    tx: &mut impl GenericClient,
    w: &ExtractWrite,
    target: &str,
    reason: &str,
    metadata: &Value,
    done: std::result::Result<(), &'static str>,
    verb: &str,
) -> Result<Option<WriteOutcome>> {
    let (key, value, outcome) = settled(target, verb, done);
    audit(tx, w, reason, with_keys(metadata, [(key.as_str(), value)]))?;
    Ok(outcome)
}

/// A record-only history row on the source memory: event `none`, by the write's actor.
fn audit(
    tx: &mut impl GenericClient,
    w: &ExtractWrite,
    reason: &str,
    metadata: Value,
) -> Result<()> {
    History::new(&w.source_memory_id, "none", &w.actor, &w.now)
        .reason(reason)
        .metadata(metadata)
        .insert(tx)
}

/// A failed attempt (see [`jobs::fail`]); a dead job fails its memory's extraction.
pub(crate) fn fail(
    tx: &mut impl GenericClient,
    job_id: &str,
    error: &str,
    now: &str,
) -> Result<FailedJob> {
    let outcome = jobs::fail(tx, job_id, error, now)?;
    if outcome == FailedJob::Dead {
        tx.execute(
            "UPDATE memories SET extraction_status = 'failed' \
             WHERE id = (SELECT memory_id FROM memory_jobs WHERE id = $1)",
            &[&job_id],
        )
        .pg()?;
    }
    Ok(outcome)
}

/// Gives a job held by `attempt` back as pending, without counting the attempt: a leased
/// `memory_jobs` row, or else a processing `summary_jobs` row (which has no `updated_at`).
pub(crate) fn release(
    tx: &mut impl GenericClient,
    id: &str,
    attempt: i64,
    now: &str,
) -> Result<bool> {
    let memory_job = tx
        .execute(
            "UPDATE memory_jobs SET status = 'pending', attempts = $2 - 1, updated_at = $3 \
             WHERE id = $1 AND status = 'leased' AND COALESCE(attempts, 0) = $2",
            &[&id, &attempt, &now],
        )
        .pg()?;
    if memory_job > 0 {
        return Ok(true);
    }
    let summary_job = tx
        .execute(
            "UPDATE summary_jobs SET status = 'pending', attempts = $2 - 1 \
             WHERE id = $1 AND status = 'processing' AND COALESCE(attempts, 0) = $2",
            &[&id, &attempt],
        )
        .pg()?;
    Ok(summary_job > 0)
}

/// The columns of a [`JobRecord`], decoded by [`job_record`].
const JOB_COLS: &str = "id, memory_id, document_id, job_type, status, COALESCE(attempts, 0), \
    COALESCE(max_attempts, 3), error, result, leased_at, completed_at, failed_at, created_at, \
    updated_at";

fn job_record(r: &Row) -> JobRecord {
    JobRecord {
        id: r.get(0),
        memory_id: r.get(1),
        document_id: r.get(2),
        job_type: r.get(3),
        status: r.get(4),
        attempts: r.get(5),
        max_attempts: r.get(6),
        error: r.get(7),
        result: r.get(8),
        leased_at: r.get(9),
        completed_at: r.get(10),
        failed_at: r.get(11),
        created_at: r.get(12),
        updated_at: r.get(13),
    }
}

/// One `memory_jobs` row.
pub(crate) fn job(c: &mut impl GenericClient, id: &str) -> Result<Option<JobRecord>> {
    let sql = format!("SELECT {JOB_COLS} FROM memory_jobs WHERE id = $1");
    Ok(c.query_opt(&sql, &[&id]).pg()?.as_ref().map(job_record))
}

/// The `memory_jobs` rows of `q`, newest first, and how many match.
pub(crate) fn list_jobs(c: &mut impl GenericClient, q: &JobQuery) -> Result<JobPage> {
    const FILTER: &str = "FROM memory_jobs WHERE ($1::text IS NULL OR status = $1) \
                          AND ($2::text IS NULL OR job_type = $2)";
    let total: i64 = c
        .query_one(
            &format!("SELECT count(*) {FILTER}"),
            &[&q.status, &q.job_type],
        )
        .pg()?
        .get(0);
    let sql = format!(
        "SELECT {JOB_COLS} {FILTER} ORDER BY updated_at DESC, id COLLATE \"C\" DESC LIMIT $3 OFFSET $4"
    );
    let rows = c
        .query(
            &sql,
            &[&q.status, &q.job_type, &count(q.limit), &count(q.offset)],
        )
        .pg()?;
    Ok(JobPage {
        jobs: rows.iter().map(job_record).collect(),
        total,
    })
}

/// Both queues by job type and status.
pub(crate) fn job_counts(c: &mut impl GenericClient) -> Result<Vec<JobCount>> {
    let rows = c
        .query(
            "SELECT * FROM ( \
               SELECT 'memory'::text AS queue, job_type COLLATE \"C\" AS job_type, \
                 status COLLATE \"C\" AS status, count(*) AS n FROM memory_jobs \
                 GROUP BY 2, 3 \
               UNION ALL \
               SELECT 'summary'::text, 'summary'::text COLLATE \"C\", status COLLATE \"C\", \
                 count(*) FROM summary_jobs GROUP BY 3) q \
             ORDER BY queue COLLATE \"C\", job_type, status",
            &[],
        )
        .pg()?;
    Ok(rows
        .iter()
        .map(|r| JobCount {
            queue: r.get(0),
            job_type: r.get(1),
            status: r.get(2),
            count: r.get(3),
        })
        .collect())
}
