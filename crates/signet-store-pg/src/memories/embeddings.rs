//! Vectors: `embeddings` rows keyed by content hash, the blob little-endian f32 as on SQLite;
//! `memories.embedding_model` says which model made a memory's current vector.

use postgres::GenericClient;
use signet_model::Result;
use signet_model::memories::{EmbeddingJob, EmbeddingRow, EmbeddingStats, StoredVector};

use crate::error::PgResultExt;
use crate::sql::count;

/// The join of a memory to its current vector (this content).
const CURRENT: &str = "e.source_type = 'memory' AND e.source_id = m.id \
    AND e.content_hash = m.content_hash";

/// Vectors of live memories made by `model` with `dims` dimensions for their current content.
pub(crate) fn load_current(
    c: &mut impl GenericClient,
    model: &str,
    dims: usize,
) -> Result<Vec<StoredVector>> {
    let sql = format!(
        "SELECT m.id, e.vector FROM memories m JOIN embeddings e ON {CURRENT} \
         WHERE m.is_deleted = false AND m.embedding_model = $1 AND e.dimensions = $2"
    );
    let rows = c.query(&sql, &[&model, &count(dims)]).pg()?;
    Ok(rows
        .iter()
        .map(|r| StoredVector {
            memory_id: r.get(0),
            blob: r.get(1),
        })
        .collect())
}

/// One memory's current vector (deleted or not), if `model` made it with `dims` dimensions.
pub(crate) fn vector_of(
    c: &mut impl GenericClient,
    id: &str,
    model: &str,
    dims: usize,
) -> Result<Option<Vec<u8>>> {
    let sql = format!(
        "SELECT e.vector FROM memories m JOIN embeddings e ON {CURRENT} \
         WHERE m.id = $1 AND m.embedding_model = $2 AND e.dimensions = $3"
    );
    let row = c.query_opt(&sql, &[&id, &model, &count(dims)]).pg()?;
    Ok(row.map(|r| r.get(0)))
}

/// Live memories lacking a current vector (with `include_stale`, also those whose vector is
/// another model's or of other dimensions), most recently updated first.
pub(crate) fn gaps(
    c: &mut impl GenericClient,
    model: &str,
    dims: usize,
    include_stale: bool,
    limit: usize,
) -> Result<Vec<EmbeddingJob>> {
    let rows = c
        .query(
            "SELECT m.id, m.content, m.content_hash FROM memories m \
             WHERE m.is_deleted = false AND m.content_hash IS NOT NULL AND NOT EXISTS ( \
               SELECT 1 FROM embeddings e WHERE e.source_type = 'memory' AND e.source_id = m.id \
                 AND e.content_hash = m.content_hash \
                 AND (NOT $3 OR (e.dimensions = $2 AND m.embedding_model IS NOT DISTINCT FROM $1::text))) \
             ORDER BY m.updated_at DESC, m.id LIMIT $4",
            &[&model, &count(dims), &include_stale, &count(limit)],
        )
        .pg()?;
    Ok(rows
        .iter()
        .map(|r| EmbeddingJob {
            memory_id: r.get(0),
            content: r.get(1),
            content_hash: r.get(2),
        })
        .collect())
}

/// The next batch of a pass over the gaps, newest first by `seq` (the insertion order, as
/// SQLite's rowid): a keyset on the unique `seq` index, continuing below the memory `after`.
/// An `after` that is gone ends the pass (an empty batch), and the caller starts over.
pub(crate) fn gaps_after(
    c: &mut impl GenericClient,
    model: &str,
    dims: usize,
    include_stale: bool,
    limit: usize,
    after: Option<&str>,
    above: Option<i64>,
) -> Result<Vec<EmbeddingJob>> {
    let rows = c
        .query(
            "SELECT m.id, m.content, m.content_hash FROM memories m \
             WHERE m.is_deleted = false AND m.content_hash IS NOT NULL \
               AND ($5::text IS NULL OR m.seq < (SELECT a.seq FROM memories a WHERE a.id = $5)) \
               AND ($6::bigint IS NULL OR m.seq > $6) \
               AND NOT EXISTS ( \
               SELECT 1 FROM embeddings e WHERE e.source_type = 'memory' AND e.source_id = m.id \
                 AND e.content_hash = m.content_hash \
                 AND (NOT $3 OR (e.dimensions = $2 AND m.embedding_model IS NOT DISTINCT FROM $1::text))) \
             ORDER BY m.seq DESC LIMIT $4",
            &[&model, &count(dims), &include_stale, &count(limit), &after, &above],
        )
        .pg()?;
    Ok(rows
        .iter()
        .map(|r| EmbeddingJob {
            memory_id: r.get(0),
            content: r.get(1),
            content_hash: r.get(2),
        })
        .collect())
}

