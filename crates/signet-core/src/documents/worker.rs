//! The document worker: one `document_ingest` job per [`DocumentWorker::tick`], leased from
//! the queue, turned into chunk memories and written with the document's completion in one
//! transaction. Failures are recorded on the job (retried after a backoff, dead after its
//! attempts) and on the document.

use std::time::Duration;

use sha2::{Digest, Sha256};
use signet_model::documents::{
    DOCUMENT_INGEST, Document, FailedJob, IngestWrite, Ingested, LeasePolicy, LeasedJob,
};
use signet_model::memories::{Actor, NewMemory};
use tokio_util::sync::CancellationToken;

use super::fetch::{FETCH_TIMEOUT, Fetcher};
use super::{Documents, chunk, guard, html};
use crate::blocking;
use crate::config::DocumentSettings;
use crate::error::Result;

/// What one tick did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tick {
    /// No job to run.
    Idle,
    /// A document was ingested: its chunks and the memories written.
    Ingested {
        document_id: String,
        chunks: usize,
        memories: usize,
    },
    /// The job's document was already done, deleted or gone: the job was completed.
    Settled,
    /// The attempt failed (`dead`: it was the last).
    Failed {
        document_id: String,
        error: String,
        dead: bool,
    },
}

/// The background ingester. One per daemon.
pub struct DocumentWorker {
    docs: Documents,
    policy: LeasePolicy,
}

impl DocumentWorker {
    pub fn new(docs: Documents) -> Self {
        Self {
            docs,
            policy: LeasePolicy::default(),
        }
    }

    /// One unit of work: recover stale leases, lease the oldest job, ingest its document.
    pub async fn tick(&self) -> Tick {
        match self.try_tick().await {
            Ok(t) => t,
            Err(e) => {
                tracing::warn!(target: "documents", error = %e, "document worker tick failed");
                Tick::Idle
            }
        }
    }

    async fn try_tick(&self) -> Result<Tick> {
        let store = self.docs.store().clone();
        let policy = self.policy;
        let job = blocking::run(move || {
            let now = chrono::Utc::now();
            let stale = now - chrono::Duration::milliseconds(policy.lease_ms);
            let (now, stale) = (
                signet_model::time::format_iso(now),
                signet_model::time::format_iso(stale),
            );
            store.recover_leases(DOCUMENT_INGEST, &stale, &now)?;
            Ok(store.lease_job(DOCUMENT_INGEST, &now, &policy)?)
        })
        .await?;
        match job {
            None => Ok(Tick::Idle),
            Some(job) => self.process(job).await,
        }
    }

    async fn process(&self, job: LeasedJob) -> Result<Tick> {
        let store = self.docs.store().clone();
        let doc_id = job.document_id.clone().unwrap_or_default();
        let id = doc_id.clone();
        let doc = blocking::run(move || Ok(store.document(&id)?)).await?;
        let pending = doc.filter(|d| d.status != "done" && d.status != "deleted");
        let write = match pending {
            None => Ok(self.write(&doc_id, &job, Vec::new(), Text::default())),
            Some(doc) => self.prepare(&doc, &job, &self.docs.config()).await,
        };
        match write {
            Ok(w) => self.commit(w).await,
            Err(error) => self.fail(doc_id, job, error).await,
        }
    }

    /// Gets, converts and chunks the document's text into the write.
    async fn prepare(
        &self,
        doc: &Document,
        job: &LeasedJob,
        cfg: &DocumentSettings,
    ) -> std::result::Result<IngestWrite, String> {
        let mut text = self.text(doc, cfg).await?;
        if html::is_html(text.content_type.as_deref(), &text.body) {
            let (body, title) = html::to_text(&text.body);
            text.body = body;
            text.title = title;
        }
        let title = doc
            .title
            .clone()
            .or_else(|| text.title.clone())
            .or_else(|| doc.source_url.clone())
            .unwrap_or_else(|| "untitled".to_owned());
        let pieces = chunk::chunk(&text.body, cfg.chunk_size, cfg.chunk_overlap);
        if pieces.is_empty() {
            return Err("the document has no text".into());
        }
        let now = signet_model::time::now_iso();
        let chunks = pieces
            .iter()
            .filter_map(|p| chunk_memory(&doc.id, &title, p, &now))
            .collect();
        Ok(self.write(&doc.id, job, chunks, text))
    }

    /// The document's text: stored, fetched, or read from the workspace.
    async fn text(
        &self,
        doc: &Document,
        cfg: &DocumentSettings,
    ) -> std::result::Result<Text, String> {
        let source = doc.source_url.clone().unwrap_or_default();
        match doc.source_type.as_str() {
            "url" => {
                let fetcher =
                    Fetcher::new(cfg.allow_private_urls, cfg.max_content_bytes, FETCH_TIMEOUT)?;
                let got = fetcher.fetch(&source).await?;
                Ok(Text {
                    hash: Some(hex::encode(Sha256::digest(got.body.as_bytes()))),
                    body: got.body,
                    content_type: got.content_type.or_else(|| doc.content_type.clone()),
                    title: None,
                })
            }
            "file" => self.read_file(&source, cfg.max_content_bytes, doc).await,
            _ => Ok(Text {
                body: doc.raw_content.clone().unwrap_or_default(),
                content_type: doc.content_type.clone(),
                ..Text::default()
            }),
        }
    }

