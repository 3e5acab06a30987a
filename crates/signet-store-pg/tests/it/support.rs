//! The test database: a scratch schema per test in the server `SIGNET_TEST_PG_URL` names.
//! Without that variable a test fails when `SIGNET_REQUIRE_ALL=1` (scripts/test.sh) and is
//! skipped, saying so, otherwise.

use postgres::{Client, NoTls};
use signet_model::conformance::{Fixtures, Harness};
use signet_model::memories::NewMemory;
use signet_model::sessions::{Checkpoint, SummaryJob};
use signet_model::{DocumentStore, Lifecycle, MaintenanceStore, MemoryStore, PipelineStore};
use signet_store_pg::{DatabaseUrl, PgConfig, PgStore};

/// The server's URL, or `None` (after saying why) when these tests cannot run here.
pub fn server_url() -> Option<DatabaseUrl> {
    url_from("SIGNET_TEST_PG_URL", "scripts/pg-temp.sh start DIR")
}

/// The pgvector server's URL (`SIGNET_TEST_PGVECTOR_URL`), as [`server_url`].
pub fn pgvector_url() -> Option<DatabaseUrl> {
    url_from(
        "SIGNET_TEST_PGVECTOR_URL",
        "PG_BIN=\"$(scripts/fetch-pgvector-server.sh)\" scripts/pg-temp.sh start DIR",
    )
}

/// The URL in `var`; unset, a failure under `SIGNET_REQUIRE_ALL=1` (scripts/test.sh) and a
/// skip, saying so, otherwise. `start` is the command that starts such a server.
fn url_from(var: &str, start: &str) -> Option<DatabaseUrl> {
    match std::env::var(var) {
        Ok(url) if !url.is_empty() => Some(DatabaseUrl::parse(&url).expect(var)),
        _ => {
            let why = format!(
                "{var} is not set: run scripts/test.sh, or start a server with {start} and \
                 export its URL"
            );
            if std::env::var("SIGNET_REQUIRE_ALL").is_ok_and(|v| v == "1") {
                panic!("{why}");
            }
            eprintln!("SKIPPED (PostgreSQL test): {why}");
            None
        }
    }
}

/// A fresh, empty scratch schema, dropped with everything in it when this is dropped.
pub struct Scratch {
    pub url: DatabaseUrl,
    pub schema: String,
}

impl Scratch {
    pub fn new() -> Option<Self> {
        let url = server_url()?;
        let schema = format!("t_{}", uuid::Uuid::new_v4().simple());
        Some(Self { url, schema })
    }

    /// The store configuration for this schema.
    pub fn config(&self, pool: usize) -> PgConfig {
        PgConfig {
            url: self.url.clone(),
            pool,
            schema: Some(self.schema.clone()),
        }
    }

    /// A plain client whose search path is the scratch schema (for looking behind the store).
    pub fn client(&self) -> Client {
        let mut config = self.url.config().expect("config");
        config.options(&format!("-c search_path={}", self.schema));
        config.connect(NoTls).expect("connect to the test server")
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if let Ok(mut c) = self.url.config().and_then(|c| {
            c.connect(NoTls)
                .map_err(|e| signet_model::StoreError::Backend(e.to_string()))
        }) {
            let _ = c.batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.schema));
        }
    }
}

/// A store on a fresh scratch schema, for the conformance suite.
pub struct PgHarness {
    // Field order: the store's connections close before the schema is dropped.
    pub store: PgStore,
    pub scratch: Scratch,
}

/// A fresh harness, or `None` when the server is not available (see [`server_url`]).
pub fn fresh() -> Option<PgHarness> {
    let scratch = Scratch::new()?;
    let store = PgStore::open(&scratch.config(2)).expect("open the PostgreSQL store");
    Some(PgHarness { store, scratch })
}

impl Harness for PgHarness {
    fn memory(&self) -> &dyn MemoryStore {
        &self.store
    }
    fn maintenance(&self) -> &dyn MaintenanceStore {
        &self.store
    }
    fn lifecycle(&self) -> &dyn Lifecycle {
        &self.store
    }
    fn documents(&self) -> &dyn DocumentStore {
        &self.store
    }
    fn pipeline(&self) -> &dyn PipelineStore {
        &self.store
    }
}

