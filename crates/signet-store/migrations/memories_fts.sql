-- The full-text index over memories.content (upstream v1, and the start-up self-heal).
-- External-content FTS5 table, default unicode61 tokenizer; the triggers keep it in sync with
-- every INSERT, DELETE and UPDATE on memories (soft deletes are UPDATEs, so they stay indexed).
-- Text is byte-for-byte upstream's.

CREATE VIRTUAL TABLE IF NOT EXISTS memories_fts USING fts5(
			content,
			content=memories,
			content_rowid=rowid
		);
CREATE TRIGGER IF NOT EXISTS memories_ai
		AFTER INSERT ON memories BEGIN
			INSERT INTO memories_fts(rowid, content)
			VALUES (new.rowid, new.content);
		END;
CREATE TRIGGER IF NOT EXISTS memories_ad
		AFTER DELETE ON memories BEGIN
			INSERT INTO memories_fts(memories_fts, rowid, content)
			VALUES('delete', old.rowid, old.content);
		END;
CREATE TRIGGER IF NOT EXISTS memories_au
		AFTER UPDATE ON memories BEGIN
			INSERT INTO memories_fts(memories_fts, rowid, content)
			VALUES('delete', old.rowid, old.content);
			INSERT INTO memories_fts(rowid, content)
			VALUES (new.rowid, new.content);
		END;
