-- Upstream v3 "unique-content-hash" (Signet 0.58.1). Released: never edit.
-- Object text is byte-for-byte upstream's, as stored in sqlite_master; IF NOT EXISTS is
-- stripped by SQLite when it stores the text. Index statements keep any whitespace before
-- their ';', because SQLite stores an index's text up to the end of the statement.

-- The plain index from v2 is replaced by a unique partial one. Before creating it, keep the
-- content_hash of only the newest live row of each hash and NULL the others.
DROP INDEX IF EXISTS idx_memories_content_hash;
UPDATE memories SET content_hash = NULL
WHERE content_hash IS NOT NULL AND is_deleted = 0
  AND rowid NOT IN (
    SELECT rid FROM (
      SELECT rowid AS rid,
             ROW_NUMBER() OVER (PARTITION BY content_hash ORDER BY created_at DESC, rowid DESC) AS rn
      FROM memories
      WHERE content_hash IS NOT NULL AND is_deleted = 0
    )
    WHERE rn = 1
  );
CREATE UNIQUE INDEX IF NOT EXISTS idx_memories_content_hash_unique
			ON memories(content_hash)
			WHERE content_hash IS NOT NULL AND is_deleted = 0
	;
