//! The diagnostics report (`GET /api/diagnostics`) and its domains
//! (`GET /api/diagnostics/{domain}`): one struct per domain, with upstream's metric names
//! (camelCase), in upstream's order. The daemon's core scores them; `signet doctor` prints
//! them; advice and the composite read these fields, never JSON keys.

use serde::{Deserialize, Serialize};

use crate::Extra;

/// A domain's health by upstream's thresholds, or why it has none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum DomainStatus {
    Healthy,
    Degraded,
    Unhealthy,
    /// Not applicable here (no provider configured, no predictor); out of the composite.
    Disabled,
    /// Not measured (the provider, read offline); out of the composite.
    Unknown,
}

impl DomainStatus {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Healthy => "healthy",
            Self::Degraded => "degraded",
            Self::Unhealthy => "unhealthy",
            Self::Disabled => "disabled",
            Self::Unknown => "unknown",
        }
    }

    /// Whether the domain needs attention (advice is given).
    pub fn needs_attention(self) -> bool {
        matches!(self, Self::Degraded | Self::Unhealthy)
    }
}

/// A scored domain's score (0 to 1, three decimals) and status; the composite's shape.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DomainHealth {
    pub score: f64,
    pub status: DomainStatus,
}

/// The extraction queue.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct QueueDomain {
    /// Pending extraction jobs.
    pub depth: i64,
    pub oldest_age_sec: i64,
    /// Dead jobs over finished jobs in the last hour.
    pub dead_rate: f64,
    pub lease_anomalies: i64,
    pub leased: i64,
    pub dead: i64,
    /// Leases older than the lease timeout.
    pub stale_leases: i64,
    pub dead_summary_jobs: i64,
    /// Whether anything processes extraction jobs (depth and age only count then).
    pub processing: bool,
    /// Why nothing processes them, when nothing does.
    pub idle_reason: Option<String>,
    #[serde(flatten)]
    pub health: DomainHealth,
    #[serde(flatten)]
    #[schema(ignore)]
    pub extra: Extra,
}

/// Retention: tombstones, purges and sweeps (ours; the guide's monitoring reads it).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MemoryDomain {
    pub tombstones: i64,
    /// Tombstones past the recovery window and the grace period, not yet purged.
    pub overdue_purges: i64,
    pub oldest_overdue_deleted_at: Option<String>,
    pub last_sweep_at: Option<String>,
    pub seconds_since_last_sweep: Option<i64>,
    /// Vectors whose memory row no longer exists.
    pub orphaned_embeddings: i64,
    #[serde(flatten)]
    pub health: DomainHealth,
    #[serde(flatten)]
    #[schema(ignore)]
    pub extra: Extra,
}

/// The database file.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StorageDomain {
    pub total_memories: i64,
    pub deleted_tombstones: i64,
    pub tombstone_ratio: f64,
    pub expired_tombstones: i64,
    pub db_size_bytes: i64,
    pub free_bytes: i64,
    /// The integrity check's answer (`ok` when healthy).
    pub integrity: Option<String>,
    #[serde(flatten)]
    pub health: DomainHealth,
    #[serde(flatten)]
    #[schema(ignore)]
    pub extra: Extra,
}

/// The keyword index and vector coverage.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct IndexDomain {
    pub memories_row_count: i64,
    pub fts_row_count: i64,
    pub fts_mismatch: bool,
    pub fts_missing: i64,
    pub fts_orphans: i64,
    pub embedding_coverage: f64,
    /// Whether a provider is configured (coverage only counts then).
    pub embeddings_expected: bool,
    pub unembedded: i64,
    pub tombstone_embeddings: i64,
    #[serde(flatten)]
    pub health: DomainHealth,
    #[serde(flatten)]
    #[schema(ignore)]
    pub extra: Extra,
}

/// Counts over the embedding provider's recent outcomes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProviderOutcomes {
    pub recent_total: usize,
    pub recent_successes: usize,
    pub recent_failures: usize,
    pub recent_timeouts: usize,
}

impl ProviderOutcomes {
    /// Successes over all outcomes; 1 when nothing was recorded.
    pub fn availability(&self) -> f64 {
        if self.recent_total == 0 {
            1.0
        } else {
            self.recent_successes as f64 / self.recent_total as f64
        }
    }
}

/// The embedding provider's domain: measured, not configured, or not measured (offline).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum ProviderDomain {
    /// Outcomes recorded by the running daemon.
    #[serde(rename_all = "camelCase")]
    Measured {
        #[serde(flatten)]
        counts: ProviderOutcomes,
        availability_rate: f64,
        configured: bool,
        provider: String,
        model: String,
        available: bool,
        #[serde(flatten)]
        health: DomainHealth,
    },
    /// No provider is configured (keyword-only recall): disabled, out of the composite.
    NotConfigured {
        configured: bool,
        reason: String,
        status: DomainStatus,
        /// Always 0 (an integer, as upstream writes it for a disabled domain).
        score: u8,
    },
    /// Read offline (`signet doctor`): nothing measured the provider.
    Offline {
        measured: bool,
        configured: Option<String>,
        note: String,
        status: DomainStatus,
        score: Option<f64>,
    },
}

