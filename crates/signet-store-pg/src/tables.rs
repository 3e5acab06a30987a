//! [`TableStore`] on PostgreSQL: the model's tables row for row, for `signet migrate` and for
//! the SQLite dump a backup of a PostgreSQL workspace holds.
//!
//! Columns come from the catalog of the connection's schema: the identity `seq` (SQLite's
//! rowid) and generated columns (`tsv`) are the backend's own and not listed; rows are read in
//! `seq` order where a table has one (insertion order), else by the first columns. Booleans
//! read as 0/1 and write back from integers; an identity column that is copied (`llm_calls.id`)
//! is written with `OVERRIDING SYSTEM VALUE` and its sequence moved past the copied ids by
//! [`TableStore::finish_copy`]. Inserts go 1 statement per few hundred rows.

use postgres::fallible_iterator::FallibleIterator as _;
use postgres::types::{ToSql, Type};
use postgres::{GenericClient, Row};
use signet_model::tables::MODEL_TABLES;
use signet_model::{Cell, Result, StoreError, TableStore};

use crate::error::PgResultExt;
use crate::store::PgStore;

/// Bound parameters per INSERT statement at most (the protocol allows 65 535).
const PARAMS_PER_STATEMENT: usize = 30_000;
/// Rows per INSERT statement at most.
const ROWS_PER_STATEMENT: usize = 500;

/// One column as the catalog describes it.
struct Column {
    name: String,
    identity: bool,
}

fn model_table(table: &str) -> Result<&'static str> {
    MODEL_TABLES
        .iter()
        .find(|t| **t == table)
        .copied()
        .ok_or_else(|| StoreError::Invalid(format!("`{table}` is not a table of the model")))
}

/// The copyable columns of `table` in the current schema (`None`: no such table).
fn catalog(c: &mut impl GenericClient, table: &str) -> Result<Option<Vec<Column>>> {
    let rows = c
        .query(
            "SELECT column_name::text, is_identity = 'YES' FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name = $1 \
               AND is_generated = 'NEVER' AND column_name <> 'seq' \
             ORDER BY ordinal_position",
            &[&table],
        )
        .pg()?;
    if rows.is_empty() {
        return Ok(None);
    }
    Ok(Some(
        rows.iter()
            .map(|r| Column {
                name: r.get(0),
                identity: r.get(1),
            })
            .collect(),
    ))
}

/// Whether `table` has the identity `seq` (its insertion order).
fn has_seq(c: &mut impl GenericClient, table: &str) -> Result<bool> {
    let row = c
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name = $1 AND column_name = 'seq')",
            &[&table],
        )
        .pg()?;
    Ok(row.get(0))
}

/// `columns` checked against the catalog, quoted and joined; and whether one is an identity.
fn column_list(
    c: &mut impl GenericClient,
    table: &str,
    columns: &[String],
) -> Result<(String, bool)> {
    let known = catalog(c, table)?
        .ok_or_else(|| StoreError::Invalid(format!("this database has no table `{table}`")))?;
    let mut identity = false;
    for col in columns {
        match known.iter().find(|k| &k.name == col) {
            Some(k) => identity |= k.identity,
            None => {
                return Err(StoreError::Invalid(format!(
                    "`{table}` has no column `{col}`"
                )));
            }
        }
    }
    let list = columns
        .iter()
        .map(|c| format!("\"{c}\""))
        .collect::<Vec<_>>()
        .join(", ");
    Ok((list, identity))
}

fn cell(row: &Row, i: usize) -> Result<Cell> {
    let ty = row.columns()[i].type_().clone();
    let bad = |e: postgres::Error| StoreError::Backend(format!("reading a {ty} column: {e}"));
    let cell = match ty {
        Type::BOOL => row
            .try_get::<_, Option<bool>>(i)
            .map_err(bad)?
            .map(|b| Cell::Int(i64::from(b))),
        Type::INT2 => row
            .try_get::<_, Option<i16>>(i)
            .map_err(bad)?
            .map(|v| Cell::Int(v.into())),
        Type::INT4 => row
            .try_get::<_, Option<i32>>(i)
            .map_err(bad)?
            .map(|v| Cell::Int(v.into())),
        Type::INT8 => row
            .try_get::<_, Option<i64>>(i)
            .map_err(bad)?
            .map(Cell::Int),
        Type::FLOAT4 => row
            .try_get::<_, Option<f32>>(i)
            .map_err(bad)?
            .map(|v| Cell::Real(v.into())),
        Type::FLOAT8 => row
            .try_get::<_, Option<f64>>(i)
            .map_err(bad)?
            .map(Cell::Real),
        Type::BYTEA => row
            .try_get::<_, Option<Vec<u8>>>(i)
            .map_err(bad)?
            .map(Cell::Blob),
        _ => row
            .try_get::<_, Option<String>>(i)
            .map_err(bad)?
            .map(Cell::Text),
    };
    Ok(cell.unwrap_or(Cell::Null))
}

