-- Upstream v20 "predictor-comparisons" (Signet 0.58.1). Released: never edit.
-- Object text is byte-for-byte upstream's, as stored in sqlite_master; IF NOT EXISTS is
-- stripped by SQLite when it stores the text. Index statements keep any whitespace before
-- their ';', because SQLite stores an index's text up to the end of the statement.

CREATE TABLE IF NOT EXISTS predictor_comparisons (
			id TEXT PRIMARY KEY,
			session_key TEXT NOT NULL,
			agent_id TEXT NOT NULL DEFAULT 'default',
			predictor_ndcg REAL NOT NULL,
			baseline_ndcg REAL NOT NULL,
			predictor_won INTEGER NOT NULL,
			margin REAL NOT NULL,
			alpha REAL NOT NULL,
			ema_updated INTEGER NOT NULL DEFAULT 0,
			focal_entity_id TEXT,
			focal_entity_name TEXT,
			project TEXT,
			candidate_count INTEGER NOT NULL,
			traversal_count INTEGER NOT NULL DEFAULT 0,
			constraint_count INTEGER NOT NULL DEFAULT 0,
			created_at TEXT NOT NULL DEFAULT (datetime('now'))
		, scorer_confidence REAL NOT NULL DEFAULT 0, success_rate REAL NOT NULL DEFAULT 0.5, predictor_top_ids TEXT NOT NULL DEFAULT '[]', baseline_top_ids TEXT NOT NULL DEFAULT '[]', relevance_scores TEXT NOT NULL DEFAULT '{}', fts_overlap_score REAL);
CREATE INDEX IF NOT EXISTS idx_predictor_comparisons_session
			ON predictor_comparisons(session_key);
CREATE INDEX IF NOT EXISTS idx_predictor_comparisons_agent
			ON predictor_comparisons(agent_id);
CREATE INDEX IF NOT EXISTS idx_predictor_comparisons_project
			ON predictor_comparisons(project);
CREATE INDEX IF NOT EXISTS idx_predictor_comparisons_entity
			ON predictor_comparisons(focal_entity_id);
CREATE TABLE IF NOT EXISTS predictor_training_log (
			id TEXT PRIMARY KEY,
			agent_id TEXT NOT NULL DEFAULT 'default',
			model_version INTEGER NOT NULL,
			loss REAL NOT NULL,
			sample_count INTEGER NOT NULL,
			duration_ms INTEGER NOT NULL,
			canary_ndcg REAL,
			canary_ndcg_delta REAL,
			canary_score_variance REAL,
			canary_topk_churn REAL,
			created_at TEXT NOT NULL DEFAULT (datetime('now'))
		);
CREATE INDEX IF NOT EXISTS idx_predictor_training_agent
			ON predictor_training_log(agent_id);
