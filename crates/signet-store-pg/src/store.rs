//! [`PgStore`], the PostgreSQL implementation of signet-model's store traits: opening (connect,
//! schema, migrations) and [`MemoryStore`] + [`Lifecycle`], each method one statement or one
//! transaction on a pooled connection.

use signet_model::memories::{
    Actor, CandidateQuery, ChunkGroup, EmbeddingJob, EmbeddingRow, EmbeddingStats, ForgetCandidate,
    HistoryEvent, KeywordHit, LegacyQuery, ListedMemoryItem, MemoryListStats, MemoryScope,
    Mutation, MutationOutcome, MutationSignals, NewMemory, OpsCounts, RecallFilters, RecallRow,
    RememberOutcome, RowKey, ScopeFilter, StoredVector, WriteOptions,
};
use signet_model::sessions::{Checkpoint, CheckpointQuery, SessionMemory, SummaryJob};
use signet_model::{
    IntegrityReport, JsonRow, KeywordQuery, Lifecycle, MemoryStore, MigrationReport, Result,
    StoreError,
};

use crate::capability::{PgvectorMode, VectorCapability};
use crate::error::PgResultExt;
use crate::memories::{embeddings, mutate, read, search, sessions, write};
use crate::pgvector::Pgvector;
use crate::pool::Pool;
use crate::schema;
use crate::url::DatabaseUrl;

/// How to reach the database: what `storage:` in `agent.yaml` (or `SIGNET_DATABASE_URL`) says.
#[derive(Debug, Clone)]
pub struct PgConfig {
    /// The server and database; its password may be an `$ENV` reference.
    pub url: DatabaseUrl,
    /// How many connections this node keeps open.
    pub pool: usize,
    /// The schema holding Signet's tables (created if missing); `None`: the server's default
    /// search path (normally `public`). Several workspaces can share a database this way, and
    /// the tests give every check a scratch schema.
    pub schema: Option<String>,
}

impl PgConfig {
    /// A configuration with the default pool size (8) and schema.
    pub fn new(url: DatabaseUrl) -> Self {
        Self {
            url,
            pool: 8,
            schema: None,
        }
    }
}

/// A Signet store in a PostgreSQL database.
pub struct PgStore {
    pool: Pool,
    /// This node's id: its connections' `application_name` and its leases' `leased_by`.
    node: String,
    migration: MigrationReport,
    /// The vector path decided at open (`storage.pgvector`).
    capability: VectorCapability,
    /// The pgvector search, when the database serves vectors itself.
    pgvector: Option<Pgvector>,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore")
            .field("pool", &self.pool.size())
            .field("schema_version", &self.migration.to_version)
            .finish()
    }
}

impl PgStore {
    /// Connects (`config.pool` connections), creates the schema if one is named, and migrates
    /// it; uses pgvector where it can (`storage.pgvector: auto`). Errors name the URL with its
    /// password redacted.
    pub fn open(config: &PgConfig) -> Result<Self> {
        Self::open_with(config, PgvectorMode::Auto)
    }

