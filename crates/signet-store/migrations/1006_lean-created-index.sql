-- `idx_memories_created` ascending. Upstream declares it `created_at DESC`, but memories arrive
-- in creation order: every insert into a descending index lands at its left edge, where B-tree
-- page splits leave both halves half full, so the index took twice its size (52% of its pages
-- empty at 10k memories). An ascending index is appended at its right edge (full pages) and
-- serves `ORDER BY created_at DESC` as well, read backwards. Upstream creates the index only
-- when the name is missing, so it keeps working against this one.
DROP INDEX IF EXISTS idx_memories_created;
CREATE INDEX idx_memories_created ON memories(created_at);
