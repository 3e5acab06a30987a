//! What the server offers beyond core PostgreSQL: today, whether the `vector` extension
//! (pgvector) is there, and so which vector path a node uses.
//!
//! Vectors are always stored in `embeddings.vector` (`bytea`, SQLite's blob format) and
//! served by the daemon's in-process index, on every server. pgvector (an HNSW index in the
//! database, shared by every node instead of one index per node) is detected and reported,
//! but not used: its path (a `vector(dims)` column per model, kept in step with the blobs, an
//! HNSW index, the recall filters inside the query) has not been written, because it cannot
//! be run here (Debian's PostgreSQL 15 ships without the extension) and SQL that was never run
//! is not offered. The status says so (`storage.pgvector.reason`), so an operator with
//! pgvector sees that it is there and why it is idle.

use postgres::Client;
use signet_model::Result;

use crate::PgStore;
use crate::error::PgResultExt;

/// Where vector search runs, and what the server could offer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VectorCapability {
    /// The server can install `vector` (`pg_available_extensions`): its default version.
    pub available: Option<String>,
    /// The version installed in this database (`pg_extension`), if any.
    pub installed: Option<String>,
    /// Whether vector search runs in pgvector; `false`: the in-process index.
    pub used: bool,
    /// Why pgvector is not used.
    pub reason: String,
}

/// The one vector path this build serves (`/api/status` `storage.vectorIndex`).
pub const IN_PROCESS: &str = "in-process";

impl VectorCapability {
    /// The decision for a server offering `available` and having `installed`.
    pub fn decide(available: Option<String>, installed: Option<String>) -> Self {
        let reason = if available.is_none() && installed.is_none() {
            "the server does not offer the vector extension (pgvector); vectors are served by \
             the in-process index"
        } else {
            "this build does not implement the pgvector path yet; vectors are served by the \
             in-process index"
        };
        Self {
            available,
            installed,
            used: false,
            reason: reason.to_owned(),
        }
    }

    /// Asks the server (two catalog reads).
    pub fn detect(client: &mut Client) -> Result<Self> {
        let row = client
            .query_one(
                "SELECT (SELECT default_version FROM pg_available_extensions WHERE name = 'vector'),
                        (SELECT extversion FROM pg_extension WHERE extname = 'vector')",
                &[],
            )
            .pg()?;
        Ok(Self::decide(row.get(0), row.get(1)))
    }

    /// `vectorIndex` of the status: where vector search runs.
    pub fn vector_index(&self) -> &'static str {
        IN_PROCESS
    }
}

impl PgStore {
    /// The server's vector capability; the daemon asks once, right after opening.
    pub fn vector_capability(&self) -> Result<VectorCapability> {
        self.pool().with(VectorCapability::detect)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pgvector_is_reported_but_never_used() {
        let none = VectorCapability::decide(None, None);
        assert!(!none.used);
        assert!(none.reason.contains("does not offer"), "{}", none.reason);
        let offered = VectorCapability::decide(Some("0.7.4".into()), None);
        assert!(!offered.used);
        assert!(
            offered.reason.contains("not implement"),
            "{}",
            offered.reason
        );
        let installed = VectorCapability::decide(Some("0.7.4".into()), Some("0.7.0".into()));
        assert_eq!(installed.installed.as_deref(), Some("0.7.0"));
        assert!(!installed.used);
        assert_eq!(installed.vector_index(), IN_PROCESS);
    }
}
