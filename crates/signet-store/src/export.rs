//! [`ExportStore`] for SQLite: whole `memories` and `memory_history` rows as JSON objects of
//! raw column values, and the import that writes them back with the dedup rules of
//! `remember` (see the trait's contract in signet-model).
//!
//! Values map one to one: NULL, INTEGER, REAL and TEXT become JSON null, integers, floats
//! and strings (serde_json prints floats in their shortest exact form, so they read back
//! bit for bit); a BLOB, which neither table holds today, becomes `{"$hex": "..."}`.

use rusqlite::types::{Value as SqlValue, ValueRef};
use rusqlite::{Connection, OptionalExtension, params, params_from_iter};
use serde_json::{Number, Value, json};
use signet_model::export::{
    ExportItem, ExportPage, ExportStore, ImportItem, ImportOutcome, ImportedItem, StoredEmbedding,
};

use crate::error::Result;
use crate::memories::EmbeddingJob;
use crate::memories::embeddings;
use crate::store::Store;
use signet_model::JsonRow;
use signet_model::rules::ImportTarget;

impl ExportStore for Store {
    fn export_page(
        &self,
        after: i64,
        limit: usize,
        include_deleted: bool,
        with_vectors: bool,
    ) -> Result<ExportPage> {
        self.pool().read(|c| {
            c.execute_batch("BEGIN DEFERRED")?;
            let page = export_page(c, after, limit, include_deleted, with_vectors);
            let _ = c.execute_batch("COMMIT");
            page
        })
    }

    fn import_batch(
        &self,
        items: Vec<ImportItem>,
        now: &str,
        dry_run: bool,
    ) -> Result<Vec<ImportedItem>> {
        let now = now.to_owned();
        if dry_run {
            return self.pool().with_writer(move |conn| {
                let tx = conn.transaction()?;
                let out = import_items(&tx, &items, &now);
                tx.rollback()?;
                out
            });
        }
        self.pool().write(move |tx| import_items(tx, &items, &now))
    }
}

fn export_page(
    c: &Connection,
    after: i64,
    limit: usize,
    include_deleted: bool,
    with_vectors: bool,
) -> Result<ExportPage> {
    let mut stmt = c.prepare(
        "SELECT rowid AS \"__rowid\", * FROM memories WHERE rowid > ?1 \
         AND (?2 OR COALESCE(is_deleted, 0) = 0) ORDER BY rowid LIMIT ?3",
    )?;
    let names: Vec<String> = stmt.column_names().map(str::to_owned).collect();
    let mut rows = stmt.query(params![after, include_deleted, limit as i64])?;
    let mut items = Vec::new();
    let mut last = after;
    while let Some(r) = rows.next()? {
        last = r.get(0)?;
        let memory = to_json(r, &names, 1)?;
        let id = memory.get("id").and_then(Value::as_str).unwrap_or_default();
        let history = history_of(c, id)?;
        let vector = if with_vectors {
            vector_of(c, id)?
        } else {
            None
        };
        items.push(ExportItem {
            memory,
            history,
            vector,
        });
    }
    let next = (items.len() == limit && limit > 0).then_some(last);
    Ok(ExportPage { items, next })
}

fn history_of(c: &Connection, id: &str) -> Result<Vec<JsonRow>> {
    let mut stmt = c.prepare_cached(
        "SELECT * FROM memory_history WHERE memory_id = ?1 ORDER BY created_at, rowid",
    )?;
    let names: Vec<String> = stmt.column_names().map(str::to_owned).collect();
    let mut rows = stmt.query([id])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push(to_json(r, &names, 0)?);
    }
    Ok(out)
}

fn vector_of(c: &Connection, id: &str) -> Result<Option<StoredEmbedding>> {
    Ok(c.prepare_cached(
        "SELECT m.embedding_model, e.dimensions, e.content_hash, e.vector FROM memories m \
         JOIN embeddings e ON e.source_type = 'memory' AND e.source_id = m.id \
           AND e.content_hash = m.content_hash \
         WHERE m.id = ?1 AND m.embedding_model IS NOT NULL AND COALESCE(m.is_deleted, 0) = 0",
    )?
    .query_row([id], |r| {
        Ok(StoredEmbedding {
            model: r.get(0)?,
            dimensions: r.get::<_, i64>(1)?.max(0) as usize,
            content_hash: r.get(2)?,
            blob: r.get(3)?,
        })
    })
    .optional()?)
}

