//! The raw counts behind `GET /api/diagnostics`, one read transaction.

use std::path::Path;

use chrono::{DateTime, Duration, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

use super::{open_read_only, table_exists};
use crate::error::{Result, StoreError};
use crate::time::format_iso;

/// What the snapshot is taken relative to.
#[derive(Debug, Clone)]
pub struct SnapshotParams {
    pub now: DateTime<Utc>,
    /// A lease older than this is stale (`pipelineV2.worker.leaseTimeoutMs`).
    pub lease_timeout_ms: u64,
    /// Run `PRAGMA quick_check` (O(database size)).
    pub integrity: bool,
    /// Tombstones deleted before `now - tombstone_overdue_ms` count as overdue purges (the
    /// recovery window plus the grace a sweep interval needs).
    pub tombstone_overdue_ms: i64,
}

/// The `memory_jobs` queue.
#[derive(Debug, Clone, Default, Serialize)]
pub struct QueueCounts {
    pub pending: i64,
    pub oldest_pending_at: Option<String>,
    pub leased: i64,
    pub dead: i64,
    /// Jobs completed / dead-lettered with `updated_at` in the last hour.
    pub completed_last_hour: i64,
    pub dead_last_hour: i64,
    /// Leased jobs created more than 10 minutes ago (upstream's `leaseAnomalies`).
    pub lease_anomalies: i64,
    /// Leased jobs whose lease is older than the lease timeout (or has no start).
    pub stale_leases: i64,
    /// Dead `summary_jobs` (0 when the table is missing).
    pub dead_summary_jobs: i64,
}

/// Rows and file size.
#[derive(Debug, Clone, Default, Serialize)]
pub struct StorageCounts {
    pub total: i64,
    pub tombstones: i64,
    /// Tombstones deleted more than 30 days ago (the next retention sweep purges them).
    pub expired_tombstones: i64,
    pub page_count: i64,
    pub page_size: i64,
    pub freelist_count: i64,
    /// `PRAGMA quick_check`'s first line (`ok` when healthy); `None` when not run.
    pub integrity: Option<String>,
}

/// The full-text and vector side.
#[derive(Debug, Clone, Default, Serialize)]
pub struct IndexCounts {
    pub live: i64,
    /// Whether `memories_fts` exists.
    pub fts_present: bool,
    /// Rows in the FTS index (its `_docsize` shadow table: one row per indexed document).
    pub fts_rows: i64,
    /// Memories with no FTS row.
    pub fts_missing: i64,
    /// FTS rows with no memory.
    pub fts_orphans: i64,
    /// Live memories with `embedding_model` set.
    pub with_embedding_model: i64,
    /// Live memories with no row in `embeddings`.
    pub without_embedding: i64,
    /// Vectors whose memory is deleted or gone.
    pub tombstone_embeddings: i64,
}

/// Retention health: what the sweep should have purged, when it last ran, stray vectors.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RetentionCounts {
    /// Soft-deleted memories (recoverable until the sweep purges them).
    pub tombstones: i64,
    /// Tombstones past the recovery window by more than `overdue_grace_ms`: a sweep that
    /// runs would have purged them.
    pub overdue_tombstones: i64,
    /// The oldest `deleted_at` among the overdue tombstones.
    pub oldest_overdue_deleted_at: Option<String>,
    /// When a retention sweep last finished (its audit row in `memory_history`), if ever.
    pub last_sweep_at: Option<String>,
    /// Vectors whose memory row no longer exists at all (not even as a tombstone).
    pub orphaned_embeddings: i64,
}

/// `memory_history` over the last 7 days.
#[derive(Debug, Clone, Default, Serialize)]
pub struct MutationCounts {
    pub recent_recovers: i64,
    pub recent_deletes: i64,
}

/// Exact duplicates among live, unpinned, not overridden memories.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DuplicateCounts {
    pub exact_clusters: i64,
    pub exact_excess: i64,
    pub total_active: i64,
}

/// The `connectors` table.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ConnectorCounts {
    pub present: bool,
    pub count: i64,
    pub syncing: i64,
    pub errors: i64,
    pub oldest_error_at: Option<String>,
}

/// Everything diagnostics scores, taken in one read transaction.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DiagnosticsSnapshot {
    pub queue: QueueCounts,
    pub storage: StorageCounts,
    pub index: IndexCounts,
    pub mutation: MutationCounts,
    pub duplicate: DuplicateCounts,
    pub connector: ConnectorCounts,
    pub retention: RetentionCounts,
}

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
            "SELECT COALESCE(SUM(status = 'pending'), 0), \
               MIN(CASE WHEN status = 'pending' THEN created_at END), \
               COALESCE(SUM(status = 'leased'), 0), COALESCE(SUM(status = 'dead'), 0), \
               COALESCE(SUM(status = 'completed' AND julianday(updated_at) >= julianday(?1)), 0), \
               COALESCE(SUM(status = 'dead' AND julianday(updated_at) >= julianday(?1)), 0), \
               COALESCE(SUM(status = 'leased' AND julianday(created_at) < julianday(?2)), 0), \
               COALESCE(SUM(status = 'leased' AND (leased_at IS NULL OR julianday(leased_at) < julianday(?3))), 0) \
             FROM memory_jobs",
        )?
        .query_row(params![hour, ten_min, lease_cut], |r| {
            Ok(QueueCounts {
                pending: r.get(0)?,
                oldest_pending_at: r.get(1)?,
                leased: r.get(2)?,
                dead: r.get(3)?,
                completed_last_hour: r.get(4)?,
                dead_last_hour: r.get(5)?,
                lease_anomalies: r.get(6)?,
                stale_leases: r.get(7)?,
                dead_summary_jobs: 0,
            })
        })?;
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

/// The history actions a finished retention sweep records (the worker's and the repair's).
pub const SWEEP_ACTIONS: [&str; 2] = ["retentionSweep", "triggerRetentionSweep"];

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

/// The duplicate key: normalised content (rows whose hash migration 3 cleared still share
/// it), else the content hash.
pub(crate) const DUP_KEY: &str = "COALESCE(normalized_content, content_hash)";
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
