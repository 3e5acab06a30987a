-- Upstream v13 "ingestion-tracking" (Signet 0.58.1). Released: never edit.
-- Object text is byte-for-byte upstream's, as stored in sqlite_master; IF NOT EXISTS is
-- stripped by SQLite when it stores the text. Index statements keep any whitespace before
-- their ';', because SQLite stores an index's text up to the end of the statement.

CREATE TABLE IF NOT EXISTS ingestion_jobs (
			id TEXT PRIMARY KEY,
			source_path TEXT NOT NULL,
			source_type TEXT NOT NULL,
			file_hash TEXT,
			status TEXT NOT NULL DEFAULT 'pending',
			chunks_total INTEGER DEFAULT 0,
			chunks_processed INTEGER DEFAULT 0,
			memories_created INTEGER DEFAULT 0,
			started_at TEXT NOT NULL,
			completed_at TEXT,
			error TEXT
		);
CREATE INDEX IF NOT EXISTS idx_ingestion_jobs_status
			ON ingestion_jobs(status);
CREATE INDEX IF NOT EXISTS idx_ingestion_jobs_file_hash
			ON ingestion_jobs(file_hash);
CREATE INDEX IF NOT EXISTS idx_ingestion_jobs_source_path
			ON ingestion_jobs(source_path);
