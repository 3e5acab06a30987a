//! signet-model's conformance suite against the SQLite [`Store`]: one `#[test]` per rule of the
//! store contract, each on a fresh database file in its own temporary directory.

use signet_model::conformance::{Fixtures, Harness};
use signet_model::sessions::{Checkpoint, SummaryJob};
use signet_store::{DocumentStore, Lifecycle, MaintenanceStore, MemoryStore, PipelineStore, Store};
use tempfile::TempDir;

/// A fresh store over a temporary file; the directory goes when the test ends.
struct TempStore {
    store: Store,
    _dir: TempDir,
}

fn fresh() -> TempStore {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("memory").join("memories.db"), 2).unwrap();
    TempStore { store, _dir: dir }
}

impl Harness for TempStore {
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

impl Fixtures for TempStore {
    fn kill_jobs(&self, now: &str) {
        let now = now.to_owned();
        self.store
            .pool()
            .write(move |tx| {
                tx.execute(
                    "UPDATE memory_jobs SET status = 'dead', failed_at = ?1, updated_at = ?1",
                    [&now],
                )?;
                Ok(())
            })
            .unwrap();
    }

    fn give_session_memory(&self, session_key: &str, memory_id: &str, now: &str) {
        let row = (session_key.to_owned(), memory_id.to_owned(), now.to_owned());
        self.store
            .pool()
            .write(move |tx| {
                tx.execute(
                    "INSERT INTO session_memories (id, session_key, memory_id, source, \
                       final_score, rank, was_injected, created_at) \
                     VALUES (?1 || ':' || ?2, ?1, ?2, 'effective', 0.5, 0, 1, ?3)",
                    [&row.0, &row.1, &row.2],
                )?;
                Ok(())
            })
            .unwrap();
    }

    fn session_feedback(&self, session_key: &str, memory_id: &str) -> Option<(Option<f64>, i64)> {
        self.store
            .pool()
            .read(|c| {
                let row = c.query_row(
                    "SELECT agent_relevance_score, COALESCE(agent_feedback_count, 0) \
                     FROM session_memories WHERE session_key = ?1 AND memory_id = ?2",
                    [session_key, memory_id],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                );
                match row {
                    Ok(v) => Ok(Some(v)),
                    Err(rusqlite::Error::QueryReturnedNoRows) => Ok(None),
                    Err(e) => Err(e.into()),
                }
            })
            .unwrap()
    }

    fn summary_job(&self, id: &str) -> Option<(SummaryJob, String)> {
        self.store
            .pool()
            .read(|c| {
                let row = c.query_row(
                    "SELECT id, session_key, harness, project, transcript, created_at, status \
                     FROM summary_jobs WHERE id = ?1",
                    [id],
                    |r| {
                        let job = SummaryJob {
                            id: r.get(0)?,
                            session_key: r.get(1)?,
                            harness: r.get(2)?,
                            project: r.get(3)?,
                            transcript: r.get(4)?,
                            created_at: r.get(5)?,
                        };
                        Ok((job, r.get(6)?))
                    },
                );
                match row {
                    Ok(v) => Ok(Some(v)),
                    Err(rusqlite::Error::QueryReturnedNoRows) => Ok(None),
                    Err(e) => Err(e.into()),
                }
            })
            .unwrap()
    }

    fn cold_reasons(&self, memory_id: &str) -> Vec<String> {
        self.column(
            "SELECT archived_reason FROM memories_cold WHERE memory_id = ?1 \
             ORDER BY archived_at, rowid",
            memory_id,
        )
    }

