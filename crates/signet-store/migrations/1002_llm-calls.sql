-- Signet (this project) v1002 "llm-calls". Released: never edit.
--
-- The append-only ledger of LLM calls the pipeline makes (extraction, decisions,
-- contradiction checks, summaries): who was asked, for what, how big and how long, and how it
-- ended. Rows are only ever inserted; nothing updates or deletes them (retention does not
-- touch this table). Upstream Signet does not know the table and ignores it.
CREATE TABLE IF NOT EXISTS llm_calls (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at TEXT NOT NULL,
    provider TEXT NOT NULL,
    model TEXT NOT NULL,
    purpose TEXT NOT NULL,
    input_tokens INTEGER NOT NULL DEFAULT 0,
    output_tokens INTEGER NOT NULL DEFAULT 0,
    duration_ms INTEGER NOT NULL DEFAULT 0,
    outcome TEXT NOT NULL,
    error TEXT,
    job_id TEXT
);
CREATE INDEX IF NOT EXISTS idx_llm_calls_created_at ON llm_calls(created_at);
