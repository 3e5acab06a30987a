//! The LLM call ledger (`llm_calls`, migration 1002): append-only. Rows are inserted here and
//! nowhere updated or deleted (retention leaves the table alone); the sums read it.

use rusqlite::{Connection, params};
use signet_model::pipeline::{LlmCall, LlmTotals, ProviderTotals};

use crate::error::Result;
use crate::row;

/// The sums of [`LlmTotals`], named after its (serde, camelCase) fields.
const SUMS: &str = "COUNT(*) AS calls, COALESCE(SUM(outcome <> 'ok'), 0) AS errors, \
    COALESCE(SUM(input_tokens), 0) AS inputTokens, \
    COALESCE(SUM(output_tokens), 0) AS outputTokens, \
    COALESCE(SUM(duration_ms), 0) AS durationMs";

/// Calls at or after `?1` (every call when it is NULL). Times are the callers' fixed-width
/// ISO-8601 strings, so they compare as text (and use the `created_at` index).
const SINCE: &str = "(?1 IS NULL OR created_at >= ?1)";

/// Appends one call.
pub fn record(tx: &Connection, call: &LlmCall) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO llm_calls (created_at, provider, model, purpose, input_tokens, output_tokens, \
           duration_ms, outcome, error, job_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?
    .execute(params![
        call.created_at,
        call.provider,
        call.model,
        call.purpose,
        call.input_tokens,
        call.output_tokens,
        call.duration_ms,
        call.outcome,
        call.error,
        call.job_id,
    ])?;
    Ok(())
}

/// Sums of the calls since `since`.
pub fn totals(c: &Connection, since: Option<&str>) -> Result<LlmTotals> {
    Ok(
        c.prepare_cached(&format!("SELECT {SUMS} FROM llm_calls WHERE {SINCE}"))?
            .query_row([since], row::decode)?,
    )
}

/// The same per provider and model.
pub fn by_provider(c: &Connection, since: Option<&str>) -> Result<Vec<ProviderTotals>> {
    let sql = format!(
        "SELECT provider, model, {SUMS} FROM llm_calls WHERE {SINCE} \
         GROUP BY provider, model ORDER BY provider, model"
    );
    Ok(c.prepare_cached(&sql)?
        .query_map([since], |r| {
            Ok(ProviderTotals {
                provider: r.get("provider")?,
                model: r.get("model")?,
                totals: row::decode(r)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?)
}
