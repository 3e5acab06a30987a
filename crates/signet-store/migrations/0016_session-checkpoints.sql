-- Upstream v16 "session-checkpoints" (Signet 0.58.1). Released: never edit.
-- Object text is byte-for-byte upstream's, as stored in sqlite_master; IF NOT EXISTS is
-- stripped by SQLite when it stores the text. Index statements keep any whitespace before
-- their ';', because SQLite stores an index's text up to the end of the statement.

CREATE TABLE IF NOT EXISTS session_checkpoints (
			id TEXT PRIMARY KEY,
			session_key TEXT NOT NULL,
			harness TEXT NOT NULL,
			project TEXT,
			project_normalized TEXT,
			trigger TEXT NOT NULL,
			digest TEXT NOT NULL,
			prompt_count INTEGER NOT NULL,
			memory_queries TEXT,
			recent_remembers TEXT,
			created_at TEXT NOT NULL
		, focal_entity_ids TEXT, focal_entity_names TEXT, active_aspect_ids TEXT, surfaced_constraint_count INTEGER, traversal_memory_count INTEGER);
CREATE INDEX IF NOT EXISTS idx_checkpoints_session
			ON session_checkpoints(session_key, created_at DESC);
CREATE INDEX IF NOT EXISTS idx_checkpoints_project
			ON session_checkpoints(project_normalized, created_at DESC);
