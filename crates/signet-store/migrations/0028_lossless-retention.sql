-- Upstream v28 "lossless-retention" (Signet 0.58.1). Released: never edit.
-- Object text is byte-for-byte upstream's, as stored in sqlite_master; IF NOT EXISTS is
-- stripped by SQLite when it stores the text. Index statements keep any whitespace before
-- their ';', because SQLite stores an index's text up to the end of the statement.

CREATE TABLE IF NOT EXISTS memories_cold (
			archive_id TEXT PRIMARY KEY,
			memory_id TEXT NOT NULL,
			type TEXT DEFAULT 'fact',
			category TEXT,
			content TEXT NOT NULL,
			confidence REAL DEFAULT 1.0,
			importance REAL DEFAULT 0.5,
			source_id TEXT,
			source_type TEXT,
			tags TEXT,
			who TEXT,
			why TEXT,
			project TEXT,
			content_hash TEXT,
			normalized_content TEXT,
			extraction_status TEXT,
			embedding_model TEXT,
			extraction_model TEXT,
			update_count INTEGER DEFAULT 0,
			original_created_at TEXT NOT NULL,
			archived_at TEXT NOT NULL,
			archived_reason TEXT,
			cold_source_id TEXT,
			agent_id TEXT NOT NULL DEFAULT 'default',
			original_row_json TEXT
		);
CREATE INDEX IF NOT EXISTS idx_cold_memory_id ON memories_cold(memory_id);
CREATE INDEX IF NOT EXISTS idx_cold_agent ON memories_cold(agent_id);
CREATE INDEX IF NOT EXISTS idx_cold_project ON memories_cold(project);
CREATE INDEX IF NOT EXISTS idx_cold_archived_at ON memories_cold(archived_at);
CREATE INDEX IF NOT EXISTS idx_cold_source ON memories_cold(cold_source_id);
