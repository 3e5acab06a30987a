//! The diagnostics report as typed values: one struct per domain, serialised with upstream's
//! metric names (camelCase). Advice and the composite read these fields, never JSON keys.

use serde::Serialize;

use crate::semantic::OutcomeCounts;

/// A domain's health by upstream's thresholds, or why it has none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Healthy,
    Degraded,
    Unhealthy,
    /// Not applicable here (no provider configured, no predictor); out of the composite.
    Disabled,
    /// Not measured (the provider, read offline); out of the composite.
    Unknown,
}

impl Status {
    /// `healthy` / `degraded` / `unhealthy` for a score (0.8 and 0.5 thresholds).
    pub fn of(score: f64) -> Self {
        if score >= 0.8 {
            Self::Healthy
        } else if score >= 0.5 {
            Self::Degraded
        } else {
            Self::Unhealthy
        }
    }

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

/// A scored domain's score (rounded to 3 decimals before the thresholds) and status.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Health {
    pub score: f64,
    pub status: Status,
}

impl Health {
    /// Clamps and rounds `score`, then applies the thresholds (rounded first: `1 - 0.3 - 0.2`
    /// is 0.4999… in floating point).
    pub fn scored(score: f64) -> Self {
        let score = super::round(score.clamp(0.0, 1.0));
        Self {
            score,
            status: Status::of(score),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QueueDomain {
    pub depth: i64,
    pub oldest_age_sec: i64,
    pub dead_rate: f64,
    pub lease_anomalies: i64,
    pub leased: i64,
    pub dead: i64,
    pub stale_leases: i64,
    pub dead_summary_jobs: i64,
    /// Whether anything processes extraction jobs (depth and age only count then).
    pub processing: bool,
    pub idle_reason: Option<String>,
    #[serde(flatten)]
    pub health: Health,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MemoryDomain {
    pub tombstones: i64,
    pub overdue_purges: i64,
    pub oldest_overdue_deleted_at: Option<String>,
    pub last_sweep_at: Option<String>,
    pub seconds_since_last_sweep: Option<i64>,
    pub orphaned_embeddings: i64,
    #[serde(flatten)]
    pub health: Health,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StorageDomain {
    pub total_memories: i64,
    pub deleted_tombstones: i64,
    pub tombstone_ratio: f64,
    pub expired_tombstones: i64,
    pub db_size_bytes: i64,
    pub free_bytes: i64,
    /// `PRAGMA quick_check`'s answer (`ok` when healthy).
    pub integrity: Option<String>,
    #[serde(flatten)]
    pub health: Health,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IndexDomain {
    pub memories_row_count: i64,
    pub fts_row_count: i64,
    pub fts_mismatch: bool,
    pub fts_missing: i64,
    pub fts_orphans: i64,
    pub embedding_coverage: f64,
    pub embeddings_expected: bool,
    pub unembedded: i64,
    pub tombstone_embeddings: i64,
    #[serde(flatten)]
    pub health: Health,
}

/// The embedding provider's domain: measured, not configured, or not measured (offline).
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum ProviderDomain {
    #[serde(rename_all = "camelCase")]
    Measured {
        #[serde(flatten)]
        counts: OutcomeCounts,
        availability_rate: f64,
        configured: bool,
        provider: String,
        model: String,
        available: bool,
        #[serde(flatten)]
        health: Health,
    },
    NotConfigured {
        configured: bool,
        reason: String,
        status: Status,
        /// Always 0 (an integer, as upstream writes it for a disabled domain).
        score: u8,
    },
    Offline {
        measured: bool,
        configured: Option<String>,
        note: &'static str,
        status: Status,
        score: Option<f64>,
    },
}

impl ProviderDomain {
    /// The domain's status.
    pub fn status(&self) -> Status {
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

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MutationDomain {
    pub recent_recovers: i64,
    pub recent_deletes: i64,
    #[serde(flatten)]
    pub health: Health,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DuplicateDomain {
    pub exact_duplicates: i64,
    pub exact_clusters: i64,
    pub total_active: i64,
    pub duplicate_ratio: f64,
    #[serde(flatten)]
    pub health: Health,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectorDomain {
    pub connector_count: i64,
    pub syncing_count: i64,
    pub error_count: i64,
    pub oldest_error_age: Option<i64>,
    #[serde(flatten)]
    pub health: Health,
}

/// Always disabled: this daemon has no predictor sidecar.
#[derive(Debug, Clone, Serialize)]
pub struct PredictorDomain {
    pub status: Status,
    pub score: u8,
    pub enabled: bool,
    pub reason: &'static str,
}

impl Default for PredictorDomain {
    fn default() -> Self {
        Self {
            status: Status::Disabled,
            score: 0,
            enabled: false,
            reason: "this daemon has no predictor sidecar",
        }
    }
}

/// The whole report, in upstream's order, with our top-level `score` / `status` (the
/// composite's, which the guide's monitoring commands read) and our `memory` domain.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub timestamp: String,
    pub score: f64,
    pub status: Status,
    pub composite: Health,
    pub queue: QueueDomain,
    pub memory: MemoryDomain,
    pub storage: StorageDomain,
    pub index: IndexDomain,
    pub provider: ProviderDomain,
    pub mutation: MutationDomain,
    pub duplicate: DuplicateDomain,
    pub connector: ConnectorDomain,
    pub predictor: PredictorDomain,
}

impl Report {
    /// One domain as JSON, by its name in [`super::DOMAINS`]; `None` for anything else.
    pub fn domain(&self, name: &str) -> Option<serde_json::Value> {
        let v = match name {
            "composite" => serde_json::to_value(self.composite),
            "queue" => serde_json::to_value(&self.queue),
            "memory" => serde_json::to_value(&self.memory),
            "storage" => serde_json::to_value(&self.storage),
            "index" => serde_json::to_value(&self.index),
            "provider" => serde_json::to_value(&self.provider),
            "mutation" => serde_json::to_value(&self.mutation),
            "duplicate" => serde_json::to_value(&self.duplicate),
            "connector" => serde_json::to_value(&self.connector),
            "predictor" => serde_json::to_value(&self.predictor),
            _ => return None,
        };
        v.ok()
    }

    /// Each scored domain's name, status and score (`None` when it was not scored), in
    /// report order (composite excluded).
    pub fn domains(&self) -> [(&'static str, Status, Option<f64>); 9] {
        let h = |h: &Health| (h.status, Some(h.score));
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
        ]
    }
}
