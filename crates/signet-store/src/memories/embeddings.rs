//! The `embeddings` table: one vector per memory (`source_type = 'memory'`), keyed by the
//! memory's content hash (upstream's UNIQUE constraint), little-endian f32 blobs.
//! `memories.embedding_model` records which model made a memory's current vector.

use rusqlite::{Connection, OptionalExtension, params};

use super::{EmbeddingJob, EmbeddingRow, EmbeddingStats, StoredVector};
use crate::error::Result;

/// Vectors of live memories made by `model` with `dims` dimensions for their current content.
pub fn load_current(conn: &Connection, model: &str, dims: usize) -> Result<Vec<StoredVector>> {
    // The vectors in their table's order (one sequential pass over the big blobs), each probing
    // its memory by id: a start-up load reads every vector, so reading them in place beats
    // fetching each from wherever the memories' order puts it.
    let mut stmt = conn.prepare(
        "SELECT m.id, e.vector FROM embeddings e CROSS JOIN memories m \
           ON m.id = e.source_id AND m.content_hash = e.content_hash \
         WHERE e.source_type = 'memory' AND e.dimensions = ?2 \
           AND m.is_deleted = 0 AND m.embedding_model = ?1",
    )?;
    let rows = stmt.query_map(params![model, dims as i64], |r| {
        Ok(StoredVector {
            memory_id: r.get(0)?,
            blob: r.get(1)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// One memory's current vector, if it was made by `model` with `dims` dimensions.
pub fn vector_of(conn: &Connection, id: &str, model: &str, dims: usize) -> Result<Option<Vec<u8>>> {
    Ok(conn
        .prepare_cached(
            "SELECT e.vector FROM memories m JOIN embeddings e \
               ON e.source_type = 'memory' AND e.source_id = m.id AND e.content_hash = m.content_hash \
             WHERE m.id = ?1 AND m.embedding_model = ?2 AND e.dimensions = ?3",
        )?
        .query_row(params![id, model, dims as i64], |r| r.get(0))
        .optional()?)
}

/// Live memories lacking a current vector. With `include_stale`, also those whose vector came
/// from another model or has other dimensions (a re-embed after a model change).
pub fn gaps(
    conn: &Connection,
    model: &str,
    dims: usize,
    include_stale: bool,
    limit: usize,
) -> Result<Vec<EmbeddingJob>> {
    let sql = "SELECT m.id, m.content, m.content_hash FROM memories m \
         WHERE m.is_deleted = 0 AND m.content_hash IS NOT NULL AND NOT EXISTS ( \
           SELECT 1 FROM embeddings e WHERE e.source_type = 'memory' AND e.source_id = m.id \
             AND e.content_hash = m.content_hash \
             AND (?3 = 0 OR (e.dimensions = ?2 AND m.embedding_model IS ?1))) \
         ORDER BY m.updated_at DESC LIMIT ?4";
    let mut stmt = conn.prepare_cached(sql)?;
    let rows = stmt.query_map(
        params![model, dims as i64, include_stale as i64, limit as i64],
        |r| {
            Ok(EmbeddingJob {
                memory_id: r.get(0)?,
                content: r.get(1)?,
                content_hash: r.get(2)?,
            })
        },
    )?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The gaps of a pass newest-first by rowid, after the memory `after`: a range over the table's
/// own order, so a pass over n memories costs O(n) in all (ordering by `updated_at`, which has no
/// index, sorted every gap on every batch: quadratic over a backlog).
pub fn gaps_after(
    conn: &Connection,
    model: &str,
    dims: usize,
    include_stale: bool,
    limit: usize,
    after: Option<&str>,
    above: Option<i64>,
) -> Result<Vec<EmbeddingJob>> {
    let sql = "SELECT m.id, m.content, m.content_hash FROM memories m \
         WHERE (?5 IS NULL OR m.rowid < (SELECT rowid FROM memories WHERE id = ?5)) \
           AND (?6 IS NULL OR m.rowid > ?6) \
           AND m.is_deleted = 0 AND m.content_hash IS NOT NULL AND NOT EXISTS ( \
           SELECT 1 FROM embeddings e WHERE e.source_type = 'memory' AND e.source_id = m.id \
             AND e.content_hash = m.content_hash \
             AND (?3 = 0 OR (e.dimensions = ?2 AND m.embedding_model IS ?1))) \
         ORDER BY m.rowid DESC LIMIT ?4";
    let mut stmt = conn.prepare_cached(sql)?;
    let rows = stmt.query_map(
        params![
            model,
            dims as i64,
            include_stale as i64,
            limit as i64,
            after,
            above
        ],
        |r| {
            Ok(EmbeddingJob {
                memory_id: r.get(0)?,
                content: r.get(1)?,
                content_hash: r.get(2)?,
            })
        },
    )?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The largest rowid of `memories` (new rows are inserted above it).
pub fn newest_position(conn: &Connection) -> Result<Option<i64>> {
    Ok(conn
        .prepare_cached("SELECT MAX(rowid) FROM memories")?
        .query_row([], |r| r.get(0))?)
}

/// Stores `blob` as the vector of `job` if the memory still has that content; returns whether
/// it was stored. Replaces the memory's older vectors; takes over a vector row with the same
/// content hash (a deleted twin's), as upstream's unique hash requires.
pub fn save(
    conn: &Connection,
    job: &EmbeddingJob,
    blob: &[u8],
    dims: usize,
    model: &str,
    now: &str,
) -> Result<bool> {
    let updated = conn
        .prepare_cached(
            "UPDATE memories SET embedding_model = ?3 WHERE id = ?1 AND content_hash = ?2 AND is_deleted = 0 \
             AND embedding_model IS NOT ?3",
        )?
        .execute(params![job.memory_id, job.content_hash, model])?;
    let live: bool = conn
        .prepare_cached(
            "SELECT 1 FROM memories WHERE id = ?1 AND content_hash = ?2 AND is_deleted = 0",
        )?
        .query_row(params![job.memory_id, job.content_hash], |_| Ok(()))
        .optional()?
        .is_some();
    if updated == 0 && !live {
        return Ok(false);
    }
    conn.prepare_cached("DELETE FROM embeddings WHERE source_type = 'memory' AND source_id = ?1 AND content_hash <> ?2")?
        .execute(params![job.memory_id, job.content_hash])?;
    conn.prepare_cached(
        "INSERT INTO embeddings (id, content_hash, vector, dimensions, source_type, source_id, chunk_text, created_at) \
         VALUES (?1, ?2, ?3, ?4, 'memory', ?5, ?6, ?7) \
         ON CONFLICT(content_hash) DO UPDATE SET vector = excluded.vector, dimensions = excluded.dimensions, \
           source_type = 'memory', source_id = excluded.source_id, chunk_text = excluded.chunk_text, \
           created_at = excluded.created_at",
    )?
    .execute(params![uuid::Uuid::new_v4().to_string(), job.content_hash, blob, dims as i64, job.memory_id, job.content, now])?;
    Ok(true)
}

/// Coverage counts for `model` / `dims`.
pub fn stats(conn: &Connection, model: &str, dims: usize) -> Result<EmbeddingStats> {
    let (live, current, any): (i64, i64, i64) = conn.prepare_cached(
        "SELECT COUNT(*), \
           COALESCE(SUM(EXISTS (SELECT 1 FROM embeddings e WHERE e.source_type = 'memory' AND e.source_id = m.id \
             AND e.content_hash = m.content_hash AND e.dimensions = ?2) AND m.embedding_model IS ?1), 0), \
           COALESCE(SUM(EXISTS (SELECT 1 FROM embeddings e WHERE e.source_type = 'memory' AND e.source_id = m.id \
             AND e.content_hash = m.content_hash)), 0) \
         FROM memories m WHERE m.is_deleted = 0",
    )?
    .query_row(params![model, dims as i64], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    let orphans: i64 = conn
        .prepare_cached(
            "SELECT COUNT(*) FROM embeddings e WHERE e.source_type = 'memory' AND NOT EXISTS \
           (SELECT 1 FROM memories m WHERE m.id = e.source_id AND m.is_deleted = 0)",
        )?
        .query_row([], |r| r.get(0))?;
    let mut stmt =
        conn.prepare_cached("SELECT DISTINCT dimensions FROM embeddings ORDER BY dimensions")?;
    let dimensions = stmt
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(EmbeddingStats {
        live,
        current,
        stale_model: any - current,
        missing: live - any,
        orphans,
        dimensions,
    })
}

/// Deletes vectors whose memory is gone or deleted; returns how many.
pub fn clean_orphans(conn: &Connection) -> Result<usize> {
    Ok(conn
        .prepare_cached(
            "DELETE FROM embeddings WHERE source_type = 'memory' AND NOT EXISTS \
               (SELECT 1 FROM memories m WHERE m.id = embeddings.source_id AND m.is_deleted = 0)",
        )?
        .execute([])?)
}

/// One page of the embedding listing (live memories), newest first.
pub fn list(
    conn: &Connection,
    limit: usize,
    offset: usize,
    with_vectors: bool,
) -> Result<(Vec<EmbeddingRow>, i64)> {
    let total: i64 = conn.query_row(
        "SELECT COUNT(*) FROM embeddings e JOIN memories m ON m.id = e.source_id \
         WHERE e.source_type = 'memory' AND m.is_deleted = 0",
        [],
        |r| r.get(0),
    )?;
    let mut stmt = conn.prepare_cached(
        "SELECT e.id, m.content, e.chunk_text, COALESCE(m.who, 'unknown'), COALESCE(m.importance, 0.5), m.type, m.tags, \
           m.source_type, m.source_id, e.created_at, e.vector, m.id FROM embeddings e JOIN memories m ON m.id = e.source_id \
         WHERE e.source_type = 'memory' AND m.is_deleted = 0 ORDER BY e.created_at DESC LIMIT ?1 OFFSET ?2",
    )?;
    let rows = stmt.query_map(params![limit as i64, offset as i64], |r| {
        let tags: Option<String> = r.get(6)?;
        let vector = if with_vectors {
            let blob: Vec<u8> = r.get(10)?;
            Some(
                blob.chunks_exact(4)
                    .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                    .collect(),
            )
        } else {
            None
        };
        Ok(EmbeddingRow {
            id: r.get(0)?,
            memory_id: r.get(11)?,
            content: r.get(1)?,
            text: r.get(2)?,
            who: r.get(3)?,
            importance: r.get(4)?,
            memory_type: r.get(5)?,
            tags: tags
                .map(|t| {
                    t.split(',')
                        .map(|s| s.trim().to_owned())
                        .filter(|s| !s.is_empty())
                        .collect()
                })
                .unwrap_or_default(),
            source_type: r.get(7)?,
            source_id: r.get(8)?,
            created_at: r.get(9)?,
            vector,
        })
    })?;
    Ok((rows.collect::<rusqlite::Result<_>>()?, total))
}
