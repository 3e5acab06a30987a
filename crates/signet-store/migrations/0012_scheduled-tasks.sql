-- Upstream v12 "scheduled-tasks" (Signet 0.58.1). Released: never edit.
-- Object text is byte-for-byte upstream's, as stored in sqlite_master; IF NOT EXISTS is
-- stripped by SQLite when it stores the text. Index statements keep any whitespace before
-- their ';', because SQLite stores an index's text up to the end of the statement.

CREATE TABLE IF NOT EXISTS scheduled_tasks (
			id TEXT PRIMARY KEY,
			name TEXT NOT NULL,
			prompt TEXT NOT NULL,
			cron_expression TEXT NOT NULL,
			harness TEXT NOT NULL,
			working_directory TEXT,
			enabled INTEGER NOT NULL DEFAULT 1,
			last_run_at TEXT,
			next_run_at TEXT,
			created_at TEXT NOT NULL,
			updated_at TEXT NOT NULL
		, skill_name TEXT, skill_mode TEXT
			 CHECK (skill_mode IN ('inject', 'slash') OR skill_mode IS NULL));
CREATE INDEX IF NOT EXISTS idx_scheduled_tasks_enabled_next
			ON scheduled_tasks(enabled, next_run_at);
CREATE TABLE IF NOT EXISTS task_runs (
			id TEXT PRIMARY KEY,
			task_id TEXT NOT NULL REFERENCES scheduled_tasks(id) ON DELETE CASCADE,
			status TEXT NOT NULL DEFAULT 'pending',
			started_at TEXT NOT NULL,
			completed_at TEXT,
			exit_code INTEGER,
			stdout TEXT,
			stderr TEXT,
			error TEXT
		);
CREATE INDEX IF NOT EXISTS idx_task_runs_task_id
			ON task_runs(task_id);
CREATE INDEX IF NOT EXISTS idx_task_runs_status
			ON task_runs(status);
