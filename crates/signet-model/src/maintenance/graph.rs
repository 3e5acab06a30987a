//! What the graph and archive repairs exchange with a store: which entities a prune selects and
//! what it removed, and the cold archive's counts.

/// Which entities an entity prune selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntityPrune {
    /// `entity_type = 'chunk_group'`: the bookkeeping entity of a long remember's chunks, which
    /// recall never matches.
    ChunkGroups,
    /// Entities that are not chunk groups and not pinned, with at most `max_mentions` mentions
    /// (a missing count is 0), no aspect, and no attribute: neither one under an aspect of
    /// theirs nor a stub (no aspect) on a memory that mentions them.
    Singletons { max_mentions: i64 },
}

/// What an entity prune removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PrunedEntities {
    pub entities: usize,
    /// `memory_entity_mentions` rows naming a removed entity.
    pub mentions: usize,
    /// `relations` rows with a removed entity at either end.
    pub relations: usize,
}

/// The cold archive (`memories_cold`): the copies of memories that retention purged or the
/// pipeline superseded or deleted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ColdCounts {
    pub count: i64,
    /// The first and last `archived_at` (`None` when the archive is empty).
    pub oldest: Option<String>,
    pub newest: Option<String>,
    /// UTF-8 bytes of every row's `content` plus its `original_row_json` (the whole archived
    /// row, which repeats the content: this is what the archive holds, not what it would
    /// restore).
    pub total_bytes: i64,
    /// Rows per `archived_reason` (`unknown` when it is unset), sorted by reason.
    pub by_reason: Vec<(String, i64)>,
}
