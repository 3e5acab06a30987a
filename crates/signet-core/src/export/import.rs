//! [`ImportSession`]: reads an export in chunks, checks every line, and writes whole memories
//! in batches (see the module docs of [`super`] for why batches hold whole memories).

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{Value, json};
use signet_api::ImportReport;
use signet_model::export::{ImportItem, ImportOutcome, ImportedItem};
use signet_model::time::now_iso;
use signet_model::{ExportStore, JsonRow};

use super::PAGE;
use super::format::{Counts, EmbeddingInfo, Header, Record};
use crate::blocking;
use crate::error::{CoreError, Result};
use crate::memory::Memories;

/// Warnings kept in the report at most.
const MAX_WARNINGS: usize = 20;

/// What the session remembers about a pending item besides what the store gets.
#[derive(Debug, Clone, Default)]
struct Pending {
    /// The line of the memory record (or of the first record of an attach item).
    line: u64,
    /// The memory's id in the file.
    file_id: String,
    /// A vector came for it and was refused (another model).
    refused_vector: bool,
}

/// One import in progress: [`ImportSession::feed`] the bytes, then [`ImportSession::finish`].
pub struct ImportSession {
    store: Arc<dyn ExportStore>,
    target: Option<EmbeddingInfo>,
    memories: Option<Memories>,
    dry_run: bool,
    /// Bytes after the last newline.
    partial: Vec<u8>,
    /// Lines read so far.
    line: u64,
    header: Option<Header>,
    ended: Option<Counts>,
    seen: Counts,
    items: Vec<ImportItem>,
    meta: Vec<Pending>,
    /// File id -> index in `items`.
    pos: HashMap<String, usize>,
    /// File id -> target id of memories inserted by earlier batches of this import.
    inserted: HashMap<String, String>,
    report: ImportReport,
}

impl ImportSession {
    pub(super) fn new(
        store: Arc<dyn ExportStore>,
        target: Option<EmbeddingInfo>,
        memories: Option<Memories>,
        dry_run: bool,
    ) -> Self {
        Self {
            store,
            target,
            memories,
            dry_run,
            partial: Vec::new(),
            line: 0,
            header: None,
            ended: None,
            seen: Counts::default(),
            items: Vec::new(),
            meta: Vec::new(),
            pos: HashMap::new(),
            inserted: HashMap::new(),
            report: ImportReport {
                dry_run,
                ..ImportReport::default()
            },
        }
    }

    /// The report so far.
    pub fn report(&self) -> &ImportReport {
        &self.report
    }

    /// Takes the next bytes of the file (any chunking). On a bad line the whole memories read
    /// before it are written and the error names the line.
    pub async fn feed(&mut self, chunk: &[u8]) -> Result<()> {
        let mut rest = chunk;
        while let Some(nl) = rest.iter().position(|b| *b == b'\n') {
            self.partial.extend_from_slice(&rest[..nl]);
            rest = &rest[nl + 1..];
            let line = std::mem::take(&mut self.partial);
            if let Err(e) = self.line_bytes(&line).await {
                return Err(self.fail(e).await);
            }
        }
        self.partial.extend_from_slice(rest);
        Ok(())
    }

    /// Ends the file: checks it was whole (its end record read, the counts as it says) and
    /// writes the last batch. A truncated file keeps the whole memories read before the cut
    /// and says how to finish.
    pub async fn finish(mut self) -> Result<ImportReport> {
        let last = std::mem::take(&mut self.partial);
        if !last.iter().all(u8::is_ascii_whitespace) {
            let line = self.line + 1;
            if let Err(e) = self.line_bytes(&last).await {
                // A last line cut short is what a truncated file looks like.
                let truncated =
                    self.header.is_some() && serde_json::from_slice::<Value>(&last).is_err();
                let e = if truncated {
                    CoreError::Invalid(format!(
                        "line {line} is cut short and the file has no end record: it is \
                         truncated; import the complete file again to finish (what was \
                         imported now is skipped as duplicates then)"
                    ))
                } else {
                    e
                };
                return Err(self.fail(e).await);
            }
        }
        if self.header.is_none() {
            return Err(CoreError::Invalid(
                "the file is empty (a signet export starts with its header line)".into(),
            ));
        }
        let Some(end) = self.ended else {
            let e = CoreError::Invalid(format!(
                "the file ends after line {} without its end record: it is truncated; import \
                 the complete file again to finish (what was imported now is skipped as \
                 duplicates then)",
                self.line
            ));
            return Err(self.fail(e).await);
        };
        if end != self.seen {
            let e = CoreError::Invalid(format!(
                "the end record counts {} memories, {} history rows and {} vectors, but the \
                 file holds {}, {} and {}: it was altered or cut",
                end.memories,
                end.history,
                end.vectors,
                self.seen.memories,
                self.seen.history,
                self.seen.vectors
            ));
            return Err(self.fail(e).await);
        }
        self.flush(false).await?;
        self.report.complete = true;
        Ok(self.report)
    }