    /// [`PgStore::open`], with the vector path chosen by `pgvector` (see [`PgvectorMode`]).
    pub fn open_with(config: &PgConfig, pgvector: PgvectorMode) -> Result<Self> {
        let mut client_config = config.url.config()?;
        let node = crate::node::new_id();
        client_config.application_name(&format!("{}{node}", crate::node::APPLICATION_PREFIX));
        // UTC: the legacy search's day arithmetic reads stored timestamps as UTC.
        let mut options = String::from("-c TimeZone=UTC");
        if let Some(schema) = &config.schema {
            check_schema_name(schema)?;
            options.push_str(&format!(" -c search_path={schema}"));
        }
        client_config.options(&options);
        let pool = Pool::open(client_config, config.pool).map_err(|e| at(&config.url, e))?;
        if let Some(schema) = &config.schema {
            pool.tx(|tx| {
                tx.execute(
                    "SELECT pg_advisory_xact_lock($1)",
                    &[&schema::MIGRATION_LOCK],
                )
                .pg()?;
                tx.batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS \"{schema}\""))
                    .pg()
            })?;
        }
        let migration = pool.with(schema::migrate)?;
        let (capability, pgvector) = crate::capability::prepare(&pool, pgvector)?;
        Ok(Self {
            pool,
            node,
            migration,
            capability,
            pgvector,
        })
    }

    /// Connects to a database that Signet already migrated, read-only: no schema is created, no
    /// migration runs, and every transaction is `READ ONLY` (`signet doctor`). A database that
    /// was never migrated, or is newer than this build, is refused (`Schema`).
    pub fn open_existing(config: &PgConfig) -> Result<Self> {
        let mut client_config = config.url.config()?;
        let node = crate::node::new_id();
        client_config.application_name(&format!("signet-doctor/{node}"));
        let mut options = String::from("-c TimeZone=UTC -c default_transaction_read_only=on");
        if let Some(schema) = &config.schema {
            check_schema_name(schema)?;
            options.push_str(&format!(" -c search_path={schema}"));
        }
        client_config.options(&options);
        let pool = Pool::open(client_config, config.pool.max(1)).map_err(|e| at(&config.url, e))?;
        let version = pool.with(schema::recorded)?;
        let place = config.schema.as_deref().map_or_else(
            || "the search path".to_owned(),
            |s| format!("storage.schema `{s}`"),
        );
        if version == 0 {
            return Err(StoreError::Schema(format!(
                "{place} of {} holds no Signet tables (not a Signet database, or never migrated: \
                 the daemon migrates it on start)",
                config.url
            )));
        }
        if version > schema::latest() {
            return Err(StoreError::Schema(format!(
                "the database is at schema version {version}, newer than this build's {}; \
                 upgrade signet",
                schema::latest()
            )));
        }
        // A read-only diagnosis searches no vectors: what the catalogs say, nothing set up.
        let capability = pool.with(VectorCapability::detect)?;
        Ok(Self {
            pool,
            node,
            migration: MigrationReport {
                from_version: version,
                to_version: version,
                ..MigrationReport::default()
            },
            capability,
            pgvector: None,
        })
    }

    /// The nodes (daemons) connected to this database now, by id (`pg_stat_activity`). Every
    /// schema's: the server does not say which schema a connection uses.
    pub fn connected_nodes(&self) -> Result<Vec<String>> {
        self.pool.with(|c| {
            let rows = c
                .query(
                    "SELECT DISTINCT substr(application_name, $1) FROM pg_stat_activity \
                     WHERE datname = current_database() AND application_name LIKE $2 ORDER BY 1",
                    &[
                        &(crate::node::APPLICATION_PREFIX.len() as i32 + 1),
                        &format!("{}%", crate::node::APPLICATION_PREFIX),
                    ],
                )
                .pg()?;
            Ok(rows.iter().map(|r| r.get(0)).collect())
        })
    }

    /// The vector path decided at open.
    pub(crate) fn capability(&self) -> &VectorCapability {
        &self.capability
    }

    /// The pgvector search, when in use.
    pub(crate) fn pgvector(&self) -> Option<&Pgvector> {
        self.pgvector.as_ref()
    }

    /// The connections, for the repositories outside the memory domain.
    pub(crate) fn pool(&self) -> &Pool {
        &self.pool
    }

    /// This node's id (made at open; see `node`).
    pub fn node(&self) -> &str {
        &self.node
    }
}

/// Says which database an error came from, with the password redacted.
fn at(url: &DatabaseUrl, e: StoreError) -> StoreError {
    match e {
        StoreError::Backend(m) => StoreError::Backend(format!("{m} (connecting to {url})")),
        other => other,
    }
}

/// A schema name is an unquoted identifier: lower-case letters, digits and `_`.
fn check_schema_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 63
        && name.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(StoreError::Invalid(format!(
            "storage.schema: `{name}` is not a schema name (lower-case letters, digits, _)"
        )))
    }
}

