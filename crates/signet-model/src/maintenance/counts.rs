//! The counts every diagnostics domain is scored from (the scoring lives in signet-core), as
//! one snapshot taken in one read transaction.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

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
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
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

/// The history actions a finished retention sweep records (the worker's and the repair's).
pub const SWEEP_ACTIONS: [&str; 2] = ["retentionSweep", "triggerRetentionSweep"];
