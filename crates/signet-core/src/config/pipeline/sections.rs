//! The typed subsections of `memory.pipelineV2`. Each `parse(nested, flat)` reads the nested
//! key first and the flat alias (directly under `pipelineV2`) second.

use serde::Serialize;

use super::{bool_alias, float_alias, int_alias};
use crate::config::ConfigError;
use crate::config::section::Section;

/// Extraction job worker (`worker.*`).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkerSettings {
    /// Queue poll interval in ms (`pollMs` / `workerPollMs`), [100,60000].
    pub poll_ms: u64,
    /// Attempts before a job is dead-lettered (`maxRetries` / `workerMaxRetries`), [1,10].
    pub max_retries: u32,
    /// A leased job is reclaimed after this many ms (`leaseTimeoutMs`), [10000,600000].
    pub lease_timeout_ms: u64,
}

impl Default for WorkerSettings {
    fn default() -> Self {
        Self {
            poll_ms: 2_000,
            max_retries: 3,
            lease_timeout_ms: 300_000,
        }
    }
}

impl WorkerSettings {
    pub(crate) fn parse(n: &Section<'_>, flat: &Section<'_>) -> Result<Self, ConfigError> {
        let d = Self::default();
        Ok(Self {
            poll_ms: int_alias(n, "pollMs", flat, "workerPollMs", 100..=60_000, d.poll_ms)?,
            max_retries: int_alias(
                n,
                "maxRetries",
                flat,
                "workerMaxRetries",
                1..=10,
                d.max_retries,
            )?,
            lease_timeout_ms: int_alias(
                n,
                "leaseTimeoutMs",
                flat,
                "leaseTimeoutMs",
                10_000..=600_000,
                d.lease_timeout_ms,
            )?,
        })
    }
}

/// Knowledge-graph boost during recall (`graph.*`).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GraphSettings {
    /// Whether recall consults the graph (`enabled` / `graphEnabled`).
    pub enabled: bool,
    /// Weight of the graph boost (`boostWeight` / `graphBoostWeight`), [0,1].
    pub boost_weight: f64,
    /// Time budget for the boost in ms (`boostTimeoutMs` / `graphBoostTimeoutMs`), [50,5000].
    pub boost_timeout_ms: u64,
}

impl Default for GraphSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            boost_weight: 0.15,
            boost_timeout_ms: 500,
        }
    }
}

impl GraphSettings {
    pub(crate) fn parse(n: &Section<'_>, flat: &Section<'_>) -> Result<Self, ConfigError> {
        let d = Self::default();
        Ok(Self {
            enabled: bool_alias(n, "enabled", flat, "graphEnabled", d.enabled)?,
            boost_weight: float_alias(
                n,
                "boostWeight",
                flat,
                "graphBoostWeight",
                0.0..=1.0,
                d.boost_weight,
            )?,
            boost_timeout_ms: int_alias(
                n,
                "boostTimeoutMs",
                flat,
                "graphBoostTimeoutMs",
                50..=5_000,
                d.boost_timeout_ms,
            )?,
        })
    }
}

/// Embedding reranker applied to recall results (`reranker.*`).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RerankerSettings {
    /// Whether results are reranked (`enabled` / `rerankerEnabled`).
    pub enabled: bool,
    /// Model name (`model` / `rerankerModel`); unused by the embedding reranker.
    pub model: String,
    /// How many top results are reranked (`topN` / `rerankerTopN`), [1,100].
    pub top_n: usize,
    /// Time budget in ms (`timeoutMs` / `rerankerTimeoutMs`), [100,30000].
    pub timeout_ms: u64,
}

impl Default for RerankerSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            model: String::new(),
            top_n: 20,
            timeout_ms: 2_000,
        }
    }
}

