//! Extract jobs: the source memory they read, their one-transaction write (planned writes in
//! order, the graph, the source's extraction state, the job's completion), their failure, and
//! the `memory_jobs` rows and counts the status endpoints show.

use rusqlite::{Connection, OptionalExtension, params};
use serde_json::Value;
use signet_model::documents::FailedJob;
use signet_model::memories::{Change, MemoryPatch, Mutation, WriteOptions};
use signet_model::pipeline::{
    Applied, EXTRACT, ExtractSource, ExtractWrite, JobCount, JobPage, JobQuery, JobRecord,
    PlannedWrite, WriteOutcome,
};
use signet_model::rules::{refusal_code, settled, with_keys};

use super::graph;
use crate::documents::jobs;
use crate::error::Result;
use crate::maintenance::retention::{Archived, archive};
use crate::memories::mutate::mutate;
use crate::memories::write::{self, History, InsertHistory, Provenance};
use crate::row;

/// The memory an extract job names, deleted or not.
pub fn source(c: &Connection, memory_id: &str) -> Result<Option<ExtractSource>> {
    Ok(c.prepare_cached(
        "SELECT id AS memory_id, content, COALESCE(is_deleted, 0) AS is_deleted, project, \
             scope_user FROM memories WHERE id = ?1",
    )?
    .query_row([memory_id], row::decode)
    .optional()?)
}

/// Whether the extract job `id` is leased by `attempt`.
fn held(tx: &Connection, id: &str, attempt: i64) -> Result<bool> {
    Ok(tx
        .prepare_cached(
            "SELECT EXISTS(SELECT 1 FROM memory_jobs WHERE id = ?1 AND job_type = ?2 \
               AND status = 'leased' AND COALESCE(attempts, 0) = ?3)",
        )?
        .query_row(params![id, EXTRACT, attempt], |r| r.get(0))?)
}

/// The whole write of one extract job, or nothing when the attempt no longer holds the job.
pub fn apply(tx: &Connection, w: &ExtractWrite) -> Result<Applied> {
    if !held(tx, &w.job_id, w.attempt)? {
        return Ok(Applied::Stale);
    }
    let mut outcomes = Vec::with_capacity(w.writes.len());
    for planned in &w.writes {
        outcomes.push(one(tx, w, planned)?);
    }
    graph::persist(tx, &w.source_memory_id, &w.entities, &w.now)?;
    tx.prepare_cached(
        "UPDATE memories SET extraction_status = 'completed', extraction_model = ?2 WHERE id = ?1",
    )?
    .execute(params![w.source_memory_id, w.extraction_model])?;
    jobs::complete(tx, &w.job_id, Some(&w.result), &w.now)?;
    Ok(Applied::Written(outcomes))
}

