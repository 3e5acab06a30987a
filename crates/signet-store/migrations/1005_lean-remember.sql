-- Signet (this project) v1005 "lean-remember". Released: never edit.
--
-- Two costs a remember paid beyond upstream's (docs/PERFORMANCE.md, "Remember: where the time
-- went"):
--
-- 1. The actor of a remember is kept on its row instead of in a `created` row of
--    memory_history. That row, its three index entries and its copy of the content were a third
--    of the database (4.4 of 13.0 MB at 10k memories) and five of the 23 pages each remember
--    wrote to the WAL. Upstream writes no history row on remember. A memory whose created_by is
--    set has no `created` row; its history shows one made from these columns, the row's
--    created_at, source_type and its content at creation (the first later event's old_content,
--    else the current content). Rows written by upstream, or by our earlier versions, have NULL
--    here and keep their history exactly as it is. Nullable, no default: upstream Signet reads
--    and writes the table unchanged (as with scope_user, 1001). The four columns
--    (created_by, created_actor_type, created_session_id, created_request_id, all TEXT) are
--    added by the migration table in schema.rs when missing, before this file runs.
-- 2. The CJK triggers of 1004 test every content with a GLOB over a character class, which
--    cost 15% of a remember's instructions. They now test first whether the content holds any
--    non-ASCII byte at all (the byte length of the text equals its character length only for
--    ASCII), so plain-ASCII text skips the GLOB. Which rows are indexed does not change.
--    Built-in SQL only, as before, so upstream keeps running them.
DROP TRIGGER IF EXISTS memories_cjk_ai;
DROP TRIGGER IF EXISTS memories_cjk_ad;
DROP TRIGGER IF EXISTS memories_cjk_au;
CREATE TRIGGER memories_cjk_ai
    AFTER INSERT ON memories WHEN length(CAST(new.content AS BLOB)) <> length(new.content)
        AND new.content GLOB '*[ᄀ-ᇿ぀-ヿ㄰-㆏㐀-䶿一-鿿가-힯豈-﫿ｦ-ﾟ]*' BEGIN
        INSERT INTO memories_cjk(rowid, content) VALUES (new.rowid, new.content || '  ');
    END;
CREATE TRIGGER memories_cjk_ad
    AFTER DELETE ON memories WHEN length(CAST(old.content AS BLOB)) <> length(old.content)
        AND old.content GLOB '*[ᄀ-ᇿ぀-ヿ㄰-㆏㐀-䶿一-鿿가-힯豈-﫿ｦ-ﾟ]*' BEGIN
        INSERT INTO memories_cjk(memories_cjk, rowid, content)
        VALUES ('delete', old.rowid, old.content || '  ');
    END;
CREATE TRIGGER memories_cjk_au
    AFTER UPDATE OF content ON memories BEGIN
        INSERT INTO memories_cjk(memories_cjk, rowid, content)
        SELECT 'delete', old.rowid, old.content || '  '
        WHERE length(CAST(old.content AS BLOB)) <> length(old.content)
        AND old.content GLOB '*[ᄀ-ᇿ぀-ヿ㄰-㆏㐀-䶿一-鿿가-힯豈-﫿ｦ-ﾟ]*';
        INSERT INTO memories_cjk(rowid, content)
        SELECT new.rowid, new.content || '  '
        WHERE length(CAST(new.content AS BLOB)) <> length(new.content)
        AND new.content GLOB '*[ᄀ-ᇿ぀-ヿ㄰-㆏㐀-䶿一-鿿가-힯豈-﫿ｦ-ﾟ]*';
    END;
