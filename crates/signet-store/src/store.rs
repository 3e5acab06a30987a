//! [`Store`], the SQLite implementation of signet-model's [`MemoryStore`] (the interface the
//! daemon's services use; its doc comments are the contract). Writes go through the pool's
//! group-commit writer, reads to a read-only connection.

use std::path::Path;

use signet_model::{IntegrityReport, JsonRow, Lifecycle, MemoryStore, MigrationReport};

use crate::documents;
use crate::error::Result;
use crate::keyword::KeywordQuery;
use crate::memories::{self, embeddings, mutate, read, search, write};
use crate::memories::{
    Actor, CandidateQuery, ChunkGroup, ForgetCandidate, HistoryEvent, KeywordHit, LegacyQuery,
    ListedMemoryItem, MemoryListStats, Mutation, MutationOutcome, NewMemory, RecallFilters,
    RecallRow, RememberOutcome, RowKey, ScopeFilter, WriteOptions,
};
use crate::memories::{EmbeddingJob, EmbeddingStats, StoredVector};
use crate::pool::Pool;
use crate::schema;
use signet_model::documents::{
    CreatedDocument, DeletedDocument, Document, DocumentChunk, DocumentQuery, FailedJob,
    IngestWrite, Ingested, LeasePolicy, LeasedJob, NewDocument,
};
use signet_model::sessions::{Checkpoint, CheckpointQuery, SessionMemory, SummaryJob};
use signet_model::{DocumentStore, JobQueue};

/// The SQLite store: one file, one writer, a few readers.
pub struct Store {
    pool: Pool,
    migration: MigrationReport,
    /// The in-memory keyword index in front of FTS5 (see [`crate::fulltext`]).
    pub(crate) fulltext: std::sync::Arc<crate::fulltext::FullText>,
}

impl Store {
    /// Opens (creating if needed) the database at `path` and migrates it.
    pub fn open(path: &Path, readers: usize) -> Result<Self> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let mut report = MigrationReport::default();
        let pool = Pool::open(path, readers, |c| {
            report = schema::migrate(c, path)?;
            Ok(())
        })?;
        let fulltext = crate::fulltext::FullText::start(path);
        pool.watch(fulltext.clone());
        Ok(Self {
            pool,
            migration: report,
            fulltext,
        })
    }

    /// The underlying connections, for repositories outside the memory domain.
    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// The in-memory keyword index: `(documents, bytes)` once built, `None` while it builds
    /// (FTS5 answers meanwhile) or when it is off.
    pub fn keyword_index(&self) -> Option<(u64, usize)> {
        self.fulltext.status()
    }
}