/// The row's columns from `skip` on, by name.
fn to_json(r: &rusqlite::Row<'_>, names: &[String], skip: usize) -> Result<JsonRow> {
    let mut row = JsonRow::new();
    for (i, name) in names.iter().enumerate().skip(skip) {
        let v = match r.get_ref(i)? {
            ValueRef::Null => Value::Null,
            ValueRef::Integer(n) => Value::from(n),
            ValueRef::Real(f) => Number::from_f64(f).map_or(Value::Null, Value::Number),
            ValueRef::Text(t) => Value::String(String::from_utf8_lossy(t).into_owned()),
            ValueRef::Blob(b) => json!({ "$hex": hex::encode(b) }),
        };
        row.insert(name.clone(), v);
    }
    Ok(row)
}

/// A JSON value as the SQL value it was exported from.
fn to_sql(v: &Value) -> SqlValue {
    match v {
        Value::Null => SqlValue::Null,
        Value::Bool(b) => SqlValue::Integer(i64::from(*b)),
        Value::Number(n) => match n.as_i64() {
            Some(i) => SqlValue::Integer(i),
            None => SqlValue::Real(n.as_f64().unwrap_or_default()),
        },
        Value::String(s) => SqlValue::Text(s.clone()),
        Value::Object(o) => match o.get("$hex").and_then(Value::as_str).map(hex::decode) {
            Some(Ok(b)) if o.len() == 1 => SqlValue::Blob(b),
            _ => SqlValue::Text(v.to_string()),
        },
        Value::Array(_) => SqlValue::Text(v.to_string()),
    }
}

fn columns(c: &Connection, table: &str) -> Result<Vec<String>> {
    let mut stmt = c.prepare_cached(&format!("SELECT name FROM pragma_table_info('{table}')"))?;
    let names = stmt.query_map([], |r| r.get(0))?;
    Ok(names.collect::<rusqlite::Result<_>>()?)
}

/// Inserts the keys of `row` that are columns of `table` (`or_ignore`: a taken key is no
/// error); returns rows written.
fn insert_row(
    c: &Connection,
    table: &str,
    known: &[String],
    row: &JsonRow,
    or_ignore: bool,
) -> rusqlite::Result<usize> {
    let cols: Vec<&String> = known.iter().filter(|k| row.contains_key(*k)).collect();
    let names: Vec<String> = cols.iter().map(|c| format!("\"{c}\"")).collect();
    let marks: Vec<String> = (1..=cols.len()).map(|i| format!("?{i}")).collect();
    let verb = if or_ignore {
        "INSERT OR IGNORE"
    } else {
        "INSERT"
    };
    let sql = format!(
        "{verb} INTO {table} ({}) VALUES ({})",
        names.join(", "),
        marks.join(", ")
    );
    let values = cols.iter().map(|c| to_sql(&row[c.as_str()]));
    c.prepare_cached(&sql)?.execute(params_from_iter(values))
}

fn import_items(c: &Connection, items: &[ImportItem], now: &str) -> Result<Vec<ImportedItem>> {
    let mut target = SqliteImport {
        c,
        memory_cols: columns(c, "memories")?,
        history_cols: columns(c, "memory_history")?,
        now,
    };
    signet_model::rules::import_items(&mut target, items)
}

/// An import's writes on SQLite (the order is [`signet_model::rules::import_items`]'s).
struct SqliteImport<'a> {
    c: &'a Connection,
    memory_cols: Vec<String>,
    history_cols: Vec<String>,
    now: &'a str,
}

impl ImportTarget for SqliteImport<'_> {
    fn memory(&mut self, row: &JsonRow) -> Result<ImportOutcome> {
        import_memory(self.c, &self.memory_cols, row)
    }
    fn history(&mut self, row: &JsonRow) -> Result<usize> {
        Ok(insert_row(
            self.c,
            "memory_history",
            &self.history_cols,
            row,
            true,
        )?)
    }
    fn vector(&mut self, id: &str, v: &StoredEmbedding) -> Result<bool> {
        save_vector(self.c, id, v, self.now)
    }
}

