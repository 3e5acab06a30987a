-- Upstream v26 "predictor-training-pairs" (Signet 0.58.1). Released: never edit.
-- Object text is byte-for-byte upstream's, as stored in sqlite_master; IF NOT EXISTS is
-- stripped by SQLite when it stores the text. Index statements keep any whitespace before
-- their ';', because SQLite stores an index's text up to the end of the statement.

CREATE TABLE IF NOT EXISTS predictor_training_pairs (
			id TEXT PRIMARY KEY,
			agent_id TEXT NOT NULL DEFAULT 'default',
			session_key TEXT NOT NULL,
			memory_id TEXT NOT NULL,
			-- Feature vector (anonymized -- no content, just structural features)
			recency_days REAL NOT NULL,
			access_count INTEGER NOT NULL,
			importance REAL NOT NULL,
			decay_factor REAL NOT NULL,
			embedding_similarity REAL,
			entity_slot INTEGER,
			aspect_slot INTEGER,
			is_constraint INTEGER NOT NULL DEFAULT 0,
			structural_density INTEGER,
			fts_hit_count INTEGER NOT NULL DEFAULT 0,
			-- Label (ground truth)
			agent_relevance_score REAL,
			continuity_score REAL,
			fts_overlap_score REAL,
			combined_label REAL NOT NULL,
			-- Metadata
			was_injected INTEGER NOT NULL,
			predictor_rank INTEGER,
			baseline_rank INTEGER,
			created_at TEXT NOT NULL DEFAULT (datetime('now'))
		);
CREATE INDEX IF NOT EXISTS idx_training_pairs_agent
			ON predictor_training_pairs(agent_id);
CREATE INDEX IF NOT EXISTS idx_training_pairs_session
			ON predictor_training_pairs(session_key);
