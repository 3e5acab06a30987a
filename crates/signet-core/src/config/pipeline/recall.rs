//! The recall subsections of `memory.pipelineV2`: the knowledge-graph boost (`graph`) and the
//! reranker (`reranker`). Each `parse(nested, flat)` reads the nested key first and the flat
//! alias second.

use serde::Serialize;

use super::{bool_alias, float_alias, int_alias};
use crate::config::ConfigError;
use crate::config::section::Section;

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
