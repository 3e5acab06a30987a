//! The repairs' SQL: dead jobs, stale leases, the full-text index, exact duplicates, and the
//! audit row every repair writes.

use rusqlite::{Connection, OptionalExtension, params};
use serde_json::json;

use super::diagnostics::{DUP_FILTER, DUP_KEY};
use super::{DedupCluster, DedupMerge, DedupRow, FtsCounts, RepairAudit, table_exists};
use crate::error::Result;
use crate::row;

pub fn requeue_dead(tx: &Connection, limit: usize, now: &str) -> Result<(usize, usize)> {
    let memory = tx
        .prepare_cached(
            "UPDATE memory_jobs SET status = 'pending', attempts = 0, updated_at = ?2 \
             WHERE rowid IN (SELECT rowid FROM memory_jobs WHERE status = 'dead' ORDER BY updated_at LIMIT ?1)",
        )?
        .execute(params![limit as i64, now])?;
    let left = limit.saturating_sub(memory);
    let summary = if left > 0 && table_exists(tx, "summary_jobs")? {
        tx.prepare_cached(
            "UPDATE summary_jobs SET status = 'pending', attempts = 0, error = NULL \
             WHERE rowid IN (SELECT rowid FROM summary_jobs WHERE status = 'dead' LIMIT ?1)",
        )?
        .execute([left as i64])?
    } else {
        0
    };
    Ok((memory, summary))
}

pub fn release_leases(tx: &Connection, cutoff: &str, now: &str) -> Result<usize> {
    Ok(tx
        .prepare_cached(
            "UPDATE memory_jobs SET status = 'pending', leased_at = NULL, updated_at = ?2 \
             WHERE status = 'leased' AND (leased_at IS NULL OR julianday(leased_at) < julianday(?1))",
        )?
        .execute(params![cutoff, now])?)
}

pub fn fts_counts(c: &Connection) -> Result<FtsCounts> {
    let (memories, live): (i64, i64) = c.query_row(
        "SELECT COUNT(*), COALESCE(SUM(is_deleted = 0), 0) FROM memories",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let one = |sql: &str| -> Result<i64> { Ok(c.query_row(sql, [], |r| r.get(0))?) };
    Ok(FtsCounts {
        memories,
        live,
        fts_rows: one("SELECT COUNT(*) FROM memories_fts_docsize")?,
        missing: one("SELECT COUNT(*) FROM memories m WHERE NOT EXISTS \
               (SELECT 1 FROM memories_fts_docsize d WHERE d.id = m.rowid)")?,
        orphans: one(
            "SELECT COUNT(*) FROM memories_fts_docsize d WHERE NOT EXISTS \
               (SELECT 1 FROM memories m WHERE m.rowid = d.id)",
        )?,
    })
}

/// The columns of a [`DedupRow`], named after its fields.
const ROW_COLS: &str = "id, COALESCE(importance, 0.5) AS importance, \
    COALESCE(access_count, 0) AS access_count, COALESCE(update_count, 0) AS update_count, \
    COALESCE(updated_at, created_at, '') AS updated_at, COALESCE(pinned, 0) AS pinned, \
    COALESCE(manual_override, 0) AS manual_override, tags";

fn dedup_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<DedupRow> {
    row::decode(r)
}

pub fn dedup_clusters(c: &Connection, limit: usize) -> Result<Vec<DedupCluster>> {
    let keys_sql = format!(
        "SELECT {DUP_KEY} AS k FROM memories WHERE {DUP_FILTER} AND {DUP_KEY} IS NOT NULL \
         GROUP BY k HAVING COUNT(*) > 1 ORDER BY COUNT(*) DESC LIMIT ?1"
    );
    let keys: Vec<String> = c
        .prepare_cached(&keys_sql)?
        .query_map([limit as i64], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let rows_sql = format!(
        "SELECT {ROW_COLS} FROM memories WHERE {DUP_FILTER} AND {DUP_KEY} = ?1 ORDER BY rowid"
    );
    let mut stmt = c.prepare_cached(&rows_sql)?;
    keys.into_iter()
        .map(|key| {
            let rows = stmt
                .query_map([&key], dedup_row)?
                .collect::<rusqlite::Result<_>>()?;
            Ok(DedupCluster { key, rows })
        })
        .collect()
}

pub fn dedup_rows(c: &Connection, ids: &[String]) -> Result<Vec<DedupRow>> {
    let sql = format!("SELECT {ROW_COLS} FROM memories WHERE id = ?1 AND {DUP_FILTER}");
    let mut stmt = c.prepare_cached(&sql)?;
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(row) = stmt.query_row([id], dedup_row).optional()? {
            out.push(row);
        }
    }
    Ok(out)
}

pub fn dedup_candidate_ids(c: &Connection, limit: usize) -> Result<Vec<String>> {
    let sql =
        format!("SELECT id FROM memories WHERE {DUP_FILTER} ORDER BY updated_at DESC LIMIT ?1");
    Ok(c.prepare_cached(&sql)?
        .query_map([limit as i64], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?)
}

pub fn apply_dedup(tx: &Connection, merges: &[DedupMerge], a: &RepairAudit) -> Result<Vec<String>> {
    let live = format!("SELECT 1 FROM memories WHERE id = ?1 AND {DUP_FILTER}");
    let mut deleted = Vec::new();
    for m in merges {
        if !tx.prepare_cached(&live)?.exists([&m.keeper])? {
            continue;
        }
        let mut gone = Vec::new();
        for loser in &m.losers {
            let n = tx
                .prepare_cached(&format!(
                    "UPDATE memories SET is_deleted = 1, deleted_at = ?2, updated_at = ?2 \
                     WHERE id = ?1 AND {DUP_FILTER}"
                ))?
                .execute(params![loser, a.now])?;
            if n == 1 {
                let reason = format!("dedup: duplicate of {}", m.keeper);
                history(
                    tx,
                    loser,
                    "deleted",
                    &reason,
                    json!({"keeper": m.keeper, "pass": m.pass}),
                    a,
                )?;
                gone.push(loser.clone());
            }
        }
        if gone.is_empty() {
            continue;
        }
        tx.prepare_cached("UPDATE memories SET tags = ?2 WHERE id = ?1")?
            .execute(params![m.keeper, m.tags])?;
        let meta = json!({"mergedFrom": gone, "mergedTags": m.tags, "pass": m.pass});
        history(tx, &m.keeper, "merged", &a.reason, meta, a)?;
        deleted.extend(gone);
    }
    Ok(deleted)
}

fn history(
    tx: &Connection,
    memory_id: &str,
    event: &str,
    reason: &str,
    metadata: serde_json::Value,
    a: &RepairAudit,
) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO memory_history (id, memory_id, event, changed_by, reason, metadata, created_at, \
           actor_type, request_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute(params![
        uuid::Uuid::new_v4().to_string(),
        memory_id,
        event,
        a.changed_by,
        reason,
        metadata.to_string(),
        a.now,
        a.actor_type,
        a.request_id,
    ])?;
    Ok(())
}

pub fn record(tx: &Connection, a: &RepairAudit) -> Result<()> {
    let meta = json!({"repairAction": a.action, "affected": a.affected, "message": a.message});
    history(tx, "system", "none", &a.reason, meta, a)
}
