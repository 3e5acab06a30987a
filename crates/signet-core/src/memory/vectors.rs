//! Vector-facing reads and repairs: similar memories, the embedding listing, status, health,
//! the 2-D projection for the dashboard, and the embedding repairs.

use std::collections::HashMap;

use serde_json::{Value, json};
use signet_api::{
    CheckStatus, EmbeddingConfig, EmbeddingCoverage, EmbeddingGaps, EmbeddingHealth, EmbeddingItem,
    EmbeddingList, EmbeddingStatus, EmbeddingsQuery, HealthCheck, Projection, ProjectionNode,
    ProjectionQuery, RepairResponse, SimilarMemory, SimilarQuery, SimilarResponse,
};
use signet_model::memories::{EmbeddingRow, EmbeddingStats, RecallRow, RowKey};

use super::{Memories, input};
use crate::error::{CoreError, Result};

/// The validated query of `GET /memory/similar`.
#[derive(Debug, Clone)]
pub struct SimilarParams {
    /// The memory whose neighbours are wanted (trimmed, non-empty).
    pub id: String,
    /// Neighbours at most (1 to 100).
    pub k: usize,
    /// Only neighbours of this type.
    pub memory_type: Option<String>,
}

impl TryFrom<&SimilarQuery> for SimilarParams {
    type Error = CoreError;

    /// `id` is required (its error body carries upstream's empty `results`); `k` is a
    /// positive integer, default 10, clamped to 100.
    fn try_from(q: &SimilarQuery) -> Result<Self> {
        let id = q
            .id
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| CoreError::InvalidWith("id is required".into(), json!({"results": []})))?
            .to_owned();
        Ok(Self {
            id,
            k: input::query_limit(q.k.as_deref(), "k", 10, 100)?,
            memory_type: q
                .type_
                .as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned),
        })
    }
}

/// The validated query of `GET /api/embeddings`.
#[derive(Debug, Clone, Copy)]
pub struct EmbeddingPage {
    /// Rows per page (default 600, clamped to 5000).
    pub limit: usize,
    /// Rows skipped.
    pub offset: usize,
    /// Include the floats.
    pub vectors: bool,
}

impl TryFrom<&EmbeddingsQuery> for EmbeddingPage {
    type Error = CoreError;

    fn try_from(q: &EmbeddingsQuery) -> Result<Self> {
        Ok(Self {
            limit: input::query_limit(q.limit.as_deref(), "limit", 600, 5000)?,
            offset: input::query_offset(q.offset.as_deref())?,
            vectors: matches!(q.vectors.as_deref(), Some("true" | "1")),
        })
    }
}

/// The validated query of `GET /api/embeddings/projection`.
#[derive(Debug, Clone, Copy)]
pub struct ProjectionParams {
    /// Points at most (default 2000, clamped to 10000).
    pub limit: usize,
}

impl TryFrom<&ProjectionQuery> for ProjectionParams {
    type Error = CoreError;

    /// `dimensions` must be 2 (the default); then `limit`.
    fn try_from(q: &ProjectionQuery) -> Result<Self> {
        let dims = q
            .dimensions
            .as_deref()
            .map_or(Ok(2), |d| d.trim().parse::<usize>())
            .unwrap_or(0);
        if dims != 2 {
            return Err(CoreError::Invalid("dimensions must be 2".into()));
        }
        Ok(Self {
            limit: input::query_limit(q.limit.as_deref(), "limit", 2000, 10000)?,
        })
    }
}

impl Memories {
    /// `GET /memory/similar?id=&k=&type=`: the nearest live memories to one memory.
    pub async fn similar(
        &self,
        p: SimilarParams,
        scope: &crate::auth::Scope,
    ) -> Result<SimilarResponse> {
        let mut scoped = signet_model::memories::RecallFilters::default();
        super::pin_filters(scope, &mut scoped)?;
        let scope = scope.clone();
        let SimilarParams { id, k, memory_type } = p;
        let (store, sem) = (self.store.clone(), self.semantic.clone());
        crate::blocking::run(move || {
            super::check_owner(store.as_ref(), &id, &scope)?;
            let Some(vector) = sem.vector_of(&id)? else {
                return Err(CoreError::NotFound(
                    "No embedding found for this memory".into(),
                ));
            };
            let filters = signet_model::memories::RecallFilters {
                memory_type,
                ..scoped
            };
            let allowed = if filters.is_empty() {
                None
            } else {
                Some(store.filter_ids(&filters)?.into_iter().collect())
            };
            let hits: Vec<(String, f32)> = sem
                .search(&vector, k + 1, allowed.as_ref())
                .into_iter()
                .filter(|(h, _)| *h != id)
                .take(k)
                .collect();
            let keys: Vec<RowKey> = hits.iter().map(|(h, _)| h.as_str().into()).collect();
            let rows = store.recall_rows(&keys)?;
            let score: HashMap<&str, f32> = hits.iter().map(|(h, s)| (h.as_str(), *s)).collect();
            let results = rows
                .into_iter()
                .map(|r| {
                    let s = score.get(r.id.as_str()).copied().unwrap_or(0.0);
                    similar_memory(r, s)
                })
                .collect();
            Ok(SimilarResponse {
                results,
                extra: Default::default(),
            })
        })
        .await
    }

