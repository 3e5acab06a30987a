//! Write transactions: remember, chunked remember, access tracking, and the history rows every
//! write records (modify, forget and recover live in `mutate`). Each public function runs
//! inside a transaction the caller opened; it never commits itself.

use rusqlite::{Connection, OptionalExtension, params};

use super::{Actor, ChunkGroup, DedupHit, NewMemory, RememberOutcome, WriteOptions};
use crate::error::Result;
use crate::row;

/// Dedups by (source_type, source_id) then by content hash among live rows; inserts otherwise.
pub fn remember(
    tx: &Connection,
    m: &NewMemory,
    opts: WriteOptions,
    actor: &Actor,
) -> Result<RememberOutcome> {
    if let Some(hit) = find_duplicate(tx, m)? {
        return Ok(RememberOutcome::Deduped(hit));
    }
    insert(tx, m, opts, actor)?;
    Ok(RememberOutcome::Inserted)
}

fn find_duplicate(tx: &Connection, m: &NewMemory) -> Result<Option<DedupHit>> {
    if let Some(source_id) = &m.source_id {
        let sql = format!(
            "SELECT {DEDUP_HIT_COLS} FROM memories WHERE source_type = ?1 AND source_id = ?2 AND is_deleted = 0 LIMIT 1"
        );
        let hit = tx
            .prepare_cached(&sql)?
            .query_row(params![m.source_type, source_id], dedup_hit)
            .optional()?;
        if hit.is_some() {
            return Ok(hit);
        }
    }
    live_by_hash(tx, &m.content_hash)
}

pub(crate) fn live_by_hash(tx: &Connection, hash: &str) -> Result<Option<DedupHit>> {
    Ok(tx
        .prepare_cached(&format!(
            "SELECT {DEDUP_HIT_COLS} FROM memories WHERE content_hash = ?1 AND is_deleted = 0 LIMIT 1"
        ))?
        .query_row([hash], dedup_hit)
        .optional()?)
}

/// The columns of a [`DedupHit`], named after its fields (`type` is its serde name).
const DEDUP_HIT_COLS: &str = "id, type, tags, COALESCE(pinned, 0) AS pinned, \
    COALESCE(importance, 0.5) AS importance, content";

fn dedup_hit(r: &rusqlite::Row<'_>) -> rusqlite::Result<DedupHit> {
    row::decode(r)
}

pub(crate) fn insert(
    tx: &Connection,
    m: &NewMemory,
    opts: WriteOptions,
    actor: &Actor,
) -> Result<()> {
    insert_with(tx, m, opts, actor, None)
}

/// Why a memory was written, for its `created` history row: the reason and the metadata that
/// replaces the default `{source, sourceType}` (the pipeline records its decision there).
pub(crate) struct Provenance<'a> {
    pub reason: &'a str,
    pub metadata: serde_json::Value,
}

/// [`insert`], with the `created` row's reason and metadata given by the caller.
pub(crate) fn insert_with(
    tx: &Connection,
    m: &NewMemory,
    opts: WriteOptions,
    actor: &Actor,
    why: Option<Provenance<'_>>,
) -> Result<()> {
    // A plain write keeps its actor on the row (migration 1005); its `created` history event is
    // made from the row when read (`read::history`), as a history row it would cost a third of
    // the database and five of the pages each remember writes.
    let origin = why.is_none().then_some(actor);
    // `normalized_content` is stored only when it differs from `content`: for most text the
    // two are equal, and the copy was a tenth of the database (NULL reads as `content`).
    tx.prepare_cached(
        "INSERT INTO memories (id, content, normalized_content, content_hash, who, why, project, \
         importance, type, tags, pinned, is_deleted, extraction_status, embedding_model, \
         extraction_model, created_at, updated_at, updated_by, source_type, source_id, scope_user, \
         created_by, created_actor_type, created_session_id, created_request_id) \
         VALUES (?1, ?2, NULLIF(?3, ?2), ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, 0, ?12, NULL, NULL, ?13, ?13, ?5, ?14, ?15, ?16, \
         ?17, ?18, ?19, ?20)",
    )?
    .execute(params![
        m.id,
        m.content,
        m.normalized_content,
        m.content_hash,
        m.who,
        m.why,
        m.project,
        m.importance,
        m.memory_type,
        m.tags,
        m.pinned as i64,
        m.extraction_status,
        m.created_at,
        m.source_type,
        m.source_id,
        m.scope_user,
        origin.map(|a| &a.changed_by),
        origin.and_then(|a| a.actor_type.as_ref()),
        origin.and_then(|a| a.session_id.as_ref()),
        origin.and_then(|a| a.request_id.as_ref()),
    ])?;
    if let Some(p) = why {
        History::new(&m.id, "created", actor, &m.created_at)
            .new_content(&m.content)
            .reason(p.reason)
            .metadata(p.metadata)
            .insert(tx)?;
    }
    if opts.enqueue_extraction {
        enqueue_extraction(tx, &m.id, &m.created_at, opts.extraction_attempts)?;
    }
    Ok(())
}

