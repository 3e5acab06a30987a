//! The document repository: `documents`, their `document_memories` links, the chunk memories
//! the worker writes, and the job queue ([`jobs`]) their `document_ingest` jobs go through.
//! Each function runs inside a transaction the caller opened; [`ingest`] writes a whole
//! document and completes its job in that one transaction, so a crash leaves either nothing
//! or everything.

pub(crate) mod jobs;

use rusqlite::{Connection, OptionalExtension, params};
use signet_model::documents::{
    CreatedDocument, DOCUMENT_INGEST, DeletedDocument, Document, DocumentChunk, DocumentQuery,
    FailedJob, IngestWrite, Ingested, NewDocument,
};
use signet_model::memories::{Actor, WriteOptions};

use crate::error::Result;
use crate::memories::write::{self, History, InsertHistory};
use crate::row;

/// The columns of a [`Document`].
const COLS: &str = "id, source_url, source_type, content_type, content_hash, title, raw_content, \
    status, error, connector_id, COALESCE(chunk_count, 0) AS chunk_count, \
    COALESCE(memory_count, 0) AS memory_count, metadata_json, created_at, updated_at, completed_at";

/// A document that still counts for dedup: neither failed nor deleted.
const ACTIVE: &str = "status NOT IN ('failed', 'deleted')";

