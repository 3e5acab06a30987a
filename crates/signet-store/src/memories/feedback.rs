//! Agent feedback on the memories a session was given: a running mean on `session_memories`.

use rusqlite::{Connection, params};

use crate::error::Result;

/// Applies each rating to the `(session_key, memory_id)` row; how many rows took one.
pub fn record(tx: &Connection, session_key: &str, ratings: &[(String, f64)]) -> Result<usize> {
    let mut stmt = tx.prepare_cached(
        "UPDATE session_memories SET \
           agent_relevance_score = CASE WHEN agent_relevance_score IS NULL THEN ?1 \
             ELSE (agent_relevance_score * COALESCE(agent_feedback_count, 0) + ?1) \
                  / (COALESCE(agent_feedback_count, 0) + 1) END, \
           agent_feedback_count = COALESCE(agent_feedback_count, 0) + 1 \
         WHERE session_key = ?2 AND memory_id = ?3",
    )?;
    let mut recorded = 0;
    for (memory_id, rating) in ratings {
        recorded += stmt.execute(params![rating, session_key, memory_id])?;
    }
    Ok(recorded)
}
