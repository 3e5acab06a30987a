//! Operational signals for analytics and `/metrics`: memory counts by state, job queue depth
//! by status, recent deletes/recovers from `memory_history`, and the scope (type, project,
//! who, scope_user) of one memory for live events. All read-only, each one statement.

use rusqlite::{Connection, OptionalExtension};

use super::{MemoryScope, MutationSignals, OpsCounts};
use crate::Result;
use crate::row;

pub(crate) fn ops_counts(c: &Connection) -> Result<OpsCounts> {
    let (live, deleted) = c
        .prepare_cached(
            "SELECT COALESCE(SUM(is_deleted = 0), 0), COALESCE(SUM(is_deleted != 0), 0) FROM memories",
        )?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    let mut stmt = c.prepare_cached(
        "SELECT status, COUNT(*) FROM memory_jobs GROUP BY status ORDER BY status",
    )?;
    let jobs = stmt
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(OpsCounts {
        live,
        deleted,
        jobs,
    })
}

pub(crate) fn mutation_signals(c: &Connection, since: &str) -> Result<MutationSignals> {
    Ok(c.prepare_cached(
        "SELECT COALESCE(SUM(event = 'recovered'), 0), COALESCE(SUM(event = 'deleted'), 0) \
         FROM memory_history WHERE created_at >= ?1",
    )?
    .query_row([since], |r| {
        Ok(MutationSignals {
            recent_recovers: r.get(0)?,
            recent_deletes: r.get(1)?,
        })
    })?)
}

pub(crate) fn memory_scope(c: &Connection, id: &str) -> Result<Option<MemoryScope>> {
    Ok(c.prepare_cached(
        "SELECT type AS memory_type, project, who, scope_user, version FROM memories WHERE id = ?1",
    )?
    .query_row([id], row::decode::<MemoryScope>)
    .optional()?)
}
