//! What the retention sweep asks of a store, one batch at a time.

/// What one tombstone batch removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PurgedTombstones {
    /// Memories archived to `memories_cold` and hard-deleted.
    pub ids: Vec<String>,
    pub embeddings: usize,
    pub mentions: usize,
    /// Entities whose last mention went with these memories.
    pub entities: usize,
}

/// Tables pruned by age.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PruneStep {
    /// `memory_history` rows by `created_at`.
    History,
    /// Completed `memory_jobs` by `completed_at` (else `updated_at`).
    CompletedJobs,
    /// Dead `memory_jobs` by `failed_at` (else `updated_at`).
    DeadJobs,
    /// `predictor_training_pairs` by `created_at`.
    PredictorPairs,
}
