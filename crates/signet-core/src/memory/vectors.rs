//! Vector-facing reads and repairs: similar memories, the embedding listing, status, health,
//! the 2-D projection for the dashboard, and the embedding repairs.

use std::collections::HashMap;

use serde_json::{Value, json};

use super::{Memories, input};
use crate::error::{CoreError, Result};

impl Memories {
    /// `GET /memory/similar?id=&k=&type=`: the nearest live memories to one memory.
    pub async fn similar(
        &self,
        q: &HashMap<String, String>,
        scope: &crate::auth::Scope,
    ) -> Result<Value> {
        let mut scoped = signet_store::memories::RecallFilters::default();
        super::pin_filters(scope, &mut scoped)?;
        let scope = scope.clone();
        let id = q
            .get("id")
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
            .ok_or_else(|| CoreError::InvalidWith("id is required".into(), json!({"results": []})))?
            .to_owned();
        let k = input::limit(
            q.get("k").map(|s| Value::String(s.clone())).as_ref(),
            "k",
            10,
            100,
        )?;
        let memory_type = q
            .get("type")
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty());
        let (store, sem) = (self.store.clone(), self.semantic.clone());
        crate::blocking::run(move || {
            super::check_owner(store.as_ref(), &id, &scope)?;
            let Some(vector) = sem.vector_of(&id)? else {
                return Err(CoreError::NotFound("No embedding found for this memory".into()));
            };
            let filters = signet_store::memories::RecallFilters { memory_type, ..scoped };
            let allowed = if filters.is_empty() { None } else { Some(store.filter_ids(&filters)?.into_iter().collect()) };
            let hits: Vec<(String, f32)> = sem.search(&vector, k + 1, allowed.as_ref()).into_iter().filter(|(h, _)| *h != id).take(k).collect();
            let ids: Vec<String> = hits.iter().map(|(h, _)| h.clone()).collect();
            let rows = store.recall_rows(&ids)?;
            let score: HashMap<&str, f32> = hits.iter().map(|(h, s)| (h.as_str(), *s)).collect();
            let results: Vec<Value> = rows.iter().map(|r| json!({
                "id": r.id, "content": r.content, "type": r.memory_type,
                "tags": r.tags.as_deref().map(|t| t.split(',').map(str::trim).filter(|s| !s.is_empty()).collect::<Vec<_>>()).unwrap_or_default(),
                "score": (f64::from(score.get(r.id.as_str()).copied().unwrap_or(0.0)) * 100.0).round() / 100.0,
                "created_at": r.created_at,
            })).collect();
            Ok(json!({"results": results}))
        })
        .await
    }

    /// `GET /api/embeddings?vectors=&limit=&offset=`.
    pub async fn embeddings(&self, q: &HashMap<String, String>) -> Result<Value> {
        let limit = input::limit(
            q.get("limit").map(|s| Value::String(s.clone())).as_ref(),
            "limit",
            600,
            5000,
        )?;
        let offset: usize = match q.get("offset").map(|s| s.trim().parse::<usize>()) {
            None => 0,
            Some(Ok(n)) => n,
            Some(Err(_)) => {
                return Err(CoreError::Invalid(
                    "offset must be a non-negative integer".into(),
                ));
            }
        };
        let vectors = matches!(q.get("vectors").map(String::as_str), Some("true" | "1"));
        let store = self.store.clone();
        let (rows, total) =
            crate::blocking::run(move || Ok(store.list_embeddings(limit, offset, vectors)?))
                .await?;
        let count = rows.len();
        Ok(
            json!({"embeddings": rows, "count": count, "total": total, "limit": limit, "offset": offset,
            "hasMore": ((offset + count) as i64) < total}),
        )
    }

    /// `GET /api/embeddings/status`: provider, index and coverage.
    pub async fn embedding_status(&self) -> Result<Value> {
        let mut v = self.semantic.status_json();
        v["coverage"] = serde_json::to_value(self.embedding_counts().await?).unwrap_or_default();
        Ok(v)
    }

    async fn embedding_counts(&self) -> Result<signet_store::memories::EmbeddingStats> {
        let (store, model, dims) = (
            self.store.clone(),
            self.semantic.model(),
            self.semantic.dimensions(),
        );
        crate::blocking::run(move || Ok(store.embedding_stats(&model, dims)?)).await
    }

    /// `GET /api/embeddings/health`: weighted checks, upstream's shape.
    pub async fn embedding_health(&self) -> Result<Value> {
        let c = self.embedding_counts().await?;
        let status = self.semantic.status_json();
        let coverage = if c.live == 0 {
            1.0
        } else {
            c.current as f64 / c.live as f64
        };
        let dims = self.semantic.dimensions() as i64;
        let checks = [
            check("provider-available", 0.30, status["available"] == true, false,
                format!("provider {} {}", status["provider"], if status["available"] == true { "answers" } else { "is unavailable" }),
                status["keywordOnlyReason"].as_str().or(status["error"].as_str()).map(str::to_owned)),
            check("coverage", 0.25, coverage >= 0.95, coverage >= 0.8,
                format!("{:.1}% of live memories have a current vector", coverage * 100.0),
                (coverage < 0.95).then(|| "the embedding worker catches up on its own; POST /api/repair/re-embed forces it".into())),
            check("dimension-mismatch", 0.15, c.dimensions.iter().all(|d| *d == dims), false,
                format!("stored dimensions {:?}, index {dims}", c.dimensions),
                (c.stale_model > 0).then(|| "run `signet reembed` to migrate old vectors".into())),
            check("model-drift", 0.10, c.stale_model == 0, true,
                format!("{} live memories have vectors from another model", c.stale_model),
                (c.stale_model > 0).then(|| "run `signet reembed`".into())),
            check("orphaned-embeddings", 0.20, c.orphans == 0, true,
                format!("{} vectors belong to deleted or missing memories", c.orphans),
                (c.orphans > 0).then(|| "POST /api/repair/clean-orphans".into())),
        ];
        let score: f64 = checks.iter().map(|(w, s, _)| w * s).sum();
        let list: Vec<Value> = checks.into_iter().map(|(_, _, v)| v).collect();
        Ok(
            json!({"status": crate::diagnostics::status(score), "score": (score * 1000.0).round() / 1000.0,
            "checkedAt": signet_store::time::now_iso(),
            "config": {"provider": status["provider"], "model": status["model"], "dimensions": status["dimensions"]},
            "checks": list}),
        )
    }

    /// `GET /api/repair/embedding-gaps`.
    pub async fn embedding_gaps(&self) -> Result<Value> {
        let c = self.embedding_counts().await?;
        let unembedded = c.live - c.current;
        let coverage = if c.live == 0 {
            100.0
        } else {
            c.current as f64 * 100.0 / c.live as f64
        };
        Ok(
            json!({"unembedded": unembedded, "total": c.live, "coverage": format!("{coverage:.1}%"),
            "staleModel": c.stale_model, "missing": c.missing}),
        )
    }

    /// `POST /api/repair/re-embed`: starts a background re-embed of every memory without a
    /// current vector (other models' vectors included); answers at once with progress.
    pub async fn reembed(&self, dry_run: bool) -> Result<Value> {
        let c = self.embedding_counts().await?;
        let pending = c.live - c.current;
        if dry_run {
            return Ok(repair(
                "re-embed",
                true,
                pending,
                format!("dry run: {pending} memories would be re-embedded"),
            ));
        }
        if !self.semantic.request_reembed() {
            let why = self
                .semantic
                .keyword_only_reason()
                .unwrap_or("no embedding provider");
            return Err(CoreError::Invalid(format!(
                "semantic recall is off, nothing to re-embed: {why}"
            )));
        }
        let mut v = repair(
            "re-embed",
            true,
            pending,
            format!("re-embedding {pending} memories in the background"),
        );
        v["progress"] = serde_json::to_value(self.semantic.reembed_progress()).unwrap_or_default();
        Ok(v)
    }

    /// `POST /api/repair/clean-orphans`.
    pub async fn clean_orphans(&self) -> Result<Value> {
        let store = self.store.clone();
        let n = crate::blocking::run(move || Ok(store.clean_orphan_embeddings()?)).await?;
        Ok(repair(
            "clean-orphans",
            true,
            n as i64,
            format!("cleaned {n} orphaned embedding(s)"),
        ))
    }

    /// `GET /api/embeddings/projection`: a 2-D PCA layout of the indexed vectors, cached
    /// until the set of vectors changes.
    pub async fn projection(&self, q: &HashMap<String, String>) -> Result<Value> {
        let dims = q
            .get("dimensions")
            .map_or(Ok(2), |d| d.trim().parse::<usize>())
            .unwrap_or(0);
        if dims != 2 {
            return Err(CoreError::Invalid("dimensions must be 2".into()));
        }
        let limit = input::limit(
            q.get("limit").map(|s| Value::String(s.clone())).as_ref(),
            "limit",
            2000,
            10000,
        )?;
        let (store, sem) = (self.store.clone(), self.semantic.clone());
        crate::blocking::run(move || {
            if let Some(hit) = sem.cached_projection(limit) {
                return Ok(hit);
            }
            let generation = sem.generation();
            let rows = store.load_vectors(&sem.model(), sem.dimensions())?;
            let rows: Vec<_> = rows.into_iter().take(limit).collect();
            let vecs: Vec<Vec<f32>> = rows.iter().filter_map(|r| crate::vector::from_le_bytes(&r.blob)).collect();
            let points = crate::semantic::projection::pca2(&vecs);
            let nodes: Vec<Value> = rows.iter().zip(points).map(|(r, (x, y))| json!({"id": r.memory_id, "x": x, "y": y})).collect();
            let v = json!({"status": "ready", "dimensions": 2, "count": nodes.len(), "total": sem.indexed(),
                "nodes": nodes, "edges": [], "cachedAt": signet_store::time::now_iso()});
            sem.cache_projection(generation, limit, v.clone());
            Ok(v)
        })
        .await
    }
}

fn check(
    name: &str,
    weight: f64,
    ok: bool,
    warn: bool,
    message: String,
    fix: Option<String>,
) -> (f64, f64, Value) {
    let (status, score) = if ok {
        ("ok", 1.0)
    } else if warn {
        ("warn", 0.5)
    } else {
        ("fail", 0.0)
    };
    let mut v = json!({"name": name, "status": status, "message": message});
    if let (Some(f), false) = (fix, ok) {
        v["fix"] = f.into();
    }
    (weight, score, v)
}

/// The repair result shape `{action, success, affected, message}`.
pub fn repair(action: &str, success: bool, affected: i64, message: String) -> Value {
    json!({"action": action, "success": success, "affected": affected, "message": message})
}
