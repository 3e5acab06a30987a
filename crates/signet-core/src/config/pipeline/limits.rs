//! The limits in `memory.pipelineV2`: content size guardrails (`guardrails`) and the
//! cooldowns and hourly budgets of repair actions (`repair`). Each `parse(nested, flat)` reads
//! the nested key first and the flat alias second.

use serde::Serialize;

use super::{float_alias, int_alias};
use crate::config::ConfigError;
use crate::config::section::Section;

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

/// The pipeline's cost ceiling (`budget.*`, ours): LLM use allowed in rolling windows, summed
/// from the call ledger. When a limit is reached the workers lease nothing until the window
/// moves on. Unset limits do not limit.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BudgetSettings {
    /// Input + output tokens in any 24 hours (`maxTokensPerDay`), [1, 10^12].
    pub max_tokens_per_day: Option<u64>,
    /// Calls in any hour (`maxCallsPerHour`), [1, 10^7].
    pub max_calls_per_hour: Option<u64>,
}

impl BudgetSettings {
    pub(crate) fn parse(n: &Section<'_>, _flat: &Section<'_>) -> Result<Self, ConfigError> {
        Ok(Self {
            max_tokens_per_day: n.int("maxTokensPerDay", 1..=1_000_000_000_000)?,
            max_calls_per_hour: n.int("maxCallsPerHour", 1..=10_000_000)?,
        })
    }

    /// Whether any limit is set.
    pub fn is_limited(&self) -> bool {
        self.max_tokens_per_day.is_some() || self.max_calls_per_hour.is_some()
    }
}
