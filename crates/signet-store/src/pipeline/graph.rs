//! The knowledge graph: entities upserted by canonical name, relations by (source, target,
//! type), the memories that mention them; and the graph's part of recall (memories linked to
//! the entities a query names). Every read is bounded by a LIMIT.

use rusqlite::{Connection, OptionalExtension, params};
use signet_model::pipeline::{GraphCounts, GraphTriple};

use crate::error::Result;

/// Entities whose canonical name is shorter are not persisted.
const MIN_NAME_CHARS: usize = 4;
/// How many matched entities, and then neighbours, recall starts from.
const MATCHED_ENTITIES: i64 = 20;
const NEIGHBOURS: i64 = 50;

/// Trimmed, lowercased, inner whitespace collapsed.
fn canonical(name: &str) -> String {
    name.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// Persists `triples` as mentioned by `memory_id` (see [`signet_model::pipeline::ExtractWrite`]).
/// A triple either of whose names is too short is skipped whole: a relation needs both ends.
pub fn persist(tx: &Connection, memory_id: &str, triples: &[GraphTriple], now: &str) -> Result<()> {
    for t in triples {
        let (source, target) = (canonical(&t.source), canonical(&t.target));
        if source.chars().count() < MIN_NAME_CHARS || target.chars().count() < MIN_NAME_CHARS {
            continue;
        }
        let from = entity(tx, t.source.trim(), &source, t.source_type.as_deref(), now)?;
        let to = entity(tx, t.target.trim(), &target, t.target_type.as_deref(), now)?;
        relation(tx, &from, &to, &t.relationship, t.confidence, now)?;
        let mut mention = tx.prepare_cached(
            "INSERT OR IGNORE INTO memory_entity_mentions (memory_id, entity_id, mention_text, \
               confidence, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        )?;
        mention.execute(params![memory_id, from, t.source.trim(), t.confidence, now])?;
        mention.execute(params![memory_id, to, t.target.trim(), t.confidence, now])?;
    }
    Ok(())
}

/// The id of the entity `canonical` (or named `name`), mentioned once more; created if new.
fn entity(
    tx: &Connection,
    name: &str,
    canonical: &str,
    kind: Option<&str>,
    now: &str,
) -> Result<String> {
    let kind = kind.map(str::trim).filter(|k| !k.is_empty());
    let known: Option<String> = tx
        .prepare_cached(
            "SELECT id FROM entities WHERE (canonical_name = ?1 AND agent_id = 'default') \
               OR name = ?2 ORDER BY canonical_name = ?1 DESC LIMIT 1",
        )?
        .query_row(params![canonical, name], |r| r.get(0))
        .optional()?;
    if let Some(id) = known {
        tx.prepare_cached(
            "UPDATE entities SET mentions = COALESCE(mentions, 0) + 1, updated_at = ?3, \
               entity_type = CASE WHEN entity_type = 'extracted' AND ?2 IS NOT NULL \
                 THEN ?2 ELSE entity_type END \
             WHERE id = ?1",
        )?
        .execute(params![id, kind, now])?;
        return Ok(id);
    }
    let id = uuid::Uuid::new_v4().to_string();
    tx.prepare_cached(
        "INSERT INTO entities (id, name, entity_type, created_at, updated_at, canonical_name, \
           mentions, agent_id) VALUES (?1, ?2, COALESCE(?3, 'extracted'), ?4, ?4, ?5, 1, 'default')",
    )?
    .execute(params![id, name, kind, now, canonical])?;
    Ok(id)
}

/// Upserts `from --kind--> to`: one more mention and the running mean of the confidence.
fn relation(
    tx: &Connection,
    from: &str,
    to: &str,
    kind: &str,
    confidence: f64,
    now: &str,
) -> Result<()> {
    let updated = tx
        .prepare_cached(
            "UPDATE relations SET \
               confidence = (COALESCE(confidence, 0.5) * COALESCE(mentions, 1) + ?4) \
                 / (COALESCE(mentions, 1) + 1), \
               mentions = COALESCE(mentions, 1) + 1, updated_at = ?5 \
             WHERE rowid = (SELECT rowid FROM relations WHERE source_entity_id = ?1 \
               AND target_entity_id = ?2 AND relation_type = ?3 LIMIT 1)",
        )?
        .execute(params![from, to, kind, confidence, now])?;
    if updated == 0 {
        tx.prepare_cached(
            "INSERT INTO relations (id, source_entity_id, target_entity_id, relation_type, \
               strength, created_at, mentions, confidence, updated_at) \
             VALUES (?1, ?2, ?3, ?4, 1.0, ?5, 1, ?6, ?5)",
        )?
        .execute(params![
            uuid::Uuid::new_v4().to_string(),
            from,
            to,
            kind,
            now,
            confidence
        ])?;
    }
    Ok(())
}

/// Live memories mentioning the entities whose canonical name contains a token, or their
/// one-hop neighbours; those mentioning more of them first, then the newest. Chunk-group
/// entities (`chunk_group`, written by long remembers) are bookkeeping, not knowledge, and
/// are never matched.
pub fn memories(c: &Connection, tokens: &[String], limit: usize) -> Result<Vec<String>> {
    let tokens: Vec<String> = tokens
        .iter()
        .map(|t| canonical(t))
        .filter(|t| !t.is_empty())
        .collect();
    if tokens.is_empty() || limit == 0 {
        return Ok(Vec::new());
    }
    // Most workspaces have no graph (the pipeline is off): one probe instead of planning
    // and running the join.
    if !has_mentions(c)? {
        return Ok(Vec::new());
    }
    let tokens = serde_json::Value::from(tokens).to_string();
    let sql = "WITH matched AS ( \
           SELECT id FROM entities e \
           WHERE entity_type <> 'chunk_group' AND EXISTS (SELECT 1 FROM json_each(?1) t \
             WHERE instr(COALESCE(e.canonical_name, lower(e.name)), t.value) > 0) \
           ORDER BY COALESCE(mentions, 0) DESC, id LIMIT ?2), \
         neighbours AS ( \
           SELECT CASE WHEN r.source_entity_id IN (SELECT id FROM matched) \
             THEN r.target_entity_id ELSE r.source_entity_id END AS id \
           FROM relations r \
           WHERE r.source_entity_id IN (SELECT id FROM matched) \
              OR r.target_entity_id IN (SELECT id FROM matched) \
           ORDER BY COALESCE(r.mentions, 1) DESC LIMIT ?3), \
         linked AS (SELECT id FROM matched UNION SELECT id FROM neighbours) \
         SELECT m.id FROM memory_entity_mentions mem JOIN memories m ON m.id = mem.memory_id \
         WHERE mem.entity_id IN (SELECT id FROM linked) AND COALESCE(m.is_deleted, 0) = 0 \
         GROUP BY m.id ORDER BY COUNT(*) DESC, m.created_at DESC, m.id LIMIT ?4";
    Ok(c.prepare_cached(sql)?
        .query_map(
            params![tokens, MATCHED_ENTITIES, NEIGHBOURS, limit as i64],
            |r| r.get(0),
        )?
        .collect::<rusqlite::Result<_>>()?)
}

/// Whether any memory mentions an entity (one probe, whatever the graph's size).
pub fn has_mentions(c: &Connection) -> Result<bool> {
    Ok(
        c.prepare_cached("SELECT EXISTS (SELECT 1 FROM memory_entity_mentions)")?
            .query_row([], |r| r.get(0))?,
    )
}

/// Entity, relation and mention counts.
pub fn counts(c: &Connection) -> Result<GraphCounts> {
    Ok(c.prepare_cached(
        "SELECT (SELECT COUNT(*) FROM entities), (SELECT COUNT(*) FROM relations), \
               (SELECT COUNT(*) FROM memory_entity_mentions)",
    )?
    .query_row([], |r| {
        Ok(GraphCounts {
            entities: r.get(0)?,
            relations: r.get(1)?,
            mentions: r.get(2)?,
        })
    })?)
}

#[cfg(test)]
mod tests {
    use super::canonical;

    #[test]
    fn canonical_names_are_trimmed_lowercased_and_collapsed() {
        assert_eq!(canonical("  Signet   Daemon\t"), "signet daemon");
    }
}
