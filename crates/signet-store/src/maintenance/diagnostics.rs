//! The raw counts behind `GET /api/diagnostics`, one read transaction.

use std::path::Path;

use chrono::Duration;
use rusqlite::{Connection, OptionalExtension, params};

use super::{
    ConnectorCounts, DiagnosticsSnapshot, DuplicateCounts, IndexCounts, MutationCounts,
    QueueCounts, RetentionCounts, SWEEP_ACTIONS, SnapshotParams, StorageCounts, open_read_only,
    table_exists,
};
use crate::error::{Result, StoreError};
use crate::row;
use crate::time::format_iso;

/// Takes the snapshot on `c` (inside one read transaction, so the counts agree).
pub fn snapshot(c: &Connection, p: &SnapshotParams) -> Result<DiagnosticsSnapshot> {
    c.execute_batch("BEGIN")?;
    let out = snapshot_in(c, p);
    let _ = c.execute_batch("COMMIT");
    out
}

fn snapshot_in(c: &Connection, p: &SnapshotParams) -> Result<DiagnosticsSnapshot> {
    Ok(DiagnosticsSnapshot {
        queue: queue(c, p)?,
        storage: storage(c, p)?,
        index: index(c)?,
        mutation: mutation(c, p)?,
        duplicate: duplicate(c)?,
        connector: connector(c)?,
        retention: retention(c, p)?,
    })
}

/// Opens `path` read-only (never creating, migrating or writing) and takes the snapshot.
pub fn snapshot_read_only(path: &Path, p: &SnapshotParams) -> Result<DiagnosticsSnapshot> {
    if !path.is_file() {
        return Err(StoreError::Io(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            format!("no database at {}", path.display()),
        )));
    }
    let conn = open_read_only(path)?;
    if !table_exists(&conn, "memories")? {
        return Err(StoreError::Schema(format!(
            "{} has no memories table (not a Signet database, or never migrated)",
            path.display()
        )));
    }
    snapshot(&conn, p)
}

fn ago(p: &SnapshotParams, d: Duration) -> String {
    format_iso(p.now - d)
}

fn count(c: &Connection, sql: &str, args: impl rusqlite::Params) -> Result<i64> {
    Ok(c.prepare_cached(sql)?.query_row(args, |r| r.get(0))?)
}

fn queue(c: &Connection, p: &SnapshotParams) -> Result<QueueCounts> {
    let hour = ago(p, Duration::hours(1));
    let ten_min = ago(p, Duration::minutes(10));
    let lease_cut = ago(p, Duration::milliseconds(p.lease_timeout_ms as i64));
    let mut q = c
        .prepare_cached(
            "SELECT COALESCE(SUM(status = 'pending'), 0) AS pending, \
               MIN(CASE WHEN status = 'pending' THEN created_at END) AS oldest_pending_at, \
               COALESCE(SUM(status = 'leased'), 0) AS leased, \
               COALESCE(SUM(status = 'dead'), 0) AS dead, \
               COALESCE(SUM(status = 'completed' AND julianday(updated_at) >= julianday(?1)), 0) \
                 AS completed_last_hour, \
               COALESCE(SUM(status = 'dead' AND julianday(updated_at) >= julianday(?1)), 0) \
                 AS dead_last_hour, \
               COALESCE(SUM(status = 'leased' AND julianday(created_at) < julianday(?2)), 0) \
                 AS lease_anomalies, \
               COALESCE(SUM(status = 'leased' AND (leased_at IS NULL OR julianday(leased_at) < julianday(?3))), 0) \
                 AS stale_leases, \
               0 AS dead_summary_jobs \
             FROM memory_jobs",
        )?
        .query_row(params![hour, ten_min, lease_cut], row::decode::<QueueCounts>)?;
    if table_exists(c, "summary_jobs")? {
        q.dead_summary_jobs = count(
            c,
            "SELECT COUNT(*) FROM summary_jobs WHERE status = 'dead'",
            [],
        )?;
    }
    Ok(q)
}

