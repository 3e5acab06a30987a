-- The PostgreSQL schema: the same model as the SQLite one (upstream v30 + 1001-1004), with
-- PostgreSQL's types where they change nothing a caller sees:
--
-- * Timestamps stay TEXT (ISO-8601 UTC with milliseconds, as the traits pass them), COLLATE
--   "C" so that comparison and ORDER BY are byte order, as on SQLite: the store never reads a
--   clock for what it records, callers compare them as strings, and a round trip through either
--   backend returns the exact string written.
-- * Flags (pinned, is_deleted, ...) are boolean; reads that answer upstream's objects turn them
--   into 0/1 integers.
-- * Counts and versions are bigint, scores double precision (one Rust type each).
-- * Vectors are bytea holding little-endian f32, the SQLite blob format, bit for bit.
-- * Keyword search: a stored generated tsvector column with a GIN index (see signet_fts_text).
-- * No foreign keys between memories, history, jobs, mentions and document links: SQLite never
--   enforced upstream's (foreign_keys is off), its code relies on that (repair audit rows on
--   the pseudo-memory `system`, history that outlives a purged memory), and upstream databases
--   moved here hold such rows. Only the knowledge-structure cascades are kept.
-- * `seq` (identity) is SQLite's rowid where order matters: ties of equal times keep the order
--   rows were written, and exports page by it.

