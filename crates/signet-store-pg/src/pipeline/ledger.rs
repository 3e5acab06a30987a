//! The LLM call ledger (`llm_calls`): append-only. Rows are inserted here and nowhere updated
//! or deleted; the sums read it. Several nodes append to the one table, so a budget counts
//! every node's calls.

use postgres::{GenericClient, Row};
use signet_model::Result;
use signet_model::pipeline::{LlmCall, LlmTotals, ProviderTotals};

use crate::error::PgResultExt;

/// The sums of [`LlmTotals`], decoded by [`totals_at`] from column `at`.
const SUMS: &str = "count(*), count(*) FILTER (WHERE outcome <> 'ok'), \
    COALESCE(SUM(input_tokens), 0)::bigint, COALESCE(SUM(output_tokens), 0)::bigint, \
    COALESCE(SUM(duration_ms), 0)::bigint";

/// Calls at or after `$1` (every call when it is NULL).
const SINCE: &str = "($1::text IS NULL OR created_at >= $1)";

fn totals_at(r: &Row, at: usize) -> LlmTotals {
    LlmTotals {
        calls: r.get(at),
        errors: r.get(at + 1),
        input_tokens: r.get(at + 2),
        output_tokens: r.get(at + 3),
        duration_ms: r.get(at + 4),
    }
}

/// Appends one call.
pub(crate) fn record(c: &mut impl GenericClient, call: &LlmCall) -> Result<()> {
    c.execute(
        "INSERT INTO llm_calls (created_at, provider, model, purpose, input_tokens, \
           output_tokens, duration_ms, outcome, error, job_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        &[
            &call.created_at,
            &call.provider,
            &call.model,
            &call.purpose,
            &call.input_tokens,
            &call.output_tokens,
            &call.duration_ms,
            &call.outcome,
            &call.error,
            &call.job_id,
        ],
    )
    .pg()?;
    Ok(())
}

/// Sums of the calls since `since`.
pub(crate) fn totals(c: &mut impl GenericClient, since: Option<&str>) -> Result<LlmTotals> {
    let sql = format!("SELECT {SUMS} FROM llm_calls WHERE {SINCE}");
    Ok(totals_at(&c.query_one(&sql, &[&since]).pg()?, 0))
}

/// The same per provider and model.
pub(crate) fn by_provider(
    c: &mut impl GenericClient,
    since: Option<&str>,
) -> Result<Vec<ProviderTotals>> {
    let sql = format!(
        "SELECT provider COLLATE \"C\" AS p, model COLLATE \"C\" AS mo, {SUMS} FROM llm_calls \
         WHERE {SINCE} GROUP BY p, mo ORDER BY p, mo"
    );
    Ok(c.query(&sql, &[&since])
        .pg()?
        .iter()
        .map(|r| ProviderTotals {
            provider: r.get(0),
            model: r.get(1),
            totals: totals_at(r, 2),
        })
        .collect())
}
