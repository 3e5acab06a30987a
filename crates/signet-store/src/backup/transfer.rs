//! Moving a whole workspace between two [`TableStore`]s (`signet migrate`, and the SQLite
//! dump in a PostgreSQL workspace's backup), and proving the move: per table, the row count
//! and a content hash computed the same way on both sides.
//!
//! [`plan`] lines the two up: for each of the model's tables the columns both hold (a column
//! only one side has is named, never silently dropped: PostgreSQL's `leased_by` lease owner is
//! one, and a lease means nothing on another database), and the source's tables the target
//! has no place for (SQLite keeps upstream tables PostgreSQL does not model), with their rows.
//! [`copy`] streams every table in [`MODEL_TABLES`] order, a batch per transaction; [`verify`]
//! hashes both sides.
//!
//! The content hash of a table is backend-neutral: each row is rendered canonically (each value
//! tagged with its kind — null, number, text, bytes — and length-prefixed; a number that is
//! integral is rendered as the integer, so `1` and `1.0` are the same, as the export shape
//! compares them; others by their shortest round-trip decimal), hashed with SHA-256, and the
//! table's hash is the SHA-256 of the sorted row hashes — the same whatever order either
//! backend returns rows in, and different when any value of any row differs.

use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use signet_model::tables::MODEL_TABLES;
use signet_model::{Cell, TableStore};

use crate::{Result, Store, StoreError};

/// Rows per insert transaction at most.
const BATCH_ROWS: usize = 2_000;
/// Bytes (roughly) per insert transaction at most.
const BATCH_BYTES: usize = 16 << 20;

/// One table of a [`Plan`].
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TablePlan {
    pub table: String,
    /// The columns both sides hold, copied and hashed.
    pub columns: Vec<String>,
    /// Columns only the source holds (not carried).
    pub source_only: Vec<String>,
    /// Columns only the target holds (left to their defaults).
    pub target_only: Vec<String>,
    /// Rows in the source when planned.
    pub rows: u64,
}

/// What a move will carry.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    pub tables: Vec<TablePlan>,
    /// Rows already in the target's model tables (a migration refuses them unless forced).
    pub target_rows: u64,
    /// Source tables the target has no table for, with their rows (only non-empty ones).
    pub uncarried: Vec<(String, u64)>,
}

/// Lines `from` and `to` up table by table.
pub fn plan(from: &dyn TableStore, to: &dyn TableStore) -> Result<Plan> {
    let mut tables = Vec::new();
    let mut target_rows = 0;
    for table in MODEL_TABLES {
        let (Some(src), Some(dst)) = (from.columns(table)?, to.columns(table)?) else {
            continue;
        };
        let columns: Vec<String> = src.iter().filter(|c| dst.contains(c)).cloned().collect();
        let source_only = src.iter().filter(|c| !dst.contains(c)).cloned().collect();
        let target_only = dst.iter().filter(|c| !src.contains(c)).cloned().collect();
        target_rows += to.count_rows(table)?;
        tables.push(TablePlan {
            table: table.to_owned(),
            rows: from.count_rows(table)?,
            columns,
            source_only,
            target_only,
        });
    }
    let mut uncarried = Vec::new();
    for t in from.other_tables()? {
        let n = from.count_rows(&t)?;
        if n > 0 {
            uncarried.push((t, n));
        }
    }
    Ok(Plan {
        tables,
        target_rows,
        uncarried,
    })
}

fn cell_bytes(c: &Cell) -> usize {
    match c {
        Cell::Text(t) => t.len(),
        Cell::Blob(b) => b.len(),
        _ => 8,
    }
}

