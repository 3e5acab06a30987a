//! The query values of recall, search and batch forget, and what they return.

use crate::keyword::KeywordQuery;

/// Filters shared by recall, search and forget. Soft-deleted rows are always excluded. Every
/// set filter must hold (AND); a memory whose column is NULL fails any filter on that column.
#[derive(Debug, Clone, Default)]
pub struct RecallFilters {
    /// `type` equals it.
    pub memory_type: Option<String>,
    /// Each tag must appear in the tags column as a substring, ignoring ASCII case (upstream's
    /// `LIKE`: `dev` and `DEV` match `devops`), taken literally: `%`, `_` and `\` are no
    /// wildcards.
    pub tags: Vec<String>,
    /// `who` (the writing agent) equals it.
    pub who: Option<String>,
    /// Only pinned memories.
    pub pinned_only: bool,
    /// Inclusive lower bound on `importance`.
    pub importance_min: Option<f64>,
    /// Inclusive lower bound on `created_at` (string comparison of ISO timestamps).
    pub since: Option<String>,
    /// Inclusive upper bound on `created_at`.
    pub until: Option<String>,
    /// `project` equals it.
    pub project: Option<String>,
    /// `source_type` equals it.
    pub source_type: Option<String>,
    /// `memories.scope_user` must equal it: set only from a user-scoped token, never from
    /// request input.
    pub scope_user: Option<String>,
}

impl RecallFilters {
    /// True when no filter is set.
    pub fn is_empty(&self) -> bool {
        self.memory_type.is_none()
            && self.tags.is_empty()
            && self.who.is_none()
            && !self.pinned_only
            && self.importance_min.is_none()
            && self.since.is_none()
            && self.until.is_none()
            && self.project.is_none()
            && self.source_type.is_none()
            && self.scope_user.is_none()
    }
}

/// One keyword hit: the memory and its raw BM25 score (lower is better, negative): callers use
/// its magnitude, larger for a better match.
#[derive(Debug, Clone, PartialEq)]
pub struct KeywordHit {
    pub id: String,
    pub bm25: f64,
    /// Where the store keeps the row (SQLite's rowid), when it knows: passed back in a
    /// [`RowKey`], it lets [`crate::MemoryStore::recall_rows`] skip the lookup by id.
    pub position: Option<i64>,
}

/// A memory [`crate::MemoryStore::recall_rows`] should load: its id, and where the store last
/// saw its row ([`KeywordHit::position`]). The position is only a hint: a row found there
/// under another id is looked up by id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowKey {
    pub id: String,
    pub position: Option<i64>,
}

impl From<String> for RowKey {
    fn from(id: String) -> Self {
        Self { id, position: None }
    }
}

impl From<&str> for RowKey {
    fn from(id: &str) -> Self {
        id.to_owned().into()
    }
}

/// What batch forget may delete.
#[derive(Debug, Clone, Default)]
pub struct CandidateQuery {
    /// Explicit ids (they win over `keywords`); only the first `limit` are considered.
    pub ids: Vec<String>,
    pub keywords: Option<KeywordQuery>,
    pub filters: RecallFilters,
    pub limit: usize,
}

/// One batch-forget candidate.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ForgetCandidate {
    pub id: String,
    /// `1 / (1 + |bm25|)` for a keyword match, 0 otherwise.
    pub score: f64,
    pub pinned: bool,
    /// The version the caller should guard its forget with.
    pub version: i64,
}

/// The legacy `GET /memory/search`.
#[derive(Debug, Clone, Default)]
pub struct LegacyQuery {
    pub keywords: Option<KeywordQuery>,
    pub filters: RecallFilters,
    pub limit: usize,
}
