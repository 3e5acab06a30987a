-- Upstream v2 "pipeline-v2" (Signet 0.58.1). Released: never edit.
-- Object text is byte-for-byte upstream's, as stored in sqlite_master; IF NOT EXISTS is
-- stripped by SQLite when it stores the text. Index statements keep any whitespace before
-- their ';', because SQLite stores an index's text up to the end of the statement.

CREATE TABLE IF NOT EXISTS memory_history (
			id TEXT PRIMARY KEY,
			memory_id TEXT NOT NULL,
			event TEXT NOT NULL,
			old_content TEXT,
			new_content TEXT,
			changed_by TEXT NOT NULL,
			reason TEXT,
			metadata TEXT,
			created_at TEXT NOT NULL, actor_type TEXT, session_id TEXT, request_id TEXT,
			FOREIGN KEY (memory_id) REFERENCES memories(id)
		);
CREATE TABLE IF NOT EXISTS "memory_jobs" (
			id TEXT PRIMARY KEY,
			memory_id TEXT,
			job_type TEXT NOT NULL,
			status TEXT NOT NULL DEFAULT 'pending',
			payload TEXT,
			result TEXT,
			attempts INTEGER DEFAULT 0,
			max_attempts INTEGER DEFAULT 3,
			leased_at TEXT,
			completed_at TEXT,
			failed_at TEXT,
			error TEXT,
			created_at TEXT NOT NULL,
			updated_at TEXT NOT NULL,
			document_id TEXT,
			FOREIGN KEY (memory_id) REFERENCES memories(id)
		);
CREATE TABLE IF NOT EXISTS entities (
			id TEXT PRIMARY KEY,
			name TEXT NOT NULL UNIQUE,
			entity_type TEXT NOT NULL,
			description TEXT,
			created_at TEXT NOT NULL,
			updated_at TEXT NOT NULL
		, canonical_name TEXT, mentions INTEGER DEFAULT 0, embedding BLOB, agent_id TEXT NOT NULL DEFAULT 'default', pinned INTEGER NOT NULL DEFAULT 0, pinned_at TEXT);
CREATE TABLE IF NOT EXISTS relations (
			id TEXT PRIMARY KEY,
			source_entity_id TEXT NOT NULL,
			target_entity_id TEXT NOT NULL,
			relation_type TEXT NOT NULL,
			strength REAL DEFAULT 1.0,
			metadata TEXT,
			created_at TEXT NOT NULL, mentions INTEGER DEFAULT 1, confidence REAL DEFAULT 0.5, updated_at TEXT,
			FOREIGN KEY (source_entity_id) REFERENCES entities(id),
			FOREIGN KEY (target_entity_id) REFERENCES entities(id)
		);
CREATE TABLE IF NOT EXISTS memory_entity_mentions (
			memory_id TEXT NOT NULL,
			entity_id TEXT NOT NULL, mention_text TEXT, confidence REAL, created_at TEXT,
			PRIMARY KEY (memory_id, entity_id),
			FOREIGN KEY (memory_id) REFERENCES memories(id),
			FOREIGN KEY (entity_id) REFERENCES entities(id)
		);
CREATE INDEX IF NOT EXISTS idx_memories_is_deleted
			ON memories(is_deleted);
CREATE INDEX IF NOT EXISTS idx_memories_extraction_status
			ON memories(extraction_status);
CREATE INDEX IF NOT EXISTS idx_memory_history_memory_id
			ON memory_history(memory_id);
CREATE INDEX IF NOT EXISTS idx_memory_jobs_status
			ON memory_jobs(status);
CREATE INDEX IF NOT EXISTS idx_memory_jobs_memory_id
			ON memory_jobs(memory_id);
CREATE INDEX IF NOT EXISTS idx_relations_source
			ON relations(source_entity_id);
CREATE INDEX IF NOT EXISTS idx_relations_target
			ON relations(target_entity_id);
CREATE INDEX IF NOT EXISTS idx_memory_entity_mentions_entity
			ON memory_entity_mentions(entity_id);
