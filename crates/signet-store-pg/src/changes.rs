//! The change sequence (migration 3): [`ChangeFeed`] for [`PgStore`]. Triggers append one
//! `memory_changes` row per committed change to a memory and notify `signet_changes`; this
//! module reads them back in order and listens on a connection of its own.
//!
//! Seqs are drawn in commit order: the triggers are deferred to commit, where they take a
//! per-schema advisory lock held until the transaction has ended (and so is visible). A
//! reader that sees a seq therefore sees every smaller one that will ever exist: its cursor is
//! simply the last seq it read, and a hole is a rollback. The lock serializes only the commits
//! of changing transactions, not their work. See ARCHITECTURE.md.

use std::time::Duration;

use postgres::fallible_iterator::FallibleIterator;
use postgres::{Client, GenericClient, NoTls};
use signet_model::{
    ChangeFeed, ChangeKind, ChangeListener, ChangePage, MemoryChange, Result, StoreError,
};

use crate::PgStore;
use crate::error::PgResultExt;
use crate::sql::count;

/// The channel the triggers notify.
pub const CHANNEL: &str = "signet_changes";

/// A read of the row columns, in the order [`row_change`] takes them.
const COLUMNS: &str = "seq, memory_id, kind, event, version, content_changed, origin, \
    to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')";

impl ChangeFeed for PgStore {
    fn node(&self) -> &str {
        PgStore::node(self)
    }

    fn head(&self) -> Result<i64> {
        self.pool().tx(|tx| {
            snapshot(tx)?;
            let pruned = pruned_through(tx)?;
            let row = tx
                .query_one("SELECT max(seq) FROM memory_changes", &[])
                .pg()?;
            Ok(row.get::<_, Option<i64>>(0).unwrap_or(0).max(pruned))
        })
    }

    fn changes_after(&self, after: i64, limit: usize) -> Result<ChangePage> {
        self.pool().tx(|tx| {
            snapshot(tx)?;
            let pruned = pruned_through(tx)?;
            let (from, gap) = if after < pruned {
                (pruned, true)
            } else {
                (after, false)
            };
            let rows = tx
                .query(
                    &format!(
                        "SELECT {COLUMNS} FROM memory_changes WHERE seq > $1 ORDER BY seq LIMIT $2"
                    ),
                    &[&from, &count(limit.max(1))],
                )
                .pg()?;
            let changes = rows.iter().map(row_change).collect::<Result<Vec<_>>>()?;
            let next = changes.last().map_or(from, |c: &MemoryChange| c.seq);
            Ok(ChangePage { changes, next, gap })
        })
    }

    fn prune(&self, before: &str) -> Result<usize> {
        self.pool().tx(|tx| {
            let row = tx
                .query_one(
                    "WITH d AS (DELETE FROM memory_changes WHERE at < $1::text::timestamptz \
                       RETURNING seq), \
                     u AS (UPDATE memory_changes_pruned \
                       SET through = GREATEST(through, COALESCE((SELECT max(seq) FROM d), 0))) \
                     SELECT count(*) FROM d",
                    &[&before],
                )
                .pg()?;
            Ok(usize::try_from(row.get::<_, i64>(0)).unwrap_or(0))
        })
    }

    fn listen(&self) -> Result<Box<dyn ChangeListener>> {
        let mut client = self.pool().config().connect(NoTls).pg()?;
        client.batch_execute(&format!("LISTEN {CHANNEL}")).pg()?;
        Ok(Box::new(Listener {
            client: Some(client),
        }))
    }
}

/// One snapshot for the whole read: the horizon and the rows agree.
fn snapshot(tx: &mut impl GenericClient) -> Result<()> {
    tx.batch_execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        .pg()
}

fn pruned_through(tx: &mut impl GenericClient) -> Result<i64> {
    let row = tx
        .query_opt("SELECT through FROM memory_changes_pruned", &[])
        .pg()?;
    Ok(row.map_or(0, |r| r.get(0)))
}

fn row_change(r: &postgres::Row) -> Result<MemoryChange> {
    let kind: String = r.get(2);
    let kind = ChangeKind::parse(&kind)
        .ok_or_else(|| StoreError::Backend(format!("memory_changes: unknown kind `{kind}`")))?;
    let change = MemoryChange {
        seq: r.get(0),
        memory_id: r.get(1),
        kind,
        event: r.get(3),
        version: r.get(4),
        content_changed: r.get(5),
        origin: r.get(6),
        at: r.get(7),
    };
    Ok(change)
}

/// A connection doing `LISTEN signet_changes`.
struct Listener {
    /// `None` once lost (dropped at once; a new listener replaces this one).
    client: Option<Client>,
}

impl ChangeListener for Listener {
    fn wait(&mut self, timeout: Duration) -> Result<Vec<String>> {
        let lost = || StoreError::Backend("postgres: the listening connection closed".into());
        let client = self.client.as_mut().ok_or_else(lost)?;
        let mut payloads = Vec::new();
        {
            let mut notes = client.notifications();
            let first = notes.timeout_iter(timeout).next().pg()?;
            if let Some(n) = first {
                payloads.push(n.payload().to_owned());
                // Whatever else arrived meanwhile, without waiting.
                let mut more = notes.iter();
                while let Some(n) = more.next().pg()? {
                    payloads.push(n.payload().to_owned());
                }
            }
        }
        if client.is_closed() {
            self.client = None;
            return Err(lost());
        }
        Ok(payloads)
    }
}
