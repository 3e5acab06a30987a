//! Write transactions: remember, chunked remember, access tracking, and the history rows every
//! write records (modify, forget and recover live in `mutate`).

use postgres::{GenericClient, Row};
use signet_model::memories::{
    Actor, ChunkGroup, DedupHit, NewMemory, RememberOutcome, WriteOptions,
};
use signet_model::{Result, StoreError};

use crate::error::PgResultExt;

/// Dedups by (source_type, source_id) then by content hash among live rows; inserts otherwise.
pub(crate) fn remember(
    tx: &mut impl GenericClient,
    m: &NewMemory,
    opts: WriteOptions,
    actor: &Actor,
) -> Result<RememberOutcome> {
    if let Some(hit) = find_duplicate(tx, m)? {
        return Ok(RememberOutcome::Deduped(hit));
    }
    match insert_unless_raced(tx, m, opts, actor, None)? {
        None => Ok(RememberOutcome::Inserted),
        Some(hit) => Ok(RememberOutcome::Deduped(hit)),
    }
}

/// [`insert_with`], unless another node inserted the same content (or source) between our
/// check and our insert: the live hash's unique index then refuses ours once theirs commits,
/// and theirs is answered (`Some`) as the duplicate. Runs in a savepoint, so the refusal
/// leaves the caller's transaction usable.
pub(crate) fn insert_unless_raced(
    tx: &mut impl GenericClient,
    m: &NewMemory,
    opts: WriteOptions,
    actor: &Actor,
    why: Option<Provenance<'_>>,
) -> Result<Option<DedupHit>> {
    tx.batch_execute("SAVEPOINT remember").pg()?;
    match insert_with(tx, m, opts, actor, why) {
        Ok(()) => {
            tx.batch_execute("RELEASE SAVEPOINT remember").pg()?;
            Ok(None)
        }
        Err(StoreError::Conflict(reason)) => {
            tx.batch_execute("ROLLBACK TO SAVEPOINT remember; RELEASE SAVEPOINT remember")
                .pg()?;
            match find_duplicate(tx, m)? {
                Some(hit) => Ok(Some(hit)),
                None => Err(StoreError::Conflict(reason)),
            }
        }
        Err(e) => Err(e),
    }
}

/// The columns of a [`DedupHit`], decoded by [`dedup_hit`].
const DEDUP_HIT_COLS: &str = "id, type, tags, COALESCE(pinned, false), \
    COALESCE(importance, 0.5), content";

fn dedup_hit(r: &Row) -> DedupHit {
    DedupHit {
        id: r.get(0),
        memory_type: r.get(1),
        tags: r.get(2),
        pinned: r.get(3),
        importance: r.get(4),
        content: r.get(5),
    }
}

fn find_duplicate(tx: &mut impl GenericClient, m: &NewMemory) -> Result<Option<DedupHit>> {
    if let Some(source_id) = &m.source_id {
        let sql = format!(
            "SELECT {DEDUP_HIT_COLS} FROM memories WHERE source_type = $1 AND source_id = $2 \
             AND is_deleted = false LIMIT 1"
        );
        let hit = tx.query_opt(&sql, &[&m.source_type, source_id]).pg()?;
        if let Some(hit) = hit {
            return Ok(Some(dedup_hit(&hit)));
        }
    }
    live_by_hash(tx, &m.content_hash)
}

/// The live memory holding `hash`, if any.
pub(crate) fn live_by_hash(tx: &mut impl GenericClient, hash: &str) -> Result<Option<DedupHit>> {
    let sql = format!(
        "SELECT {DEDUP_HIT_COLS} FROM memories WHERE content_hash = $1 AND is_deleted = false LIMIT 1"
    );
    Ok(tx.query_opt(&sql, &[&hash]).pg()?.as_ref().map(dedup_hit))
}

/// Why a memory was written, for its `created` history row: the reason and the metadata that
/// replaces the default `{source, sourceType}` (the pipeline records its decision there).
pub(crate) struct Provenance<'a> {
    pub reason: &'a str,
    pub metadata: serde_json::Value,
}

