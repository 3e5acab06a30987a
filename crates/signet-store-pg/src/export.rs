//! [`ExportStore`] for PostgreSQL: whole `memories` and `memory_history` rows as JSON objects
//! in the SQLite backend's shape, so an export of either backend imports into the other
//! (`signet migrate`): the same column names (not the keyword index column `tsv`, nor `seq`,
//! the export cursor), flags as 0/1 integers, numbers and text as they are, bytea as
//! `{"$hex": "..."}`. The import writes rows back with the dedup rules of `remember`, each
//! value cast from its text form to the column's type by the server.

use postgres::GenericClient;
use serde_json::Value;
use signet_model::export::{
    ExportItem, ExportPage, ImportItem, ImportOutcome, ImportedItem, StoredEmbedding,
};
use signet_model::memories::EmbeddingJob;
use signet_model::rules::ImportTarget;
use signet_model::{JsonRow, Result, StoreError};

use crate::error::PgResultExt;
use crate::memories::embeddings;
use crate::sql::count;

/// One page of memories after the cursor `after` (a `seq`), each with history and vector.
pub(crate) fn export_page(
    c: &mut impl GenericClient,
    after: i64,
    limit: usize,
    include_deleted: bool,
    with_vectors: bool,
) -> Result<ExportPage> {
    let rows = c
        .query(
            "SELECT m.seq, (to_jsonb(m) - 'tsv' - 'seq')::text FROM memories m \
             WHERE m.seq > $1 AND ($2 OR m.is_deleted IS NOT TRUE) ORDER BY m.seq LIMIT $3",
            &[&after, &include_deleted, &count(limit)],
        )
        .pg()?;
    let mut items = Vec::with_capacity(rows.len());
    let mut last = after;
    for r in &rows {
        last = r.get(0);
        let memory = to_row(r.get(1))?;
        let id = memory.get("id").and_then(Value::as_str).unwrap_or_default();
        let history = history_of(c, id)?;
        let vector = match with_vectors {
            true => vector_of(c, id)?,
            false => None,
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

/// A row's JSON in the export's shape: booleans become 0/1.
fn to_row(json: String) -> Result<JsonRow> {
    let Value::Object(mut row) =
        serde_json::from_str(&json).map_err(|e| StoreError::Backend(format!("export row: {e}")))?
    else {
        return Err(StoreError::Backend("export row is not an object".into()));
    };
    for v in row.values_mut() {
        if let Value::Bool(b) = v {
            *v = Value::from(i64::from(*b));
        }
    }
    Ok(row)
}

fn history_of(c: &mut impl GenericClient, id: &str) -> Result<Vec<JsonRow>> {
    c.query(
        "SELECT (to_jsonb(h) - 'seq')::text FROM memory_history h WHERE h.memory_id = $1 \
         ORDER BY h.created_at, h.seq",
        &[&id],
    )
    .pg()?
    .iter()
    .map(|r| to_row(r.get(0)))
    .collect()
}

fn vector_of(c: &mut impl GenericClient, id: &str) -> Result<Option<StoredEmbedding>> {
    let row = c
        .query_opt(
            "SELECT m.embedding_model, e.dimensions, e.content_hash, e.vector FROM memories m \
             JOIN embeddings e ON e.source_type = 'memory' AND e.source_id = m.id \
               AND e.content_hash = m.content_hash \
             WHERE m.id = $1 AND m.embedding_model IS NOT NULL AND m.is_deleted IS NOT TRUE",
            &[&id],
        )
        .pg()?;
    Ok(row.map(|r| StoredEmbedding {
        model: r.get(0),
        dimensions: usize::try_from(r.get::<_, i64>(1)).unwrap_or(0),
        content_hash: r.get(2),
        blob: r.get(3),
    }))
}

/// A writable column and its SQL type.
struct Column {
    name: String,
    sql_type: String,
}

/// The columns of `table` an import may write (not the generated ones).
fn columns(c: &mut impl GenericClient, table: &str) -> Result<Vec<Column>> {
    Ok(c.query(
        "SELECT column_name::text, data_type::text FROM information_schema.columns \
         WHERE table_schema = current_schema() AND table_name = $1 \
           AND is_generated = 'NEVER' AND identity_generation IS NULL \
         ORDER BY ordinal_position",
        &[&table],
    )
    .pg()?
    .iter()
    .map(|r| Column {
        name: r.get(0),
        sql_type: r.get(1),
    })
    .collect())
}

/// A JSON value as the text the server casts to the column's type.
fn to_text(v: &Value, sql_type: &str) -> Option<String> {
    match v {
        Value::Null => None,
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) if sql_type == "boolean" => Some((n.as_f64() != Some(0.0)).to_string()),
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) => Some(s.clone()),
        Value::Object(o) if sql_type == "bytea" => o
            .get("$hex")
            .and_then(Value::as_str)
            .map(|h| format!("\\x{h}")),
        other => Some(other.to_string()),
    }
}

/// Inserts the keys of `row` that are columns of `table`, inside a savepoint so a refused row
/// leaves the transaction usable; `Ok(Err(reason))` when a constraint refused it.
fn insert_row(
    c: &mut impl GenericClient,
    table: &str,
    known: &[Column],
    row: &JsonRow,
    on_conflict_ignore: bool,
) -> Result<std::result::Result<u64, String>> {
    let cols: Vec<&Column> = known.iter().filter(|k| row.contains_key(&k.name)).collect();
    let names: Vec<String> = cols.iter().map(|c| format!("\"{}\"", c.name)).collect();
    let marks: Vec<String> = cols
        .iter()
        .enumerate()
        .map(|(i, c)| format!("${}::text::{}", i + 1, c.sql_type))
        .collect();
    let values: Vec<Option<String>> = cols
        .iter()
        .map(|c| to_text(&row[c.name.as_str()], &c.sql_type))
        .collect();
    let params: Vec<&(dyn postgres::types::ToSql + Sync)> = values
        .iter()
        .map(|v| v as &(dyn postgres::types::ToSql + Sync))
        .collect();
    let conflict = if on_conflict_ignore {
        " ON CONFLICT DO NOTHING"
    } else {
        ""
    };
    let sql = format!(
        "INSERT INTO {table} ({}) VALUES ({}){conflict}",
        names.join(", "),
        marks.join(", ")
    );
    c.batch_execute("SAVEPOINT import_row").pg()?;
    match c.execute(&sql, &params) {
        Ok(n) => {
            c.batch_execute("RELEASE SAVEPOINT import_row").pg()?;
            Ok(Ok(n))
        }
        Err(e) if e.as_db_error().is_some() => {
            c.batch_execute("ROLLBACK TO SAVEPOINT import_row; RELEASE SAVEPOINT import_row")
                .pg()?;
            Ok(Err(crate::error::map(e).to_string()))
        }
        Err(e) => Err(crate::error::map(e)),
    }
}

/// Imports `items` (the caller's transaction; a dry run rolls it back).
pub(crate) fn import_items(
    c: &mut impl GenericClient,
    items: &[ImportItem],
    now: &str,
) -> Result<Vec<ImportedItem>> {
    let memory_cols = columns(c, "memories")?;
    let history_cols = columns(c, "memory_history")?;
    let mut target = PgImport {
        c,
        memory_cols,
        history_cols,
        now,
    };
    signet_model::rules::import_items(&mut target, items)
}

/// An import's writes on PostgreSQL (the order is [`signet_model::rules::import_items`]'s).
struct PgImport<'a, C> {
    c: &'a mut C,
    memory_cols: Vec<Column>,
    history_cols: Vec<Column>,
    now: &'a str,
}

