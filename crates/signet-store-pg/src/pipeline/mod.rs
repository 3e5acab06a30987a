//! The memory pipeline's storage ([`PipelineStore`](signet_model::PipelineStore)): the
//! extract and summary jobs' one-transaction writes ([`extract`], [`summary`]), the knowledge
//! graph ([`graph`]) and the append-only LLM call ledger ([`ledger`]). A job's write first
//! checks, with the job's row locked, that the attempt that computed it still holds the job,
//! and writes nothing otherwise.

pub(crate) mod extract;
pub(crate) mod graph;
pub(crate) mod ledger;
pub(crate) mod summary;

use postgres::GenericClient;
use signet_model::Result;

use crate::error::PgResultExt;

/// Copies the memory `memory_id` to `memories_cold` under `archive_id` with `reason`: the
/// columns both tables have, plus the whole row as JSON (without the keyword index column).
pub(crate) fn archive(
    tx: &mut impl GenericClient,
    memory_id: &str,
    archive_id: &str,
    reason: &str,
    now: &str,
) -> Result<u64> {
    const COLS: &str = "type, category, content, confidence, importance, source_id, \
        source_type, tags, who, why, project, content_hash, normalized_content, \
        extraction_status, embedding_model, extraction_model, update_count";
    let sql = format!(
        "INSERT INTO memories_cold (archive_id, memory_id, original_created_at, archived_at, \
           archived_reason, original_row_json, {COLS}) \
         SELECT $3, m.id, COALESCE(m.created_at, $1), $1, $2, (to_jsonb(m) - 'tsv')::text, \
           {cols} FROM memories m WHERE m.id = $4",
        cols = COLS
            .split(", ")
            .map(|c| format!("m.{}", c.trim()))
            .collect::<Vec<_>>()
            .join(", "),
    );
    tx.execute(&sql, &[&now, &reason, &archive_id, &memory_id])
        .pg()
}