/// Set-up the traits have no method for, in SQL.
impl Fixtures for PgHarness {
    fn kill_jobs(&self, now: &str) {
        self.scratch
            .client()
            .execute(
                "UPDATE memory_jobs SET status = 'dead', failed_at = $1, updated_at = $1",
                &[&now],
            )
            .expect("kill jobs");
    }
    fn give_session_memory(&self, session_key: &str, memory_id: &str, now: &str) {
        self.scratch
            .client()
            .execute(
                "INSERT INTO session_memories (id, session_key, memory_id, source, final_score, \
                 rank, was_injected, created_at) VALUES ($1, $2, $3, 'test', 1.0, 0, true, $4)",
                &[
                    &uuid::Uuid::new_v4().to_string(),
                    &session_key,
                    &memory_id,
                    &now,
                ],
            )
            .expect("give a session memory");
    }
    fn session_feedback(&self, session_key: &str, memory_id: &str) -> Option<(Option<f64>, i64)> {
        self.scratch
            .client()
            .query_opt(
                "SELECT agent_relevance_score, COALESCE(agent_feedback_count, 0) \
                 FROM session_memories WHERE session_key = $1 AND memory_id = $2",
                &[&session_key, &memory_id],
            )
            .expect("session feedback")
            .map(|r| (r.get(0), r.get(1)))
    }
    fn summary_job(&self, id: &str) -> Option<(SummaryJob, String)> {
        self.scratch
            .client()
            .query_opt(
                "SELECT id, session_key, harness, project, transcript, created_at, status \
                 FROM summary_jobs WHERE id = $1",
                &[&id],
            )
            .expect("summary job")
            .map(|r| {
                let job = SummaryJob {
                    id: r.get(0),
                    session_key: r.get(1),
                    harness: r.get(2),
                    project: r.get(3),
                    transcript: r.get(4),
                    created_at: r.get(5),
                };
                (job, r.get(6))
            })
    }
    fn give_checkpoint(&self, c: &Checkpoint) {
        self.scratch
            .client()
            .execute(
                "INSERT INTO session_checkpoints (id, session_key, harness, project, \
                 project_normalized, trigger, digest, prompt_count, memory_queries, \
                 recent_remembers, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                &[
                    &c.id,
                    &c.session_key,
                    &c.harness,
                    &c.project,
                    &c.project_normalized,
                    &c.trigger,
                    &c.digest,
                    &c.prompt_count,
                    &c.memory_queries,
                    &c.recent_remembers,
                    &c.created_at,
                ],
            )
            .expect("give a checkpoint");
    }
    fn cold_reasons(&self, memory_id: &str) -> Vec<String> {
        let rows = self.scratch.client().query(
            "SELECT archived_reason FROM memories_cold WHERE memory_id = $1 \
             ORDER BY archived_at, seq",
            &[&memory_id],
        );
        let rows = rows.expect("cold reasons");
        rows.iter().map(|r| r.get(0)).collect()
    }
    fn entity(&self, canonical: &str) -> Option<(i64, String)> {
        let row = self.scratch.client().query_opt(
            "SELECT COALESCE(mentions, 0), entity_type FROM entities WHERE canonical_name = $1",
            &[&canonical],
        );
        row.expect("entity").map(|r| (r.get(0), r.get(1)))
    }
    fn session_summary(&self, session_key: &str) -> Option<(String, String, i64, Vec<String>)> {
        let mut c = self.scratch.client();
        let row = c
            .query_opt(
                "SELECT id, content, token_count FROM session_summaries \
                 WHERE session_key = $1 AND depth = 0 AND kind = 'session'",
                &[&session_key],
            )
            .expect("session summary")?;
        let id: String = row.get(0);
        let linked = c
            .query(
                "SELECT memory_id FROM session_summary_memories WHERE summary_id = $1 \
                 ORDER BY memory_id COLLATE \"C\"",
                &[&id],
            )
            .expect("linked memories")
            .iter()
            .map(|r| r.get(0))
            .collect();
        Some((id, row.get(1), row.get(2), linked))
    }
    fn pin_entity(&self, canonical: &str) {
        self.exec(
            "UPDATE entities SET pinned = true, pinned_at = updated_at WHERE canonical_name = $1",
            &[&canonical],
        );
    }
    fn give_aspect(&self, canonical: &str, attribute: bool) {
        self.exec(
            "INSERT INTO entity_aspects (id, entity_id, name, canonical_name) \
             SELECT 'aspect:' || id, id, 'Role', 'role' FROM entities WHERE canonical_name = $1",
            &[&canonical],
        );
        if attribute {
            self.exec(
                "INSERT INTO entity_attributes (id, aspect_id, kind, content, normalized_content) \
                 SELECT 'attribute:' || id, 'aspect:' || id, 'attribute', 'maintainer', \
                   'maintainer' FROM entities WHERE canonical_name = $1",
                &[&canonical],
            );
        }
    }
    fn give_stub_attribute(&self, memory_id: &str) {
        self.exec(
            "INSERT INTO entity_attributes (id, aspect_id, memory_id, kind, content, \
               normalized_content) VALUES ('stub:' || $1, NULL, $1, 'attribute', 'stub', 'stub')",
            &[&memory_id],
        );
    }
    fn give_cold(
        &self,
        memory_id: &str,
        reason: Option<&str>,
        archived_at: &str,
        content: &str,
        row_json: Option<&str>,
    ) {
        self.exec(
            "INSERT INTO memories_cold (archive_id, memory_id, content, original_created_at, \
               archived_at, archived_reason, original_row_json) \
             VALUES ('cold:' || $1, $1, $2, $3, $3, $4, $5)",
            &[&memory_id, &content, &archived_at, &reason, &row_json],
        );
    }
}

impl PgHarness {
    fn exec(&self, sql: &str, params: &[&(dyn postgres::types::ToSql + Sync)]) {
        let mut client = self.scratch.client();
        client.execute(sql, params).expect(sql);
    }
}

/// A plain memory for these tests: type `fact`, no tags, `who` = `tester`, importance 0.5, its
/// hash made from its id, written at `created_at`.
pub fn memory(id: &str, content: &str, created_at: &str) -> NewMemory {
    NewMemory {
        id: id.into(),
        content: content.into(),
        normalized_content: content.to_lowercase(),
        content_hash: format!("hash-{id}"),
        memory_type: "fact".into(),
        tags: None,
        who: "tester".into(),
        why: "test".into(),
        project: None,
        importance: 0.5,
        pinned: false,
        source_type: "manual".into(),
        source_id: None,
        extraction_status: "none".into(),
        created_at: created_at.into(),
        scope_user: None,
    }
}