impl RerankerSettings {
    pub(crate) fn parse(n: &Section<'_>, flat: &Section<'_>) -> Result<Self, ConfigError> {
        let d = Self::default();
        let flat_model = flat.string("rerankerModel")?;
        Ok(Self {
            enabled: bool_alias(n, "enabled", flat, "rerankerEnabled", d.enabled)?,
            model: n.string("model")?.or(flat_model).unwrap_or(d.model),
            top_n: int_alias(n, "topN", flat, "rerankerTopN", 1..=100, d.top_n)?,
            timeout_ms: int_alias(
                n,
                "timeoutMs",
                flat,
                "rerankerTimeoutMs",
                100..=30_000,
                d.timeout_ms,
            )?,
        })
    }
}

/// Content size limits (`guardrails.*`; no flat aliases).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GuardrailSettings {
    /// Content longer than this is auto-chunked on remember (`maxContentChars`), [50,100000].
    pub max_content_chars: usize,
    /// Target size of each chunk (`chunkTargetChars`), [50,50000].
    pub chunk_target_chars: usize,
    /// Recall truncates each memory's content to this (`recallTruncateChars`), [50,100000].
    pub recall_truncate_chars: usize,
}

impl Default for GuardrailSettings {
    fn default() -> Self {
        Self {
            max_content_chars: 500,
            chunk_target_chars: 300,
            recall_truncate_chars: 500,
        }
    }
}

impl GuardrailSettings {
    pub(crate) fn parse(n: &Section<'_>, _flat: &Section<'_>) -> Result<Self, ConfigError> {
        let d = Self::default();
        Ok(Self {
            max_content_chars: n
                .int("maxContentChars", 50..=100_000)?
                .unwrap_or(d.max_content_chars),
            chunk_target_chars: n
                .int("chunkTargetChars", 50..=50_000)?
                .unwrap_or(d.chunk_target_chars),
            recall_truncate_chars: n
                .int("recallTruncateChars", 50..=100_000)?
                .unwrap_or(d.recall_truncate_chars),
        })
    }
}

/// Background re-embedding (`embeddingTracker.*`; no flat aliases).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EmbeddingTrackerSettings {
    /// Whether the tracker runs (`enabled`).
    pub enabled: bool,
    /// Poll interval in ms (`pollMs`), [1000,60000].
    pub poll_ms: u64,
    /// Memories embedded per tick (`batchSize`), [1,20].
    pub batch_size: usize,
}

impl Default for EmbeddingTrackerSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            poll_ms: 5_000,
            batch_size: 8,
        }
    }
}

impl EmbeddingTrackerSettings {
    pub(crate) fn parse(n: &Section<'_>, _flat: &Section<'_>) -> Result<Self, ConfigError> {
        let d = Self::default();
        Ok(Self {
            enabled: n.bool("enabled")?.unwrap_or(d.enabled),
            poll_ms: n.int("pollMs", 1_000..=60_000)?.unwrap_or(d.poll_ms),
            batch_size: n.int("batchSize", 1..=20)?.unwrap_or(d.batch_size),
        })
    }
}

/// Document ingestion (`documents.*`, flat `document*`).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DocumentSettings {
    /// Worker tick interval in ms (`workerIntervalMs` / `documentWorkerIntervalMs`), [1000,300000].
    pub worker_interval_ms: u64,
    /// Chunk size in chars (`chunkSize` / `documentChunkSize`), [200,50000].
    pub chunk_size: usize,
    /// Overlap between chunks (`chunkOverlap` / `documentChunkOverlap`), [0,10000].
    pub chunk_overlap: usize,
    /// Largest accepted document (`maxContentBytes` / `documentMaxContentBytes`), [1 KiB,100 MiB].
    pub max_content_bytes: u64,
}

impl Default for DocumentSettings {
    fn default() -> Self {
        Self {
            worker_interval_ms: 10_000,
            chunk_size: 2_000,
            chunk_overlap: 200,
            max_content_bytes: 10_485_760,
        }
    }
}