    fn entity(&self, canonical: &str) -> Option<(i64, String)> {
        self.row(
            "SELECT COALESCE(mentions, 0), entity_type FROM entities WHERE canonical_name = ?1",
            &[&canonical],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
    }

    fn session_summary(&self, session_key: &str) -> Option<(String, String, i64, Vec<String>)> {
        let (id, content, tokens): (String, String, i64) = self.row(
            "SELECT id, content, token_count FROM session_summaries \
             WHERE session_key = ?1 AND depth = 0 AND kind = 'session'",
            &[&session_key],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?;
        let linked = self.column(
            "SELECT memory_id FROM session_summary_memories WHERE summary_id = ?1 \
             ORDER BY memory_id",
            &id,
        );
        Some((id, content, tokens, linked))
    }

    fn pin_entity(&self, canonical: &str) {
        self.exec(
            "UPDATE entities SET pinned = 1, pinned_at = updated_at WHERE canonical_name = ?1",
            vec![Some(canonical.to_owned())],
        );
    }

    fn give_aspect(&self, canonical: &str, attribute: bool) {
        self.exec(
            "INSERT INTO entity_aspects (id, entity_id, name, canonical_name) \
             SELECT 'aspect:' || id, id, 'Role', 'role' FROM entities WHERE canonical_name = ?1",
            vec![Some(canonical.to_owned())],
        );
        if attribute {
            self.exec(
                "INSERT INTO entity_attributes (id, aspect_id, kind, content, normalized_content) \
                 SELECT 'attribute:' || id, 'aspect:' || id, 'attribute', 'maintainer', \
                   'maintainer' FROM entities WHERE canonical_name = ?1",
                vec![Some(canonical.to_owned())],
            );
        }
    }

    fn give_stub_attribute(&self, memory_id: &str) {
        self.exec(
            "INSERT INTO entity_attributes (id, aspect_id, memory_id, kind, content, \
               normalized_content) VALUES ('stub:' || ?1, NULL, ?1, 'attribute', 'stub', 'stub')",
            vec![Some(memory_id.to_owned())],
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
             VALUES ('cold:' || ?1, ?1, ?2, ?3, ?3, ?4, ?5)",
            vec![
                Some(memory_id.to_owned()),
                Some(content.to_owned()),
                Some(archived_at.to_owned()),
                reason.map(str::to_owned),
                row_json.map(str::to_owned),
            ],
        );
    }

    fn give_checkpoint(&self, cp: &Checkpoint) {
        let cp = cp.clone();
        self.store
            .pool()
            .write(move |tx| {
                tx.execute(
                    "INSERT INTO session_checkpoints (id, session_key, harness, project, \
                       project_normalized, trigger, digest, prompt_count, memory_queries, \
                       recent_remembers, created_at) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                    rusqlite::params![
                        cp.id,
                        cp.session_key,
                        cp.harness,
                        cp.project,
                        cp.project_normalized,
                        cp.trigger,
                        cp.digest,
                        cp.prompt_count,
                        cp.memory_queries,
                        cp.recent_remembers,
                        cp.created_at,
                    ],
                )?;
                Ok(())
            })
            .unwrap();
    }
}

impl TempStore {
    /// Runs one write statement with `params`.
    fn exec(&self, sql: &'static str, params: Vec<Option<String>>) {
        self.store
            .pool()
            .write(move |tx| {
                tx.execute(sql, rusqlite::params_from_iter(params))?;
                Ok(())
            })
            .unwrap();
    }

    /// Reads one row with `sql` (`None`: no row).
    fn row<T>(
        &self,
        sql: &str,
        params: &[&dyn rusqlite::ToSql],
        f: impl FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> Option<T> {
        self.store
            .pool()
            .read(|c| match c.query_row(sql, params, f) {
                Ok(v) => Ok(Some(v)),
                Err(rusqlite::Error::QueryReturnedNoRows) => Ok(None),
                Err(e) => Err(e.into()),
            })
            .unwrap()
    }

    /// The first column of every row of `sql`.
    fn column(&self, sql: &str, param: &str) -> Vec<String> {
        self.store
            .pool()
            .read(|c| {
                let mut stmt = c.prepare(sql)?;
                let rows = stmt.query_map([param], |r| r.get(0))?;
                Ok(rows.collect::<rusqlite::Result<_>>()?)
            })
            .unwrap()
    }
}

signet_model::conformance_tests!(fresh());