    /// Reads a workspace file, checked by the workspace guard again (it may have changed).
    async fn read_file(
        &self,
        path: &str,
        max: u64,
        doc: &Document,
    ) -> std::result::Result<Text, String> {
        let real = guard::workspace_file(self.docs.workspace(), path).map_err(|e| e.to_string())?;
        let meta = tokio::fs::metadata(&real)
            .await
            .map_err(|e| format!("{path}: {e}"))?;
        if meta.len() > max {
            return Err(format!("{path} is larger than {max} bytes"));
        }
        let bytes = tokio::fs::read(&real)
            .await
            .map_err(|e| format!("{path}: {e}"))?;
        let content_type = doc.content_type.clone().or_else(|| {
            let html = path.ends_with(".html") || path.ends_with(".htm");
            Some(if html { "text/html" } else { "text/plain" }.to_owned())
        });
        Ok(Text {
            hash: Some(hex::encode(Sha256::digest(&bytes))),
            body: String::from_utf8_lossy(&bytes).into_owned(),
            content_type,
            title: None,
        })
    }

    fn write(&self, doc_id: &str, job: &LeasedJob, chunks: Vec<NewMemory>, t: Text) -> IngestWrite {
        IngestWrite {
            document_id: doc_id.to_owned(),
            job_id: job.id.clone(),
            chunks,
            content_hash: t.hash,
            content_type: t.content_type,
            title: t.title,
            actor: Actor {
                changed_by: "document-worker".into(),
                actor_type: Some("daemon".into()),
                session_id: None,
                request_id: None,
            },
            now: signet_model::time::now_iso(),
        }
    }

    async fn commit(&self, w: IngestWrite) -> Result<Tick> {
        let store = self.docs.store().clone();
        let document_id = w.document_id.clone();
        let done = blocking::run(move || Ok(store.write_ingest(&w)?)).await?;
        Ok(match done {
            Ingested::Written { chunks, memories } => {
                tracing::info!(target: "documents", document = %document_id, chunks, memories, "document ingested");
                self.docs.inner.semantic.notify();
                Tick::Ingested {
                    document_id,
                    chunks,
                    memories,
                }
            }
            Ingested::AlreadySettled => Tick::Settled,
        })
    }

    async fn fail(&self, document_id: String, job: LeasedJob, error: String) -> Result<Tick> {
        let store = self.docs.store().clone();
        let (doc, e) = (document_id.clone(), error.clone());
        let now = signet_model::time::now_iso();
        let outcome =
            blocking::run(move || Ok(store.fail_ingest(&doc, &job.id, &e, &now)?)).await?;
        let dead = outcome == FailedJob::Dead;
        tracing::warn!(target: "documents", document = %document_id, %error, dead, "document ingest failed");
        Ok(Tick::Failed {
            document_id,
            error,
            dead,
        })
    }

    /// Frees the leases a dead process left, then ticks until `cancel` fires: at once while
    /// there is work, else every `documents.workerIntervalMs` or when a document is queued.
    pub async fn run(self, cancel: CancellationToken) {
        // Every lease held now belongs to a process that died (this worker is the only one
        // leasing document jobs): free them before the first tick, off the start-up path.
        if let Err(e) = self.docs.recover_leases().await {
            tracing::warn!(target: "documents", error = %e, "could not recover document leases");
        }
        loop {
            if cancel.is_cancelled() {
                return;
            }
            if self.tick().await != Tick::Idle {
                continue;
            }
            let wait = Duration::from_millis(self.docs.config().worker_interval_ms);
            tokio::select! {
                _ = cancel.cancelled() => return,
                _ = tokio::time::sleep(wait) => {}
                _ = self.docs.inner.wake.notified() => {}
            }
        }
    }
}

/// The text of a document on its way to the chunker.
#[derive(Debug, Default)]
struct Text {
    body: String,
    content_type: Option<String>,
    /// The hash of what was fetched or read (text documents have theirs already).
    hash: Option<String>,
    /// An HTML `<title>`.
    title: Option<String>,
}

/// One chunk as a memory: `document_chunk`, importance 0.3, written by the document (`who`
/// and `source_id` = its id), tagged `document:<title>`, with a per-document content hash.
fn chunk_memory(doc_id: &str, title: &str, text: &str, now: &str) -> Option<NewMemory> {
    let n = crate::text::normalize(text)?;
    let hash = hex::encode(Sha256::digest(
        format!("{doc_id}\n{}", n.normalized).as_bytes(),
    ));
    Some(NewMemory {
        id: uuid::Uuid::new_v4().to_string(),
        content: text.to_owned(),
        normalized_content: n.normalized,
        content_hash: hash,
        memory_type: "document_chunk".into(),
        tags: Some(format!("document:{title}")),
        who: doc_id.to_owned(),
        why: "document_ingest".into(),
        project: None,
        importance: 0.3,
        pinned: false,
        source_type: "document".into(),
        source_id: Some(doc_id.to_owned()),
        extraction_status: "none".into(),
        created_at: now.to_owned(),
        scope_user: None,
    })
}