impl MemoryStore for PgStore {
    fn remember(
        &self,
        m: &NewMemory,
        opts: WriteOptions,
        actor: &Actor,
    ) -> Result<RememberOutcome> {
        self.pool.tx(|tx| write::remember(tx, m, opts, actor))
    }
    fn remember_chunks(
        &self,
        g: &ChunkGroup,
        opts: WriteOptions,
        actor: &Actor,
        now: &str,
    ) -> Result<Vec<String>> {
        self.pool
            .tx(|tx| write::remember_chunks(tx, g, opts, actor, now))
    }
    fn live_detail(&self, id: &str) -> Result<Option<JsonRow>> {
        self.pool.with(|c| read::live_detail(c, id))
    }
    fn history(&self, id: &str, limit: i64) -> Result<Option<Vec<HistoryEvent>>> {
        self.pool.tx(|tx| {
            if !read::exists(tx, id)? {
                return Ok(None);
            }
            read::history(tx, id, limit).map(Some)
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
            .tx(|tx| read::list(tx, limit, offset, scope, memory_type))
    }
    fn stats(&self) -> Result<MemoryListStats> {
        self.pool.with(|c| read::stats(c, &ScopeFilter::default()))
    }
    fn mutate(&self, m: Mutation) -> Result<MutationOutcome> {
        self.pool.tx(|tx| mutate::mutate(tx, &m))
    }
    fn keyword_search(
        &self,
        query: &KeywordQuery,
        filters: &RecallFilters,
        limit: usize,
    ) -> Result<Vec<KeywordHit>> {
        self.pool
            .with(|c| search::keyword_search(c, query, filters, limit))
    }
    fn recall_rows(&self, keys: &[RowKey]) -> Result<Vec<RecallRow>> {
        // Positions are SQLite's rowids: PostgreSQL looks every key up by id.
        let ids: Vec<String> = keys.iter().map(|k| k.id.clone()).collect();
        self.pool.with(|c| read::recall_rows(c, &ids))
    }
    fn touch_accessed(&self, counts: &[(String, u32)], now: &str) -> Result<()> {
        if counts.is_empty() {
            return Ok(());
        }
        self.pool.with(|c| write::touch_accessed(c, counts, now))
    }
    fn forget_candidates(&self, q: &CandidateQuery) -> Result<Vec<ForgetCandidate>> {
        self.pool.with(|c| search::forget_candidates(c, q))
    }
    fn legacy_search(&self, q: &LegacyQuery) -> Result<Vec<serde_json::Value>> {
        self.pool.with(|c| search::legacy_search(c, q))
    }
    fn distinct_who(&self) -> Result<Vec<String>> {
        self.pool.with(read::distinct_who)
    }
    fn filter_ids(&self, filters: &RecallFilters) -> Result<Vec<String>> {
        self.pool.with(|c| search::filter_ids(c, filters))
    }
    fn load_vectors(&self, model: &str, dims: usize) -> Result<Vec<StoredVector>> {
        self.pool.with(|c| embeddings::load_current(c, model, dims))
    }
    fn vector_of(&self, id: &str, model: &str, dims: usize) -> Result<Option<Vec<u8>>> {
        self.pool
            .with(|c| embeddings::vector_of(c, id, model, dims))
    }
    fn embedding_gaps(
        &self,
        model: &str,
        dims: usize,
        include_stale: bool,
        limit: usize,
    ) -> Result<Vec<EmbeddingJob>> {
        self.pool
            .with(|c| embeddings::gaps(c, model, dims, include_stale, limit))
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
            .with(|c| embeddings::gaps_after(c, model, dims, include_stale, limit, after, above))
    }
    // `newest_position` stays the trait's `None`: a `seq` is taken at insert, and transactions
    // commit out of that order, so a memory committed after a newer one was read could sit
    // below the position read. Every pass is whole on PostgreSQL.
    fn save_embeddings(
        &self,
        items: &[(EmbeddingJob, Vec<u8>)],
        dims: usize,
        model: &str,
        now: &str,
    ) -> Result<Vec<bool>> {
        let saved = self.pool.tx(|tx| {
            items
                .iter()
                .map(|(job, blob)| embeddings::save(tx, job, blob, dims, model, now))
                .collect()
        })?;
        // The first vectors of a dimension count get their index (a no-op once made).
        if let Some(p) = &self.pgvector
            && let Err(e) = p.ensure_index(&self.pool, dims)
        {
            tracing::warn!(target: "storage", dims, error = %e, "making the pgvector index");
        }
        Ok(saved)
    }
    fn embedding_stats(&self, model: &str, dims: usize) -> Result<EmbeddingStats> {
        self.pool.tx(|tx| embeddings::stats(tx, model, dims))
    }
    fn clean_orphan_embeddings(&self) -> Result<usize> {
        self.pool.with(embeddings::clean_orphans)
    }
    fn list_embeddings(
        &self,
        limit: usize,
        offset: usize,
        with_vectors: bool,
    ) -> Result<(Vec<EmbeddingRow>, i64)> {
        self.pool
            .tx(|tx| embeddings::list(tx, limit, offset, with_vectors))
    }
    fn ping(&self) -> Result<()> {
        self.pool
            .with(|c| c.simple_query("SELECT 1").pg().map(drop))
    }
    fn ops_counts(&self) -> Result<OpsCounts> {
        self.pool.tx(|tx| read::ops_counts(tx))
    }
    fn mutation_signals(&self, since: &str) -> Result<MutationSignals> {
        self.pool.with(|c| read::mutation_signals(c, since))
    }
    fn memory_scope(&self, id: &str) -> Result<Option<MemoryScope>> {
        self.pool.with(|c| read::memory_scope(c, id))
    }
    fn record_feedback(&self, session_key: &str, ratings: &[(String, f64)]) -> Result<usize> {
        self.pool
            .tx(|tx| sessions::feedback(tx, session_key, ratings))
    }
    fn record_session_memories(&self, rows: &[SessionMemory]) -> Result<usize> {
        self.pool.tx(|tx| sessions::record(tx, rows))
    }
    fn enqueue_summary(&self, job: &SummaryJob) -> Result<String> {
        self.pool.tx(|tx| sessions::enqueue(tx, job))
    }
    fn checkpoints(&self, q: &CheckpointQuery) -> Result<Vec<Checkpoint>> {
        self.pool.with(|c| sessions::checkpoints(c, q))
    }
    /// Several nodes share this database: they follow each other through the change
    /// sequence (`changes`).
    fn change_feed(&self) -> Option<&dyn signet_model::ChangeFeed> {
        Some(self)
    }
    /// Where the database has pgvector (and `storage.pgvector` allows it), it searches the
    /// vectors itself (`pgvector`).
    fn vector_search(&self) -> Option<&dyn signet_model::VectorSearch> {
        self.pgvector
            .as_ref()
            .map(|_| self as &dyn signet_model::VectorSearch)
    }
}

/// What the integrity check finds: the schema is at this build's version, and the keyword
/// index column agrees with the content of a sample of rows. (PostgreSQL checksums its own
/// pages when the cluster has them; `amcheck` is an extension a server may not have.)
pub(crate) fn integrity_problems(c: &mut impl postgres::GenericClient) -> Result<Vec<String>> {
    let mut problems = Vec::new();
    let version: i64 = c
        .query_one(
            "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
            &[],
        )
        .pg()?
        .get(0);
    if version != schema::latest() {
        problems.push(format!(
            "schema version {version}, this build expects {}",
            schema::latest()
        ));
    }
    let stale: i64 = c
        .query_one(
            "SELECT count(*) FROM (SELECT tsv, content FROM memories LIMIT 1000) s \
             WHERE s.tsv IS DISTINCT FROM to_tsvector('simple', signet_fts_text(s.content))",
            &[],
        )
        .pg()?
        .get(0);
    if stale > 0 {
        problems.push(format!(
            "{stale} keyword index entries differ from their content"
        ));
    }
    Ok(problems)
}

impl Lifecycle for PgStore {
    fn migration(&self) -> &MigrationReport {
        &self.migration
    }
    /// PostgreSQL checksums its pages itself (when the cluster has them); this checks what
    /// the store relies on: the schema is at this build's version and the keyword index's
    /// column agrees with the content of a sample of rows.
    fn integrity(&self) -> Result<IntegrityReport> {
        let problems = self.pool.with(integrity_problems)?;
        Ok(IntegrityReport {
            ok: problems.is_empty(),
            problems,
        })
    }
    /// The server vacuums and checkpoints by itself: nothing to do.
    fn housekeep(&self, _truncate_above: u64) -> Result<i64> {
        Ok(0)
    }
    /// Every acknowledged write is committed (and so durable) already.
    fn checkpoint(&self) -> Result<()> {
        Ok(())
    }
}