impl<C: GenericClient> ImportTarget for PgImport<'_, C> {
    fn memory(&mut self, row: &JsonRow) -> Result<ImportOutcome> {
        import_memory(self.c, &self.memory_cols, row)
    }
    /// A history row a constraint refused counts as not written.
    fn history(&mut self, row: &JsonRow) -> Result<usize> {
        let written = insert_row(self.c, "memory_history", &self.history_cols, row, true)?;
        Ok(written.map_or(0, |n| usize::try_from(n).unwrap_or(0)))
    }
    fn vector(&mut self, id: &str, v: &StoredEmbedding) -> Result<bool> {
        save_vector(self.c, id, v, self.now)
    }
}

fn flag(row: &JsonRow, key: &str) -> bool {
    match row.get(key) {
        Some(Value::Bool(b)) => *b,
        Some(Value::Number(n)) => n.as_f64().is_some_and(|f| f != 0.0),
        _ => false,
    }
}

fn import_memory(
    c: &mut impl GenericClient,
    cols: &[Column],
    row: &JsonRow,
) -> Result<ImportOutcome> {
    let text = |k: &str| row.get(k).and_then(Value::as_str).map(str::to_owned);
    let (Some(id), Some(_)) = (text("id"), text("content")) else {
        return Ok(ImportOutcome::Skipped {
            reason: "a memory needs an id and content".into(),
        });
    };
    let hash = text("content_hash");
    let deleted = flag(row, "is_deleted");
    if let Some(existing) = duplicate_of(c, &id, hash.as_deref(), deleted, row)? {
        return Ok(ImportOutcome::Duplicate { id: existing });
    }
    let id_taken = c
        .query_opt("SELECT 1 FROM memories WHERE id = $1", &[&id])
        .pg()?
        .is_some();
    let id = match id_taken {
        true => uuid::Uuid::new_v4().to_string(),
        false => id,
    };
    let mut row = row.clone();
    row.insert("id".into(), Value::String(id.clone()));
    // The vector, if any, is stored below and names its model then.
    row.insert("embedding_model".into(), Value::Null);
    Ok(match insert_row(c, "memories", cols, &row, false)? {
        Ok(_) => ImportOutcome::Inserted { id },
        Err(reason) => ImportOutcome::Skipped { reason },
    })
}

