-- The FTS update trigger fires only when `content` changes. Upstream's `memories_au` fires on an
-- UPDATE of any column, so every access-count bump (each recall touches its results), every
-- soft delete, pin or importance change deleted and re-inserted the row's full-text entry:
-- FTS5 segment writes and merges on the hot path, for an index whose text did not change.
-- The index holds exactly what it held before (content is the only indexed column); upstream
-- keeps working against it (it recreates triggers only when missing, by name).
DROP TRIGGER IF EXISTS memories_au;
CREATE TRIGGER memories_au
		AFTER UPDATE OF content ON memories BEGIN
			INSERT INTO memories_fts(memories_fts, rowid, content)
			VALUES('delete', old.rowid, old.content);
			INSERT INTO memories_fts(rowid, content)
			VALUES (new.rowid, new.content);
		END;