/// Stores `blob` as the vector of `job` if the memory is still live with that content.
/// Replaces the memory's older vectors; takes over a vector row with the same content hash (a
/// deleted twin's), as the unique hash requires.
pub(crate) fn save(
    c: &mut impl GenericClient,
    job: &EmbeddingJob,
    blob: &[u8],
    dims: usize,
    model: &str,
    now: &str,
) -> Result<bool> {
    let live = c
        .execute(
            "UPDATE memories SET embedding_model = $3 WHERE id = $1 AND content_hash = $2 \
             AND is_deleted = false",
            &[&job.memory_id, &job.content_hash, &model],
        )
        .pg()?;
    if live == 0 {
        return Ok(false);
    }
    c.execute(
        "DELETE FROM embeddings WHERE source_type = 'memory' AND source_id = $1 \
         AND content_hash <> $2",
        &[&job.memory_id, &job.content_hash],
    )
    .pg()?;
    c.execute(
        "INSERT INTO embeddings (id, content_hash, vector, dimensions, source_type, source_id, \
           chunk_text, created_at) VALUES ($1, $2, $3, $4, 'memory', $5, $6, $7) \
         ON CONFLICT (content_hash) DO UPDATE SET vector = excluded.vector, \
           dimensions = excluded.dimensions, source_type = 'memory', \
           source_id = excluded.source_id, chunk_text = excluded.chunk_text, \
           created_at = excluded.created_at",
        &[
            &uuid::Uuid::new_v4().to_string(),
            &job.content_hash,
            &blob,
            &count(dims),
            &job.memory_id,
            &job.content,
            &now,
        ],
    )
    .pg()?;
    Ok(true)
}

/// Coverage counts for `model` / `dims`.
pub(crate) fn stats(
    c: &mut impl GenericClient,
    model: &str,
    dims: usize,
) -> Result<EmbeddingStats> {
    let sql = format!(
        "SELECT count(*), \
           count(*) FILTER (WHERE m.embedding_model IS NOT DISTINCT FROM $1::text AND EXISTS \
             (SELECT 1 FROM embeddings e WHERE {CURRENT} AND e.dimensions = $2)), \
           count(*) FILTER (WHERE EXISTS (SELECT 1 FROM embeddings e WHERE {CURRENT})) \
         FROM memories m WHERE m.is_deleted = false"
    );
    let r = c.query_one(&sql, &[&model, &count(dims)]).pg()?;
    let (live, current, any): (i64, i64, i64) = (r.get(0), r.get(1), r.get(2));
    let orphans: i64 = c
        .query_one(
            "SELECT count(*) FROM embeddings e WHERE e.source_type = 'memory' AND NOT EXISTS \
               (SELECT 1 FROM memories m WHERE m.id = e.source_id AND m.is_deleted = false)",
            &[],
        )
        .pg()?
        .get(0);
    let dimensions = c
        .query(
            "SELECT DISTINCT dimensions FROM embeddings ORDER BY dimensions",
            &[],
        )
        .pg()?
        .iter()
        .map(|r| r.get(0))
        .collect();
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
pub(crate) fn clean_orphans(c: &mut impl GenericClient) -> Result<usize> {
    let n = c
        .execute(
            "DELETE FROM embeddings e WHERE e.source_type = 'memory' AND NOT EXISTS \
               (SELECT 1 FROM memories m WHERE m.id = e.source_id AND m.is_deleted = false)",
            &[],
        )
        .pg()?;
    Ok(usize::try_from(n).unwrap_or(usize::MAX))
}

/// One page of the vector listing (live memories), newest first, with the total.
pub(crate) fn list(
    c: &mut impl GenericClient,
    limit: usize,
    offset: usize,
    with_vectors: bool,
) -> Result<(Vec<EmbeddingRow>, i64)> {
    let total: i64 = c
        .query_one(
            "SELECT count(*) FROM embeddings e JOIN memories m ON m.id = e.source_id \
             WHERE e.source_type = 'memory' AND m.is_deleted = false",
            &[],
        )
        .pg()?
        .get(0);
    let rows = c
        .query(
            "SELECT e.id, m.content, e.chunk_text, COALESCE(m.who, 'unknown'), \
               COALESCE(m.importance, 0.5), m.type, m.tags, m.source_type, m.source_id, \
               e.created_at, CASE WHEN $3 THEN e.vector END, m.id \
             FROM embeddings e JOIN memories m ON m.id = e.source_id \
             WHERE e.source_type = 'memory' AND m.is_deleted = false \
             ORDER BY e.created_at DESC, e.id LIMIT $1 OFFSET $2",
            &[&count(limit), &count(offset), &with_vectors],
        )
        .pg()?;
    let rows = rows
        .iter()
        .map(|r| {
            let tags: Option<String> = r.get(6);
            let blob: Option<Vec<u8>> = r.get(10);
            EmbeddingRow {
                id: r.get(0),
                memory_id: r.get(11),
                content: r.get(1),
                text: r.get(2),
                who: r.get(3),
                importance: r.get(4),
                memory_type: r.get(5),
                tags: tags
                    .map(|t| {
                        t.split(',')
                            .map(|s| s.trim().to_owned())
                            .filter(|s| !s.is_empty())
                            .collect()
                    })
                    .unwrap_or_default(),
                source_type: r.get(7),
                source_id: r.get(8),
                created_at: r.get(9),
                vector: blob.map(|b| {
                    b.chunks_exact(4)
                        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                        .collect()
                }),
            }
        })
        .collect();
    Ok((rows, total))
}