/// Copies every table of `plan` from `from` into `to`; `progress(table, done, total)` after
/// each batch (and once at the start of each table). Returns the rows written per table.
pub fn copy(
    from: &dyn TableStore,
    to: &dyn TableStore,
    plan: &Plan,
    progress: &mut dyn FnMut(&str, u64, u64),
) -> Result<Vec<(String, u64)>> {
    let mut written = Vec::new();
    for t in &plan.tables {
        progress(&t.table, 0, t.rows);
        let mut batch = Vec::new();
        let (mut bytes, mut done) = (0usize, 0u64);
        let mut flush = |batch: &mut Vec<Vec<Cell>>, done: &mut u64| -> Result<()> {
            let n = to.insert_rows(&t.table, &t.columns, std::mem::take(batch))?;
            *done += n as u64;
            progress(&t.table, *done, t.rows.max(*done));
            Ok(())
        };
        from.read_rows(&t.table, &t.columns, &mut |row| {
            bytes += row.iter().map(cell_bytes).sum::<usize>();
            batch.push(row);
            if batch.len() >= BATCH_ROWS || bytes >= BATCH_BYTES {
                bytes = 0;
                flush(&mut batch, &mut done)?;
            }
            Ok(())
        })
        .map_err(|e| in_table(&t.table, e))?;
        if !batch.is_empty() {
            flush(&mut batch, &mut done).map_err(|e| in_table(&t.table, e))?;
        }
        written.push((t.table.clone(), done));
    }
    to.finish_copy()?;
    Ok(written)
}

/// Says which table an error came from.
fn in_table(table: &str, e: StoreError) -> StoreError {
    match e {
        StoreError::Invalid(m) => StoreError::Invalid(format!("copying {table}: {m}")),
        StoreError::Backend(m) => StoreError::Backend(format!("copying {table}: {m}")),
        StoreError::Conflict(m) => StoreError::Conflict(format!("copying {table}: {m}")),
        other => other,
    }
}

/// One table's verification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TableCheck {
    pub table: String,
    pub source_rows: u64,
    pub target_rows: u64,
    /// SHA-256 (hex) of the source's canonical rows.
    pub source_hash: String,
    pub target_hash: String,
}

impl TableCheck {
    pub fn matches(&self) -> bool {
        self.source_rows == self.target_rows && self.source_hash == self.target_hash
    }
}

/// Counts and hashes every table of `plan` on both sides (over the columns both hold).
pub fn verify(from: &dyn TableStore, to: &dyn TableStore, plan: &Plan) -> Result<Vec<TableCheck>> {
    let mut checks = Vec::new();
    for t in &plan.tables {
        let (source_rows, source_hash) = digest(from, &t.table, &t.columns)?;
        let (target_rows, target_hash) = digest(to, &t.table, &t.columns)?;
        checks.push(TableCheck {
            table: t.table.clone(),
            source_rows,
            target_rows,
            source_hash,
            target_hash,
        });
    }
    Ok(checks)
}

/// The rows of `table` and their content hash (see the module documentation).
pub fn digest(store: &dyn TableStore, table: &str, columns: &[String]) -> Result<(u64, String)> {
    let mut rows: Vec<[u8; 32]> = Vec::new();
    store.read_rows(table, columns, &mut |row| {
        let mut h = Sha256::new();
        for c in &row {
            canonical(&mut h, c);
        }
        rows.push(h.finalize().into());
        Ok(())
    })?;
    rows.sort_unstable();
    let mut h = Sha256::new();
    for r in &rows {
        h.update(r);
    }
    Ok((rows.len() as u64, hex::encode(h.finalize())))
}