/// Inserts one memory (and its extraction job when asked). A plain write keeps its actor on
/// the row, as SQLite does since its migration 1005: its `created` event is made from the row
/// when read (`read::history`). A write with a reason (the pipeline's) writes its `created`
/// history row with that reason and metadata.
pub(crate) fn insert_with(
    tx: &mut impl GenericClient,
    m: &NewMemory,
    opts: WriteOptions,
    actor: &Actor,
    why: Option<Provenance<'_>>,
) -> Result<()> {
    let origin = why.is_none().then_some(actor);
    // `normalized_content` is stored only when it differs from `content` (NULL reads as
    // `content`), as on SQLite.
    tx.execute(
        "INSERT INTO memories (id, content, normalized_content, content_hash, who, why, project, \
         importance, type, tags, pinned, is_deleted, extraction_status, embedding_model, \
         extraction_model, created_at, updated_at, updated_by, source_type, source_id, scope_user, \
         created_by, created_actor_type, created_session_id, created_request_id) \
         VALUES ($1, $2, NULLIF($3, $2), $4, $5, $6, $7, $8, $9, $10, $11, false, $12, NULL, NULL, \
         $13, $13, $5, $14, $15, $16, $17, $18, $19, $20)",
        &[
            &m.id,
            &m.content,
            &m.normalized_content,
            &m.content_hash,
            &m.who,
            &m.why,
            &m.project,
            &m.importance,
            &m.memory_type,
            &m.tags,
            &m.pinned,
            &m.extraction_status,
            &m.created_at,
            &m.source_type,
            &m.source_id,
            &m.scope_user,
            &origin.map(|a| &a.changed_by),
            &origin.and_then(|a| a.actor_type.as_ref()),
            &origin.and_then(|a| a.session_id.as_ref()),
            &origin.and_then(|a| a.request_id.as_ref()),
        ],
    )
    .pg()?;
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
/// inserted (chunks whose content already lives are skipped).
pub(crate) fn remember_chunks(
    tx: &mut impl GenericClient,
    group: &ChunkGroup,
    opts: WriteOptions,
    actor: &Actor,
    now: &str,
) -> Result<Vec<String>> {
    let name = format!("chunk-group:{}", group.group_id);
    tx.execute(
        "INSERT INTO entities (id, name, canonical_name, entity_type, agent_id, mentions, \
         created_at, updated_at) VALUES ($1, $2, $2, 'chunk_group', 'default', 0, $3, $3)",
        &[&group.group_id, &name, &now],
    )
    .pg()?;
    let mut ids = Vec::with_capacity(group.chunks.len());
    for chunk in &group.chunks {
        if live_by_hash(tx, &chunk.content_hash)?.is_some()
            || insert_unless_raced(tx, chunk, opts, actor, None)?.is_some()
        {
            continue;
        }
        tx.execute(
            "INSERT INTO memory_entity_mentions (memory_id, entity_id, mention_text, confidence, \
             created_at) VALUES ($1, $2, 'chunk', 1.0, $3) ON CONFLICT DO NOTHING",
            &[&chunk.id, &group.group_id, &now],
        )
        .pg()?;
        ids.push(chunk.id.clone());
    }
    Ok(ids)
}

fn enqueue_extraction(
    tx: &mut impl GenericClient,
    memory_id: &str,
    now: &str,
    attempts: u32,
) -> Result<()> {
    tx.execute(
        "INSERT INTO memory_jobs (id, memory_id, job_type, status, attempts, max_attempts, \
           created_at, updated_at) \
         SELECT $1::text, $2::text, 'extract', 'pending', 0, $4::bigint, $3::text, $3::text \
         WHERE NOT EXISTS (SELECT 1 FROM memory_jobs WHERE memory_id = $2::text \
           AND job_type = 'extract' AND status IN ('pending', 'leased'))",
        &[
            &uuid::Uuid::new_v4().to_string(),
            &memory_id,
            &now,
            &i64::from(attempts.max(1)),
        ],
    )
    .pg()?;
    Ok(())
}

/// Bumps `access_count` and `last_accessed` for recalled memories: one UPDATE over the
/// distinct ids, adding each one's counts (an `UPDATE … FROM` updates a row once, so an id
/// listed twice is folded here first).
pub(crate) fn touch_accessed(
    tx: &mut impl GenericClient,
    listed: &[(String, u32)],
    now: &str,
) -> Result<()> {
    let mut counts: std::collections::BTreeMap<&str, i64> = std::collections::BTreeMap::new();
    for (id, n) in listed {
        *counts.entry(id.as_str()).or_default() += i64::from(*n);
    }
    // Ordered ids: two nodes touching overlapping sets lock rows in the same order.
    let (ids, counts): (Vec<&str>, Vec<i64>) = counts.into_iter().unzip();
    tx.execute(
        "UPDATE memories m SET last_accessed = $3, \
           access_count = COALESCE(m.access_count, 0) + t.n \
         FROM unnest($1::text[], $2::bigint[]) AS t(id, n) WHERE m.id = t.id",
        &[&ids, &counts, &now],
    )
    .pg()?;
    Ok(())
}

/// A `memory_history` row under construction (the builder is signet-model's, shared by both
/// backends); [`InsertHistory::insert`] writes it.
pub(crate) use signet_model::rules::HistoryRow as History;

/// Writes a [`History`] row in this backend's SQL.
pub(crate) trait InsertHistory {
    fn insert(&self, tx: &mut impl GenericClient) -> Result<()>;
}

impl InsertHistory for History<'_> {
    fn insert(&self, tx: &mut impl GenericClient) -> Result<()> {
        tx.execute(
            "INSERT INTO memory_history (id, memory_id, event, old_content, new_content, \
             changed_by, reason, metadata, created_at, actor_type, session_id, request_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            &[
                &uuid::Uuid::new_v4().to_string(),
                &self.memory_id,
                &self.event,
                &self.old_content,
                &self.new_content,
                &self.actor.changed_by,
                &self.reason,
                &self.metadata_text(),
                &self.created_at,
                &self.actor.actor_type,
                &self.actor.session_id,
                &self.actor.request_id,
            ],
        )
        .pg()?;
        Ok(())
    }
}