impl ProviderDomain {
    /// The domain's status.
    pub fn status(&self) -> DomainStatus {
        match self {
            Self::Measured { health, .. } => health.status,
            Self::NotConfigured { status, .. } | Self::Offline { status, .. } => *status,
        }
    }

    /// The score, when the domain was scored.
    pub fn score(&self) -> Option<f64> {
        match self {
            Self::Measured { health, .. } => Some(health.score),
            Self::NotConfigured { .. } | Self::Offline { .. } => None,
        }
    }
}

/// Recent deletes and recovers.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MutationDomain {
    pub recent_recovers: i64,
    pub recent_deletes: i64,
    #[serde(flatten)]
    pub health: DomainHealth,
    #[serde(flatten)]
    #[schema(ignore)]
    pub extra: Extra,
}

/// Exact duplicates among live memories.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DuplicateDomain {
    /// Live memories beyond the first of each identical group.
    pub exact_duplicates: i64,
    pub exact_clusters: i64,
    pub total_active: i64,
    pub duplicate_ratio: f64,
    #[serde(flatten)]
    pub health: DomainHealth,
    #[serde(flatten)]
    #[schema(ignore)]
    pub extra: Extra,
}

/// Connectors (upstream's; none run here, the table is read as found).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConnectorDomain {
    pub connector_count: i64,
    pub syncing_count: i64,
    pub error_count: i64,
    /// Milliseconds since the oldest connector error.
    pub oldest_error_age: Option<i64>,
    #[serde(flatten)]
    pub health: DomainHealth,
    #[serde(flatten)]
    #[schema(ignore)]
    pub extra: Extra,
}

/// The predictor sidecar's domain: always disabled here.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PredictorDomain {
    pub status: DomainStatus,
    /// Always 0.
    pub score: u8,
    pub enabled: bool,
    pub reason: String,
    #[serde(flatten)]
    #[schema(ignore)]
    pub extra: Extra,
}

/// Scheduled backups (ours): the schedule, the backup folder and the age of its last good
/// backup (a folder with a `manifest.json`). `disabled` with no schedule (the counts are still
/// shown), `degraded` when the last good backup is older than twice the interval or the last
/// run failed. Not part of the composite; advice names what to fix.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BackupDomain {
    /// `backup.schedule`: `off`, or the interval in its largest unit (`1h`, `6h`, `1d`).
    pub schedule: String,
    pub interval_seconds: Option<u64>,
    /// The backup folder (`backup.dir`, default `$WORKSPACE/.daemon/backups`).
    pub dir: String,
    /// Folders kept (`backup.keep`).
    pub keep: u32,
    /// Backup folders in `dir`, finished or not.
    pub count: usize,
    /// When the last good backup was taken (ISO-8601 UTC).
    pub last_backup_at: Option<String>,
    /// Its folder.
    pub last_backup: Option<String>,
    /// Seconds since `lastBackupAt`.
    pub age_seconds: Option<i64>,
    /// When the daemon last tried a scheduled backup.
    pub last_attempt_at: Option<String>,
    /// Why the last attempt failed (cleared by a success).
    pub last_error: Option<String>,
    pub note: Option<String>,
    pub status: DomainStatus,
    /// 1 when healthy, 0.5 when degraded; `null` when disabled.
    pub score: Option<f64>,
    #[serde(flatten)]
    #[schema(ignore)]
    pub extra: Extra,
}

/// Answer of `GET /api/diagnostics`: the whole report, in upstream's order, with our
/// top-level `score` / `status` (the composite's, which the guide's monitoring commands read),
/// our `memory` domain and our `advice`. `update` (no auto-updater here) is omitted.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DiagnosticsReport {
    /// When the report was made (ISO-8601 UTC; reports are cached for 2 s).
    pub timestamp: String,
    pub score: f64,
    pub status: DomainStatus,
    /// The weighted mean of the scored domains.
    pub composite: DomainHealth,
    pub queue: QueueDomain,
    pub memory: MemoryDomain,
    pub storage: StorageDomain,
    pub index: IndexDomain,
    pub provider: ProviderDomain,
    pub mutation: MutationDomain,
    pub duplicate: DuplicateDomain,
    pub connector: ConnectorDomain,
    pub predictor: PredictorDomain,
    /// Ours: scheduled backups (not in the composite).
    pub backup: BackupDomain,
    /// Ours: what to do about each `degraded` or `unhealthy` domain, in report order (the
    /// texts `signet doctor` prints; empty when every domain is healthy).
    #[serde(default)]
    pub advice: Vec<DomainAdvice>,
    #[serde(flatten)]
    #[schema(ignore)]
    pub extra: Extra,
}

/// What to do about one domain that needs attention.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DomainAdvice {
    /// The domain's name (`queue`, `memory`, `storage`, ...).
    pub domain: String,
    /// One sentence each, naming the route or command that helps.
    pub actions: Vec<String>,
}

