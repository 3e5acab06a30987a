//! Export and import: moving memories with their history, scopes, tags and (optionally)
//! vectors between workspaces as versioned JSON Lines ([`format`]).
//!
//! [`Transfer`] is the service. [`Transfer::exporter`] yields the file page by page (each
//! page one read transaction, so a large store streams in bounded memory);
//! [`Transfer::importer`] takes the file in chunks of any size and writes it in batches, each
//! batch one transaction holding whole memories (a memory with its history and vector), so an
//! import killed midway leaves whole memories behind and a re-run, which dedups, imports only
//! what is missing. A daemon's transfer ([`Transfer::live`]) also puts imported vectors into
//! the in-memory index, wakes the embedding worker for the rest and publishes
//! `memory.created` events; a direct one ([`Transfer::direct`], the CLI with the daemon down)
//! leaves that to the next daemon start (its index loads from the store, its embedding worker
//! fills the gaps).
//!
//! Vectors are never mixed: a vector made by another model or with other dimensions than the
//! target's embedding is dropped and its memory left for the embedding backfill.

pub mod format;
mod import;

use std::sync::Arc;

use serde_json::json;
use signet_api::ExportRequest;
use signet_model::ExportStore;
use signet_model::time::now_iso;

pub use format::{Counts, EmbeddingInfo, Header};
pub use import::ImportSession;

use crate::blocking;
use crate::error::Result;
use crate::memory::Memories;
use format::{FORMAT, Record, VERSION, VectorRecord};

/// Memories per export page and per import batch.
pub const PAGE: usize = 200;

/// The export and import service. Cheap to clone.
#[derive(Clone)]
pub struct Transfer {
    store: Arc<dyn ExportStore>,
    /// The daemon's memory service (index, embedding worker, events); `None` when direct.
    memories: Option<Memories>,
    /// The embedding of a direct transfer's workspace (a live one asks `memories`).
    embedding: Option<EmbeddingInfo>,
}

impl Transfer {
    /// Over a store no daemon serves; `embedding` is the workspace's configured model.
    pub fn direct(store: Arc<dyn ExportStore>, embedding: Option<EmbeddingInfo>) -> Self {
        Self {
            store,
            memories: None,
            embedding,
        }
    }

    /// Over the daemon's store and memory service.
    pub fn live(store: Arc<dyn ExportStore>, memories: Memories) -> Self {
        Self {
            store,
            memories: Some(memories),
            embedding: None,
        }
    }

    /// The embedding vectors must match to be imported (`None`: keyword-only).
    pub fn embedding(&self) -> Option<EmbeddingInfo> {
        let Some(m) = &self.memories else {
            return self.embedding.clone();
        };
        let s = m.semantic();
        s.configured().then(|| EmbeddingInfo {
            provider: s.configured_provider().0.to_owned(),
            model: s.model(),
            dimensions: s.dimensions(),
        })
    }

    /// An export with these options.
    pub fn exporter(&self, opts: ExportRequest) -> Exporter {
        Exporter {
            store: self.store.clone(),
            opts,
            embedding: self.embedding(),
            cursor: None,
            done: false,
            counts: Counts::default(),
        }
    }

    /// An import (`dry_run`: everything is checked and counted, nothing kept).
    pub fn importer(&self, dry_run: bool) -> ImportSession {
        ImportSession::new(
            self.store.clone(),
            self.embedding(),
            self.memories.clone(),
            dry_run,
        )
    }
}

/// An export in progress: [`Exporter::next_chunk`] until it returns `None`.
pub struct Exporter {
    store: Arc<dyn ExportStore>,
    opts: ExportRequest,
    embedding: Option<EmbeddingInfo>,
    /// The page cursor; `None` before the header is out.
    cursor: Option<i64>,
    done: bool,
    counts: Counts,
}

impl Exporter {
    /// The next lines of the file (each ending in `\n`): the header, then one page of
    /// memories at a time, then the end record; `None` once all is out.
    pub async fn next_chunk(&mut self) -> Result<Option<String>> {
        if self.done {
            return Ok(None);
        }
        let Some(after) = self.cursor else {
            self.cursor = Some(0);
            return Ok(Some(self.header().to_line() + "\n"));
        };
        let (store, opts) = (self.store.clone(), self.opts);
        let page = blocking::run(move || {
            Ok(store.export_page(after, PAGE, opts.include_deleted, opts.with_vectors)?)
        })
        .await?;
        let mut out = String::new();
        for item in &page.items {
            out.push_str(&Record::Memory(item.memory.clone()).to_line());
            out.push('\n');
            self.counts.memories += 1;
            for h in &item.history {
                out.push_str(&Record::History(h.clone()).to_line());
                out.push('\n');
                self.counts.history += 1;
            }
            if let Some(v) = &item.vector {
                let id = item.memory.get("id").and_then(|v| v.as_str()).unwrap_or("");
                out.push_str(&Record::Vector(VectorRecord::new(id, v)).to_line());
                out.push('\n');
                self.counts.vectors += 1;
            }
        }
        match page.next {
            Some(next) => self.cursor = Some(next),
            None => {
                out.push_str(&Record::End(self.counts).to_line());
                out.push('\n');
                self.done = true;
            }
        }
        Ok(Some(out))
    }

    /// What has been written so far.
    pub fn counts(&self) -> Counts {
        self.counts
    }

    fn header(&self) -> Header {
        Header {
            format: FORMAT.into(),
            version: VERSION,
            created_at: now_iso(),
            source: json!({"software": "signet", "version": env!("CARGO_PKG_VERSION")}),
            embedding: self.embedding.clone(),
            options: json!({
                "withVectors": self.opts.with_vectors,
                "includeDeleted": self.opts.include_deleted,
            }),
        }
    }
}
