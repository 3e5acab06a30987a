-- Signet (this project) v1001 "memory-scope-user". Our first own migration. Released: never edit.
--
-- The user a memory belongs to, for team-mode tokens scoped to a `user`: a user-scoped token
-- sees and changes only memories whose scope_user equals its user, and stamps it on the
-- memories it writes. Nullable with no default, so upstream Signet (which does not know the
-- column) reads and writes this table unchanged; rows it inserts get NULL, which no user scope
-- admits (fail closed). The index is partial: most rows (upstream's, unscoped writers') are NULL.
ALTER TABLE memories ADD COLUMN scope_user TEXT;
CREATE INDEX IF NOT EXISTS idx_memories_scope_user ON memories(scope_user) WHERE scope_user IS NOT NULL;