fn import_memory(c: &Connection, cols: &[String], row: &JsonRow) -> Result<ImportOutcome> {
    let text = |k: &str| row.get(k).and_then(Value::as_str).map(str::to_owned);
    let (Some(id), Some(_)) = (text("id"), text("content")) else {
        return Ok(ImportOutcome::Skipped {
            reason: "a memory needs an id and content".into(),
        });
    };
    let hash = text("content_hash");
    let deleted = row.get("is_deleted").and_then(Value::as_i64).unwrap_or(0) != 0;
    if let Some(existing) = duplicate_of(c, &id, hash.as_deref(), deleted, row)? {
        return Ok(ImportOutcome::Duplicate { id: existing });
    }
    let id_taken = c
        .prepare_cached("SELECT 1 FROM memories WHERE id = ?1")?
        .query_row([&id], |_| Ok(()))
        .optional()?
        .is_some();
    let id = if id_taken {
        uuid::Uuid::new_v4().to_string()
    } else {
        id
    };
    let mut row = row.clone();
    row.insert("id".into(), Value::String(id.clone()));
    // The vector, if any, is stored below and names its model then.
    row.insert("embedding_model".into(), Value::Null);
    match insert_row(c, "memories", cols, &row, false) {
        Ok(_) => Ok(ImportOutcome::Inserted { id }),
        Err(rusqlite::Error::SqliteFailure(e, msg))
            if e.code == rusqlite::ErrorCode::ConstraintViolation =>
        {
            Ok(ImportOutcome::Skipped {
                reason: msg.unwrap_or_else(|| e.to_string()),
            })
        }
        Err(e) => Err(e.into()),
    }
}

/// The row that already holds this memory: the same id with the same content, or one in the
/// same state with the same source or the same content hash.
fn duplicate_of(
    c: &Connection,
    id: &str,
    hash: Option<&str>,
    deleted: bool,
    row: &JsonRow,
) -> Result<Option<String>> {
    let same_id = c
        .prepare_cached("SELECT id FROM memories WHERE id = ?1 AND content_hash IS ?2")?
        .query_row(params![id, hash], |r| r.get(0))
        .optional()?;
    if same_id.is_some() {
        return Ok(same_id);
    }
    let source_id = row.get("source_id").and_then(Value::as_str);
    if let Some(source_id) = source_id {
        let source_type = row.get("source_type").and_then(Value::as_str);
        let hit = c
            .prepare_cached(
                "SELECT id FROM memories WHERE source_type IS ?1 AND source_id = ?2 \
                 AND (COALESCE(is_deleted, 0) != 0) = ?3 LIMIT 1",
            )?
            .query_row(params![source_type, source_id, deleted], |r| r.get(0))
            .optional()?;
        if hit.is_some() {
            return Ok(hit);
        }
    }
    let Some(hash) = hash else {
        return Ok(None);
    };
    Ok(c.prepare_cached(
        "SELECT id FROM memories WHERE content_hash = ?1 AND (COALESCE(is_deleted, 0) != 0) = ?2 LIMIT 1",
    )?
    .query_row(params![hash, deleted], |r| r.get(0))
    .optional()?)
}

/// Stores `v` as the vector of memory `id` when it is live, still has the content the vector
/// was made for, and has no vector of that model yet.
fn save_vector(c: &Connection, id: &str, v: &StoredEmbedding, now: &str) -> Result<bool> {
    let content: Option<String> = c
        .prepare_cached(
            "SELECT content FROM memories WHERE id = ?1 AND content_hash = ?2 AND COALESCE(is_deleted, 0) = 0",
        )?
        .query_row(params![id, v.content_hash], |r| r.get(0))
        .optional()?;
    let Some(content) = content else {
        return Ok(false);
    };
    if embeddings::vector_of(c, id, &v.model, v.dimensions)?.is_some() {
        return Ok(false);
    }
    let job = EmbeddingJob {
        memory_id: id.to_owned(),
        content,
        content_hash: v.content_hash.clone(),
    };
    embeddings::save(c, &job, &v.blob, v.dimensions, &v.model, now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip_through_json() {
        for v in [
            SqlValue::Null,
            SqlValue::Integer(-7),
            SqlValue::Real(0.1 + 0.2),
            SqlValue::Real(1.0),
            SqlValue::Text("héllo".into()),
            SqlValue::Blob(vec![0, 1, 254]),
        ] {
            let json = match &v {
                SqlValue::Null => Value::Null,
                SqlValue::Integer(n) => Value::from(*n),
                SqlValue::Real(f) => Value::Number(Number::from_f64(*f).unwrap_or(0.into())),
                SqlValue::Text(t) => Value::String(t.clone()),
                SqlValue::Blob(b) => json!({ "$hex": hex::encode(b) }),
            };
            let text = json.to_string();
            let back: Value = serde_json::from_str(&text).unwrap_or_default();
            assert_eq!(to_sql(&back), v, "{text}");
        }
    }
}
