//! The repairs' SQL: dead jobs, stale leases, the keyword index, exact duplicates, and the
//! audit row every repair writes (a history row of the pseudo-memory `system`).

use postgres::{GenericClient, Row};
use serde_json::json;
use signet_model::Result;
use signet_model::maintenance::{DedupCluster, DedupMerge, DedupRow, FtsCounts, RepairAudit};

use super::diagnostics::{DUP_FILTER, DUP_KEY};
use super::rows;
use crate::error::PgResultExt;
use crate::sql::count;

pub(crate) fn requeue_dead(
    tx: &mut impl GenericClient,
    limit: usize,
    now: &str,
) -> Result<(usize, usize)> {
    let memory = rows(
        tx.execute(
            "UPDATE memory_jobs SET status = 'pending', attempts = 0, updated_at = $2 \
             WHERE seq IN (SELECT seq FROM memory_jobs WHERE status = 'dead' \
               ORDER BY updated_at, seq LIMIT $1 FOR UPDATE SKIP LOCKED)",
            &[&count(limit), &now],
        )
        .pg()?,
    );
    let left = limit.saturating_sub(memory);
    let summary = match left {
        0 => 0,
        left => rows(
            tx.execute(
                "UPDATE summary_jobs SET status = 'pending', attempts = 0, error = NULL \
                 WHERE seq IN (SELECT seq FROM summary_jobs WHERE status = 'dead' \
                   ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED)",
                &[&count(left)],
            )
            .pg()?,
        ),
    };
    Ok((memory, summary))
}

pub(crate) fn release_leases(
    tx: &mut impl GenericClient,
    cutoff: &str,
    now: &str,
) -> Result<usize> {
    Ok(rows(
        tx.execute(
            "UPDATE memory_jobs SET status = 'pending', leased_at = NULL, updated_at = $2 \
             WHERE status = 'leased' AND (leased_at IS NULL \
               OR leased_at::timestamptz < $1::text::timestamptz)",
            &[&cutoff, &now],
        )
        .pg()?,
    ))
}

/// The keyword index's counts: the generated column holds one entry per row, so nothing is
/// ever missing or orphaned; `missing` counts rows whose entry is absent all the same.
pub(crate) fn fts_counts(c: &mut impl GenericClient) -> Result<FtsCounts> {
    let r = c
        .query_one(
            "SELECT count(*), count(*) FILTER (WHERE is_deleted = false), \
               count(*) FILTER (WHERE tsv IS NOT NULL), count(*) FILTER (WHERE tsv IS NULL) \
             FROM memories",
            &[],
        )
        .pg()?;
    Ok(FtsCounts {
        memories: r.get(0),
        live: r.get(1),
        fts_rows: r.get(2),
        missing: r.get(3),
        orphans: 0,
    })
}

/// Recomputes every row's keyword entry (a stored generated column is recomputed by any
/// update of its row).
pub(crate) fn fts_rebuild(tx: &mut impl GenericClient) -> Result<()> {
    tx.execute("UPDATE memories SET content = content", &[])
        .pg()?;
    Ok(())
}

/// The columns of a [`DedupRow`], decoded by [`dedup_row`].
const ROW_COLS: &str = "id, COALESCE(importance, 0.5), COALESCE(access_count, 0), \
    COALESCE(update_count, 0), COALESCE(updated_at, created_at, ''), COALESCE(pinned, false), \
    COALESCE(manual_override, false), tags";

fn dedup_row(r: &Row) -> DedupRow {
    DedupRow {
        id: r.get(0),
        importance: r.get(1),
        access_count: r.get(2),
        update_count: r.get(3),
        updated_at: r.get(4),
        pinned: r.get(5),
        manual_override: r.get(6),
        tags: r.get(7),
    }
}

