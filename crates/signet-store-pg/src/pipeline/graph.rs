//! The knowledge graph: entities upserted by canonical name, relations by (source, target,
//! type), the memories that mention them; and the graph's part of recall (memories linked to
//! the entities a query names). Every read is bounded by a LIMIT.

use postgres::GenericClient;
use signet_model::Result;
use signet_model::pipeline::{GraphCounts, GraphTriple};

use crate::error::PgResultExt;
use crate::sql::count;

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

/// Persists `triples` as mentioned by `memory_id`. A triple either of whose names is too short
/// is skipped whole: a relation needs both ends.
pub(crate) fn persist(
    tx: &mut impl GenericClient,
    memory_id: &str,
    triples: &[GraphTriple],
    now: &str,
) -> Result<()> {
    for t in triples {
        let (source, target) = (canonical(&t.source), canonical(&t.target));
        if source.chars().count() < MIN_NAME_CHARS || target.chars().count() < MIN_NAME_CHARS {
            continue;
        }
        let from = entity(tx, t.source.trim(), &source, t.source_type.as_deref(), now)?;
        let to = entity(tx, t.target.trim(), &target, t.target_type.as_deref(), now)?;
        relation(tx, &from, &to, &t.relationship, t.confidence, now)?;
        for (entity, text) in [(&from, t.source.trim()), (&to, t.target.trim())] {
            tx.execute(
                "INSERT INTO memory_entity_mentions (memory_id, entity_id, mention_text, \
                   confidence, created_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
                &[&memory_id, entity, &text, &t.confidence, &now],
            )
            .pg()?;
        }
    }
    Ok(())
}

/// The id of the entity `canonical` (or named `name`), mentioned once more; created if new.
fn entity(
    tx: &mut impl GenericClient,
    name: &str,
    canonical: &str,
    kind: Option<&str>,
    now: &str,
) -> Result<String> {
    let kind = kind.map(str::trim).filter(|k| !k.is_empty());
    let known = tx
        .query_opt(
            "SELECT id FROM entities WHERE (canonical_name = $1 AND agent_id = 'default') \
               OR name = $2 ORDER BY (canonical_name = $1) DESC NULLS LAST LIMIT 1 FOR UPDATE",
            &[&canonical, &name],
        )
        .pg()?;
    if let Some(r) = known {
        let id: String = r.get(0);
        tx.execute(
            "UPDATE entities SET mentions = COALESCE(mentions, 0) + 1, updated_at = $3, \
               entity_type = CASE WHEN entity_type = 'extracted' AND $2::text IS NOT NULL \
                 THEN $2 ELSE entity_type END \
             WHERE id = $1",
            &[&id, &kind, &now],
        )
        .pg()?;
        return Ok(id);
    }
    let id = uuid::Uuid::new_v4().to_string();
    tx.execute(
        "INSERT INTO entities (id, name, entity_type, created_at, updated_at, canonical_name, \
           mentions, agent_id) VALUES ($1, $2, COALESCE($3, 'extracted'), $4, $4, $5, 1, 'default')",
        &[&id, &name, &kind, &now, &canonical],
    )
    .pg()?;
    Ok(id)
}

/// Upserts `from --kind--> to`: one more mention and the running mean of the confidence.
fn relation(
    tx: &mut impl GenericClient,
    from: &str,
    to: &str,
    kind: &str,
    confidence: f64,
    now: &str,
) -> Result<()> {
    let updated = tx
        .execute(
            "UPDATE relations SET \
               confidence = (COALESCE(confidence, 0.5) * COALESCE(mentions, 1) + $4) \
                 / (COALESCE(mentions, 1) + 1), \
               mentions = COALESCE(mentions, 1) + 1, updated_at = $5 \
             WHERE seq = (SELECT seq FROM relations WHERE source_entity_id = $1 \
               AND target_entity_id = $2 AND relation_type = $3 ORDER BY seq LIMIT 1)",
            &[&from, &to, &kind, &confidence, &now],
        )
        .pg()?;
    if updated == 0 {
        tx.execute(
            "INSERT INTO relations (id, source_entity_id, target_entity_id, relation_type, \
               strength, created_at, mentions, confidence, updated_at) \
             VALUES ($1, $2, $3, $4, 1.0, $5, 1, $6, $5)",
            &[
                &uuid::Uuid::new_v4().to_string(),
                &from,
                &to,
                &kind,
                &now,
                &confidence,
            ],
        )
        .pg()?;
    }
    Ok(())
}

/// Live memories mentioning the entities whose canonical name contains a token, or their
/// one-hop neighbours; those mentioning more of them first, then the newest. Chunk-group
/// entities are bookkeeping, not knowledge, and are never matched.
pub(crate) fn memories(
    c: &mut impl GenericClient,
    tokens: &[String],
    limit: usize,
) -> Result<Vec<String>> {
    let tokens: Vec<String> = tokens
        .iter()
        .map(|t| canonical(t))
        .filter(|t| !t.is_empty())
        .collect();
    if tokens.is_empty() || limit == 0 || !has_mentions(c)? {
        return Ok(Vec::new());
    }
    let sql = "WITH matched AS ( \
           SELECT id FROM entities e \
           WHERE entity_type <> 'chunk_group' AND EXISTS (SELECT 1 FROM unnest($1::text[]) t(v) \
             WHERE strpos(COALESCE(e.canonical_name, lower(e.name)), t.v) > 0) \
           ORDER BY COALESCE(mentions, 0) DESC, id LIMIT $2), \
         neighbours AS ( \
           SELECT CASE WHEN r.source_entity_id IN (SELECT id FROM matched) \
             THEN r.target_entity_id ELSE r.source_entity_id END AS id \
           FROM relations r \
           WHERE r.source_entity_id IN (SELECT id FROM matched) \
              OR r.target_entity_id IN (SELECT id FROM matched) \
           ORDER BY COALESCE(r.mentions, 1) DESC LIMIT $3), \
         linked AS (SELECT id FROM matched UNION SELECT id FROM neighbours) \
         SELECT m.id FROM memory_entity_mentions mem JOIN memories m ON m.id = mem.memory_id \
         WHERE mem.entity_id IN (SELECT id FROM linked) AND m.is_deleted IS NOT TRUE \
         GROUP BY m.id, m.created_at ORDER BY count(*) DESC, m.created_at DESC, m.id LIMIT $4";
    let rows = c
        .query(
            sql,
            &[&tokens, &MATCHED_ENTITIES, &NEIGHBOURS, &count(limit)],
        )
        .pg()?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

/// Whether any memory mentions an entity (one probe, whatever the graph's size).
pub(crate) fn has_mentions(c: &mut impl GenericClient) -> Result<bool> {
    Ok(
        c.query_one("SELECT EXISTS (SELECT 1 FROM memory_entity_mentions)", &[])
            .pg()?
            .get(0),
    )
}

/// Entity, relation and mention counts.
pub(crate) fn counts(c: &mut impl GenericClient) -> Result<GraphCounts> {
    let r = c
        .query_one(
            "SELECT (SELECT count(*) FROM entities), (SELECT count(*) FROM relations), \
               (SELECT count(*) FROM memory_entity_mentions)",
            &[],
        )
        .pg()?;
    Ok(GraphCounts {
        entities: r.get(0),
        relations: r.get(1),
        mentions: r.get(2),
    })
}
