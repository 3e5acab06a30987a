-- Upstream v5 "graph-extended" (Signet 0.58.1). Released: never edit.
-- Object text is byte-for-byte upstream's, as stored in sqlite_master; IF NOT EXISTS is
-- stripped by SQLite when it stores the text. Index statements keep any whitespace before
-- their ';', because SQLite stores an index's text up to the end of the statement.

CREATE INDEX IF NOT EXISTS idx_entities_canonical_name ON entities(canonical_name);
CREATE INDEX IF NOT EXISTS idx_relations_composite ON relations(source_entity_id, relation_type);