impl DocumentSettings {
    pub(crate) fn parse(n: &Section<'_>, flat: &Section<'_>) -> Result<Self, ConfigError> {
        let d = Self::default();
        Ok(Self {
            worker_interval_ms: int_alias(
                n,
                "workerIntervalMs",
                flat,
                "documentWorkerIntervalMs",
                1_000..=300_000,
                d.worker_interval_ms,
            )?,
            chunk_size: int_alias(
                n,
                "chunkSize",
                flat,
                "documentChunkSize",
                200..=50_000,
                d.chunk_size,
            )?,
            chunk_overlap: int_alias(
                n,
                "chunkOverlap",
                flat,
                "documentChunkOverlap",
                0..=10_000,
                d.chunk_overlap,
            )?,
            max_content_bytes: int_alias(
                n,
                "maxContentBytes",
                flat,
                "documentMaxContentBytes",
                1_024..=104_857_600,
                d.max_content_bytes,
            )?,
        })
    }
}

/// Cooldowns and hourly budgets of repair actions (`repair.*`, flat `repair*`).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RepairSettings {
    /// Minimum ms between re-embed runs, [10000,3600000].
    pub reembed_cooldown_ms: u64,
    /// Re-embed runs per hour, [1,1000].
    pub reembed_hourly_budget: u32,
    /// Minimum ms between dead-job requeues, [5000,3600000].
    pub requeue_cooldown_ms: u64,
    /// Requeues per hour, [1,1000].
    pub requeue_hourly_budget: u32,
    /// Minimum ms between dedup runs, [10000,3600000].
    pub dedup_cooldown_ms: u64,
    /// Dedup runs per hour, [1,100].
    pub dedup_hourly_budget: u32,
    /// Cosine similarity above which memories are duplicates, [0,1].
    pub dedup_semantic_threshold: f64,
    /// Memories examined per dedup run, [10,1000].
    pub dedup_batch_size: usize,
}

impl Default for RepairSettings {
    fn default() -> Self {
        Self {
            reembed_cooldown_ms: 300_000,
            reembed_hourly_budget: 10,
            requeue_cooldown_ms: 60_000,
            requeue_hourly_budget: 50,
            dedup_cooldown_ms: 600_000,
            dedup_hourly_budget: 3,
            dedup_semantic_threshold: 0.92,
            dedup_batch_size: 100,
        }
    }
}

impl RepairSettings {
    pub(crate) fn parse(n: &Section<'_>, f: &Section<'_>) -> Result<Self, ConfigError> {
        let d = Self::default();
        Ok(Self {
            reembed_cooldown_ms: int_alias(
                n,
                "reembedCooldownMs",
                f,
                "repairReembedCooldownMs",
                10_000..=3_600_000,
                d.reembed_cooldown_ms,
            )?,
            reembed_hourly_budget: int_alias(
                n,
                "reembedHourlyBudget",
                f,
                "repairReembedHourlyBudget",
                1..=1_000,
                d.reembed_hourly_budget,
            )?,
            requeue_cooldown_ms: int_alias(
                n,
                "requeueCooldownMs",
                f,
                "repairRequeueCooldownMs",
                5_000..=3_600_000,
                d.requeue_cooldown_ms,
            )?,
            requeue_hourly_budget: int_alias(
                n,
                "requeueHourlyBudget",
                f,
                "repairRequeueHourlyBudget",
                1..=1_000,
                d.requeue_hourly_budget,
            )?,
            dedup_cooldown_ms: int_alias(
                n,
                "dedupCooldownMs",
                f,
                "repairDedupCooldownMs",
                10_000..=3_600_000,
                d.dedup_cooldown_ms,
            )?,
            dedup_hourly_budget: int_alias(
                n,
                "dedupHourlyBudget",
                f,
                "repairDedupHourlyBudget",
                1..=100,
                d.dedup_hourly_budget,
            )?,
            dedup_semantic_threshold: float_alias(
                n,
                "dedupSemanticThreshold",
                f,
                "repairDedupSemanticThreshold",
                0.0..=1.0,
                d.dedup_semantic_threshold,
            )?,
            dedup_batch_size: int_alias(
                n,
                "dedupBatchSize",
                f,
                "repairDedupBatchSize",
                10..=1_000,
                d.dedup_batch_size,
            )?,
        })
    }
}