    /// Writes what is whole and returns `e` with the report so far.
    async fn fail(&mut self, e: CoreError) -> CoreError {
        if let Err(flush) = self.flush(true).await {
            return flush;
        }
        let message = match e {
            CoreError::Invalid(m) | CoreError::InvalidWith(m, _) => m,
            other => return other,
        };
        let m = &self.report.memories;
        let verb = if self.dry_run {
            "would be kept"
        } else {
            "kept"
        };
        let message = format!(
            "{message} [{verb}: {} memories imported, {} duplicates, {} history rows]",
            m.imported, m.duplicates, self.report.history
        );
        let report = serde_json::to_value(&self.report).unwrap_or_default();
        CoreError::InvalidWith(message, json!({ "report": report }))
    }

    async fn line_bytes(&mut self, bytes: &[u8]) -> Result<()> {
        self.line += 1;
        let n = self.line;
        let text = std::str::from_utf8(bytes)
            .map_err(|_| CoreError::Invalid(format!("line {n}: not UTF-8 text")))?;
        let text = text.trim();
        if text.is_empty() {
            return Ok(());
        }
        if self.header.is_none() {
            if n != 1 {
                return Err(CoreError::Invalid(format!(
                    "line {n}: the header must be line 1"
                )));
            }
            self.header = Some(Header::parse(text)?);
            return Ok(());
        }
        if self.ended.is_some() {
            return Err(CoreError::Invalid(format!(
                "line {n}: a record after the end record"
            )));
        }
        let record =
            Record::parse(text).map_err(|m| CoreError::Invalid(format!("line {n}: {m}")))?;
        self.record(n, record).await
    }

    async fn record(&mut self, n: u64, record: Record) -> Result<()> {
        match record {
            Record::Memory(row) => {
                let Some(id) = row.get("id").and_then(Value::as_str).map(str::to_owned) else {
                    return Err(CoreError::Invalid(format!(
                        "line {n}: the memory has no \"id\""
                    )));
                };
                self.seen.memories += 1;
                if self.items.len() >= PAGE {
                    self.flush(false).await?;
                }
                self.pos.insert(id.clone(), self.items.len());
                self.items.push(ImportItem {
                    memory: Some(row),
                    ..ImportItem::default()
                });
                self.meta.push(Pending {
                    line: n,
                    file_id: id,
                    refused_vector: false,
                });
            }
            Record::History(row) => {
                self.seen.history += 1;
                let id = row.get("memory_id").and_then(Value::as_str).unwrap_or("");
                match self.slot(n, id) {
                    Some(i) => self.items[i].history.push(row),
                    None => self.warn(n, "a history row of a memory not in the file; skipped"),
                }
            }
            Record::Vector(v) => {
                self.seen.vectors += 1;
                let accepted = self
                    .target
                    .as_ref()
                    .is_some_and(|t| t.model == v.model && t.dimensions == v.dimensions);
                let stored = if accepted {
                    Some(
                        v.decode()
                            .map_err(|m| CoreError::Invalid(format!("line {n}: {m}")))?,
                    )
                } else {
                    self.report.vectors.refused += 1;
                    None
                };
                match self.slot(n, &v.memory_id) {
                    Some(i) if stored.is_some() => self.items[i].vector = stored,
                    Some(i) => self.meta[i].refused_vector = true,
                    None => self.warn(n, "a vector of a memory not in the file; skipped"),
                }
            }
            Record::End(counts) => self.ended = Some(counts),
            Record::Unknown(kind) => {
                self.warn(n, &format!("unknown record kind {kind:?}; skipped"));
            }
        }
        Ok(())
    }

