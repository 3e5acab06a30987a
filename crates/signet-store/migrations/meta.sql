-- Schema bookkeeping, created on every start when missing (upstream's text, byte-for-byte).
-- schema_migrations: one row per applied version (INSERT OR REPLACE); the current version is
-- MAX(version). schema_migrations_audit: one row per run of a migration, never deleted.

CREATE TABLE IF NOT EXISTS schema_migrations (
			version INTEGER PRIMARY KEY,
			applied_at TEXT NOT NULL,
			checksum TEXT NOT NULL
		);
CREATE TABLE IF NOT EXISTS schema_migrations_audit (
			id INTEGER PRIMARY KEY AUTOINCREMENT,
			version INTEGER NOT NULL,
			applied_at TEXT NOT NULL,
			duration_ms INTEGER,
			checksum TEXT
		);
