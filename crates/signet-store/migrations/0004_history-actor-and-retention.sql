-- Upstream v4 "history-actor-and-retention" (Signet 0.58.1). Released: never edit.
-- Object text is byte-for-byte upstream's, as stored in sqlite_master; IF NOT EXISTS is
-- stripped by SQLite when it stores the text. Index statements keep any whitespace before
-- their ';', because SQLite stores an index's text up to the end of the statement.

CREATE INDEX IF NOT EXISTS idx_memories_deleted_at
			ON memories(deleted_at)
			WHERE is_deleted = 1;
CREATE INDEX IF NOT EXISTS idx_memory_history_created_at
			ON memory_history(created_at);
CREATE INDEX IF NOT EXISTS idx_memory_jobs_completed_at
			ON memory_jobs(completed_at);
CREATE INDEX IF NOT EXISTS idx_memory_jobs_failed_at
			ON memory_jobs(failed_at);
