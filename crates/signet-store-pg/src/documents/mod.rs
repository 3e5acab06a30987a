//! The document repository: `documents`, their `document_memories` links, the chunk memories
//! the worker writes, and the job queue ([`jobs`]) their `document_ingest` jobs go through.
//! [`ingest`] writes a whole document and completes its job in one transaction.

pub(crate) mod jobs;

use postgres::{GenericClient, Row};
use signet_model::Result;
use signet_model::documents::{
    CreatedDocument, DOCUMENT_INGEST, DeletedDocument, Document, DocumentChunk, DocumentQuery,
    FailedJob, IngestWrite, Ingested, NewDocument,
};
use signet_model::memories::{Actor, WriteOptions};

use crate::error::PgResultExt;
use crate::memories::write::{self, History, InsertHistory};
use crate::sql::count;

/// The columns of a [`Document`], decoded by [`document`].
const COLS: &str = "id, source_url, source_type, content_type, content_hash, title, raw_content, \
    status, error, connector_id, COALESCE(chunk_count, 0), COALESCE(memory_count, 0), \
    metadata_json, created_at, updated_at, completed_at";

fn document(r: &Row) -> Document {
    Document {
        id: r.get(0),
        source_url: r.get(1),
        source_type: r.get(2),
        content_type: r.get(3),
        content_hash: r.get(4),
        title: r.get(5),
        raw_content: r.get(6),
        status: r.get(7),
        error: r.get(8),
        connector_id: r.get(9),
        chunk_count: r.get(10),
        memory_count: r.get(11),
        metadata_json: r.get(12),
        created_at: r.get(13),
        updated_at: r.get(14),
        completed_at: r.get(15),
    }
}

/// A document that still counts for dedup: neither failed nor deleted.
const ACTIVE: &str = "status NOT IN ('failed', 'deleted')";

/// Inserts a queued document and its job unless an active one holds the URL or content.
pub(crate) fn create(tx: &mut impl GenericClient, d: &NewDocument) -> Result<CreatedDocument> {
    for (col, value) in [
        ("source_url", &d.source_url),
        ("content_hash", &d.content_hash),
    ] {
        let Some(value) = value else { continue };
        let sql = format!(
            "SELECT id, status FROM documents WHERE {col} = $1 AND {ACTIVE} \
             ORDER BY created_at ASC, seq ASC LIMIT 1"
        );
        if let Some(r) = tx.query_opt(&sql, &[value]).pg()? {
            return Ok(CreatedDocument::Deduplicated {
                id: r.get(0),
                status: r.get(1),
            });
        }
    }
    tx.execute(
        "INSERT INTO documents (id, source_url, source_type, content_type, content_hash, title, \
           raw_content, status, connector_id, chunk_count, memory_count, metadata_json, \
           created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'queued', $8, 0, 0, $9, $10, $10)",
        &[
            &d.id,
            &d.source_url,
            &d.source_type,
            &d.content_type,
            &d.content_hash,
            &d.title,
            &d.raw_content,
            &d.connector_id,
            &d.metadata_json,
            &d.created_at,
        ],
    )
    .pg()?;
    tx.execute(
        "INSERT INTO memory_jobs (id, memory_id, document_id, job_type, status, attempts, \
           max_attempts, created_at, updated_at) \
         VALUES ($1, NULL, $2, $3, 'pending', 0, 3, $4, $4)",
        &[&d.job_id, &d.id, &DOCUMENT_INGEST, &d.created_at],
    )
    .pg()?;
    Ok(CreatedDocument::Queued {
        id: d.id.clone(),
        job_id: d.job_id.clone(),
    })
}

/// One document, any status.
pub(crate) fn get(c: &mut impl GenericClient, id: &str) -> Result<Option<Document>> {
    let sql = format!("SELECT {COLS} FROM documents WHERE id = $1");
    Ok(c.query_opt(&sql, &[&id]).pg()?.as_ref().map(document))
}

/// A page of documents (newest first) and the total matching.
pub(crate) fn list(c: &mut impl GenericClient, q: &DocumentQuery) -> Result<(Vec<Document>, i64)> {
    let filter = "($1::text IS NULL OR status = $1)";
    let total: i64 = c
        .query_one(
            &format!("SELECT count(*) FROM documents WHERE {filter}"),
            &[&q.status],
        )
        .pg()?
        .get(0);
    let sql = format!(
        "SELECT {COLS} FROM documents WHERE {filter} \
         ORDER BY created_at DESC, seq DESC LIMIT $2 OFFSET $3"
    );
    let rows = c
        .query(&sql, &[&q.status, &count(q.limit), &count(q.offset)])
        .pg()?;
    Ok((rows.iter().map(document).collect(), total))
}