fn one(tx: &Connection, w: &ExtractWrite, planned: &PlannedWrite) -> Result<WriteOutcome> {
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
            let (outcome, created, deduped) = match write::live_by_hash(tx, &memory.content_hash)? {
                Some(hit) => (
                    WriteOutcome::Deduped {
                        existing_id: hit.id.clone(),
                    },
                    Value::Null,
                    Value::String(hit.id),
                ),
                None => {
                    let opts = WriteOptions {
                        enqueue_extraction: false,
                        ..WriteOptions::default()
                    };
                    let why = Provenance {
                        reason,
                        metadata: metadata.clone(),
                    };
                    write::insert_with(tx, memory, opts, &w.actor, Some(why))?;
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
                tx.prepare_cached(
                    "UPDATE memories SET extraction_status = 'completed', extraction_model = ?2 \
                     WHERE id = ?1",
                )?
                .execute(params![target_id, w.extraction_model])?;
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
    tx: &Connection,
    w: &ExtractWrite,
    target: &str,
    reason: &str,
    change: Change,
    cold_reason: &str,
) -> Result<std::result::Result<(), &'static str>> {
    tx.execute_batch("SAVEPOINT pipeline_write")?;
    let archive_id = uuid::Uuid::new_v4().to_string();
    let which = Archived::One {
        memory_id: target,
        archive_id: &archive_id,
    };
    archive(tx, which, cold_reason, &w.now)?;
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
    tx.execute_batch(end)?;
    Ok(refused.map_or(Ok(()), Err))
}

/// The source's audit row of an update or delete; `None` when it went through, else the
/// refusal.
fn settle(
    tx: &Connection,
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
fn audit(tx: &Connection, w: &ExtractWrite, reason: &str, metadata: Value) -> Result<()> {
    History::new(&w.source_memory_id, "none", &w.actor, &w.now)
        .reason(reason)
        .metadata(metadata)
        .insert(tx)
}

/// A failed attempt (see [`jobs::fail`]); a dead job fails its memory's extraction.
pub fn fail(tx: &Connection, job_id: &str, error: &str, now: &str) -> Result<FailedJob> {
    let outcome = jobs::fail(tx, job_id, error, now)?;
    if outcome == FailedJob::Dead {
        tx.prepare_cached(
            "UPDATE memories SET extraction_status = 'failed' \
             WHERE id = (SELECT memory_id FROM memory_jobs WHERE id = ?1)",
        )?
        .execute([job_id])?;
    }
    Ok(outcome)
}

/// Gives a job held by `attempt` back as pending, without counting the attempt: a leased
/// `memory_jobs` row, or else a processing `summary_jobs` row (which has no `updated_at`).
pub fn release(tx: &Connection, id: &str, attempt: i64, now: &str) -> Result<bool> {
    let memory_job = tx
        .prepare_cached(
            "UPDATE memory_jobs SET status = 'pending', attempts = ?2 - 1, updated_at = ?3 \
             WHERE id = ?1 AND status = 'leased' AND COALESCE(attempts, 0) = ?2",
        )?
        .execute(params![id, attempt, now])?;
    if memory_job > 0 {
        return Ok(true);
    }
    let summary_job = tx
        .prepare_cached(
            "UPDATE summary_jobs SET status = 'pending', attempts = ?2 - 1 \
             WHERE id = ?1 AND status = 'processing' AND COALESCE(attempts, 0) = ?2",
        )?
        .execute(params![id, attempt])?;
    Ok(summary_job > 0)
}

/// One `memory_jobs` row.
pub fn job(c: &Connection, id: &str) -> Result<Option<JobRecord>> {
    Ok(c.prepare_cached(
        "SELECT id, memory_id, document_id, job_type, status, COALESCE(attempts, 0) AS attempts, \
             COALESCE(max_attempts, 3) AS max_attempts, error, result, leased_at, completed_at, \
             failed_at, created_at, updated_at FROM memory_jobs WHERE id = ?1",
    )?
    .query_row([id], row::decode)
    .optional()?)
}

/// The `memory_jobs` rows of `q`, newest first, and how many match.
pub fn list_jobs(c: &Connection, q: &JobQuery) -> Result<JobPage> {
    const FILTER: &str = "FROM memory_jobs WHERE (?1 IS NULL OR status = ?1) \
                          AND (?2 IS NULL OR job_type = ?2)";
    let filters = (q.status.as_deref(), q.job_type.as_deref());
    let total = c
        .prepare_cached(&format!("SELECT COUNT(*) {FILTER}"))?
        .query_row(filters, |r| r.get(0))?;
    let limit = i64::try_from(q.limit).unwrap_or(i64::MAX);
    let offset = i64::try_from(q.offset).unwrap_or(i64::MAX);
    let jobs = c
        .prepare_cached(&format!(
            "SELECT id, memory_id, document_id, job_type, status, \
                 COALESCE(attempts, 0) AS attempts, COALESCE(max_attempts, 3) AS max_attempts, \
                 error, result, leased_at, completed_at, failed_at, created_at, updated_at \
             {FILTER} ORDER BY updated_at DESC, id DESC LIMIT ?3 OFFSET ?4"
        ))?
        .query_map((filters.0, filters.1, limit, offset), row::decode)?
        .collect::<rusqlite::Result<_>>()?;
    Ok(JobPage { jobs, total })
}

/// Both queues by job type and status.
pub fn job_counts(c: &Connection) -> Result<Vec<JobCount>> {
    Ok(c.prepare_cached(
        "SELECT 'memory' AS queue, job_type, status, COUNT(*) AS count FROM memory_jobs \
               GROUP BY job_type, status \
             UNION ALL \
             SELECT 'summary' AS queue, 'summary' AS job_type, status, COUNT(*) AS count \
               FROM summary_jobs GROUP BY status \
             ORDER BY queue, job_type, status",
    )?
    .query_map([], row::decode)?
    .collect::<rusqlite::Result<_>>()?)
}
