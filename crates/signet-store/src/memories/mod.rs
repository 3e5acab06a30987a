//! The memory repository: rows of `memories`, their `memory_history`, and the keyword index.
//!
//! The types are signet-model's (plain data shared with `signet-core` and every backend),
//! re-exported here at their old paths. Every mutation runs in one write transaction together
//! with its history row, so a crash can never leave a change without its audit trail (or the
//! reverse).

pub(crate) mod cjk;
pub(crate) mod embeddings;
pub(crate) mod feedback;
pub(crate) mod mutate;
pub(crate) mod ops;
pub(crate) mod read;
pub(crate) mod search;
pub(crate) mod sessions;
pub(crate) mod write;

pub use signet_model::memories::{
    Actor, CandidateQuery, Change, ChunkGroup, DedupHit, EmbeddingJob, EmbeddingRow,
    EmbeddingStats, ForgetCandidate, HistoryEvent, KeywordHit, LegacyQuery, ListedMemoryItem,
    MemoryListStats, MemoryPatch, MemoryScope, Mutation, MutationOutcome, MutationSignals,
    NewMemory, OpsCounts, OutcomeKind, RECOVER_WINDOW_MS, RecallFilters, RecallRow,
    RememberOutcome, RowKey, ScopeFilter, StoredVector, WriteOptions,
};