/// The live chunk memories of a document by chunk index; `None` for an unknown document.
pub(crate) fn chunks(c: &mut impl GenericClient, id: &str) -> Result<Option<Vec<DocumentChunk>>> {
    if get(c, id)?.is_none() {
        return Ok(None);
    }
    let rows = c
        .query(
            "SELECT m.id, m.content, m.type, m.created_at, COALESCE(dm.chunk_index, 0) \
             FROM document_memories dm JOIN memories m ON m.id = dm.memory_id \
             WHERE dm.document_id = $1 AND m.is_deleted IS NOT TRUE \
             ORDER BY dm.chunk_index ASC",
            &[&id],
        )
        .pg()?;
    Ok(Some(
        rows.iter()
            .map(|r| DocumentChunk {
                id: r.get(0),
                content: r.get(1),
                memory_type: r.get(2),
                created_at: r.get(3),
                chunk_index: r.get(4),
            })
            .collect(),
    ))
}

/// Soft-deletes the live chunks (version + 1, history) and marks the document deleted.
pub(crate) fn delete(
    tx: &mut impl GenericClient,
    id: &str,
    reason: &str,
    actor: &Actor,
    now: &str,
) -> Result<Option<DeletedDocument>> {
    if get(tx, id)?.is_none() {
        return Ok(None);
    }
    let live: Vec<(String, String)> = tx
        .query(
            "SELECT m.id, m.content FROM document_memories dm JOIN memories m ON m.id = dm.memory_id \
             WHERE dm.document_id = $1 AND m.is_deleted IS NOT TRUE ORDER BY dm.chunk_index",
            &[&id],
        )
        .pg()?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let why = format!("Document deleted: {reason}");
    for (memory_id, content) in &live {
        tx.execute(
            "UPDATE memories SET is_deleted = true, deleted_at = $2, updated_at = $2, \
             updated_by = $3, version = COALESCE(version, 1) + 1 WHERE id = $1",
            &[memory_id, &now, &actor.changed_by],
        )
        .pg()?;
        History::new(memory_id, "deleted", actor, now)
            .old_content(content)
            .reason(&why)
            .insert(tx)?;
    }
    tx.execute(
        "UPDATE documents SET status = 'deleted', updated_at = $2 WHERE id = $1",
        &[&id, &now],
    )
    .pg()?;
    Ok(Some(DeletedDocument {
        memory_ids: live.into_iter().map(|(m, _)| m).collect(),
    }))
}

/// The worker's whole write (chunks, links, document done) plus the job's completion.
pub(crate) fn ingest(tx: &mut impl GenericClient, w: &IngestWrite) -> Result<Ingested> {
    let status: Option<String> = tx
        .query_opt(
            "SELECT status FROM documents WHERE id = $1 FOR UPDATE",
            &[&w.document_id],
        )
        .pg()?
        .map(|r| r.get(0));
    let settled = !matches!(status.as_deref(), Some(s) if s != "done" && s != "deleted");
    if settled {
        let result = r#"{"skipped":"document_settled"}"#;
        jobs::complete(tx, &w.job_id, Some(result), &w.now)?;
        return Ok(Ingested::AlreadySettled);
    }
    let mut inserted = 0_usize;
    for (index, chunk) in w.chunks.iter().enumerate() {
        let opts = WriteOptions {
            enqueue_extraction: false,
            ..WriteOptions::default()
        };
        if write::live_by_hash(tx, &chunk.content_hash)?.is_some()
            || write::insert_unless_raced(tx, chunk, opts, &w.actor, None)?.is_some()
        {
            continue;
        }
        tx.execute(
            "INSERT INTO document_memories (document_id, memory_id, chunk_index) \
             VALUES ($1, $2, $3)",
            &[&w.document_id, &chunk.id, &count(index)],
        )
        .pg()?;
        inserted += 1;
    }
    tx.execute(
        "UPDATE documents SET status = 'done', error = NULL, chunk_count = $2, memory_count = $3, \
           completed_at = $4, updated_at = $4, content_hash = COALESCE(content_hash, $5), \
           content_type = COALESCE(content_type, $6), title = COALESCE(title, $7) \
         WHERE id = $1",
        &[
            &w.document_id,
            &count(w.chunks.len()),
            &count(inserted),
            &w.now,
            &w.content_hash,
            &w.content_type,
            &w.title,
        ],
    )
    .pg()?;
    let result = format!(r#"{{"chunks":{},"memories":{inserted}}}"#, w.chunks.len());
    jobs::complete(tx, &w.job_id, Some(&result), &w.now)?;
    Ok(Ingested::Written {
        chunks: w.chunks.len(),
        memories: inserted,
    })
}

/// A failed attempt: the job's new state, the error on the document (failed when dead).
pub(crate) fn fail(
    tx: &mut impl GenericClient,
    document_id: &str,
    job_id: &str,
    error: &str,
    now: &str,
) -> Result<FailedJob> {
    let outcome = jobs::fail(tx, job_id, error, now)?;
    let sql = match outcome {
        FailedJob::Dead => {
            "UPDATE documents SET status = 'failed', error = $2, updated_at = $3 \
             WHERE id = $1 AND status NOT IN ('done', 'deleted')"
        }
        _ => "UPDATE documents SET error = $2, updated_at = $3 WHERE id = $1 AND status = 'queued'",
    };
    tx.execute(sql, &[&document_id, &error, &now]).pg()?;
    Ok(outcome)
}
