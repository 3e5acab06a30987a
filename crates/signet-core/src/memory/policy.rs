//! The slice of configuration the memory services read on every request.

/// Knobs of remember, mutation and recall, resolved from `agent.yaml` (see `config`).
#[derive(Debug, Clone, PartialEq)]
pub struct MemoryPolicy {
    /// `memory.pipelineV2.enabled` as configured.
    pub pipeline_enabled: bool,
    /// Whether new memories get an `extract` job and `pending` status, and why not.
    pub extraction: Extraction,
    /// Attempts an `extract` job gets (`worker.maxRetries`, default 3).
    pub extraction_attempts: u32,
    /// `memory.pipelineV2.mutationsFrozen`: the kill switch for every mutation.
    pub mutations_frozen: bool,
    /// `guardrails.maxContentChars`: longer remembers are chunked.
    pub max_content_chars: usize,
    /// `guardrails.chunkTargetChars`: the size chunks aim for.
    pub chunk_target_chars: usize,
    /// `guardrails.recallTruncateChars`: recall cuts content to this many characters.
    pub recall_truncate_chars: usize,
    /// `search.top_k`: candidates taken from each recall leg.
    pub top_k: usize,
    /// `search.min_score`: results scoring below are dropped.
    pub min_score: f64,
    /// `search.rehearsal_enabled`, `rehearsal_weight`, `rehearsal_half_life_days`.
    pub rehearsal: Option<Rehearsal>,
    /// How keyword and vector scores combine (`search.alpha`, `search.fusion`).
    pub fusion: super::recall::Fusion,
    /// `pipelineV2.graph`: the boost of memories linked to the query's entities, when
    /// enabled with a weight above 0.
    pub graph_boost: Option<GraphBoost>,
}

/// The graph boost: a scored memory linked to an entity the query names gets
/// `score = (1 - weight) * score + weight`, looked up within `timeout`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GraphBoost {
    pub weight: f64,
    pub timeout: std::time::Duration,
}

/// The rehearsal boost: memories recalled often and recently score a little higher.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rehearsal {
    pub weight: f64,
    pub half_life_days: f64,
}

/// Whether remember queues extraction work. Work is queued only when something will do it:
/// a queue nobody drains only grows, ages and degrades the daemon's own health report.
#[derive(Debug, Clone, PartialEq)]
pub enum Extraction {
    /// New memories get an `extract` job.
    Enqueue,
    /// Nothing is queued; the reason is shown in `/api/status` and diagnostics.
    Off(String),
}

impl Extraction {
    /// What `memory.pipelineV2` asks for: jobs are queued while the pipeline is enabled with a
    /// provider (a provider that turns out unusable leaves them pending, and the pipeline
    /// status says why).
    pub fn from_settings(p: &crate::config::PipelineSettings) -> Self {
        if !p.enabled {
            Self::Off("memory.pipelineV2.enabled is false".into())
        } else if p.extraction.provider == crate::config::ExtractionProvider::None {
            Self::Off("memory.pipelineV2.extraction.provider is none".into())
        } else {
            Self::Enqueue
        }
    }

    /// Whether remember queues `extract` jobs.
    pub fn enqueues(&self) -> bool {
        matches!(self, Self::Enqueue)
    }

    /// Why nothing is queued (`None` when jobs are queued).
    pub fn off_reason(&self) -> Option<&str> {
        match self {
            Self::Enqueue => None,
            Self::Off(reason) => Some(reason),
        }
    }
}

impl Default for MemoryPolicy {
    fn default() -> Self {
        Self {
            pipeline_enabled: true,
            extraction: Extraction::Enqueue,
            extraction_attempts: 3,
            mutations_frozen: false,
            max_content_chars: 500,
            chunk_target_chars: 300,
            recall_truncate_chars: 500,
            top_k: 20,
            min_score: 0.1,
            rehearsal: Some(Rehearsal {
                weight: 0.1,
                half_life_days: 30.0,
            }),
            fusion: super::recall::Fusion::MinMax { vector_weight: 0.4 },
            graph_boost: Some(GraphBoost {
                weight: 0.15,
                timeout: std::time::Duration::from_millis(500),
            }),
        }
    }
}

impl From<&crate::config::Settings> for MemoryPolicy {
    fn from(s: &crate::config::Settings) -> Self {
        let p = &s.pipeline;
        let search = &s.search;
        Self {
            pipeline_enabled: p.enabled,
            extraction: Extraction::from_settings(p),
            extraction_attempts: p.worker.max_retries,
            mutations_frozen: p.mutations_frozen,
            max_content_chars: p.guardrails.max_content_chars,
            chunk_target_chars: p.guardrails.chunk_target_chars,
            recall_truncate_chars: p.guardrails.recall_truncate_chars,
            top_k: search.top_k,
            min_score: search.min_score,
            rehearsal: search.rehearsal_enabled.then_some(Rehearsal {
                weight: search.rehearsal_weight,
                half_life_days: search.rehearsal_half_life_days,
            }),
            fusion: super::recall::Fusion::from_settings(search),
            graph_boost: (p.graph.enabled && p.graph.boost_weight > 0.0).then_some(GraphBoost {
                weight: p.graph.boost_weight,
                timeout: std::time::Duration::from_millis(p.graph.boost_timeout_ms),
            }),
        }
    }
}
