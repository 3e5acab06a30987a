//! The slice of configuration the memory services read on every request.

/// Knobs of remember, mutation and recall, resolved from `agent.yaml` (see `config`).
#[derive(Debug, Clone, PartialEq)]
pub struct MemoryPolicy {
    /// `memory.pipelineV2.enabled`: new memories get an `extract` job and `pending` status.
    pub pipeline_enabled: bool,
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
}

/// The rehearsal boost: memories recalled often and recently score a little higher.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rehearsal {
    pub weight: f64,
    pub half_life_days: f64,
}

impl Default for MemoryPolicy {
    fn default() -> Self {
        Self {
            pipeline_enabled: true,
            mutations_frozen: false,
            max_content_chars: 500,
            chunk_target_chars: 300,
            recall_truncate_chars: 500,
            top_k: 20,
            min_score: 0.1,
            rehearsal: Some(Rehearsal { weight: 0.1, half_life_days: 30.0 }),
        }
    }
}
