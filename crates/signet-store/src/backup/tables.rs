//! [`TableStore`] on SQLite: the model's tables row for row, for `signet migrate` and for the
//! SQLite dump a PostgreSQL workspace's backup holds (see [`super::transfer`]).
//!
//! Reads run on a pooled read connection inside one read transaction, in rowid order; writes
//! go through the pool's writer ([`crate::Pool::write`]), so the FTS triggers and the
//! in-process keyword index see every inserted memory.

use rusqlite::types::{Value, ValueRef};
use rusqlite::{Connection, params_from_iter};
use signet_model::tables::MODEL_TABLES;
use signet_model::{Cell, TableStore};

use crate::{Result, Store, StoreError};

/// Tables that are SQLite's own or the store's bookkeeping, never copied or reported.
const INTERNAL: [&str; 5] = [
    "sqlite_",
    "schema_migrations",
    "memories_fts",
    "memories_cjk",
    "memory_jobs_new",
];

/// `table` when it is one of the model's tables.
fn model_table(table: &str) -> Result<&str> {
    MODEL_TABLES
        .iter()
        .find(|t| **t == table)
        .copied()
        .ok_or_else(|| StoreError::Invalid(format!("`{table}` is not a table of the model")))
}

/// The visible columns of `table` (`None`: no such table).
fn columns_of(c: &Connection, table: &str) -> Result<Option<Vec<String>>> {
    let exists: bool = c.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1)",
        [table],
        |r| r.get(0),
    )?;
    if !exists {
        return Ok(None);
    }
    // table_xinfo's `hidden`: 0 for an ordinary column (1 hidden, 2/3 generated).
    let mut stmt = c.prepare("SELECT name FROM pragma_table_xinfo(?1) WHERE hidden = 0")?;
    let names = stmt
        .query_map([table], |r| r.get::<_, String>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(Some(names))
}

/// `columns` when each is a column of `table`; quoted and joined for a statement.
fn column_list(c: &Connection, table: &str, columns: &[String]) -> Result<String> {
    let known = columns_of(c, table)?
        .ok_or_else(|| StoreError::Invalid(format!("this database has no table `{table}`")))?;
    if let Some(bad) = columns.iter().find(|col| !known.contains(col)) {
        return Err(StoreError::Invalid(format!(
            "`{table}` has no column `{bad}`"
        )));
    }
    Ok(columns
        .iter()
        .map(|c| format!("\"{c}\""))
        .collect::<Vec<_>>()
        .join(", "))
}

fn cell(v: ValueRef<'_>) -> Cell {
    match v {
        ValueRef::Null => Cell::Null,
        ValueRef::Integer(i) => Cell::Int(i),
        ValueRef::Real(f) => Cell::Real(f),
        ValueRef::Text(t) => Cell::Text(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Blob(b) => Cell::Blob(b.to_vec()),
    }
}

fn value(c: Cell) -> Value {
    match c {
        Cell::Null => Value::Null,
        Cell::Int(i) => Value::Integer(i),
        Cell::Real(f) => Value::Real(f),
        Cell::Text(t) => Value::Text(t),
        Cell::Blob(b) => Value::Blob(b),
    }
}

impl TableStore for Store {
    fn columns(&self, table: &str) -> Result<Option<Vec<String>>> {
        let table = model_table(table)?;
        self.pool().read(|c| columns_of(c, table))
    }

    fn count_rows(&self, table: &str) -> Result<u64> {
        self.pool().read(|c| {
            if columns_of(c, table)?.is_none() {
                return Err(StoreError::Invalid(format!("no table `{table}`")));
            }
            let n: i64 = c.query_row(&format!("SELECT count(*) FROM \"{table}\""), [], |r| {
                r.get(0)
            })?;
            Ok(u64::try_from(n).unwrap_or(0))
        })
    }

    fn read_rows(
        &self,
        table: &str,
        columns: &[String],
        each: &mut dyn FnMut(Vec<Cell>) -> Result<()>,
    ) -> Result<u64> {
        let table = model_table(table)?;
        self.pool().read(|c| {
            let list = column_list(c, table, columns)?;
            c.execute_batch("BEGIN DEFERRED")?;
            let out = (|| -> Result<u64> {
                let mut stmt =
                    c.prepare(&format!("SELECT {list} FROM \"{table}\" ORDER BY rowid"))?;
                let mut rows = stmt.query([])?;
                let mut n = 0u64;
                while let Some(row) = rows.next()? {
                    let cells = (0..columns.len())
                        .map(|i| row.get_ref(i).map(cell))
                        .collect::<rusqlite::Result<Vec<_>>>()?;
                    each(cells)?;
                    n += 1;
                }
                Ok(n)
            })();
            let _ = c.execute_batch("COMMIT");
            out
        })
    }

    fn insert_rows(&self, table: &str, columns: &[String], rows: Vec<Vec<Cell>>) -> Result<usize> {
        let table = model_table(table)?.to_owned();
        let columns = columns.to_vec();
        self.pool().write(move |c| {
            let list = column_list(c, &table, &columns)?;
            let marks = vec!["?"; columns.len()].join(", ");
            let mut stmt = c.prepare(&format!(
                "INSERT INTO \"{table}\" ({list}) VALUES ({marks})"
            ))?;
            let mut n = 0;
            for row in rows {
                if row.len() != columns.len() {
                    return Err(StoreError::Invalid(format!(
                        "a row of {} values for {} columns of `{table}`",
                        row.len(),
                        columns.len()
                    )));
                }
                n += stmt.execute(params_from_iter(row.into_iter().map(value)))?;
            }
            Ok(n)
        })
    }

    fn clear_tables(&self) -> Result<()> {
        self.pool().write(|c| {
            for table in MODEL_TABLES.iter().rev() {
                if columns_of(c, table)?.is_some() {
                    c.execute(&format!("DELETE FROM \"{table}\""), [])?;
                }
            }
            Ok(())
        })
    }

    fn finish_copy(&self) -> Result<()> {
        Ok(())
    }

    fn other_tables(&self) -> Result<Vec<String>> {
        self.pool().read(|c| {
            let mut stmt =
                c.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")?;
            let names = stmt
                .query_map([], |r| r.get::<_, String>(0))?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(names
                .into_iter()
                .filter(|n| !MODEL_TABLES.contains(&n.as_str()))
                .filter(|n| !INTERNAL.iter().any(|p| n.starts_with(p)))
                .collect())
        })
    }
}
