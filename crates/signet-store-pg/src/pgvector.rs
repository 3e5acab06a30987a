//! Nearest-vector search in the database, where it has pgvector ([`VectorSearch`]).
//!
//! `embeddings.vec` (migration 4, a generated column of the blob, untyped dimensions) is
//! searched through one partial expression index per dimension count:
//! `USING hnsw ((vec::vector(N)) vector_cosine_ops) WHERE dimensions = N`, made when a node
//! first saves or searches vectors of N dimensions (or prepares N at start-up). Queries name
//! the extension's schema in full (`"public".vector`, `OPERATOR("public".<=>)`), so the
//! configured `storage.schema` need not have it on its search path, and write N as a literal,
//! so the planner can match the partial index.
//!
//! A search without an allow-list asks the index for `ef` candidates (`hnsw.ef_search` =
//! `ef` ≥ 2k, at least 40) and keeps the live ones whose vector is current (this model, this
//! content), best first: the deleted and stale rows the index still holds are filtered after
//! it, and the margin lets k survive them. With an allow-list (recall's filters), an exact
//! ordered scan among those ids — the filters apply to every leg, and an HNSW walk that
//! filters afterwards could return fewer than k.

use std::collections::HashSet;
use std::sync::Mutex;

use postgres::GenericClient;
use signet_model::{Result, StoreError, VectorSearch};

use crate::PgStore;
use crate::error::PgResultExt;
use crate::schema::MIGRATION_LOCK;

/// pgvector's HNSW indexes vectors of up to this many dimensions (0.6 and 0.7); above it
/// searches scan exactly.
const HNSW_MAX_DIMS: usize = 2_000;
/// The smallest beam (pgvector's default `hnsw.ef_search`).
const MIN_EF: usize = 40;
/// pgvector's largest `hnsw.ef_search`.
const MAX_EF: usize = 1_000;

/// The pgvector path of one open database.
#[derive(Debug)]
pub(crate) struct Pgvector {
    /// The extension's schema, quoted for SQL.
    ext: String,
    /// Dimension counts whose HNSW index this node has made or found.
    indexed: Mutex<HashSet<usize>>,
}

impl Pgvector {
    /// The extension's schema, read after `signet_pgvector_setup` made `embeddings.vec`.
    pub(crate) fn find(c: &mut impl GenericClient) -> Result<Self> {
        let schema: String = c
            .query_one(
                "SELECT quote_ident(n.nspname) FROM pg_extension x \
                 JOIN pg_namespace n ON n.oid = x.extnamespace WHERE x.extname = 'vector'",
                &[],
            )
            .pg()?
            .get(0);
        Ok(Self {
            ext: schema,
            indexed: Mutex::new(HashSet::new()),
        })
    }

    /// `vec` as a vector of `dims` dimensions: the indexed expression.
    fn column(&self, dims: usize) -> String {
        format!("(e.vec::{}.vector({dims}))", self.ext)
    }

    /// The cosine distance operator, schema-qualified.
    fn cosine(&self) -> String {
        format!("OPERATOR({}.<=>)", self.ext)
    }

    /// Makes the HNSW index for `dims` unless this node knows it is there. Under the
    /// migration lock, so nodes do not build it twice; a first build over many rows takes a
    /// while (writes to `embeddings` wait for it).
    pub(crate) fn ensure_index(&self, pool: &crate::pool::Pool, dims: usize) -> Result<()> {
        if dims == 0 || dims > HNSW_MAX_DIMS || self.known(dims) {
            return Ok(());
        }
        let sql = format!(
            "CREATE INDEX IF NOT EXISTS embeddings_vec_hnsw_{dims} ON embeddings \
             USING hnsw ((vec::{ext}.vector({dims})) {ext}.vector_cosine_ops) \
             WHERE dimensions = {dims}",
            ext = self.ext
        );
        let started = std::time::Instant::now();
        pool.tx(|tx| {
            tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
                .pg()?;
            tx.batch_execute(&sql).pg()
        })?;
        tracing::info!(target: "storage", dims, elapsed_ms = started.elapsed().as_millis() as u64,
            "pgvector HNSW index ready");
        self.indexed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(dims);
        Ok(())
    }

    fn known(&self, dims: usize) -> bool {
        self.indexed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains(&dims)
    }