    /// `GET /api/embeddings?vectors=&limit=&offset=`.
    pub async fn embeddings(&self, page: EmbeddingPage) -> Result<EmbeddingList> {
        let EmbeddingPage {
            limit,
            offset,
            vectors,
        } = page;
        let store = self.store.clone();
        let (rows, total) =
            crate::blocking::run(move || Ok(store.list_embeddings(limit, offset, vectors)?))
                .await?;
        let count = rows.len();
        Ok(EmbeddingList {
            count,
            embeddings: rows.into_iter().map(embedding_item).collect(),
            has_more: ((offset + count) as i64) < total,
            limit,
            offset,
            total,
            extra: Default::default(),
        })
    }

    /// `GET /api/embeddings/status`: provider, index and coverage.
    pub async fn embedding_status(&self) -> Result<EmbeddingStatus> {
        let mut status = self.semantic.status();
        status.coverage = Some(coverage(self.embedding_counts().await?));
        Ok(status)
    }

    async fn embedding_counts(&self) -> Result<EmbeddingStats> {
        let (store, model, dims) = (
            self.store.clone(),
            self.semantic.model(),
            self.semantic.dimensions(),
        );
        crate::blocking::run(move || Ok(store.embedding_stats(&model, dims)?)).await
    }

    /// `GET /api/embeddings/health`: weighted checks, upstream's shape.
    pub async fn embedding_health(&self) -> Result<EmbeddingHealth> {
        let c = self.embedding_counts().await?;
        let st = self.semantic.status();
        let coverage = if c.live == 0 {
            1.0
        } else {
            c.current as f64 / c.live as f64
        };
        let dims = self.semantic.dimensions() as i64;
        // The provider's name as JSON (quoted), as the message has always shown it.
        let provider = Value::String(st.provider.clone());
        let checks = [
            check("provider-available", 0.30, st.available, false,
                format!("provider {provider} {}", if st.available { "answers" } else { "is unavailable" }),
                st.keyword_only_reason.clone().or_else(|| st.error.clone())),
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
        Ok(EmbeddingHealth {
            checked_at: signet_model::time::now_iso(),
            checks: checks.into_iter().map(|(_, _, c)| c).collect(),
            config: EmbeddingConfig {
                dimensions: st.dimensions,
                model: st.model,
                provider: st.provider,
                extra: Default::default(),
            },
            score: (score * 1000.0).round() / 1000.0,
            status: crate::diagnostics::status(score).to_owned(),
            extra: Default::default(),
        })
    }

    /// `GET /api/repair/embedding-gaps`.
    pub async fn embedding_gaps(&self) -> Result<EmbeddingGaps> {
        let c = self.embedding_counts().await?;
        let coverage = if c.live == 0 {
            100.0
        } else {
            c.current as f64 * 100.0 / c.live as f64
        };
        Ok(EmbeddingGaps {
            coverage: format!("{coverage:.1}%"),
            missing: c.missing,
            stale_model: c.stale_model,
            total: c.live,
            unembedded: c.live - c.current,
            extra: Default::default(),
        })
    }

    /// `POST /api/repair/re-embed`: starts a background re-embed of every memory without a
    /// current vector (other models' vectors included); answers at once with progress.
    pub async fn reembed(&self, dry_run: bool) -> Result<RepairResponse> {
        let c = self.embedding_counts().await?;
        let pending = c.live - c.current;
        if dry_run {
            let message = format!("dry run: {pending} memories would be re-embedded");
            return Ok(RepairResponse::new("re-embed", true, pending, message));
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
        let message = format!("re-embedding {pending} memories in the background");
        Ok(RepairResponse {
            progress: Some(self.semantic.reembed_progress().into()),
            ..RepairResponse::new("re-embed", true, pending, message)
        })
    }

    /// `POST /api/repair/clean-orphans`.
    pub async fn clean_orphans(&self) -> Result<RepairResponse> {
        let store = self.store.clone();
        let n = crate::blocking::run(move || Ok(store.clean_orphan_embeddings()?)).await?;
        let message = format!("cleaned {n} orphaned embedding(s)");
        Ok(RepairResponse::new(
            "clean-orphans",
            true,
            n as i64,
            message,
        ))
    }

    /// `GET /api/embeddings/projection`: a 2-D PCA layout of the indexed vectors, each point
    /// with its memory's who, type, importance, project and content (cut), cached
    /// until the set of vectors changes.
    pub async fn projection(&self, p: ProjectionParams) -> Result<Projection> {
        let limit = p.limit;
        let (store, sem) = (self.store.clone(), self.semantic.clone());
        crate::blocking::run(move || {
            if let Some(hit) = sem.cached_projection(limit) {
                return Ok(hit);
            }
            let generation = sem.generation();
            let rows = store.load_vectors(&sem.model(), sem.dimensions())?;
            let rows: Vec<_> = rows.into_iter().take(limit).collect();
            // Each point's memory (a memory deleted since its vector was read is left out).
            let keys: Vec<RowKey> = rows.iter().map(|r| r.memory_id.as_str().into()).collect();
            let mut memories: HashMap<String, RecallRow> = store
                .recall_rows(&keys)?
                .into_iter()
                .map(|m| (m.id.clone(), m))
                .collect();
            let (vecs, memories): (Vec<Vec<f32>>, Vec<RecallRow>) = rows
                .iter()
                .filter_map(|r| {
                    let v = crate::vector::from_le_bytes(&r.blob)?;
                    Some((v, memories.remove(&r.memory_id)?))
                })
                .unzip();
            let points = crate::semantic::projection::pca2(&vecs);
            let nodes: Vec<ProjectionNode> = memories
                .into_iter()
                .zip(points)
                .map(|(m, (x, y))| projection_node(m, x, y))
                .collect();
            let v = Projection {
                cached_at: signet_model::time::now_iso(),
                count: nodes.len(),
                dimensions: 2,
                edges: Vec::new(),
                nodes,
                status: "ready".into(),
                total: sem.indexed(),
                extra: Default::default(),
            };
            sem.cache_projection(generation, limit, v.clone());
            Ok(v)
        })
        .await
    }
}

/// A neighbour with its similarity rounded to two decimals.
fn similar_memory(r: RecallRow, score: f32) -> SimilarMemory {
    SimilarMemory {
        content: r.content,
        created_at: r.created_at,
        id: r.id,
        score: (f64::from(score) * 100.0).round() / 100.0,
        tags: r
            .tags
            .as_deref()
            .map(|t| {
                t.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default(),
        type_: r.memory_type,
        extra: Default::default(),
    }
}

/// The store's listing row as the wire item (floats widened to `f64`, as always sent).
fn embedding_item(r: EmbeddingRow) -> EmbeddingItem {
    EmbeddingItem {
        content: r.content,
        created_at: r.created_at,
        id: r.id,
        importance: r.importance,
        memory_id: r.memory_id,
        source_id: r.source_id,
        source_type: r.source_type,
        tags: r.tags,
        text: r.text,
        type_: r.memory_type,
        vector: r.vector.map(|v| v.into_iter().map(f64::from).collect()),
        who: r.who,
        extra: Default::default(),
    }
}

/// The store's coverage counts as the wire value.
fn coverage(c: EmbeddingStats) -> EmbeddingCoverage {
    EmbeddingCoverage {
        current: c.current,
        dimensions: c.dimensions,
        live: c.live,
        missing: c.missing,
        orphans: c.orphans,
        stale_model: c.stale_model,
        extra: Default::default(),
    }
}

/// One weighted check: (weight, score, the check as reported).
fn check(
    name: &str,
    weight: f64,
    ok: bool,
    warn: bool,
    message: String,
    fix: Option<String>,
) -> (f64, f64, HealthCheck) {
    let (status, score) = if ok {
        (CheckStatus::Ok, 1.0)
    } else if warn {
        (CheckStatus::Warn, 0.5)
    } else {
        (CheckStatus::Fail, 0.0)
    };
    let check = HealthCheck {
        fix: fix.filter(|_| !ok),
        message,
        name: name.to_owned(),
        status,
        extra: Default::default(),
    };
    (weight, score, check)
}

/// A point with its memory's fields (content cut to [`NODE_CONTENT_CHARS`] characters).
fn projection_node(m: RecallRow, x: f32, y: f32) -> ProjectionNode {
    ProjectionNode {
        x: f64::from(x),
        y: f64::from(y),
        who: m.who.unwrap_or_else(|| "unknown".to_owned()),
        type_: m.memory_type,
        importance: m.importance,
        project: m.project,
        content: m.content.chars().take(NODE_CONTENT_CHARS).collect(),
        id: m.id,
        extra: Default::default(),
    }
}

/// How much of a memory's content a projection node carries.
const NODE_CONTENT_CHARS: usize = 200;

#[cfg(test)]
mod tests {
    use super::*;

    fn err<T: std::fmt::Debug>(r: Result<T>) -> String {
        r.unwrap_err().to_string()
    }

    #[test]
    fn query_params_default_clamp_and_name_the_bad_key() {
        let q = |id: Option<&str>, k: Option<&str>| SimilarQuery {
            id: id.map(Into::into),
            k: k.map(Into::into),
            type_: Some("  ".into()),
        };
        let p = SimilarParams::try_from(&q(Some(" m1 "), None)).unwrap();
        assert_eq!((p.id.as_str(), p.k, p.memory_type), ("m1", 10, None));
        assert_eq!(
            SimilarParams::try_from(&q(Some("m"), Some("500")))
                .unwrap()
                .k,
            100
        );
        assert_eq!(
            err(SimilarParams::try_from(&q(Some("m"), Some("0")))),
            "k must be a positive integer"
        );
        match SimilarParams::try_from(&q(Some(" "), None)) {
            Err(CoreError::InvalidWith(m, extra)) => {
                assert_eq!(
                    (m.as_str(), extra),
                    ("id is required", json!({"results": []}))
                );
            }
            other => panic!("{other:?}"),
        }

        let page =
            |limit: Option<&str>, offset: Option<&str>, vectors: Option<&str>| EmbeddingsQuery {
                limit: limit.map(Into::into),
                offset: offset.map(Into::into),
                vectors: vectors.map(Into::into),
            };
        let p = EmbeddingPage::try_from(&page(None, None, Some("1"))).unwrap();
        assert_eq!((p.limit, p.offset, p.vectors), (600, 0, true));
        let p = EmbeddingPage::try_from(&page(Some("9999"), Some(" 7 "), Some("yes"))).unwrap();
        assert_eq!((p.limit, p.offset, p.vectors), (5000, 7, false));
        assert_eq!(
            err(EmbeddingPage::try_from(&page(None, Some("-1"), None))),
            "offset must be a non-negative integer"
        );
        assert_eq!(
            err(EmbeddingPage::try_from(&page(Some("x"), Some("-1"), None))),
            "limit must be a positive integer"
        );

        let proj = |dimensions: Option<&str>, limit: Option<&str>| ProjectionQuery {
            dimensions: dimensions.map(Into::into),
            limit: limit.map(Into::into),
        };
        assert_eq!(
            ProjectionParams::try_from(&proj(None, None)).unwrap().limit,
            2000
        );
        assert_eq!(
            ProjectionParams::try_from(&proj(Some(" 2"), Some("20000")))
                .unwrap()
                .limit,
            10000
        );
        for bad in ["3", "two", ""] {
            assert_eq!(
                err(ProjectionParams::try_from(&proj(Some(bad), Some("0")))),
                "dimensions must be 2"
            );
        }
    }

    #[test]
    fn a_check_reports_its_fix_only_when_it_did_not_pass() {
        let (_, score, c) = check("x", 0.5, true, false, "fine".into(), Some("do".into()));
        assert_eq!((score, c.status, c.fix), (1.0, CheckStatus::Ok, None));
        let (_, score, c) = check("x", 0.5, false, true, "meh".into(), Some("do".into()));
        assert_eq!(
            (score, c.status, c.fix.as_deref()),
            (0.5, CheckStatus::Warn, Some("do"))
        );
        let (_, score, c) = check("x", 0.5, false, false, "bad".into(), None);
        assert_eq!((score, c.status), (0.0, CheckStatus::Fail));
    }
}