impl MemoryStore for Store {
    fn remember(
        &self,
        m: &NewMemory,
        opts: WriteOptions,
        actor: &Actor,
    ) -> Result<RememberOutcome> {
        let (m, actor) = (m.clone(), actor.clone());
        self.pool
            .write(move |tx| write::remember(tx, &m, opts, &actor))
    }
    fn remember_chunks(
        &self,
        g: &ChunkGroup,
        opts: WriteOptions,
        actor: &Actor,
        now: &str,
    ) -> Result<Vec<String>> {
        let (g, actor, now) = (g.clone(), actor.clone(), now.to_owned());
        self.pool
            .write(move |tx| write::remember_chunks(tx, &g, opts, &actor, &now))
    }
    fn live_detail(&self, id: &str) -> Result<Option<JsonRow>> {
        self.pool.read(|c| read::live_detail(c, id))
    }
    fn history(&self, id: &str, limit: i64) -> Result<Option<Vec<HistoryEvent>>> {
        self.pool.read(|c| {
            if !read::exists(c, id)? {
                return Ok(None);
            }
            read::history(c, id, limit).map(Some)
        })
    }
    fn list(
        &self,
        limit: i64,
        offset: i64,
        scope: &ScopeFilter,
        memory_type: Option<&str>,
    ) -> Result<(Vec<ListedMemoryItem>, MemoryListStats)> {
        self.pool
            .read(|c| read::list(c, limit, offset, scope, memory_type))
    }
    fn stats(&self) -> Result<MemoryListStats> {
        self.pool.read(|c| read::stats(c, &ScopeFilter::default()))
    }
    fn mutate(&self, m: Mutation) -> Result<MutationOutcome> {
        self.pool.write(move |tx| mutate::mutate(tx, &m))
    }
    fn keyword_search(
        &self,
        query: &KeywordQuery,
        filters: &RecallFilters,
        limit: usize,
    ) -> Result<Vec<KeywordHit>> {
        self.pool.check_external_if_idle();
        self.pool
            .read(|c| match self.fulltext.search(c, query, filters, limit)? {
                Some(hits) => Ok(hits),
                None => search::keyword_search(c, query, filters, limit),
            })
    }
    fn recall_rows(&self, keys: &[RowKey]) -> Result<Vec<RecallRow>> {
        self.pool.read(|c| read::recall_rows(c, keys))
    }
    fn touch_accessed(&self, counts: &[(String, u32)], now: &str) -> Result<()> {
        // A few hundred rows per transaction: the writer is free in between, so remembers
        // never queue behind one long write.
        for chunk in counts.chunks(write::TOUCH_CHUNK) {
            let (chunk, now) = (chunk.to_vec(), now.to_owned());
            self.pool
                .write_untracked(move |tx| write::touch_accessed(tx, &chunk, &now))?;
        }
        Ok(())
    }
    fn forget_candidates(&self, q: &CandidateQuery) -> Result<Vec<ForgetCandidate>> {
        self.pool.read(|c| search::forget_candidates(c, q))
    }
    fn legacy_search(&self, q: &LegacyQuery) -> Result<Vec<serde_json::Value>> {
        self.pool.read(|c| search::legacy_search(c, q))
    }
    fn distinct_who(&self) -> Result<Vec<String>> {
        self.pool.read(search::distinct_who)
    }
    fn filter_ids(&self, filters: &RecallFilters) -> Result<Vec<String>> {
        self.pool.read(|c| search::filter_ids(c, filters))
    }
    fn load_vectors(&self, model: &str, dims: usize) -> Result<Vec<StoredVector>> {
        self.pool.read(|c| embeddings::load_current(c, model, dims))
    }
    fn vector_of(&self, id: &str, model: &str, dims: usize) -> Result<Option<Vec<u8>>> {
        self.pool
            .read(|c| embeddings::vector_of(c, id, model, dims))
    }
    fn embedding_gaps(
        &self,
        model: &str,
        dims: usize,
        include_stale: bool,
        limit: usize,
    ) -> Result<Vec<EmbeddingJob>> {
        self.pool
            .read(|c| embeddings::gaps(c, model, dims, include_stale, limit))
    }
    fn embedding_gaps_after(
        &self,
        model: &str,
        dims: usize,
        include_stale: bool,
        limit: usize,
        after: Option<&str>,
        above: Option<i64>,
    ) -> Result<Vec<EmbeddingJob>> {
        self.pool
            .read(|c| embeddings::gaps_after(c, model, dims, include_stale, limit, after, above))
    }
    fn newest_position(&self) -> Result<Option<i64>> {
        self.pool.read(embeddings::newest_position)
    }
    fn save_embeddings(
        &self,
        items: &[(EmbeddingJob, Vec<u8>)],
        dims: usize,
        model: &str,
        now: &str,
    ) -> Result<Vec<bool>> {
        let (items, model, now) = (items.to_vec(), model.to_owned(), now.to_owned());
        self.pool.write(move |tx| {
            items
                .iter()
                .map(|(job, blob)| embeddings::save(tx, job, blob, dims, &model, &now))
                .collect()
        })
    }
    fn embedding_stats(&self, model: &str, dims: usize) -> Result<EmbeddingStats> {
        self.pool.read(|c| embeddings::stats(c, model, dims))
    }
    fn clean_orphan_embeddings(&self) -> Result<usize> {
        self.pool.write(embeddings::clean_orphans)
    }
    fn list_embeddings(
        &self,
        limit: usize,
        offset: usize,
        with_vectors: bool,
    ) -> Result<(Vec<memories::EmbeddingRow>, i64)> {
        self.pool
            .read(|c| embeddings::list(c, limit, offset, with_vectors))
    }
    fn ping(&self) -> Result<()> {
        self.pool.read(read::ping)
    }
    fn ops_counts(&self) -> Result<memories::OpsCounts> {
        self.pool.read(memories::ops::ops_counts)
    }
    fn mutation_signals(&self, since: &str) -> Result<memories::MutationSignals> {
        self.pool
            .read(|c| memories::ops::mutation_signals(c, since))
    }
    fn memory_scope(&self, id: &str) -> Result<Option<memories::MemoryScope>> {
        self.pool.read(|c| memories::ops::memory_scope(c, id))
    }
    fn record_feedback(&self, session_key: &str, ratings: &[(String, f64)]) -> Result<usize> {
        let (key, ratings) = (session_key.to_owned(), ratings.to_vec());
        self.pool
            .write(move |tx| memories::feedback::record(tx, &key, &ratings))
    }

    fn record_session_memories(&self, rows: &[SessionMemory]) -> Result<usize> {
        let rows = rows.to_vec();
        self.pool
            .write(move |tx| memories::sessions::record(tx, &rows))
    }

    fn enqueue_summary(&self, job: &SummaryJob) -> Result<String> {
        let job = job.clone();
        self.pool
            .write(move |tx| memories::sessions::enqueue(tx, &job))
    }

