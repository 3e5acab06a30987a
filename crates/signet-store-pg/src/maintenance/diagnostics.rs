//! The raw counts behind `GET /api/diagnostics`, in one repeatable-read transaction.

use chrono::Duration;
use postgres::GenericClient;
use signet_model::Result;
use signet_model::maintenance::{
    ConnectorCounts, DiagnosticsSnapshot, DuplicateCounts, IndexCounts, MutationCounts,
    QueueCounts, RetentionCounts, SWEEP_ACTIONS, SnapshotParams, StorageCounts,
};
use signet_model::time::format_iso;

use crate::error::PgResultExt;

/// The snapshot (the caller opened the transaction).
pub(crate) fn snapshot(
    c: &mut impl GenericClient,
    p: &SnapshotParams,
) -> Result<DiagnosticsSnapshot> {
    Ok(DiagnosticsSnapshot {
        queue: queue(c, p)?,
        storage: storage(c, p)?,
        index: index(c)?,
        mutation: mutation(c, p)?,
        duplicate: duplicate(c)?,
        // No connectors table on PostgreSQL (upstream's connectors are not part of its model).
        connector: ConnectorCounts::default(),
        retention: retention(c, p)?,
    })
}

fn ago(p: &SnapshotParams, d: Duration) -> String {
    format_iso(p.now - d)
}

/// A stored time as a timestamp, for comparisons that must not depend on its format.
fn ts(col: &str) -> String {
    format!("{col}::timestamptz")
}

fn queue(c: &mut impl GenericClient, p: &SnapshotParams) -> Result<QueueCounts> {
    let hour = ago(p, Duration::hours(1));
    let ten_min = ago(p, Duration::minutes(10));
    let lease_ms = i64::try_from(p.lease_timeout_ms).unwrap_or(i64::MAX);
    let lease_cut = ago(p, Duration::milliseconds(lease_ms));
    let sql = format!(
        "SELECT count(*) FILTER (WHERE status = 'pending'), \
           MIN(CASE WHEN status = 'pending' THEN created_at END), \
           count(*) FILTER (WHERE status = 'leased'), \
           count(*) FILTER (WHERE status = 'dead'), \
           count(*) FILTER (WHERE status = 'completed' AND {u} >= $1::text::timestamptz), \
           count(*) FILTER (WHERE status = 'dead' AND {u} >= $1::text::timestamptz), \
           count(*) FILTER (WHERE status = 'leased' AND {c} < $2::text::timestamptz), \
           count(*) FILTER (WHERE status = 'leased' AND (leased_at IS NULL \
             OR {l} < $3::text::timestamptz)), \
           (SELECT count(*) FROM summary_jobs WHERE status = 'dead') \
         FROM memory_jobs",
        u = ts("updated_at"),
        c = ts("created_at"),
        l = ts("leased_at"),
    );
    let r = c.query_one(&sql, &[&hour, &ten_min, &lease_cut]).pg()?;
    Ok(QueueCounts {
        pending: r.get(0),
        oldest_pending_at: r.get(1),
        leased: r.get(2),
        dead: r.get(3),
        completed_last_hour: r.get(4),
        dead_last_hour: r.get(5),
        lease_anomalies: r.get(6),
        stale_leases: r.get(7),
        dead_summary_jobs: r.get(8),
    })
}

/// The size of the schema's tables (with their indexes and TOAST) as SQLite's page counts, in
/// the server's blocks; no free list (PostgreSQL reuses dead space itself, vacuum permitting).
/// The integrity answer is the store's own check ([`crate::store::integrity_problems`]).
fn storage(c: &mut impl GenericClient, p: &SnapshotParams) -> Result<StorageCounts> {
    let month = ago(p, Duration::days(30));
    let sql = format!(
        "SELECT count(*), count(*) FILTER (WHERE is_deleted IS TRUE), \
           count(*) FILTER (WHERE is_deleted IS TRUE AND deleted_at IS NOT NULL \
             AND {d} < $1::text::timestamptz), \
           (SELECT COALESCE(SUM(pg_total_relation_size(t.oid)), 0)::bigint \
              / current_setting('block_size')::bigint FROM pg_class t \
              WHERE t.relnamespace = current_schema()::regnamespace AND t.relkind = 'r'), \
           current_setting('block_size')::bigint \
         FROM memories",
        d = ts("deleted_at"),
    );
    let r = c.query_one(&sql, &[&month]).pg()?;
    let integrity = match p.integrity {
        false => None,
        true => {
            let problems = crate::store::integrity_problems(c)?;
            Some(match problems.is_empty() {
                true => "ok".to_owned(),
                false => problems.join("; "),
            })
        }
    };
    Ok(StorageCounts {
        total: r.get(0),
        tombstones: r.get(1),
        expired_tombstones: r.get(2),
        page_count: r.get(3),
        page_size: r.get(4),
        freelist_count: 0,
        integrity,
    })
}

