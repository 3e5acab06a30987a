//! Nodes: the daemons sharing one database. Each [`PgStore`](crate::PgStore) is one node with
//! an id made at open; its connections carry `application_name = signet/<id>`, and every job
//! lease it takes names it (`leased_by`). A node is alive while the server holds a connection
//! of it (`pg_stat_activity`), so no heartbeat table is needed: a killed daemon's connections
//! close with its process, and its leases become free for the others at once.

/// The prefix of every node's `application_name`.
pub(crate) const APPLICATION_PREFIX: &str = "signet/";

/// A fresh node id (32 hex digits).
pub(crate) fn new_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// SQL true when the node named in `column` is not `$node` (the parameter `node`, e.g. `$2`)
/// and has no connection to the server: the lease it holds is an orphan. A `NULL` holder
/// (a lease from before nodes were recorded) counts as gone when `null_is_gone`.
pub(crate) fn gone(column: &str, node: &str, null_is_gone: bool) -> String {
    let null = if null_is_gone { "TRUE" } else { "FALSE" };
    format!(
        "(CASE WHEN {column} IS NULL THEN {null} ELSE {column} <> {node} AND {column} NOT IN ( \
           SELECT substr(application_name, {start}) FROM pg_stat_activity \
           WHERE application_name LIKE '{APPLICATION_PREFIX}%') END)",
        start = APPLICATION_PREFIX.len() + 1,
    )
}