-- The text the keyword index sees: ASCII punctuation becomes a space before PostgreSQL's parser
-- runs, so words are runs of letters and digits as on SQLite (FTS5's unicode61), instead of the
-- parser's e-mail, URL, file-name and version tokens ('config.yaml' would otherwise be one word
-- that a search for "config" never finds). Only the first 250 000 characters are indexed: a
-- tsvector is limited to 1 MB, and long texts are chunked before they are remembered anyway.
CREATE FUNCTION signet_fts_text(t text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN regexp_replace(left(t, 250000), '[!-/:-@\[-`{-~]+', ' ', 'g');

CREATE TABLE memories (
    id                 text PRIMARY KEY,
    seq bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    type               text NOT NULL DEFAULT 'fact',
    category           text,
    content            text NOT NULL,
    confidence         double precision DEFAULT 1.0,
    importance         double precision DEFAULT 0.5,
    source_id          text,
    source_type        text,
    tags               text,
    who                text,
    why                text,
    project            text,
    created_at         text COLLATE "C" NOT NULL,
    updated_at         text COLLATE "C" NOT NULL,
    updated_by         text NOT NULL DEFAULT 'system',
    last_accessed      text COLLATE "C",
    access_count       bigint DEFAULT 0,
    vector_clock       text NOT NULL DEFAULT '{}',
    version            bigint DEFAULT 1,
    manual_override    boolean DEFAULT false,
    pinned             boolean DEFAULT false,
    content_hash       text,
    normalized_content text,
    is_deleted         boolean DEFAULT false,
    deleted_at         text COLLATE "C",
    extraction_status  text DEFAULT 'none',
    embedding_model    text,
    extraction_model   text,
    update_count       bigint DEFAULT 0,
    idempotency_key    text,
    runtime_path       text,
    source_path        text,
    source_section     text,
    scope_user         text,
    -- SQLite migration 1005: the actor of a remember kept on its row (rows imported from
    -- SQLite keep them; this backend still writes a `created` history row instead).
    created_by         text,
    created_actor_type text,
    created_session_id text,
    created_request_id text,
    -- 'simple', not 'english': no stemming and no stop words, the same words FTS5's unicode61
    -- indexes on SQLite, so both backends find the same memories for the same query and the
    -- core's own word forms (its any-word fallback) stay in charge; an English stemmer would
    -- also mangle names, code and non-English text. To be measured on LoCoMo (issue 16).
    tsv                tsvector GENERATED ALWAYS AS
                           (to_tsvector('simple'::regconfig, signet_fts_text(content))) STORED
);
CREATE INDEX idx_memories_tsv ON memories USING gin (tsv);
CREATE INDEX idx_memories_type ON memories (type);
CREATE INDEX idx_memories_pinned ON memories (pinned);
CREATE INDEX idx_memories_importance ON memories (importance DESC);
CREATE INDEX idx_memories_created ON memories (created_at DESC);
CREATE INDEX idx_memories_source ON memories (source_type, source_id);
CREATE INDEX idx_memories_who ON memories (who);
CREATE INDEX idx_memories_project ON memories (project);
CREATE INDEX idx_memories_scope_user ON memories (scope_user);
CREATE UNIQUE INDEX idx_memories_content_hash_unique ON memories (content_hash)
    WHERE content_hash IS NOT NULL AND is_deleted = false;
CREATE UNIQUE INDEX idx_memories_idempotency_key ON memories (idempotency_key)
    WHERE idempotency_key IS NOT NULL;

CREATE TABLE memory_history (
    id          text PRIMARY KEY,
    -- The order rows were written (SQLite's rowid): history with equal times keeps it.
    seq         bigint GENERATED ALWAYS AS IDENTITY,
    memory_id   text NOT NULL,
    event       text NOT NULL,
    old_content text,
    new_content text,
    changed_by  text NOT NULL,
    reason      text,
    metadata    text,
    created_at  text COLLATE "C" NOT NULL,
    actor_type  text,
    session_id  text,
    request_id  text
);
CREATE INDEX idx_memory_history_memory ON memory_history (memory_id, created_at, seq);
CREATE INDEX idx_memory_history_created ON memory_history (created_at);

CREATE TABLE memory_jobs (
    id           text PRIMARY KEY,
    seq bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    memory_id    text,
    job_type     text NOT NULL,
    status       text NOT NULL DEFAULT 'pending',
    payload      text,
    result       text,
    attempts     bigint DEFAULT 0,
    max_attempts bigint DEFAULT 3,
    leased_at    text COLLATE "C",
    completed_at text COLLATE "C",
    failed_at    text COLLATE "C",
    error        text,
    created_at   text COLLATE "C" NOT NULL,
    updated_at   text COLLATE "C" NOT NULL,
    document_id  text
);
CREATE INDEX idx_memory_jobs_status ON memory_jobs (status, job_type, created_at);
CREATE INDEX idx_memory_jobs_memory ON memory_jobs (memory_id);
CREATE INDEX idx_memory_jobs_document ON memory_jobs (document_id);

CREATE TABLE embeddings (
    id           text PRIMARY KEY,
    content_hash text NOT NULL UNIQUE,
    vector       bytea NOT NULL,
    dimensions   bigint NOT NULL,
    source_type  text NOT NULL,
    source_id    text NOT NULL,
    chunk_text   text NOT NULL,
    created_at   text COLLATE "C" NOT NULL
);
CREATE INDEX idx_embeddings_source ON embeddings (source_type, source_id);

CREATE TABLE entities (
    id             text PRIMARY KEY,
    seq bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    name           text NOT NULL UNIQUE,
    entity_type    text NOT NULL,
    description    text,
    created_at     text COLLATE "C" NOT NULL,
    updated_at     text COLLATE "C" NOT NULL,
    canonical_name text,
    mentions       bigint DEFAULT 0,
    embedding      bytea,
    agent_id       text NOT NULL DEFAULT 'default',
    pinned         boolean NOT NULL DEFAULT false,
    pinned_at      text COLLATE "C"
);
CREATE INDEX idx_entities_canonical ON entities (canonical_name);

CREATE TABLE relations (
    id               text PRIMARY KEY,
    seq bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    source_entity_id text NOT NULL,
    target_entity_id text NOT NULL,
    relation_type    text NOT NULL,
    strength         double precision DEFAULT 1.0,
    metadata         text,
    created_at       text COLLATE "C" NOT NULL,
    mentions         bigint DEFAULT 1,
    confidence       double precision DEFAULT 0.5,
    updated_at       text COLLATE "C"
);
CREATE INDEX idx_relations_source ON relations (source_entity_id);
CREATE INDEX idx_relations_target ON relations (target_entity_id);

CREATE TABLE memory_entity_mentions (
    memory_id    text NOT NULL,
    entity_id    text NOT NULL,
    mention_text text,
    confidence   double precision,
    created_at   text COLLATE "C",
    PRIMARY KEY (memory_id, entity_id)
);
CREATE INDEX idx_mentions_entity ON memory_entity_mentions (entity_id);

CREATE TABLE entity_aspects (
    id             text PRIMARY KEY,
    entity_id      text NOT NULL REFERENCES entities (id) ON DELETE CASCADE,
    agent_id       text NOT NULL DEFAULT 'default',
    name           text NOT NULL,
    canonical_name text NOT NULL,
    weight         double precision NOT NULL DEFAULT 0.5,
    created_at     text COLLATE "C" NOT NULL DEFAULT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'),
    updated_at     text COLLATE "C" NOT NULL DEFAULT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'),
    UNIQUE (entity_id, canonical_name)
);

CREATE TABLE entity_attributes (
    id                 text PRIMARY KEY,
    aspect_id          text REFERENCES entity_aspects (id) ON DELETE SET NULL,
    agent_id           text NOT NULL DEFAULT 'default',
    memory_id          text,
    kind               text NOT NULL,
    content            text NOT NULL,
    normalized_content text NOT NULL,
    confidence         double precision NOT NULL DEFAULT 0.0,
    importance         double precision NOT NULL DEFAULT 0.5,
    status             text NOT NULL DEFAULT 'active',
    superseded_by      text,
    created_at         text COLLATE "C" NOT NULL DEFAULT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'),
    updated_at         text COLLATE "C" NOT NULL DEFAULT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS')
);

CREATE TABLE memories_cold (
    archive_id          text PRIMARY KEY,
    seq bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    memory_id           text NOT NULL,
    type                text DEFAULT 'fact',
    category            text,
    content             text NOT NULL,
    confidence          double precision DEFAULT 1.0,
    importance          double precision DEFAULT 0.5,
    source_id           text,
    source_type         text,
    tags                text,
    who                 text,
    why                 text,
    project             text,
    content_hash        text,
    normalized_content  text,
    extraction_status   text,
    embedding_model     text,
    extraction_model    text,
    update_count        bigint DEFAULT 0,
    original_created_at text COLLATE "C" NOT NULL,
    archived_at         text COLLATE "C" NOT NULL,
    archived_reason     text,
    cold_source_id      text,
    agent_id            text NOT NULL DEFAULT 'default',
    original_row_json   text
);
CREATE INDEX idx_memories_cold_memory ON memories_cold (memory_id);

CREATE TABLE documents (
    id            text PRIMARY KEY,
    seq bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    source_url    text,
    source_type   text NOT NULL,
    content_type  text,
    content_hash  text,
    title         text,
    raw_content   text,
    status        text NOT NULL DEFAULT 'queued',
    error         text,
    connector_id  text,
    chunk_count   bigint NOT NULL DEFAULT 0,
    memory_count  bigint NOT NULL DEFAULT 0,
    metadata_json text,
    created_at    text COLLATE "C" NOT NULL,
    updated_at    text COLLATE "C" NOT NULL,
    completed_at  text COLLATE "C"
);
CREATE INDEX idx_documents_status ON documents (status, created_at);

CREATE TABLE document_memories (
    document_id text NOT NULL,
    memory_id   text NOT NULL,
    chunk_index bigint,
    PRIMARY KEY (document_id, memory_id)
);

CREATE TABLE session_memories (
    id                    text PRIMARY KEY,
    session_key           text NOT NULL,
    memory_id             text NOT NULL,
    source                text NOT NULL,
    effective_score       double precision,
    predictor_score       double precision,
    final_score           double precision NOT NULL,
    rank                  bigint NOT NULL,
    was_injected          boolean NOT NULL,
    relevance_score       double precision,
    fts_hit_count         bigint NOT NULL DEFAULT 0,
    agent_preference      text,
    created_at            text COLLATE "C" NOT NULL,
    entity_slot           bigint,
    aspect_slot           bigint,
    is_constraint         boolean NOT NULL DEFAULT false,
    structural_density    bigint,
    predictor_rank        bigint,
    agent_relevance_score double precision,
    agent_feedback_count  bigint DEFAULT 0,
    UNIQUE (session_key, memory_id)
);

CREATE TABLE session_checkpoints (
    id                        text PRIMARY KEY,
    seq                       bigint GENERATED ALWAYS AS IDENTITY,
    session_key               text NOT NULL,
    harness                   text NOT NULL,
    project                   text,
    project_normalized        text,
    trigger                   text NOT NULL,
    digest                    text NOT NULL,
    prompt_count              bigint NOT NULL,
    memory_queries            text,
    recent_remembers          text,
    created_at                text COLLATE "C" NOT NULL,
    focal_entity_ids          text,
    focal_entity_names        text,
    active_aspect_ids         text,
    surfaced_constraint_count bigint,
    traversal_memory_count    bigint
);
CREATE INDEX idx_checkpoints_session ON session_checkpoints (session_key, created_at);
CREATE INDEX idx_checkpoints_project ON session_checkpoints (project_normalized, created_at);

CREATE TABLE summary_jobs (
    id           text PRIMARY KEY,
    seq bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    session_key  text,
    harness      text NOT NULL,
    project      text,
    transcript   text NOT NULL,
    status       text NOT NULL DEFAULT 'pending',
    result       text,
    attempts     bigint DEFAULT 0,
    max_attempts bigint DEFAULT 3,
    created_at   text COLLATE "C" NOT NULL,
    completed_at text COLLATE "C",
    error        text
);
CREATE INDEX idx_summary_jobs_status ON summary_jobs (status, created_at);
CREATE INDEX idx_summary_jobs_session ON summary_jobs (session_key);

CREATE TABLE session_summaries (
    id          text PRIMARY KEY,
    project     text,
    depth       bigint NOT NULL DEFAULT 0,
    kind        text NOT NULL CHECK (kind IN ('session', 'arc', 'epoch')),
    content     text NOT NULL,
    token_count bigint,
    earliest_at text COLLATE "C" NOT NULL,
    latest_at   text COLLATE "C" NOT NULL,
    session_key text,
    harness     text,
    agent_id    text NOT NULL DEFAULT 'default',
    created_at  text COLLATE "C" NOT NULL
);
CREATE UNIQUE INDEX idx_summaries_session_depth ON session_summaries (session_key, depth)
    WHERE session_key IS NOT NULL;

CREATE TABLE session_summary_children (
    parent_id text NOT NULL REFERENCES session_summaries (id) ON DELETE CASCADE,
    child_id  text NOT NULL REFERENCES session_summaries (id) ON DELETE CASCADE,
    ordinal   bigint NOT NULL,
    PRIMARY KEY (parent_id, child_id)
);

CREATE TABLE session_summary_memories (
    summary_id text NOT NULL REFERENCES session_summaries (id) ON DELETE CASCADE,
    memory_id  text NOT NULL,
    PRIMARY KEY (summary_id, memory_id)
);

-- The LLM call ledger (SQLite migration 1002): append-only.
CREATE TABLE llm_calls (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    created_at    text COLLATE "C" NOT NULL,
    provider      text NOT NULL,
    model         text NOT NULL,
    purpose       text NOT NULL,
    input_tokens  bigint NOT NULL DEFAULT 0,
    output_tokens bigint NOT NULL DEFAULT 0,
    duration_ms   bigint NOT NULL DEFAULT 0,
    outcome       text NOT NULL,
    error         text,
    job_id        text
);
CREATE INDEX idx_llm_calls_created ON llm_calls (created_at);
