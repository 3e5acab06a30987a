-- pgvector (issue 16): where the database has the `vector` extension, `embeddings.vec` holds
-- each blob as a pgvector value, so the database answers nearest-vector queries (an HNSW
-- index per dimension count, made by the store: see src/pgvector.rs). Without the extension
-- this migration only defines the setup function; a node that later finds the extension
-- (`storage.pgvector: auto | on`) calls it at open. See ARCHITECTURE.md, "pgvector".
--
-- `vec` is a generated column of the blob (`vector`, SQLite's little-endian f32 format, stays
-- the source of truth): every write path fills it, whichever node or build writes, adding it
-- fills the existing rows, and the table copies (`signet migrate`, backups, imports) leave it
-- out as they leave out `tsv`. The extension's schema is looked up, not assumed, and named
-- in full, so it need not be on the search path.
CREATE FUNCTION signet_pgvector_setup() RETURNS boolean
LANGUAGE plpgsql VOLATILE AS $fn$
DECLARE
    ext text;
BEGIN
    SELECT n.nspname INTO ext
      FROM pg_extension x JOIN pg_namespace n ON n.oid = x.extnamespace
     WHERE x.extname = 'vector';
    IF ext IS NULL THEN
        RETURN false;
    END IF;
    IF EXISTS (SELECT 1 FROM information_schema.columns
                WHERE table_schema = current_schema() AND table_name = 'embeddings'
                  AND column_name = 'vec') THEN
        RETURN true;
    END IF;
    -- The blob's floats, decoded from their IEEE 754 bits (exact: every f32 is a double and
    -- back); NULL for a blob that is not `dims` floats or holds an infinity or NaN, which
    -- pgvector refuses and recall could not rank.
    EXECUTE format($f$
        CREATE OR REPLACE FUNCTION signet_blob_vector(blob bytea, dims bigint) RETURNS %1$I.vector
        LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $b$
            SELECT CASE WHEN dims > 0 AND length(blob) = 4 * dims THEN (
                SELECT array_agg(
                         (CASE WHEN f.e = 255 THEN NULL
                               WHEN f.e = 0 THEN f.m::float8 * 2.0::float8 ^ (-149)
                               ELSE (8388608 + f.m)::float8 * 2.0::float8 ^ (f.e - 150) END
                          * (1 - 2 * f.s))::real ORDER BY f.i)::%1$I.vector
                  FROM (SELECT i,
                               get_byte(blob, 4 * i + 3) >> 7 AS s,
                               ((get_byte(blob, 4 * i + 3) & 127) << 1)
                                 | (get_byte(blob, 4 * i + 2) >> 7) AS e,
                               ((get_byte(blob, 4 * i + 2) & 127) << 16)
                                 | (get_byte(blob, 4 * i + 1) << 8) | get_byte(blob, 4 * i) AS m
                          FROM generate_series(0, dims::int - 1) AS i) f
                HAVING bool_and(f.e < 255)) END
        $b$ $f$, ext);
    EXECUTE format('ALTER TABLE embeddings ADD COLUMN vec %I.vector '
                   'GENERATED ALWAYS AS (signet_blob_vector(vector, dimensions)) STORED', ext);
    RETURN true;
END
$fn$;

SELECT signet_pgvector_setup();
