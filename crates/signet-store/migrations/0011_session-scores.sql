-- Upstream v11 "session-scores" (Signet 0.58.1). Released: never edit.
-- Object text is byte-for-byte upstream's, as stored in sqlite_master; IF NOT EXISTS is
-- stripped by SQLite when it stores the text. Index statements keep any whitespace before
-- their ';', because SQLite stores an index's text up to the end of the statement.

CREATE TABLE IF NOT EXISTS session_scores (
			id TEXT PRIMARY KEY,
			session_key TEXT NOT NULL,
			project TEXT,
			harness TEXT,
			score REAL NOT NULL,
			memories_recalled INTEGER,
			memories_used INTEGER,
			novel_context_count INTEGER,
			reasoning TEXT,
			created_at TEXT NOT NULL
		, confidence REAL, continuity_reasoning TEXT);
CREATE INDEX IF NOT EXISTS idx_session_scores_project
			ON session_scores(project, created_at);
CREATE INDEX IF NOT EXISTS idx_session_scores_session
			ON session_scores(session_key);