/// `c` as a parameter of type `ty`, or an error naming the column.
fn param(c: Cell, ty: &Type, table: &str, column: &str) -> Result<Box<dyn ToSql + Sync + Send>> {
    let wrong = |c: &Cell| {
        StoreError::Invalid(format!(
            "{table}.{column}: {c:?} does not fit PostgreSQL's {ty}"
        ))
    };
    let integral = |f: f64| (f.fract() == 0.0 && f.abs() < 9.0e15).then_some(f as i64);
    let boxed: Box<dyn ToSql + Sync + Send> = match (c, ty) {
        (Cell::Null, _) => null(ty),
        (Cell::Int(i), &Type::BOOL) => Box::new(i != 0),
        (Cell::Int(i), &Type::INT8) => Box::new(i),
        (Cell::Int(i), &Type::INT4) => {
            Box::new(i32::try_from(i).map_err(|_| wrong(&Cell::Int(i)))?)
        }
        (Cell::Int(i), &Type::FLOAT8) => Box::new(i as f64),
        (Cell::Real(f), &Type::FLOAT8) => Box::new(f),
        (Cell::Real(f), &Type::INT8) => Box::new(integral(f).ok_or_else(|| wrong(&Cell::Real(f)))?),
        (Cell::Text(t), &Type::TEXT | &Type::VARCHAR) => Box::new(t),
        (Cell::Int(i), &Type::TEXT) => Box::new(i.to_string()),
        (Cell::Real(f), &Type::TEXT) => Box::new(f.to_string()),
        (Cell::Blob(b), &Type::BYTEA) => Box::new(b),
        (Cell::Text(t), &Type::BYTEA) => Box::new(t.into_bytes()),
        (other, _) => return Err(wrong(&other)),
    };
    Ok(boxed)
}

/// A NULL of type `ty`.
fn null(ty: &Type) -> Box<dyn ToSql + Sync + Send> {
    match *ty {
        Type::BOOL => Box::new(None::<bool>),
        Type::INT2 => Box::new(None::<i16>),
        Type::INT4 => Box::new(None::<i32>),
        Type::INT8 => Box::new(None::<i64>),
        Type::FLOAT4 => Box::new(None::<f32>),
        Type::FLOAT8 => Box::new(None::<f64>),
        Type::BYTEA => Box::new(None::<Vec<u8>>),
        _ => Box::new(None::<String>),
    }
}

/// One multi-row INSERT of `rows`.
fn insert_chunk(
    tx: &mut postgres::Transaction<'_>,
    table: &str,
    columns: &[String],
    head: &str,
    rows: Vec<Vec<Cell>>,
) -> Result<usize> {
    let width = columns.len();
    let groups = (0..rows.len())
        .map(|r| {
            let marks = (1..=width)
                .map(|c| format!("${}", r * width + c))
                .collect::<Vec<_>>()
                .join(", ");
            format!("({marks})")
        })
        .collect::<Vec<_>>()
        .join(", ");
    let stmt = tx.prepare(&format!("{head} {groups}")).pg()?;
    let types = stmt.params().to_vec();
    let mut values: Vec<Box<dyn ToSql + Sync + Send>> = Vec::with_capacity(rows.len() * width);
    for row in rows {
        if row.len() != width {
            return Err(StoreError::Invalid(format!(
                "a row of {} values for {width} columns of `{table}`",
                row.len()
            )));
        }
        for (i, c) in row.into_iter().enumerate() {
            let ty = &types[values.len()];
            values.push(param(c, ty, table, &columns[i])?);
        }
    }
    let refs: Vec<&(dyn ToSql + Sync)> = values
        .iter()
        .map(|v| v.as_ref() as &(dyn ToSql + Sync))
        .collect();
    let n = tx.execute(&stmt, &refs).pg()?;
    Ok(usize::try_from(n).unwrap_or(usize::MAX))
}

