//! [`TableStore`]: the model's tables row for row, in a backend-neutral form — what
//! `signet migrate` copies between backends, what its verification pass hashes, and what a
//! backup of a PostgreSQL workspace dumps into a SQLite file.
//!
//! The export shape ([`crate::ExportStore`]) carries memories, their history and their current
//! vectors, and its import deduplicates and may rename ids: right for moving memories into a
//! workspace that has some. A migration must carry everything the schema holds as it is —
//! entities, relations, documents, sessions, jobs, the LLM ledger, every embedding row — so it
//! reads and writes whole tables instead.
//!
//! Values are [`Cell`]s, SQLite's five storage classes: PostgreSQL's booleans read as
//! integers 0/1 (as the export shape renders them) and are written back as booleans; its
//! bigint/double/text/bytea columns map one to one. Timestamps are text on both backends
//! and copy byte for byte. Columns one backend keeps for itself (PostgreSQL's identity `seq`,
//! which is SQLite's rowid, its generated `tsv`) are not listed by [`TableStore::columns`] and
//! are rebuilt by the target: rows are read in insertion order (rowid, `seq`) so the target
//! assigns them in the same order.

use crate::error::Result;

/// The tables of the shared model in copy order (a table a foreign key points to comes
/// before the tables pointing to it). Both backends hold them; a backend may hold more
/// (SQLite keeps upstream's other tables), which [`TableStore::other_tables`] names.
pub const MODEL_TABLES: [&str; 19] = [
    "memories",
    "memory_history",
    "memory_jobs",
    "embeddings",
    "entities",
    "relations",
    "memory_entity_mentions",
    "entity_aspects",
    "entity_attributes",
    "memories_cold",
    "documents",
    "document_memories",
    "session_memories",
    "session_checkpoints",
    "summary_jobs",
    "session_summaries",
    "session_summary_children",
    "session_summary_memories",
    "llm_calls",
];

/// One value of a row.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

/// Whole tables, read and written row for row (see the module documentation).
///
/// Table names must be [`MODEL_TABLES`] (or, for counting, a name [`TableStore::other_tables`]
/// gave); column names must be ones [`TableStore::columns`] listed — anything else is
/// `Invalid`, so no caller's text reaches the SQL.
pub trait TableStore: Send + Sync {
    /// The copyable columns of `table` in the backend's order; `None` when it has no such
    /// table.
    fn columns(&self, table: &str) -> Result<Option<Vec<String>>>;

    /// Rows of `table`.
    fn count_rows(&self, table: &str) -> Result<u64>;

    /// Calls `each` with every row of `table` (the values of `columns`, in that order), in
    /// insertion order, inside one read transaction; returns the number of rows.
    fn read_rows(
        &self,
        table: &str,
        columns: &[String],
        each: &mut dyn FnMut(Vec<Cell>) -> Result<()>,
    ) -> Result<u64>;

    /// Inserts `rows` (values of `columns`) into `table` in one transaction, as they are
    /// (ids included); returns how many were written.
    fn insert_rows(&self, table: &str, columns: &[String], rows: Vec<Vec<Cell>>) -> Result<usize>;

    /// Deletes every row of the model's tables (`--force`), in one transaction.
    fn clear_tables(&self) -> Result<()>;

    /// After a copy: the backend's own bookkeeping (PostgreSQL moves its identity sequences
    /// past the copied ids).
    fn finish_copy(&self) -> Result<()>;

    /// Tables this backend holds besides the model's (and besides its own bookkeeping:
    /// migrations, search indexes), which a migration to the other backend cannot carry.
    fn other_tables(&self) -> Result<Vec<String>>;
}