/// Inserts the chunks of one long remember and their `chunk_group` entity; returns the ids
/// inserted (chunks whose content already lives are skipped, as upstream does).
pub fn remember_chunks(
    tx: &Connection,
    group: &ChunkGroup,
    opts: WriteOptions,
    actor: &Actor,
    now: &str,
) -> Result<Vec<String>> {
    let name = format!("chunk-group:{}", group.group_id);
    tx.prepare_cached(
        "INSERT INTO entities (id, name, canonical_name, entity_type, agent_id, mentions, created_at, updated_at) \
         VALUES (?1, ?2, ?2, 'chunk_group', 'default', 0, ?3, ?3)",
    )?
    .execute(params![group.group_id, name, now])?;
    let mut ids = Vec::with_capacity(group.chunks.len());
    for chunk in &group.chunks {
        if live_by_hash(tx, &chunk.content_hash)?.is_some() {
            continue;
        }
        insert(tx, chunk, opts, actor)?;
        tx.prepare_cached(
            "INSERT OR IGNORE INTO memory_entity_mentions (memory_id, entity_id, mention_text, confidence, created_at) \
             VALUES (?1, ?2, 'chunk', 1.0, ?3)",
        )?
        .execute(params![chunk.id, group.group_id, now])?;
        ids.push(chunk.id.clone());
    }
    Ok(ids)
}

fn enqueue_extraction(tx: &Connection, memory_id: &str, now: &str, attempts: u32) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO memory_jobs (id, memory_id, job_type, status, attempts, max_attempts, created_at, updated_at) \
         SELECT ?1, ?2, 'extract', 'pending', 0, ?4, ?3, ?3 WHERE NOT EXISTS ( \
           SELECT 1 FROM memory_jobs WHERE memory_id = ?2 AND job_type = 'extract' \
           AND status IN ('pending', 'leased'))",
    )?
    .execute(params![
        uuid::Uuid::new_v4().to_string(),
        memory_id,
        now,
        attempts.max(1)
    ])?;
    Ok(())
}

/// Rows [`touch_accessed`] writes per transaction.
pub const TOUCH_CHUNK: usize = 256;

/// Bumps `access_count` by each count and sets `last_accessed` to `now`; an id listed twice
/// gets both counts; unknown ids are ignored.
pub fn touch_accessed(tx: &Connection, counts: &[(String, u32)], now: &str) -> Result<()> {
    let mut stmt = tx.prepare_cached(
        "UPDATE memories SET last_accessed = ?2, access_count = COALESCE(access_count, 0) + ?3 \
         WHERE id = ?1",
    )?;
    for (id, n) in counts {
        stmt.execute(params![id, now, n])?;
    }
    Ok(())
}

/// A `memory_history` row under construction (the builder is signet-model's, shared by both
/// backends); [`InsertHistory::insert`] writes it.
pub(crate) use signet_model::rules::HistoryRow as History;

/// Writes a [`History`] row in this backend's SQL.
pub(crate) trait InsertHistory {
    fn insert(&self, tx: &Connection) -> Result<()>;
}

impl InsertHistory for History<'_> {
    fn insert(&self, tx: &Connection) -> Result<()> {
        tx.prepare_cached(
            "INSERT INTO memory_history (id, memory_id, event, old_content, new_content, changed_by, \
             reason, metadata, created_at, actor_type, session_id, request_id) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        )?
        .execute(params![
            uuid::Uuid::new_v4().to_string(),
            self.memory_id,
            self.event,
            self.old_content,
            self.new_content,
            self.actor.changed_by,
            self.reason,
            self.metadata_text(),
            self.created_at,
            self.actor.actor_type,
            self.actor.session_id,
            self.actor.request_id,
        ])?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bumps_are_counted_per_id_and_unknown_ids_skipped() {
        let c = Connection::open_in_memory().unwrap();
        c.execute_batch(
            "CREATE TABLE memories (id TEXT PRIMARY KEY, access_count INTEGER DEFAULT 0, \
             last_accessed TEXT); INSERT INTO memories (id) VALUES ('a'), ('b'), ('c');",
        )
        .unwrap();
        let counts = [("c", 1), ("a", 1), ("c", 1), ("zz", 3)].map(|(id, n)| (id.to_owned(), n));
        touch_accessed(&c, &counts, "T").unwrap();
        let mut s = c
            .prepare("SELECT id, access_count, last_accessed FROM memories ORDER BY id")
            .unwrap();
        let rows: Vec<(String, i64, Option<String>)> = s
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(
            rows,
            [
                ("a".into(), 1, Some("T".into())),
                ("b".into(), 0, None),
                ("c".into(), 2, Some("T".into()))
            ]
        );
    }
}
