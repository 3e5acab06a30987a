-- Upstream v1 "baseline" (Signet 0.58.1). Released: never edit.
-- Object text is byte-for-byte upstream's, as stored in sqlite_master; IF NOT EXISTS is
-- stripped by SQLite when it stores the text. Index statements keep any whitespace before
-- their ';', because SQLite stores an index's text up to the end of the statement.

CREATE TABLE IF NOT EXISTS conversations (
			id TEXT PRIMARY KEY,
			session_id TEXT NOT NULL,
			harness TEXT NOT NULL,
			started_at TEXT NOT NULL,
			ended_at TEXT,
			summary TEXT,
			topics TEXT,
			decisions TEXT,
			created_at TEXT NOT NULL,
			updated_at TEXT NOT NULL,
			updated_by TEXT NOT NULL,
			vector_clock TEXT NOT NULL DEFAULT '{}',
			version INTEGER DEFAULT 1,
			manual_override INTEGER DEFAULT 0
		);
CREATE TABLE IF NOT EXISTS memories (
			id TEXT PRIMARY KEY,
			type TEXT NOT NULL DEFAULT 'fact',
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
			created_at TEXT NOT NULL,
			updated_at TEXT NOT NULL,
			updated_by TEXT NOT NULL DEFAULT 'system',
			last_accessed TEXT,
			access_count INTEGER DEFAULT 0,
			vector_clock TEXT NOT NULL DEFAULT '{}',
			version INTEGER DEFAULT 1,
			manual_override INTEGER DEFAULT 0,
			pinned INTEGER DEFAULT 0
		, content_hash TEXT, normalized_content TEXT, is_deleted INTEGER DEFAULT 0, deleted_at TEXT, extraction_status TEXT DEFAULT 'none', embedding_model TEXT, extraction_model TEXT, update_count INTEGER DEFAULT 0, idempotency_key TEXT, runtime_path TEXT, source_path TEXT, source_section TEXT);
CREATE TABLE IF NOT EXISTS embeddings (
			id TEXT PRIMARY KEY,
			content_hash TEXT NOT NULL UNIQUE,
			vector BLOB NOT NULL,
			dimensions INTEGER NOT NULL,
			source_type TEXT NOT NULL,
			source_id TEXT NOT NULL,
			chunk_text TEXT NOT NULL,
			created_at TEXT NOT NULL
		);
CREATE INDEX IF NOT EXISTS idx_conversations_session
			ON conversations(session_id);
CREATE INDEX IF NOT EXISTS idx_conversations_harness
			ON conversations(harness);
CREATE INDEX IF NOT EXISTS idx_memories_type
			ON memories(type);
CREATE INDEX IF NOT EXISTS idx_memories_category
			ON memories(category);
CREATE INDEX IF NOT EXISTS idx_memories_pinned
			ON memories(pinned);
CREATE INDEX IF NOT EXISTS idx_memories_importance
			ON memories(importance DESC);
CREATE INDEX IF NOT EXISTS idx_memories_created
			ON memories(created_at DESC);
CREATE INDEX IF NOT EXISTS idx_embeddings_source
			ON embeddings(source_type, source_id);