pub(crate) fn dedup_clusters(
    c: &mut impl GenericClient,
    limit: usize,
) -> Result<Vec<DedupCluster>> {
    let keys_sql = format!(
        "SELECT {DUP_KEY} AS k FROM memories WHERE {DUP_FILTER} AND {DUP_KEY} IS NOT NULL \
         GROUP BY k HAVING count(*) > 1 ORDER BY count(*) DESC, k LIMIT $1"
    );
    let keys: Vec<String> = c
        .query(&keys_sql, &[&count(limit)])
        .pg()?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let rows_sql = format!(
        "SELECT {ROW_COLS} FROM memories WHERE {DUP_FILTER} AND {DUP_KEY} = $1 ORDER BY seq"
    );
    keys.into_iter()
        .map(|key| {
            let rows = c.query(&rows_sql, &[&key]).pg()?;
            Ok(DedupCluster {
                key,
                rows: rows.iter().map(dedup_row).collect(),
            })
        })
        .collect()
}

pub(crate) fn dedup_rows(c: &mut impl GenericClient, ids: &[String]) -> Result<Vec<DedupRow>> {
    let sql = format!("SELECT {ROW_COLS} FROM memories WHERE id = ANY($1) AND {DUP_FILTER}");
    let found: Vec<DedupRow> = c.query(&sql, &[&ids]).pg()?.iter().map(dedup_row).collect();
    // In the order asked.
    Ok(ids
        .iter()
        .filter_map(|id| found.iter().find(|r| &r.id == id).cloned())
        .collect())
}

pub(crate) fn dedup_candidate_ids(c: &mut impl GenericClient, limit: usize) -> Result<Vec<String>> {
    let sql = format!(
        "SELECT id FROM memories WHERE {DUP_FILTER} ORDER BY updated_at DESC, seq DESC LIMIT $1"
    );
    Ok(c.query(&sql, &[&count(limit)])
        .pg()?
        .iter()
        .map(|r| r.get(0))
        .collect())
}

pub(crate) fn apply_dedup(
    tx: &mut impl GenericClient,
    merges: &[DedupMerge],
    a: &RepairAudit,
) -> Result<Vec<String>> {
    let live = format!("SELECT 1 FROM memories WHERE id = $1 AND {DUP_FILTER} FOR UPDATE");
    let delete = format!(
        "UPDATE memories SET is_deleted = true, deleted_at = $2, updated_at = $2 \
         WHERE id = $1 AND {DUP_FILTER}"
    );
    let mut deleted = Vec::new();
    for m in merges {
        if tx.query_opt(&live, &[&m.keeper]).pg()?.is_none() {
            continue;
        }
        let mut gone = Vec::new();
        for loser in &m.losers {
            if tx.execute(&delete, &[loser, &a.now]).pg()? == 1 {
                let reason = format!("dedup: duplicate of {}", m.keeper);
                let meta = json!({"keeper": m.keeper, "pass": m.pass});
                history(tx, loser, "deleted", &reason, meta, a)?;
                gone.push(loser.clone());
            }
        }
        if gone.is_empty() {
            continue;
        }
        tx.execute(
            "UPDATE memories SET tags = $2 WHERE id = $1",
            &[&m.keeper, &m.tags],
        )
        .pg()?;
        let meta = json!({"mergedFrom": gone, "mergedTags": m.tags, "pass": m.pass});
        history(tx, &m.keeper, "merged", &a.reason, meta, a)?;
        deleted.extend(gone);
    }
    Ok(deleted)
}

fn history(
    tx: &mut impl GenericClient,
    memory_id: &str,
    event: &str,
    reason: &str,
    metadata: serde_json::Value,
    a: &RepairAudit,
) -> Result<()> {
    tx.execute(
        "INSERT INTO memory_history (id, memory_id, event, changed_by, reason, metadata, \
           created_at, actor_type, request_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        &[
            &uuid::Uuid::new_v4().to_string(),
            &memory_id,
            &event,
            &a.changed_by,
            &reason,
            &metadata.to_string(),
            &a.now,
            &a.actor_type,
            &a.request_id,
        ],
    )
    .pg()?;
    Ok(())
}

/// The audit row of one repair.
pub(crate) fn record(tx: &mut impl GenericClient, a: &RepairAudit) -> Result<()> {
    let meta = json!({"repairAction": a.action, "affected": a.affected, "message": a.message});
    history(tx, "system", "none", &a.reason, meta, a)
}