/// The row that already holds this memory: the same id with the same content, or one in the
/// same state with the same source or the same content hash.
fn duplicate_of(
    c: &mut impl GenericClient,
    id: &str,
    hash: Option<&str>,
    deleted: bool,
    row: &JsonRow,
) -> Result<Option<String>> {
    let same_id = c
        .query_opt(
            "SELECT id FROM memories WHERE id = $1 AND content_hash IS NOT DISTINCT FROM $2::text",
            &[&id, &hash],
        )
        .pg()?;
    if let Some(r) = same_id {
        return Ok(Some(r.get(0)));
    }
    if let Some(source_id) = row.get("source_id").and_then(Value::as_str) {
        let source_type = row.get("source_type").and_then(Value::as_str);
        let hit = c
            .query_opt(
                "SELECT id FROM memories WHERE source_type IS NOT DISTINCT FROM $1::text \
                 AND source_id = $2 AND (is_deleted IS TRUE) = $3 LIMIT 1",
                &[&source_type, &source_id, &deleted],
            )
            .pg()?;
        if let Some(r) = hit {
            return Ok(Some(r.get(0)));
        }
    }
    let Some(hash) = hash else {
        return Ok(None);
    };
    Ok(c.query_opt(
        "SELECT id FROM memories WHERE content_hash = $1 AND (is_deleted IS TRUE) = $2 LIMIT 1",
        &[&hash, &deleted],
    )
    .pg()?
    .map(|r| r.get(0)))
}

/// Stores `v` as the vector of memory `id` when it is live, still has the content the vector
/// was made for, and has no vector of that model yet.
fn save_vector(
    c: &mut impl GenericClient,
    id: &str,
    v: &StoredEmbedding,
    now: &str,
) -> Result<bool> {
    let content = c
        .query_opt(
            "SELECT content FROM memories WHERE id = $1 AND content_hash = $2 \
             AND is_deleted IS NOT TRUE",
            &[&id, &v.content_hash],
        )
        .pg()?;
    let Some(content) = content.map(|r| r.get::<_, String>(0)) else {
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