/// Feeds one value's canonical rendering to `h`.
fn canonical(h: &mut Sha256, c: &Cell) {
    let (tag, bytes): (u8, Vec<u8>) = match c {
        Cell::Null => (b'z', Vec::new()),
        Cell::Int(i) => (b'n', i.to_string().into_bytes()),
        Cell::Real(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => {
            (b'n', (*f as i64).to_string().into_bytes())
        }
        Cell::Real(f) => (b'n', format!("{f:?}").into_bytes()),
        Cell::Text(t) => (b't', t.as_bytes().to_vec()),
        Cell::Blob(b) => (b'b', b.clone()),
    };
    h.update([tag]);
    h.update((bytes.len() as u64).to_le_bytes());
    h.update(&bytes);
}

/// A finished dump (see [`dump_to_sqlite`]).
#[derive(Debug, Clone)]
pub struct Dump {
    pub plan: Plan,
    pub checks: Vec<TableCheck>,
}

/// Dumps `from` into a new SQLite database at `dest` (which must not exist): migrated to this
/// build's schema, every model table copied and verified, left as a single file (no `-wal`).
/// The backup of a PostgreSQL workspace is this file, so it restores into either backend.
pub fn dump_to_sqlite(
    from: &dyn TableStore,
    dest: &Path,
    progress: &mut dyn FnMut(&str, u64, u64),
) -> Result<Dump> {
    if dest.exists() {
        return Err(StoreError::Invalid(format!(
            "{} already exists",
            dest.display()
        )));
    }
    let to = Store::open(dest, 1)?;
    let plan = plan(from, &to)?;
    copy(from, &to, &plan, progress)?;
    let checks = verify(from, &to, &plan)?;
    if let Some(bad) = checks.iter().find(|c| !c.matches()) {
        return Err(StoreError::Backend(format!(
            "the dump of {} does not match the database ({} rows vs {})",
            bad.table, bad.target_rows, bad.source_rows
        )));
    }
    drop(to);
    let c = rusqlite::Connection::open(dest)?;
    c.query_row("PRAGMA journal_mode = DELETE", [], |_| Ok(()))?;
    Ok(Dump { plan, checks })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hash(row: &[Cell]) -> [u8; 32] {
        let mut h = Sha256::new();
        for c in row {
            canonical(&mut h, c);
        }
        h.finalize().into()
    }

    #[test]
    fn the_canonical_rendering_tells_kinds_apart_but_not_1_from_1_0() {
        assert_eq!(hash(&[Cell::Int(1)]), hash(&[Cell::Real(1.0)]));
        assert_ne!(hash(&[Cell::Int(1)]), hash(&[Cell::Text("1".into())]));
        assert_ne!(
            hash(&[Cell::Text("a".into())]),
            hash(&[Cell::Blob(b"a".to_vec())])
        );
        assert_ne!(hash(&[Cell::Null]), hash(&[Cell::Text(String::new())]));
        assert_ne!(hash(&[Cell::Real(0.5)]), hash(&[Cell::Real(0.25)]));
        // Length prefixes: values never run into each other.
        let ab = [Cell::Text("ab".into()), Cell::Text("c".into())];
        let a_bc = [Cell::Text("a".into()), Cell::Text("bc".into())];
        assert_ne!(hash(&ab), hash(&a_bc));
    }

    #[test]
    fn a_copy_verifies_and_a_changed_row_does_not() {
        let dir = tempfile::tempdir().expect("temp dir");
        let from = Store::open(&dir.path().join("a.db"), 1).expect("open");
        let to = Store::open(&dir.path().join("b.db"), 1).expect("open");
        let t = "2026-03-02T12:00:00.000Z";
        from.pool()
            .write(move |c| {
                c.execute_batch(&format!(
                    "INSERT INTO llm_calls (created_at, provider, model, purpose, outcome) \
                     VALUES ('{t}', 'p', 'm', 'extract', 'ok'), ('{t}', 'p', 'm', 'summary', 'ok');
                     INSERT INTO entities (id, name, entity_type, created_at, updated_at) \
                     VALUES ('e1', 'Ada', 'person', '{t}', '{t}')"
                ))?;
                Ok(())
            })
            .expect("fill");
        let plan = plan(&from, &to).expect("plan");
        assert_eq!(plan.target_rows, 0);
        let copied = copy(&from, &to, &plan, &mut |_, _, _| {}).expect("copy");
        assert!(copied.contains(&("llm_calls".to_owned(), 2)), "{copied:?}");
        let checks = verify(&from, &to, &plan).expect("verify");
        assert!(checks.iter().all(TableCheck::matches), "{checks:?}");

        to.pool()
            .write(|c| {
                c.execute("UPDATE entities SET name = 'Ada L.'", [])?;
                Ok(())
            })
            .expect("change");
        let checks = verify(&from, &to, &plan).expect("verify");
        let bad: Vec<&str> = checks
            .iter()
            .filter(|c| !c.matches())
            .map(|c| c.table.as_str())
            .collect();
        assert_eq!(bad, ["entities"]);
    }
}