fn storage(c: &Connection, p: &SnapshotParams) -> Result<StorageCounts> {
    let month = ago(p, Duration::days(30));
    let (total, tombstones, expired) = c
        .prepare_cached(
            "SELECT COUNT(*), COALESCE(SUM(is_deleted = 1), 0), \
               COALESCE(SUM(is_deleted = 1 AND deleted_at IS NOT NULL AND julianday(deleted_at) < julianday(?1)), 0) \
             FROM memories",
        )?
        .query_row([month], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    let pragma = |name: &str| -> Result<i64> {
        Ok(c.query_row(&format!("PRAGMA {name}"), [], |r| r.get(0))?)
    };
    let integrity = if p.integrity {
        Some(
            c.query_row("PRAGMA quick_check(1)", [], |r| r.get::<_, String>(0))
                .unwrap_or_else(|e| format!("quick_check failed: {e}")),
        )
    } else {
        None
    };
    Ok(StorageCounts {
        total,
        tombstones,
        expired_tombstones: expired,
        page_count: pragma("page_count")?,
        page_size: pragma("page_size")?,
        freelist_count: pragma("freelist_count")?,
        integrity,
    })
}

fn index(c: &Connection) -> Result<IndexCounts> {
    let (live, with_model, without) = c
        .prepare_cached(
            "SELECT COUNT(*), COALESCE(SUM(embedding_model IS NOT NULL), 0), \
               COALESCE(SUM(NOT EXISTS (SELECT 1 FROM embeddings e WHERE e.source_type = 'memory' AND e.source_id = m.id)), 0) \
             FROM memories m WHERE is_deleted = 0",
        )?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    let tombstone_embeddings = count(
        c,
        "SELECT COUNT(*) FROM embeddings e WHERE e.source_type = 'memory' AND NOT EXISTS \
           (SELECT 1 FROM memories m WHERE m.id = e.source_id AND m.is_deleted = 0)",
        [],
    )?;
    let mut out = IndexCounts {
        live,
        with_embedding_model: with_model,
        without_embedding: without,
        tombstone_embeddings,
        ..Default::default()
    };
    if table_exists(c, "memories_fts_docsize")? {
        let fts = super::repair::fts_counts(c)?;
        out.fts_present = true;
        out.fts_rows = fts.fts_rows;
        out.fts_missing = fts.missing;
        out.fts_orphans = fts.orphans;
    } else {
        out.fts_present = table_exists(c, "memories_fts")?;
    }
    Ok(out)
}

fn mutation(c: &Connection, p: &SnapshotParams) -> Result<MutationCounts> {
    let week = ago(p, Duration::days(7));
    Ok(c.prepare_cached(
        "SELECT COALESCE(SUM(event = 'recovered'), 0), COALESCE(SUM(event = 'deleted'), 0) \
         FROM memory_history WHERE julianday(created_at) >= julianday(?1)",
    )?
    .query_row([week], |r| {
        Ok(MutationCounts {
            recent_recovers: r.get(0)?,
            recent_deletes: r.get(1)?,
        })
    })?)
}

fn retention(c: &Connection, p: &SnapshotParams) -> Result<RetentionCounts> {
    let cut = ago(p, Duration::milliseconds(p.tombstone_overdue_ms));
    let (tombstones, overdue, oldest) = c
        .prepare_cached(
            "SELECT COALESCE(SUM(is_deleted = 1), 0), \
               COALESCE(SUM(is_deleted = 1 AND deleted_at IS NOT NULL AND julianday(deleted_at) < julianday(?1)), 0), \
               MIN(CASE WHEN is_deleted = 1 AND deleted_at IS NOT NULL AND julianday(deleted_at) < julianday(?1) THEN deleted_at END) \
             FROM memories",
        )?
        .query_row([cut], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    let last_sweep_at: Option<String> = c
        .prepare_cached(
            "SELECT MAX(created_at) FROM memory_history WHERE memory_id = 'system' \
               AND json_extract(metadata, '$.repairAction') IN (?1, ?2)",
        )?
        .query_row(SWEEP_ACTIONS, |r| r.get(0))?;
    let orphaned_embeddings = count(
        c,
        "SELECT COUNT(*) FROM embeddings e WHERE e.source_type = 'memory' AND NOT EXISTS \
           (SELECT 1 FROM memories m WHERE m.id = e.source_id)",
        [],
    )?;
    Ok(RetentionCounts {
        tombstones,
        overdue_tombstones: overdue,
        oldest_overdue_deleted_at: oldest,
        last_sweep_at,
        orphaned_embeddings,
    })
}

/// The duplicate key: the normalised content (rows whose hash migration 3 cleared still share
/// it). A NULL `normalized_content` is text equal to `content` (our writes store it only when
/// it differs); rows from before upstream's v2 column have neither and group by content too.
pub(crate) const DUP_KEY: &str = "COALESCE(normalized_content, content)";
/// Rows dedup may touch.
pub(crate) const DUP_FILTER: &str =
    "is_deleted = 0 AND COALESCE(pinned, 0) = 0 AND COALESCE(manual_override, 0) = 0";

fn duplicate(c: &Connection) -> Result<DuplicateCounts> {
    let sql = format!(
        "SELECT COUNT(*), COALESCE(SUM(n - 1), 0) FROM \
           (SELECT COUNT(*) AS n FROM memories WHERE {DUP_FILTER} AND {DUP_KEY} IS NOT NULL \
            GROUP BY {DUP_KEY} HAVING COUNT(*) > 1)"
    );
    let (clusters, excess) = c
        .prepare_cached(&sql)?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    let total_active = count(c, "SELECT COUNT(*) FROM memories WHERE is_deleted = 0", [])?;
    Ok(DuplicateCounts {
        exact_clusters: clusters,
        exact_excess: excess,
        total_active,
    })
}

fn connector(c: &Connection) -> Result<ConnectorCounts> {
    if !table_exists(c, "connectors")? {
        return Ok(ConnectorCounts::default());
    }
    let mut out = c
        .prepare_cached(
            "SELECT COUNT(*), COALESCE(SUM(status = 'syncing'), 0), COALESCE(SUM(last_error IS NOT NULL), 0), \
               MIN(CASE WHEN last_error IS NOT NULL THEN updated_at END) FROM connectors",
        )?
        .query_row([], |r| {
            Ok(ConnectorCounts {
                present: true,
                count: r.get(0)?,
                syncing: r.get(1)?,
                errors: r.get(2)?,
                oldest_error_at: r.get(3)?,
            })
        })
        .optional()?
        .unwrap_or_default();
    out.present = true;
    Ok(out)
}