impl TableStore for PgStore {
    fn columns(&self, table: &str) -> Result<Option<Vec<String>>> {
        let table = model_table(table)?;
        let cols = self.pool().with(|c| catalog(c, table))?;
        Ok(cols.map(|cols| cols.into_iter().map(|c| c.name).collect()))
    }

    fn count_rows(&self, table: &str) -> Result<u64> {
        self.pool().with(|c| {
            let exists = c
                .query_one(
                    "SELECT EXISTS (SELECT 1 FROM information_schema.tables \
                     WHERE table_schema = current_schema() AND table_name = $1)",
                    &[&table],
                )
                .pg()?
                .get::<_, bool>(0);
            if !exists {
                return Err(StoreError::Invalid(format!("no table `{table}`")));
            }
            let n: i64 = c
                .query_one(&format!("SELECT count(*) FROM \"{table}\""), &[])
                .pg()?
                .get(0);
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
        self.pool().tx(|tx| {
            tx.batch_execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                .pg()?;
            let (list, _) = column_list(tx, table, columns)?;
            let order = if has_seq(tx, table)? {
                "seq".to_owned()
            } else {
                (1..=columns.len().min(2))
                    .map(|i| i.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let sql = format!("SELECT {list} FROM \"{table}\" ORDER BY {order}");
            let none: [&(dyn ToSql + Sync); 0] = [];
            let mut rows = tx.query_raw(&sql, none).pg()?;
            let mut n = 0u64;
            while let Some(row) = rows.next().pg()? {
                let cells = (0..columns.len())
                    .map(|i| cell(&row, i))
                    .collect::<Result<Vec<_>>>()?;
                each(cells)?;
                n += 1;
            }
            Ok(n)
        })
    }

    fn insert_rows(&self, table: &str, columns: &[String], rows: Vec<Vec<Cell>>) -> Result<usize> {
        let table = model_table(table)?;
        if rows.is_empty() || columns.is_empty() {
            return Ok(0);
        }
        self.pool().tx(|tx| {
            let (list, identity) = column_list(tx, table, columns)?;
            let overriding = if identity {
                " OVERRIDING SYSTEM VALUE"
            } else {
                ""
            };
            let head = format!("INSERT INTO \"{table}\" ({list}){overriding} VALUES");
            let per = (PARAMS_PER_STATEMENT / columns.len()).clamp(1, ROWS_PER_STATEMENT);
            let mut n = 0;
            let mut rows = rows.into_iter().peekable();
            while rows.peek().is_some() {
                let chunk: Vec<_> = rows.by_ref().take(per).collect();
                n += insert_chunk(tx, table, columns, &head, chunk)?;
            }
            Ok(n)
        })
    }

    fn clear_tables(&self) -> Result<()> {
        self.pool().tx(|tx| {
            let mut present = Vec::new();
            for t in MODEL_TABLES {
                if catalog(tx, t)?.is_some() {
                    present.push(format!("\"{t}\""));
                }
            }
            if !present.is_empty() {
                tx.batch_execute(&format!("TRUNCATE {} RESTART IDENTITY", present.join(", ")))
                    .pg()?;
            }
            Ok(())
        })
    }

    fn finish_copy(&self) -> Result<()> {
        self.pool().tx(|tx| {
            for t in MODEL_TABLES {
                for col in catalog(tx, t)?.unwrap_or_default() {
                    if !col.identity {
                        continue;
                    }
                    let c = &col.name;
                    tx.execute(
                        &format!(
                            "SELECT setval(pg_get_serial_sequence($1, $2), \
                             coalesce((SELECT max(\"{c}\") FROM \"{t}\"), 0) + 1, false)"
                        ),
                        &[&format!("\"{t}\""), c],
                    )
                    .pg()?;
                }
            }
            Ok(())
        })
    }

    fn other_tables(&self) -> Result<Vec<String>> {
        let rows = self.pool().with(|c| {
            c.query(
                "SELECT table_name::text FROM information_schema.tables \
                 WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' \
                 ORDER BY 1",
                &[],
            )
            .pg()
        })?;
        Ok(rows
            .iter()
            .map(|r| r.get::<_, String>(0))
            .filter(|n| !MODEL_TABLES.contains(&n.as_str()) && !n.starts_with("schema_migrations"))
            .collect())
    }
}