    fn checkpoints(&self, q: &CheckpointQuery) -> Result<Vec<Checkpoint>> {
        self.pool.read(|c| memories::sessions::checkpoints(c, q))
    }
}

impl Lifecycle for Store {
    fn migration(&self) -> &MigrationReport {
        &self.migration
    }
    fn integrity(&self) -> Result<IntegrityReport> {
        self.pool.read(|c| {
            let mut stmt = c.prepare("PRAGMA quick_check(100)")?;
            let lines = stmt.query_map([], |r| r.get::<_, String>(0))?;
            let problems: Vec<String> = lines
                .collect::<std::result::Result<Vec<_>, _>>()?
                .into_iter()
                .filter(|l| l != "ok")
                .collect();
            Ok(IntegrityReport {
                ok: problems.is_empty(),
                problems,
            })
        })
    }
    fn housekeep(&self, truncate_above: u64) -> Result<i64> {
        self.pool.checkpoint_background(truncate_above)
    }
    fn writes(&self) -> Option<u64> {
        Some(self.pool.writes())
    }
    fn checkpoint(&self) -> Result<()> {
        self.pool.checkpoint()
    }
}

impl JobQueue for Store {
    fn lease_job(&self, kind: &str, now: &str, policy: &LeasePolicy) -> Result<Option<LeasedJob>> {
        // An idle worker's poll finds nothing: asked on a reader, it takes no write lock.
        let found = self
            .pool
            .read(|c| documents::jobs::candidate(c, kind, now, policy))?;
        if found.is_none() {
            return Ok(None);
        }
        let (kind, now, policy) = (kind.to_owned(), now.to_owned(), *policy);
        self.pool
            .write(move |tx| documents::jobs::lease(tx, &kind, &now, &policy))
    }
    fn complete_job(&self, id: &str, result: Option<&str>, now: &str) -> Result<bool> {
        let (id, result, now) = (id.to_owned(), result.map(str::to_owned), now.to_owned());
        self.pool
            .write(move |tx| documents::jobs::complete(tx, &id, result.as_deref(), &now))
    }
    fn fail_job(&self, id: &str, error: &str, now: &str) -> Result<FailedJob> {
        let (id, error, now) = (id.to_owned(), error.to_owned(), now.to_owned());
        self.pool
            .write(move |tx| documents::jobs::fail(tx, &id, &error, &now))
    }
    fn recover_leases(&self, kind: &str, leased_before: &str, now: &str) -> Result<usize> {
        // The document worker asks at every tick; there is rarely a stale lease.
        if !self
            .pool
            .read(|c| documents::jobs::any_stale(c, kind, leased_before))?
        {
            return Ok(0);
        }
        let (kind, before, now) = (kind.to_owned(), leased_before.to_owned(), now.to_owned());
        self.pool
            .write(move |tx| documents::jobs::recover(tx, &kind, &before, &now))
    }
    fn release_orphans(&self, kind: &str, now: &str) -> Result<usize> {
        let (kind, now) = (kind.to_owned(), now.to_owned());
        self.pool
            .write(move |tx| documents::jobs::release_orphans(tx, &kind, &now))
    }
}

impl DocumentStore for Store {
    fn create_document(&self, d: &NewDocument) -> Result<CreatedDocument> {
        let d = d.clone();
        self.pool.write(move |tx| documents::create(tx, &d))
    }
    fn document(&self, id: &str) -> Result<Option<Document>> {
        self.pool.read(|c| documents::get(c, id))
    }
    fn documents(&self, q: &DocumentQuery) -> Result<(Vec<Document>, i64)> {
        self.pool.read(|c| documents::list(c, q))
    }
    fn document_chunks(&self, id: &str) -> Result<Option<Vec<DocumentChunk>>> {
        self.pool.read(|c| documents::chunks(c, id))
    }
    fn delete_document(
        &self,
        id: &str,
        reason: &str,
        actor: &Actor,
        now: &str,
    ) -> Result<Option<DeletedDocument>> {
        let (id, reason, actor, now) = (
            id.to_owned(),
            reason.to_owned(),
            actor.clone(),
            now.to_owned(),
        );
        self.pool
            .write(move |tx| documents::delete(tx, &id, &reason, &actor, &now))
    }
    fn write_ingest(&self, w: &IngestWrite) -> Result<Ingested> {
        let w = w.clone();
        self.pool.write(move |tx| documents::ingest(tx, &w))
    }
    fn fail_ingest(
        &self,
        document_id: &str,
        job_id: &str,
        error: &str,
        now: &str,
    ) -> Result<FailedJob> {
        let (doc, job, error, now) = (
            document_id.to_owned(),
            job_id.to_owned(),
            error.to_owned(),
            now.to_owned(),
        );
        self.pool
            .write(move |tx| documents::fail(tx, &doc, &job, &error, &now))
    }
}
