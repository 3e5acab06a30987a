//! Export and import (`POST /api/export`, `POST /api/import`): the export request and the
//! report an import sends. The JSON Lines format itself is described in
//! `signet_core::export::format` and docs/COMPATIBILITY.md.

use serde::{Deserialize, Serialize};

/// Body of `POST /api/export`.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExportRequest {
    /// Include each memory's current vector, tagged with its model (default false).
    #[serde(default)]
    pub with_vectors: bool,
    /// Include deleted memories (tombstones) and their history (default false).
    #[serde(default)]
    pub include_deleted: bool,
}

/// What an import did with the memories of a file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ImportMemoryCounts {
    /// Written to the store.
    pub imported: u64,
    /// Already held (same id and content, same source, or same content).
    pub duplicates: u64,
    /// Refused by the store (a constraint), or history/vectors whose memory is not in the file.
    pub skipped: u64,
}

/// What an import did with the vectors of a file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ImportVectorCounts {
    /// Stored as their memory's vector (same model and dimensions as this workspace's).
    pub imported: u64,
    /// Dropped: made by another model or with other dimensions, or this workspace has no
    /// embedding provider. Vectors are never mixed.
    pub refused: u64,
    /// Of the refused, those whose memory this workspace's embedding backfill will embed.
    pub queued: u64,
}

/// The report of `POST /api/import` and `signet import`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ImportReport {
    pub memories: ImportMemoryCounts,
    /// History rows written.
    pub history: u64,
    pub vectors: ImportVectorCounts,
    /// Nothing was written (`--dry-run`).
    pub dry_run: bool,
    /// The file's end record was read and its counts matched.
    pub complete: bool,
    /// Why single records were skipped (at most a few, with their line numbers).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}
