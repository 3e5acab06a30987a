//! [`ExportStore`]: the raw rows `signet export` writes and `signet import` reads back.
//!
//! An export is lossless: a memory is every column of its row as a JSON object of raw values
//! (see [`JsonRow`]), its history rows likewise, and its current vector as stored. A backend
//! maps its own columns to and from those objects; keys a backend does not know are ignored
//! on import, so a file from a newer schema still imports.

use crate::error::Result;
use crate::store::JsonRow;

/// One page of an export: memories in a stable order, each with its history and vector.
#[derive(Debug, Clone, Default)]
pub struct ExportPage {
    /// The memories of the page, in export order.
    pub items: Vec<ExportItem>,
    /// Where the next page starts (`None`: this was the last page).
    pub next: Option<i64>,
}

/// One memory of an export.
#[derive(Debug, Clone)]
pub struct ExportItem {
    /// Every column of the `memories` row.
    pub memory: JsonRow,
    /// Its `memory_history` rows, oldest first.
    pub history: Vec<JsonRow>,
    /// Its current vector (for its current content), when asked for and present.
    pub vector: Option<StoredEmbedding>,
}

/// A memory's vector as stored, tagged with what made it.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEmbedding {
    /// The model the memory's row names (`embedding_model`).
    pub model: String,
    /// The vector's width.
    pub dimensions: usize,
    /// The content hash the vector was made for (the memory's current one).
    pub content_hash: String,
    /// Little-endian f32s.
    pub blob: Vec<u8>,
}

/// One memory to import, with what belongs to it.
#[derive(Debug, Clone, Default)]
pub struct ImportItem {
    /// The memory's row as exported; `None` when only history or a vector arrive for a memory
    /// an earlier batch of the same import inserted (`target` then names it).
    pub memory: Option<JsonRow>,
    /// The id an earlier batch gave the memory (with `memory == None`).
    pub target: Option<String>,
    /// Its history rows; written only when the memory is inserted by this import.
    pub history: Vec<JsonRow>,
    /// A vector already checked against the target's model and dimensions.
    pub vector: Option<StoredEmbedding>,
}

/// What became of one [`ImportItem`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImportOutcome {
    /// Written under `id` (the exported id when it was free, else a new one).
    Inserted { id: String },
    /// The store already holds it as `id` (same source, or same content; see
    /// [`ExportStore::import_batch`]); nothing of the memory was written.
    Duplicate { id: String },
    /// History or a vector for a memory inserted earlier in the same import, now `id`.
    Attached { id: String },
    /// The row could not be stored (a constraint refused it); `reason` says why.
    Skipped { reason: String },
}

/// The result of one imported item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedItem {
    pub outcome: ImportOutcome,
    /// History rows written.
    pub history: usize,
    /// Whether the vector was stored.
    pub vector_saved: bool,
}

/// Reading and writing whole rows for export and import.
pub trait ExportStore: Send + Sync + 'static {
    /// Up to `limit` memories after the cursor `after` (`0`: from the start) in a stable
    /// order (insertion order), deleted ones only with `include_deleted`, each with its
    /// history rows and (with `with_vectors`, live memories only) its current vector: one
    /// stored for its current content hash by the model its row names. Each page is one read
    /// transaction.
    fn export_page(
        &self,
        after: i64,
        limit: usize,
        include_deleted: bool,
        with_vectors: bool,
    ) -> Result<ExportPage>;

    /// Imports the items in one transaction (`dry_run`: rolled back), in order. A memory is
    /// a duplicate when the store holds a row with the same id and content hash, or one in
    /// the same state (live or deleted) with the same `(source_type, source_id)` (source id
    /// set) or the same content hash — the same rules `remember` dedups by, so importing a
    /// file twice writes nothing the second time. Otherwise it is inserted as exported
    /// (every known column), under its id when free and a new one otherwise, without
    /// `embedding_model` unless its vector is stored; its history rows follow (renamed to the
    /// new id), and its vector (already checked against the target's model by the caller)
    /// is stored when the memory is live and has none for that model yet. A row a constraint
    /// refuses is `Skipped` and the batch goes on.
    fn import_batch(
        &self,
        items: Vec<ImportItem>,
        now: &str,
        dry_run: bool,
    ) -> Result<Vec<ImportedItem>>;
}