    /// See [`VectorSearch::search`].
    pub(crate) fn search(
        &self,
        pool: &crate::pool::Pool,
        model: &str,
        dims: usize,
        query: &[f32],
        k: usize,
        allowed: Option<&HashSet<String>>,
    ) -> Result<Vec<(String, f32)>> {
        if query.len() != dims {
            return Err(StoreError::Invalid(format!(
                "a query vector of {} dimensions for an index of {dims}",
                query.len()
            )));
        }
        if k == 0 || dims == 0 || allowed.is_some_and(HashSet::is_empty) {
            return Ok(Vec::new());
        }
        let literal = vector_literal(query)?;
        let (col, op, ext) = (self.column(dims), self.cosine(), &self.ext);
        let q = format!("$1::text::{ext}.vector({dims})");
        let rows = match allowed {
            Some(ids) => {
                let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
                // MATERIALIZED: the distances of the allowed rows, then an exact sort (never
                // an index walk that filters afterwards).
                let sql = format!(
                    "WITH c AS MATERIALIZED ( \
                       SELECT m.id, {col} {op} {q} AS d FROM memories m \
                       JOIN embeddings e ON e.source_type = 'memory' AND e.source_id = m.id \
                         AND e.content_hash = m.content_hash \
                       WHERE m.id = ANY($3) AND m.is_deleted = false AND m.embedding_model = $2 \
                         AND e.dimensions = {dims} AND e.vec IS NOT NULL) \
                     SELECT id, d FROM c ORDER BY d, id LIMIT {k}"
                );
                pool.with(|c| c.query(&sql, &[&literal, &model, &ids]).pg())?
            }
            None => {
                self.ensure_index(pool, dims)?;
                let ef = (2 * k).clamp(MIN_EF, MAX_EF);
                let sql = format!(
                    "SELECT m.id, c.d FROM ( \
                       SELECT e.source_id, e.content_hash, {col} {op} {q} AS d FROM embeddings e \
                       WHERE e.dimensions = {dims} AND e.vec IS NOT NULL \
                       ORDER BY {col} {op} {q} LIMIT {ef}) c \
                     JOIN memories m ON m.id = c.source_id AND m.content_hash = c.content_hash \
                     WHERE m.is_deleted = false AND m.embedding_model = $2 \
                     ORDER BY c.d, m.id LIMIT {k}"
                );
                pool.tx(|tx| {
                    tx.batch_execute(&format!("SET LOCAL hnsw.ef_search = {ef}"))
                        .pg()?;
                    tx.query(&sql, &[&literal, &model]).pg()
                })?
            }
        };
        Ok(rows
            .iter()
            .filter_map(|r| {
                let d: f64 = r.get(1);
                // A zero vector has no direction: pgvector's distance is NaN.
                (!d.is_nan()).then(|| (r.get(0), (1.0 - d) as f32))
            })
            .collect())
    }
}

/// pgvector's text form of `v` (`[1,0.5,...]`); every float as Rust prints it, which reads
/// back as the same f32.
fn vector_literal(v: &[f32]) -> Result<String> {
    if v.iter().any(|x| !x.is_finite()) {
        return Err(StoreError::Invalid(
            "a query vector with an infinity or NaN".into(),
        ));
    }
    let mut s = String::with_capacity(v.len() * 12 + 2);
    s.push('[');
    for (i, x) in v.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        s.push_str(&x.to_string());
    }
    s.push(']');
    Ok(s)
}

impl VectorSearch for PgStore {
    fn search(
        &self,
        model: &str,
        dims: usize,
        query: &[f32],
        k: usize,
        allowed: Option<&HashSet<String>>,
    ) -> Result<Vec<(String, f32)>> {
        let Some(p) = self.pgvector() else {
            return Err(StoreError::Invalid(
                "pgvector is not in use on this database".into(),
            ));
        };
        p.search(self.pool(), model, dims, query, k, allowed)
    }

    fn prepare(&self, dims: usize) -> Result<()> {
        match self.pgvector() {
            Some(p) => p.ensure_index(self.pool(), dims),
            None => Ok(()),
        }
    }

    fn name(&self) -> &'static str {
        crate::capability::PGVECTOR
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_query_vector_is_written_exactly_and_refused_when_not_finite() {
        let v = [0.1f32, -2.5, 1e-40, 3.4e38];
        let text = vector_literal(&v).expect("finite");
        let back: Vec<f32> = text
            .trim_matches(['[', ']'])
            .split(',')
            .map(|x| x.parse().expect("a float"))
            .collect();
        assert_eq!(back, v);
        assert!(vector_literal(&[f32::NAN]).is_err());
        assert!(vector_literal(&[f32::INFINITY]).is_err());
    }
}
