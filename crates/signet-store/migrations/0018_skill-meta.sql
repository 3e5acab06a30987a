-- Upstream v18 "skill-meta" (Signet 0.58.1). Released: never edit.
-- Object text is byte-for-byte upstream's, as stored in sqlite_master; IF NOT EXISTS is
-- stripped by SQLite when it stores the text. Index statements keep any whitespace before
-- their ';', because SQLite stores an index's text up to the end of the statement.

CREATE TABLE IF NOT EXISTS skill_meta (
			entity_id     TEXT PRIMARY KEY REFERENCES entities(id),
			agent_id      TEXT NOT NULL DEFAULT 'default',
			version       TEXT,
			author        TEXT,
			license       TEXT,
			source        TEXT NOT NULL,
			role          TEXT NOT NULL DEFAULT 'utility',
			triggers      TEXT,
			tags          TEXT,
			permissions   TEXT,
			enriched      INTEGER DEFAULT 0,
			installed_at  TEXT NOT NULL,
			last_used_at  TEXT,
			use_count     INTEGER DEFAULT 0,
			importance    REAL DEFAULT 0.7,
			decay_rate    REAL DEFAULT 0.99,
			fs_path       TEXT NOT NULL,
			uninstalled_at TEXT,
			created_at    TEXT NOT NULL DEFAULT (datetime('now')),
			updated_at    TEXT NOT NULL DEFAULT (datetime('now'))
		);
CREATE INDEX IF NOT EXISTS idx_skill_meta_agent ON skill_meta(agent_id);
CREATE INDEX IF NOT EXISTS idx_skill_meta_source ON skill_meta(source);
