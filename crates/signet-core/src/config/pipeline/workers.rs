//! The workers' subsections of `memory.pipelineV2`: the extraction job worker (`worker`), the
//! embedding tracker (`embeddingTracker`) and document ingestion (`documents`). Each
//! `parse(nested, flat)` reads the nested key first and the flat alias (directly under
//! `pipelineV2`) second.

use serde::Serialize;

use super::{bool_alias, int_alias};
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
    /// Let `url` documents reach loopback, private, link-local and other non-public
    /// addresses (`allowPrivateUrls` / `documentAllowPrivateUrls`, default false: the SSRF
    /// guard refuses them). Ours; upstream has no guard.
    pub allow_private_urls: bool,
}

impl Default for DocumentSettings {
    fn default() -> Self {
        Self {
            worker_interval_ms: 10_000,
            chunk_size: 2_000,
            chunk_overlap: 200,
            max_content_bytes: 10_485_760,
            allow_private_urls: false,
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
            allow_private_urls: bool_alias(
                n,
                "allowPrivateUrls",
                flat,
                "documentAllowPrivateUrls",
                d.allow_private_urls,
            )?,
        })
    }
}
