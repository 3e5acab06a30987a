-- Upstream v15 "session-memories" (Signet 0.58.1). Released: never edit.
-- Object text is byte-for-byte upstream's, as stored in sqlite_master; IF NOT EXISTS is
-- stripped by SQLite when it stores the text. Index statements keep any whitespace before
-- their ';', because SQLite stores an index's text up to the end of the statement.

CREATE TABLE IF NOT EXISTS session_memories (
			id TEXT PRIMARY KEY,
			session_key TEXT NOT NULL,
			memory_id TEXT NOT NULL,
			source TEXT NOT NULL,
			effective_score REAL,
			predictor_score REAL,
			final_score REAL NOT NULL,
			rank INTEGER NOT NULL,
			was_injected INTEGER NOT NULL,
			relevance_score REAL,
			fts_hit_count INTEGER NOT NULL DEFAULT 0,
			agent_preference TEXT,
			created_at TEXT NOT NULL, entity_slot INTEGER, aspect_slot INTEGER, is_constraint INTEGER NOT NULL DEFAULT 0, structural_density INTEGER, predictor_rank INTEGER, agent_relevance_score REAL, agent_feedback_count INTEGER DEFAULT 0,
			UNIQUE(session_key, memory_id)
		);
CREATE INDEX IF NOT EXISTS idx_session_memories_session
			ON session_memories(session_key);
CREATE INDEX IF NOT EXISTS idx_session_memories_memory
			ON session_memories(memory_id);
