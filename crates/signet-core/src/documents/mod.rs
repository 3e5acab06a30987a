//! Documents: text, a URL or a workspace file ingested as searchable `document_chunk`
//! memories, over a [`DocumentStore`].
//!
//! [`Documents`] serves the routes: `create` validates the source (the URL through the SSRF
//! guard's static checks, the file through the workspace guard) and records the document with
//! its `document_ingest` job in one store call; nothing is fetched on the request path. The
//! [`DocumentWorker`] leases one job per `tick()`, gets the text ([`fetch`] behind the SSRF
//! guard, the workspace file, or the stored text), turns HTML into text ([`html`]), chunks it
//! ([`chunk`]) and writes every chunk with the document's completion in one transaction. The
//! embedding worker then embeds the chunks like any memory without a vector.
//!
//! Settings (`memory.pipelineV2.documents`) are read fresh for every request and job.

pub mod chunk;
pub mod fetch;
pub mod guard;
pub mod html;
pub mod input;
mod worker;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use signet_api::{
    DocumentChunkItem, DocumentChunks, DocumentCreated, DocumentDeleted, DocumentList, DocumentRow,
};
use signet_model::DocumentStore;
use signet_model::documents::{
    CreatedDocument, DOCUMENT_INGEST, Document, DocumentChunk, DocumentQuery, NewDocument,
};
use signet_model::memories::Actor;
use tokio::sync::{Notify, watch};

pub use input::{DocumentInput, DocumentListParams, Source, delete_reason};
pub use worker::{DocumentWorker, Tick};

use crate::blocking;
use crate::config::{DocumentSettings, Settings};
use crate::error::{CoreError, Result};
use crate::semantic::Semantic;

/// The document service. Cheap to clone.
#[derive(Clone)]
pub struct Documents {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn DocumentStore>,
    /// Wakes the embedding worker after an ingest; drops deleted chunks from the index.
    semantic: Semantic,
    settings: watch::Receiver<Arc<Settings>>,
    /// `file` documents are read from inside it only.
    workspace: PathBuf,
    /// Wakes the document worker when a document is queued.
    wake: Notify,
}

impl Documents {
    pub fn new(
        store: Arc<dyn DocumentStore>,
        semantic: Semantic,
        settings: watch::Receiver<Arc<Settings>>,
        workspace: PathBuf,
    ) -> Self {
        let inner = Inner {
            store,
            semantic,
            settings,
            workspace,
            wake: Notify::new(),
        };
        Self {
            inner: Arc::new(inner),
        }
    }

    /// The settings in force now.
    pub fn config(&self) -> DocumentSettings {
        self.inner.settings.borrow().pipeline.documents.clone()
    }

    /// The store behind this service.
    pub fn store(&self) -> &Arc<dyn DocumentStore> {
        &self.inner.store
    }

    fn workspace(&self) -> &Path {
        &self.inner.workspace
    }

    /// Records a document and its ingest job (or names the existing one with the same URL or
    /// content).
    pub async fn create(&self, input: DocumentInput) -> Result<DocumentCreated> {
        let cfg = self.config();
        let (source_url, raw_content, content_hash) = match &input.source {
            Source::Text(text) => {
                if text.len() as u64 > cfg.max_content_bytes {
                    return Err(CoreError::Invalid(format!(
                        "content is larger than documents.maxContentBytes ({} bytes)",
                        cfg.max_content_bytes
                    )));
                }
                let hash = crate::text::normalize(text)
                    .ok_or_else(|| CoreError::Invalid("content is required".into()))?
                    .hash;
                (None, Some(text.clone()), Some(hash))
            }
            Source::Url(url) => {
                let url =
                    fetch::check_url(url, cfg.allow_private_urls).map_err(CoreError::Invalid)?;
                (Some(url.to_string()), None, None)
            }
            Source::File(path) => (Some(self.relative_file(path)?), None, None),
        };
        let now = signet_model::time::now_iso();
        let doc = NewDocument {
            id: uuid::Uuid::new_v4().to_string(),
            source_type: input.source.kind().to_owned(),
            source_url,
            content_type: input.content_type,
            content_hash,
            title: input.title,
            raw_content,
            connector_id: input.connector_id,
            metadata_json: input.metadata.map(|m| m.to_string()),
            job_id: uuid::Uuid::new_v4().to_string(),
            created_at: now,
        };
        let store = self.inner.store.clone();
        let created = blocking::run(move || Ok(store.create_document(&doc)?)).await?;
        Ok(match created {
            CreatedDocument::Queued { id, job_id } => {
                self.inner.wake.notify_one();
                DocumentCreated {
                    id,
                    status: "queued".into(),
                    job_id: Some(job_id),
                    deduplicated: None,
                    extra: Default::default(),
                }
            }
            CreatedDocument::Deduplicated { id, status } => DocumentCreated {
                id,
                status,
                job_id: None,
                deduplicated: Some(true),
                extra: Default::default(),
            },
        })
    }