fn index(c: &mut impl GenericClient) -> Result<IndexCounts> {
    let r = c
        .query_one(
            "SELECT count(*), count(*) FILTER (WHERE embedding_model IS NOT NULL), \
               count(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM embeddings e \
                 WHERE e.source_type = 'memory' AND e.source_id = m.id)), \
               (SELECT count(*) FROM embeddings e WHERE e.source_type = 'memory' AND NOT EXISTS \
                 (SELECT 1 FROM memories x WHERE x.id = e.source_id AND x.is_deleted = false)), \
               (SELECT count(*) FROM memories WHERE tsv IS NOT NULL) \
             FROM memories m WHERE m.is_deleted = false",
            &[],
        )
        .pg()?;
    Ok(IndexCounts {
        live: r.get(0),
        // The generated column is the index: present, one entry per row, never missing.
        fts_present: true,
        fts_rows: r.get(4),
        fts_missing: 0,
        fts_orphans: 0,
        with_embedding_model: r.get(1),
        without_embedding: r.get(2),
        tombstone_embeddings: r.get(3),
    })
}

fn mutation(c: &mut impl GenericClient, p: &SnapshotParams) -> Result<MutationCounts> {
    let week = ago(p, Duration::days(7));
    let sql = format!(
        "SELECT count(*) FILTER (WHERE event = 'recovered'), \
           count(*) FILTER (WHERE event = 'deleted') \
         FROM memory_history WHERE {} >= $1::text::timestamptz",
        ts("created_at")
    );
    let r = c.query_one(&sql, &[&week]).pg()?;
    Ok(MutationCounts {
        recent_recovers: r.get(0),
        recent_deletes: r.get(1),
    })
}

fn retention(c: &mut impl GenericClient, p: &SnapshotParams) -> Result<RetentionCounts> {
    let cut = ago(p, Duration::milliseconds(p.tombstone_overdue_ms));
    let overdue = format!(
        "is_deleted IS TRUE AND deleted_at IS NOT NULL AND {} < $1::text::timestamptz",
        ts("deleted_at")
    );
    let sql = format!(
        "SELECT count(*) FILTER (WHERE is_deleted IS TRUE), count(*) FILTER (WHERE {overdue}), \
           MIN(CASE WHEN {overdue} THEN deleted_at END) FROM memories"
    );
    let r = c.query_one(&sql, &[&cut]).pg()?;
    let last_sweep_at: Option<String> = c
        .query_one(
            "SELECT MAX(created_at) FROM memory_history WHERE memory_id = 'system' \
               AND (CASE WHEN memory_id = 'system' AND metadata LIKE '{%' \
                 THEN metadata::jsonb ->> 'repairAction' END) IN ($1, $2)",
            &[&SWEEP_ACTIONS[0], &SWEEP_ACTIONS[1]],
        )
        .pg()?
        .get(0);
    let orphaned: i64 = c
        .query_one(
            "SELECT count(*) FROM embeddings e WHERE e.source_type = 'memory' AND NOT EXISTS \
               (SELECT 1 FROM memories m WHERE m.id = e.source_id)",
            &[],
        )
        .pg()?
        .get(0);
    Ok(RetentionCounts {
        tombstones: r.get(0),
        overdue_tombstones: r.get(1),
        oldest_overdue_deleted_at: r.get(2),
        last_sweep_at,
        orphaned_embeddings: orphaned,
    })
}

/// The duplicate key: normalised content; a NULL there is text equal to `content` (the SQLite
/// backend stores it only when it differs, and a migrated row keeps that).
pub(crate) const DUP_KEY: &str = "COALESCE(normalized_content, content)";
/// Rows dedup may touch.
pub(crate) const DUP_FILTER: &str = "is_deleted = false AND COALESCE(pinned, false) = false \
    AND COALESCE(manual_override, false) = false";

fn duplicate(c: &mut impl GenericClient) -> Result<DuplicateCounts> {
    let sql = format!(
        "SELECT count(*), COALESCE(SUM(n - 1), 0)::bigint, \
           (SELECT count(*) FROM memories WHERE is_deleted = false) FROM \
           (SELECT count(*) AS n FROM memories WHERE {DUP_FILTER} AND {DUP_KEY} IS NOT NULL \
            GROUP BY {DUP_KEY} HAVING count(*) > 1) d"
    );
    let r = c.query_one(&sql, &[]).pg()?;
    Ok(DuplicateCounts {
        exact_clusters: r.get(0),
        exact_excess: r.get(1),
        total_active: r.get(2),
    })
}
