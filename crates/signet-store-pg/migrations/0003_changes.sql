-- The change sequence (issue 16): every committed change to a memory, in the writing
-- transaction, so the other nodes on this database can follow it (their vector indexes, their
-- live events). Written by triggers, so every write path is covered. See ARCHITECTURE.md,
-- "PostgreSQL backend".
CREATE TABLE memory_changes (
    seq             bigserial PRIMARY KEY,
    memory_id       text NOT NULL,
    -- upsert | delete | vector
    kind            text NOT NULL,
    -- The live event it stands for: created | updated | deleted | recovered, or NULL.
    event           text,
    version         bigint,
    content_changed boolean,
    -- The writing node's id (`application_name` signet/<id>), NULL for other clients.
    origin          text,
    at              timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX idx_memory_changes_at ON memory_changes (at);

-- The highest seq pruned: a cursor below it missed changes.
CREATE TABLE memory_changes_pruned (
    one     boolean PRIMARY KEY DEFAULT true CHECK (one),
    through bigint NOT NULL
);
INSERT INTO memory_changes_pruned (through) VALUES (0);

CREATE FUNCTION signet_record_change(p_memory text, p_kind text, p_event text,
                                     p_version bigint, p_content boolean) RETURNS void
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    s bigint;
    app text := current_setting('application_name', true);
    origin text;
BEGIN
    IF app LIKE 'signet/%' THEN
        origin := substr(app, 8);
    END IF;
    -- Seqs in commit order: drawn at commit (the triggers are deferred) under a lock held
    -- until the transaction ends, which is after it is visible. So a reader that sees a seq
    -- sees every smaller one that will ever exist, and a hole is a rollback.
    PERFORM pg_advisory_xact_lock(1397311310, hashtext('memory_changes:' || current_schema()));
    s := nextval('memory_changes_seq_seq');
    INSERT INTO memory_changes (seq, memory_id, kind, event, version, content_changed, origin)
    VALUES (s, p_memory, p_kind, p_event, p_version, p_content, origin);
    PERFORM pg_notify('signet_changes', COALESCE(origin, ''));
END $$;

CREATE FUNCTION signet_memories_changed() RETURNS trigger
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM signet_record_change(NEW.id, 'upsert', 'created', NEW.version, NULL);
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM signet_record_change(OLD.id, 'delete', NULL, OLD.version, NULL);
    ELSIF OLD.is_deleted IS DISTINCT FROM NEW.is_deleted THEN
        IF COALESCE(NEW.is_deleted, false) THEN
            PERFORM signet_record_change(NEW.id, 'delete', 'deleted', NEW.version, NULL);
        ELSE
            PERFORM signet_record_change(NEW.id, 'upsert', 'recovered', NEW.version, NULL);
        END IF;
    ELSIF OLD.content_hash IS DISTINCT FROM NEW.content_hash THEN
        PERFORM signet_record_change(NEW.id, 'upsert', 'updated', NEW.version, true);
    ELSIF OLD.version IS DISTINCT FROM NEW.version THEN
        PERFORM signet_record_change(NEW.id, 'upsert', 'updated', NEW.version, false);
    END IF;
    RETURN NULL;
END $$;

-- Deferred: they run at commit, so the lock above is held only while the transaction commits.
CREATE CONSTRAINT TRIGGER memories_written AFTER INSERT OR DELETE ON memories
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION signet_memories_changed();
-- Only mutations: access counts, extraction status and the embedding model change no version.
CREATE CONSTRAINT TRIGGER memories_mutated AFTER UPDATE ON memories
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW WHEN (OLD.is_deleted IS DISTINCT FROM NEW.is_deleted
                       OR OLD.content_hash IS DISTINCT FROM NEW.content_hash
                       OR OLD.version IS DISTINCT FROM NEW.version)
    EXECUTE FUNCTION signet_memories_changed();

CREATE FUNCTION signet_embeddings_changed() RETURNS trigger
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    IF NEW.source_type = 'memory' THEN
        PERFORM signet_record_change(NEW.source_id, 'vector', NULL, NULL, NULL);
    END IF;
    RETURN NULL;
END $$;

CREATE CONSTRAINT TRIGGER embeddings_changes AFTER INSERT OR UPDATE ON embeddings
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION signet_embeddings_changed();
