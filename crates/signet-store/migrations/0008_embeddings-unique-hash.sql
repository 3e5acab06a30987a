-- Upstream v8 "embeddings-unique-hash" (Signet 0.58.1). Released: never edit.
-- Object text is byte-for-byte upstream's, as stored in sqlite_master; IF NOT EXISTS is
-- stripped by SQLite when it stores the text. Index statements keep any whitespace before
-- their ';', because SQLite stores an index's text up to the end of the statement.

-- Keep the first-written embedding of each content_hash (MIN(rowid)), drop the rest, then
-- replace the plain v1 index with a unique one.
DELETE FROM embeddings
WHERE rowid NOT IN (SELECT MIN(rowid) FROM embeddings GROUP BY content_hash);
DROP INDEX IF EXISTS idx_embeddings_hash;
CREATE UNIQUE INDEX IF NOT EXISTS idx_embeddings_content_hash_unique
			ON embeddings(content_hash)
	;
