-- Upstream v30 "nullable-memory-job-memory-id" (Signet 0.58.1). Released: never edit.
-- Object text is byte-for-byte upstream's, as stored in sqlite_master; IF NOT EXISTS is
-- stripped by SQLite when it stores the text. Index statements keep any whitespace before
-- their ';', because SQLite stores an index's text up to the end of the statement.

-- The table rebuild itself (memory_id NOT NULL -> nullable) is memory_jobs_rebuild.sql, run
-- by the Rust hook only when needed. These are the four indexes as upstream leaves them
-- after v30: none is partial any more.
CREATE INDEX IF NOT EXISTS idx_memory_jobs_status
			ON memory_jobs(status);
CREATE INDEX IF NOT EXISTS idx_memory_jobs_memory_id
			ON memory_jobs(memory_id);
CREATE INDEX IF NOT EXISTS idx_memory_jobs_completed_at
			ON memory_jobs(completed_at);
CREATE INDEX IF NOT EXISTS idx_memory_jobs_failed_at
			ON memory_jobs(failed_at);