    /// The workspace-relative form of a `file` path the workspace guard admits.
    fn relative_file(&self, path: &str) -> Result<String> {
        let real = guard::workspace_file(self.workspace(), path)
            .map_err(|e| CoreError::Invalid(e.to_string()))?;
        let root = std::fs::canonicalize(self.workspace())
            .map_err(|e| CoreError::Internal(format!("workspace: {e}")))?;
        let rel = real.strip_prefix(&root).unwrap_or(&real);
        Ok(rel.to_string_lossy().into_owned())
    }

    /// A page of documents.
    pub async fn list(&self, p: DocumentListParams) -> Result<DocumentList> {
        let store = self.inner.store.clone();
        let q = DocumentQuery {
            status: p.status,
            limit: p.limit,
            offset: p.offset,
        };
        let (rows, total) = blocking::run(move || Ok(store.documents(&q)?)).await?;
        Ok(DocumentList {
            documents: rows.into_iter().map(row).collect(),
            total,
            limit: p.limit,
            offset: p.offset,
            extra: Default::default(),
        })
    }

    /// One document (404 when unknown).
    pub async fn get(&self, id: String) -> Result<DocumentRow> {
        let store = self.inner.store.clone();
        blocking::run(move || Ok(store.document(&id)?))
            .await?
            .map(row)
            .ok_or_else(not_found)
    }

    /// A document's live chunks (404 when unknown).
    pub async fn chunks(&self, id: String) -> Result<DocumentChunks> {
        let store = self.inner.store.clone();
        let chunks = blocking::run(move || Ok(store.document_chunks(&id)?))
            .await?
            .ok_or_else(not_found)?;
        Ok(DocumentChunks {
            count: chunks.len(),
            chunks: chunks.into_iter().map(chunk_item).collect(),
            extra: Default::default(),
        })
    }

    /// Soft-deletes a document's chunks and marks it deleted (404 when unknown).
    pub async fn delete(
        &self,
        id: String,
        reason: String,
        actor: Actor,
    ) -> Result<DocumentDeleted> {
        let actor = crate::memory::resolve_actor(actor, None);
        let store = self.inner.store.clone();
        let now = signet_model::time::now_iso();
        let deleted = blocking::run(move || Ok(store.delete_document(&id, &reason, &actor, &now)?))
            .await?
            .ok_or_else(not_found)?;
        for id in &deleted.memory_ids {
            self.inner.semantic.remove(id);
        }
        Ok(DocumentDeleted {
            deleted: true,
            memories_removed: deleted.memory_ids.len(),
            extra: Default::default(),
        })
    }

    /// Turns every lease of an ingest job back into a pending job: at start-up, when no
    /// worker of this daemon holds one, any lease found belongs to a process that died.
    pub async fn recover_leases(&self) -> Result<usize> {
        let store = self.inner.store.clone();
        let now = signet_model::time::now_iso();
        let n = blocking::run(move || Ok(store.release_orphans(DOCUMENT_INGEST, &now)?)).await?;
        if n > 0 {
            tracing::info!(target: "documents", recovered = n, "recovered interrupted document jobs");
        }
        Ok(n)
    }
}

fn not_found() -> CoreError {
    CoreError::NotFound("Document not found".into())
}

fn row(d: Document) -> DocumentRow {
    DocumentRow {
        id: d.id,
        source_url: d.source_url,
        source_type: d.source_type,
        content_type: d.content_type,
        content_hash: d.content_hash,
        title: d.title,
        raw_content: d.raw_content,
        status: d.status,
        error: d.error,
        connector_id: d.connector_id,
        chunk_count: d.chunk_count,
        memory_count: d.memory_count,
        metadata_json: d.metadata_json,
        created_at: d.created_at,
        updated_at: d.updated_at,
        completed_at: d.completed_at,
        extra: Default::default(),
    }
}

fn chunk_item(c: DocumentChunk) -> DocumentChunkItem {
    DocumentChunkItem {
        id: c.id,
        content: c.content,
        memory_type: c.memory_type,
        created_at: c.created_at,
        chunk_index: c.chunk_index,
        extra: Default::default(),
    }
}