/// Inserts a queued document and its job unless an active one holds the URL or content.
pub fn create(tx: &Connection, d: &NewDocument) -> Result<CreatedDocument> {
    for (col, value) in [
        ("source_url", &d.source_url),
        ("content_hash", &d.content_hash),
    ] {
        let Some(value) = value else { continue };
        let hit: Option<(String, String)> = tx
            .prepare_cached(&format!(
                "SELECT id, status FROM documents WHERE {col} = ?1 AND {ACTIVE} \
                 ORDER BY created_at ASC LIMIT 1"
            ))?
            .query_row([value], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        if let Some((id, status)) = hit {
            return Ok(CreatedDocument::Deduplicated { id, status });
        }
    }
    tx.prepare_cached(
        "INSERT INTO documents (id, source_url, source_type, content_type, content_hash, title, \
           raw_content, status, connector_id, chunk_count, memory_count, metadata_json, \
           created_at, updated_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'queued', ?8, 0, 0, ?9, ?10, ?10)",
    )?
    .execute(params![
        d.id,
        d.source_url,
        d.source_type,
        d.content_type,
        d.content_hash,
        d.title,
        d.raw_content,
        d.connector_id,
        d.metadata_json,
        d.created_at,
    ])?;
    tx.prepare_cached(
        "INSERT INTO memory_jobs (id, memory_id, document_id, job_type, status, attempts, \
           max_attempts, created_at, updated_at) \
         VALUES (?1, NULL, ?2, ?3, 'pending', 0, 3, ?4, ?4)",
    )?
    .execute(params![d.job_id, d.id, DOCUMENT_INGEST, d.created_at])?;
    Ok(CreatedDocument::Queued {
        id: d.id.clone(),
        job_id: d.job_id.clone(),
    })
}

/// One document, any status.
pub fn get(c: &Connection, id: &str) -> Result<Option<Document>> {
    Ok(
        c.prepare_cached(&format!("SELECT {COLS} FROM documents WHERE id = ?1"))?
            .query_row([id], row::decode)
            .optional()?,
    )
}

/// A page of documents (newest first) and the total matching.
pub fn list(c: &Connection, q: &DocumentQuery) -> Result<(Vec<Document>, i64)> {
    let filter = "(?1 IS NULL OR status = ?1)";
    let total: i64 = c
        .prepare_cached(&format!("SELECT COUNT(*) FROM documents WHERE {filter}"))?
        .query_row([&q.status], |r| r.get(0))?;
    let rows = c
        .prepare_cached(&format!(
            "SELECT {COLS} FROM documents WHERE {filter} \
             ORDER BY created_at DESC, rowid DESC LIMIT ?2 OFFSET ?3"
        ))?
        .query_map(
            params![q.status, q.limit as i64, q.offset as i64],
            row::decode,
        )?
        .collect::<rusqlite::Result<Vec<Document>>>()?;
    Ok((rows, total))
}

/// The live chunk memories of a document by chunk index; `None` for an unknown document.
pub fn chunks(c: &Connection, id: &str) -> Result<Option<Vec<DocumentChunk>>> {
    if get(c, id)?.is_none() {
        return Ok(None);
    }
    let rows = c
        .prepare_cached(
            "SELECT m.id, m.content, m.type, m.created_at, COALESCE(dm.chunk_index, 0) AS chunk_index \
             FROM document_memories dm JOIN memories m ON m.id = dm.memory_id \
             WHERE dm.document_id = ?1 AND COALESCE(m.is_deleted, 0) = 0 \
             ORDER BY dm.chunk_index ASC",
        )?
        .query_map([id], row::decode)?
        .collect::<rusqlite::Result<Vec<DocumentChunk>>>()?;
    Ok(Some(rows))
}

/// Soft-deletes the live chunks (version + 1, history) and marks the document deleted.
pub fn delete(
    tx: &Connection,
    id: &str,
    reason: &str,
    actor: &Actor,
    now: &str,
) -> Result<Option<DeletedDocument>> {
    if get(tx, id)?.is_none() {
        return Ok(None);
    }
    let live: Vec<(String, String)> = tx
        .prepare_cached(
            "SELECT m.id, m.content FROM document_memories dm JOIN memories m ON m.id = dm.memory_id \
             WHERE dm.document_id = ?1 AND COALESCE(m.is_deleted, 0) = 0 ORDER BY dm.chunk_index",
        )?
        .query_map([id], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let why = format!("Document deleted: {reason}");
    for (memory_id, content) in &live {
        tx.prepare_cached(
            "UPDATE memories SET is_deleted = 1, deleted_at = ?2, updated_at = ?2, updated_by = ?3, \
             version = COALESCE(version, 1) + 1 WHERE id = ?1",
        )?
        .execute(params![memory_id, now, actor.changed_by])?;
        History::new(memory_id, "deleted", actor, now)
            .old_content(content)
            .reason(&why)
            .insert(tx)?;
    }
    tx.prepare_cached("UPDATE documents SET status = 'deleted', updated_at = ?2 WHERE id = ?1")?
        .execute(params![id, now])?;
    Ok(Some(DeletedDocument {
        memory_ids: live.into_iter().map(|(m, _)| m).collect(),
    }))
}

/// The worker's whole write (chunks, links, document done) plus the job's completion.
pub fn ingest(tx: &Connection, w: &IngestWrite) -> Result<Ingested> {
    let status: Option<String> = tx
        .prepare_cached("SELECT status FROM documents WHERE id = ?1")?
        .query_row([&w.document_id], |r| r.get(0))
        .optional()?;
    let settled = !matches!(status.as_deref(), Some(s) if s != "done" && s != "deleted");
    if settled {
        let result = r#"{"skipped":"document_settled"}"#;
        jobs::complete(tx, &w.job_id, Some(result), &w.now)?;
        return Ok(Ingested::AlreadySettled);
    }
    let mut inserted = 0;
    for (index, chunk) in w.chunks.iter().enumerate() {
        if write::live_by_hash(tx, &chunk.content_hash)?.is_some() {
            continue;
        }
        let opts = WriteOptions {
            enqueue_extraction: false,
            ..WriteOptions::default()
        };
        write::insert(tx, chunk, opts, &w.actor)?;
        tx.prepare_cached(
            "INSERT INTO document_memories (document_id, memory_id, chunk_index) VALUES (?1, ?2, ?3)",
        )?
        .execute(params![w.document_id, chunk.id, index as i64])?;
        inserted += 1;
    }
    tx.prepare_cached(
        "UPDATE documents SET status = 'done', error = NULL, chunk_count = ?2, memory_count = ?3, \
           completed_at = ?4, updated_at = ?4, content_hash = COALESCE(content_hash, ?5), \
           content_type = COALESCE(content_type, ?6), title = COALESCE(title, ?7) \
         WHERE id = ?1",
    )?
    .execute(params![
        w.document_id,
        w.chunks.len() as i64,
        inserted as i64,
        w.now,
        w.content_hash,
        w.content_type,
        w.title,
    ])?;
    let result = format!(r#"{{"chunks":{},"memories":{inserted}}}"#, w.chunks.len());
    jobs::complete(tx, &w.job_id, Some(&result), &w.now)?;
    Ok(Ingested::Written {
        chunks: w.chunks.len(),
        memories: inserted,
    })
}

/// A failed attempt: the job's new state, the error on the document (failed when dead).
pub fn fail(
    tx: &Connection,
    document_id: &str,
    job_id: &str,
    error: &str,
    now: &str,
) -> Result<FailedJob> {
    let outcome = jobs::fail(tx, job_id, error, now)?;
    let sql = match outcome {
        FailedJob::Dead => {
            "UPDATE documents SET status = 'failed', error = ?2, updated_at = ?3 \
             WHERE id = ?1 AND status NOT IN ('done', 'deleted')"
        }
        _ => "UPDATE documents SET error = ?2, updated_at = ?3 WHERE id = ?1 AND status = 'queued'",
    };
    tx.prepare_cached(sql)?
        .execute(params![document_id, error, now])?;
    Ok(outcome)
}
