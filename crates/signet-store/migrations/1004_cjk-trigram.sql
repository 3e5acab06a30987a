-- Signet (this project) v1004 "cjk-trigram". Released: never edit.
--
-- Keyword search for Chinese, Japanese and Korean. FTS5's unicode61 tokenizer (memories_fts)
-- splits words on spaces and punctuation, so a sentence in those scripts is one "word" and no
-- word inside it can be found. memories_cjk is a trigram index (every run of three characters
-- is a token; SQLite >= 3.34) over the memories whose content holds a Han, Hiragana,
-- Katakana or Hangul character (the GLOB class below: the ranges of
-- signet_model::keyword::is_cjk). It is contentless: it stores only the index, and holds
-- each such memory's content followed by two spaces, so that every character starts a
-- trigram and a one- or two-character word is found through memories_cjk_vocab, the index's
-- term list (the trigrams starting with it). Soft-deleted rows stay indexed, as in
-- memories_fts; searches join memories and skip them.
--
-- The triggers use only built-in SQL, so a database with this index stays one that upstream
-- Signet opens and writes: its inserts, edits and deletes keep the index in sync. Nothing in
-- memories_fts or any upstream table changes.
CREATE VIRTUAL TABLE IF NOT EXISTS memories_cjk USING fts5(
    content,
    content = '',
    tokenize = 'trigram'
);
CREATE VIRTUAL TABLE IF NOT EXISTS memories_cjk_vocab USING fts5vocab(memories_cjk, row);
CREATE TRIGGER IF NOT EXISTS memories_cjk_ai
    AFTER INSERT ON memories WHEN new.content GLOB '*[ᄀ-ᇿ぀-ヿ㄰-㆏㐀-䶿一-鿿가-힯豈-﫿ｦ-ﾟ]*' BEGIN
        INSERT INTO memories_cjk(rowid, content) VALUES (new.rowid, new.content || '  ');
    END;
CREATE TRIGGER IF NOT EXISTS memories_cjk_ad
    AFTER DELETE ON memories WHEN old.content GLOB '*[ᄀ-ᇿ぀-ヿ㄰-㆏㐀-䶿一-鿿가-힯豈-﫿ｦ-ﾟ]*' BEGIN
        INSERT INTO memories_cjk(memories_cjk, rowid, content)
        VALUES ('delete', old.rowid, old.content || '  ');
    END;
CREATE TRIGGER IF NOT EXISTS memories_cjk_au
    AFTER UPDATE OF content ON memories BEGIN
        INSERT INTO memories_cjk(memories_cjk, rowid, content)
        SELECT 'delete', old.rowid, old.content || '  '
        WHERE old.content GLOB '*[ᄀ-ᇿ぀-ヿ㄰-㆏㐀-䶿一-鿿가-힯豈-﫿ｦ-ﾟ]*';
        INSERT INTO memories_cjk(rowid, content)
        SELECT new.rowid, new.content || '  '
        WHERE new.content GLOB '*[ᄀ-ᇿ぀-ヿ㄰-㆏㐀-䶿一-鿿가-힯豈-﫿ｦ-ﾟ]*';
    END;
INSERT INTO memories_cjk(rowid, content)
    SELECT rowid, content || '  ' FROM memories WHERE content GLOB '*[ᄀ-ᇿ぀-ヿ㄰-㆏㐀-䶿一-鿿가-힯豈-﫿ｦ-ﾟ]*';
