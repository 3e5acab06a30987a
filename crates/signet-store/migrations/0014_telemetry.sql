-- Upstream v14 "telemetry" (Signet 0.58.1). Released: never edit.
-- Object text is byte-for-byte upstream's, as stored in sqlite_master; IF NOT EXISTS is
-- stripped by SQLite when it stores the text. Index statements keep any whitespace before
-- their ';', because SQLite stores an index's text up to the end of the statement.

CREATE TABLE IF NOT EXISTS telemetry_events (
			id TEXT PRIMARY KEY,
			event TEXT NOT NULL,
			timestamp TEXT NOT NULL,
			properties TEXT NOT NULL,
			sent_to_posthog INTEGER NOT NULL DEFAULT 0,
			created_at TEXT NOT NULL
		);
CREATE INDEX IF NOT EXISTS idx_telemetry_events_event
			ON telemetry_events(event);
CREATE INDEX IF NOT EXISTS idx_telemetry_events_timestamp
			ON telemetry_events(timestamp);
CREATE INDEX IF NOT EXISTS idx_telemetry_events_unsent
			ON telemetry_events(sent_to_posthog) WHERE sent_to_posthog = 0;