impl DiagnosticsReport {
    /// Each scored domain's name, status and score (`None` when it was not scored), in
    /// report order (composite excluded).
    pub fn domains(&self) -> [(&'static str, DomainStatus, Option<f64>); 10] {
        let h = |h: &DomainHealth| (h.status, Some(h.score));
        let entry = |name, (status, score)| (name, status, score);
        [
            entry("queue", h(&self.queue.health)),
            entry("memory", h(&self.memory.health)),
            entry("storage", h(&self.storage.health)),
            entry("index", h(&self.index.health)),
            entry("provider", (self.provider.status(), self.provider.score())),
            entry("mutation", h(&self.mutation.health)),
            entry("duplicate", h(&self.duplicate.health)),
            entry("connector", h(&self.connector.health)),
            entry("predictor", (self.predictor.status, None)),
            entry("backup", (self.backup.status, self.backup.score)),
        ]
    }

    /// One domain by its name (`composite`, `queue`, ... `predictor`); `None` for anything
    /// else (`timestamp`, `score` and `status` are no domains).
    pub fn domain(&self, name: &str) -> Option<DiagnosticsDomain> {
        Some(match name {
            "composite" => DiagnosticsDomain::Composite(self.composite),
            "queue" => DiagnosticsDomain::Queue(self.queue.clone()),
            "memory" => DiagnosticsDomain::Memory(self.memory.clone()),
            "storage" => DiagnosticsDomain::Storage(self.storage.clone()),
            "index" => DiagnosticsDomain::Index(self.index.clone()),
            "provider" => DiagnosticsDomain::Provider(self.provider.clone()),
            "mutation" => DiagnosticsDomain::Mutation(self.mutation.clone()),
            "duplicate" => DiagnosticsDomain::Duplicate(self.duplicate.clone()),
            "connector" => DiagnosticsDomain::Connector(self.connector.clone()),
            "predictor" => DiagnosticsDomain::Predictor(self.predictor.clone()),
            "backup" => DiagnosticsDomain::Backup(self.backup.clone()),
            _ => return None,
        })
    }
}

/// Answer of `GET /api/diagnostics/{domain}`: one domain of the report. Decoding tries the
/// shapes in this order; each has fields the others lack, and the composite (score and
/// status only) comes last.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum DiagnosticsDomain {
    Queue(QueueDomain),
    Memory(MemoryDomain),
    Storage(StorageDomain),
    Index(IndexDomain),
    Provider(ProviderDomain),
    Mutation(MutationDomain),
    Duplicate(DuplicateDomain),
    Connector(ConnectorDomain),
    Predictor(PredictorDomain),
    Backup(BackupDomain),
    Composite(DomainHealth),
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Each provider shape decodes as itself (the untagged variants have distinct fields), and
    /// a domain decodes as its own shape, the composite's last.
    #[test]
    fn untagged_shapes_decode_as_themselves() {
        let shapes = [
            json!({"configured": false, "reason": "none", "status": "disabled", "score": 0}),
            json!({"measured": false, "configured": "ollama", "note": "n", "status": "unknown",
                "score": null}),
            json!({"recentTotal": 2, "recentSuccesses": 1, "recentFailures": 1,
                "recentTimeouts": 0, "availabilityRate": 0.5, "configured": true,
                "provider": "ollama", "model": "m", "available": true, "score": 0.5,
                "status": "degraded"}),
        ];
        for shape in shapes {
            let p: ProviderDomain = serde_json::from_value(shape.clone()).unwrap();
            assert_eq!(serde_json::to_value(&p).unwrap(), shape);
            let d: DiagnosticsDomain = serde_json::from_value(shape.clone()).unwrap();
            assert!(matches!(d, DiagnosticsDomain::Provider(_)), "{shape}");
        }
        let mutation = json!({"recentRecovers": 1, "recentDeletes": 2, "score": 1.0,
            "status": "healthy"});
        let d: DiagnosticsDomain = serde_json::from_value(mutation.clone()).unwrap();
        assert!(matches!(d, DiagnosticsDomain::Mutation(_)));
        assert_eq!(serde_json::to_value(&d).unwrap(), mutation);
        let backup = json!({"schedule": "1h", "intervalSeconds": 3600, "dir": "/b", "keep": 7,
            "count": 1, "lastBackupAt": "2026-01-01T00:00:00.000Z", "lastBackup": "/b/x",
            "ageSeconds": 5, "lastAttemptAt": null, "lastError": null, "note": null,
            "status": "healthy", "score": 1.0});
        let d: DiagnosticsDomain = serde_json::from_value(backup.clone()).unwrap();
        assert!(matches!(d, DiagnosticsDomain::Backup(_)));
        assert_eq!(serde_json::to_value(&d).unwrap(), backup);
        let composite: DiagnosticsDomain =
            serde_json::from_value(json!({"score": 1.0, "status": "healthy"})).unwrap();
        assert!(matches!(composite, DiagnosticsDomain::Composite(_)));
    }
}
