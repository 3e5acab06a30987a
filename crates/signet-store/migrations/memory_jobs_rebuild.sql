-- Upstream v30: memory_jobs.memory_id becomes nullable (document_ingest jobs have none).
-- SQLite cannot drop a NOT NULL, so the table is rebuilt. After the RENAME, SQLite stores the
-- text as CREATE TABLE "memory_jobs" (...), exactly as upstream's file has it. Dropping the
-- old table drops its indexes; the v30 migration recreates them afterwards.

DROP TABLE IF EXISTS memory_jobs_new;
CREATE TABLE memory_jobs_new (
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
INSERT INTO memory_jobs_new (
  id, memory_id, job_type, status, payload, result, attempts, max_attempts, leased_at,
  completed_at, failed_at, error, created_at, updated_at, document_id)
SELECT
  id, memory_id, job_type, status, payload, result, attempts, max_attempts, leased_at,
  completed_at, failed_at, error, created_at, updated_at, document_id
FROM memory_jobs;
DROP TABLE memory_jobs;
ALTER TABLE memory_jobs_new RENAME TO memory_jobs;
