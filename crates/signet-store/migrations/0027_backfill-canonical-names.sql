-- Upstream v27 "backfill-canonical-names" (Signet 0.58.1). Released: never edit.
-- Object text is byte-for-byte upstream's, as stored in sqlite_master; IF NOT EXISTS is
-- stripped by SQLite when it stores the text. Index statements keep any whitespace before
-- their ';', because SQLite stores an index's text up to the end of the statement.

-- Entities written before v5 have no canonical_name: derive it from the name (trimmed,
-- lowercased, runs of double spaces collapsed three times, as upstream does).
UPDATE entities
SET canonical_name = REPLACE(REPLACE(REPLACE(LOWER(TRIM(name)), '  ', ' '), '  ', ' '), '  ', ' ')
WHERE canonical_name IS NULL;