    /// The pending item of the file's memory `id`: its own, or (for a memory an earlier batch
    /// inserted) a new attach item.
    fn slot(&mut self, n: u64, id: &str) -> Option<usize> {
        if let Some(i) = self.pos.get(id) {
            return Some(*i);
        }
        let target = self.inserted.get(id)?.clone();
        self.pos.insert(id.to_owned(), self.items.len());
        self.items.push(ImportItem {
            target: Some(target),
            ..ImportItem::default()
        });
        self.meta.push(Pending {
            line: n,
            file_id: id.to_owned(),
            refused_vector: false,
        });
        Some(self.items.len() - 1)
    }

    fn warn(&mut self, n: u64, what: &str) {
        if self.report.warnings.len() < MAX_WARNINGS {
            self.report.warnings.push(format!("line {n}: {what}"));
        }
    }

    /// Writes the pending items in one transaction (`keep_last`: all but the last, whose
    /// history or vector may still be unread), then tells the daemon about the new memories.
    async fn flush(&mut self, keep_last: bool) -> Result<()> {
        let mut items = std::mem::take(&mut self.items);
        let mut meta = std::mem::take(&mut self.meta);
        self.pos.clear();
        if keep_last {
            items.pop();
            meta.pop();
        }
        if items.is_empty() {
            return Ok(());
        }
        let rows: Vec<Option<JsonRow>> = items.iter().map(|i| i.memory.clone()).collect();
        let (store, dry_run, now) = (self.store.clone(), self.dry_run, now_iso());
        let out = blocking::run(move || Ok(store.import_batch(items, &now, dry_run)?)).await?;
        let mut fresh = Vec::new();
        for ((m, row), o) in meta.iter().zip(rows).zip(out) {
            if let Some(id) = self.tally(m, o) {
                let row = row.unwrap_or_default();
                let live = row.get("is_deleted").and_then(Value::as_i64).unwrap_or(0) == 0;
                if live && m.refused_vector && self.target.is_some() {
                    self.report.vectors.queued += 1;
                }
                if live {
                    fresh.push((id, row));
                }
            }
        }
        if !self.dry_run {
            self.announce(fresh).await?;
        }
        Ok(())
    }

    /// Counts one outcome; returns the target id of an inserted memory.
    fn tally(&mut self, m: &Pending, o: ImportedItem) -> Option<String> {
        self.report.history += o.history as u64;
        if o.vector_saved {
            self.report.vectors.imported += 1;
        }
        match o.outcome {
            ImportOutcome::Inserted { id } => {
                self.report.memories.imported += 1;
                self.inserted.insert(m.file_id.clone(), id.clone());
                Some(id)
            }
            ImportOutcome::Duplicate { .. } => {
                self.report.memories.duplicates += 1;
                None
            }
            ImportOutcome::Attached { .. } => None,
            ImportOutcome::Skipped { reason } => {
                self.report.memories.skipped += 1;
                self.warn(m.line, &format!("memory {} skipped: {reason}", m.file_id));
                None
            }
        }
    }

    /// In a daemon: the new live memories' vectors join the index (those without one wake the
    /// embedding worker) and each is announced as `memory.created`.
    async fn announce(&mut self, fresh: Vec<(String, JsonRow)>) -> Result<()> {
        let Some(memories) = self.memories.clone() else {
            return Ok(());
        };
        let ids: Vec<String> = fresh.iter().map(|(id, _)| id.clone()).collect();
        let semantic = memories.semantic().clone();
        if semantic.configured() {
            blocking::run(move || {
                for id in &ids {
                    semantic.restore(id)?;
                }
                Ok(())
            })
            .await?;
        }
        let text = |row: &JsonRow, k: &str| row.get(k).and_then(Value::as_str).map(str::to_owned);
        for (id, row) in &fresh {
            memories.publish_created(
                id,
                text(row, "type").as_deref(),
                text(row, "project").as_deref(),
                text(row, "who").as_deref().unwrap_or(""),
                text(row, "scope_user").as_deref(),
                false,
            );
        }
        Ok(())
    }
}
