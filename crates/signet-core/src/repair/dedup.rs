//! Deduplication: exact clusters (same normalised content) and, optionally, semantic ones
//! (vectors at or above a cosine threshold). In each cluster the keeper is upstream's: the
//! highest `importance*3 + min(access,50)/50 + min(update_count,20)/20 + updated_ms/1e15`
//! (+100 if pinned or manually overridden); the losers' tags are merged into the keeper and
//! the losers soft-deleted, with `merged` / `deleted` history rows, and dropped from the
//! vector index.

use std::collections::{HashMap, HashSet};

use serde_json::Value;
use signet_model::maintenance::{DedupMerge, DedupRow};

use super::{RepairContext, RepairResult};
use crate::config::RepairSettings;
use crate::error::{CoreError, Result};
use crate::maintenance::Maintenance;
use crate::memory::input;

/// Neighbours examined per memory in the semantic pass.
const NEIGHBOURS: usize = 8;

/// The body of `POST /api/repair/deduplicate` (`{batchSize, dryRun, semanticThreshold,
/// semanticEnabled}`, all optional), validated; unset fields take the settings' defaults in
/// [`DedupOptions::new`].
#[derive(Debug, Clone, Copy, Default)]
pub struct DedupParams {
    /// Clusters (and semantic candidates) examined, already clamped to 1000.
    pub batch_size: Option<usize>,
    pub dry_run: bool,
    /// Cosine similarity from 0 to 1.
    pub semantic_threshold: Option<f64>,
    pub semantic_enabled: bool,
}

impl TryFrom<&Value> for DedupParams {
    type Error = CoreError;

    fn try_from(body: &Value) -> Result<Self> {
        let empty = serde_json::Map::new();
        let o = match body {
            Value::Null => &empty,
            b => input::object(b)?,
        };
        let threshold =
            match o.get("semanticThreshold") {
                None | Some(Value::Null) => None,
                Some(v) => Some(v.as_f64().filter(|t| (0.0..=1.0).contains(t)).ok_or_else(
                    || CoreError::Invalid("semanticThreshold must be a number from 0 to 1".into()),
                )?),
            };
        let batch_size = match o.get("batchSize") {
            None | Some(Value::Null) => None,
            // Present: `limit` never falls back to its default (1 here).
            v => Some(input::limit(v, "batchSize", 1, 1000)?),
        };
        Ok(Self {
            batch_size,
            dry_run: input::opt_bool(o.get("dryRun"), "dryRun")?.unwrap_or(false),
            semantic_threshold: threshold,
            semantic_enabled: input::opt_bool(o.get("semanticEnabled"), "semanticEnabled")?
                .unwrap_or(false),
        })
    }
}

/// A deduplicate run's options: the request with the settings' defaults filled in.
#[derive(Debug, Clone)]
pub struct DedupOptions {
    pub batch_size: usize,
    pub dry_run: bool,
    pub semantic_threshold: f64,
    pub semantic_enabled: bool,
}

impl DedupOptions {
    /// `p` over the defaults of `d` (`dedupBatchSize`, `dedupSemanticThreshold`).
    pub fn new(p: DedupParams, d: &RepairSettings) -> Self {
        Self {
            batch_size: p.batch_size.unwrap_or(d.dedup_batch_size),
            dry_run: p.dry_run,
            semantic_threshold: p.semantic_threshold.unwrap_or(d.dedup_semantic_threshold),
            semantic_enabled: p.semantic_enabled,
        }
    }
}

/// Upstream's keeper score.
pub fn keeper_score(r: &DedupRow) -> f64 {
    let updated_ms = signet_model::time::parse(&r.updated_at).map_or(0, |t| t.timestamp_millis());
    let mut s = r.importance * 3.0
        + r.access_count.clamp(0, 50) as f64 / 50.0
        + r.update_count.clamp(0, 20) as f64 / 20.0
        + updated_ms as f64 / 1e15;
    if r.pinned || r.manual_override {
        s += 100.0;
    }
    s
}

/// The keeper, losers and merged tags of one cluster.
fn merge(rows: &[DedupRow], pass: &str) -> Option<DedupMerge> {
    if rows.len() < 2 {
        return None;
    }
    let keeper = rows
        .iter()
        .max_by(|a, b| keeper_score(a).total_cmp(&keeper_score(b)))?;
    let mut tags: Vec<String> = Vec::new();
    for t in std::iter::once(keeper)
        .chain(rows.iter().filter(|r| r.id != keeper.id))
        .filter_map(|r| r.tags.as_deref())
        .flat_map(|t| t.split(','))
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        if !tags.iter().any(|have| have == t) {
            tags.push(t.to_owned());
        }
    }
    Some(DedupMerge {
        keeper: keeper.id.clone(),
        losers: rows
            .iter()
            .filter(|r| r.id != keeper.id)
            .map(|r| r.id.clone())
            .collect(),
        tags: (!tags.is_empty()).then(|| tags.join(",")),
        pass: pass.to_owned(),
    })
}

impl Maintenance {
    pub(super) async fn dedup(
        &self,
        ctx: &RepairContext,
        o: &DedupOptions,
    ) -> Result<RepairResult> {
        let store = self.inner.store.clone();
        let limit = o.batch_size;
        let clusters = crate::blocking::run(move || Ok(store.dedup_clusters(limit)?)).await?;
        let mut merges: Vec<DedupMerge> = clusters
            .iter()
            .filter_map(|c| merge(&c.rows, "exact"))
            .collect();
        if o.semantic_enabled {
            let taken: HashSet<String> = merges
                .iter()
                .flat_map(|m| std::iter::once(m.keeper.clone()).chain(m.losers.iter().cloned()))
                .collect();
            merges.extend(self.semantic_merges(o, taken).await?);
        }
        let planned: usize = merges.iter().map(|m| m.losers.len()).sum();
        let n_clusters = merges.len();
        if o.dry_run {
            let mut r = RepairResult::ok(
                "deduplicateMemories",
                planned as i64,
                format!(
                    "dry run: would deduplicate {planned} memory/memories across {n_clusters} cluster(s)"
                ),
            );
            r.response.clusters = Some(n_clusters);
            r.response.dry_run = Some(true);
            return Ok(r);
        }
        let audit = self.audit_template(ctx, "deduplicateMemories");
        let store = self.inner.store.clone();
        let applied = merges.clone();
        let deleted =
            crate::blocking::run(move || Ok(store.apply_dedup(&applied, &audit)?)).await?;
        for id in &deleted {
            self.inner.memories.semantic().remove(id);
        }
        let gone: HashSet<&String> = deleted.iter().collect();
        let n_clusters = merges
            .iter()
            .filter(|m| m.losers.iter().any(|l| gone.contains(l)))
            .count();
        let mut r = RepairResult::ok(
            "deduplicateMemories",
            deleted.len() as i64,
            format!(
                "deduplicated {} memory/memories across {n_clusters} cluster(s)",
                deleted.len()
            ),
        );
        r.response.clusters = Some(n_clusters);
        Ok(r)
    }

    /// Clusters of live memories whose vectors are at least `semantic_threshold` similar
    /// (union of neighbour pairs), among the newest `batch_size` candidates.
    async fn semantic_merges(
        &self,
        o: &DedupOptions,
        taken: HashSet<String>,
    ) -> Result<Vec<DedupMerge>> {
        let sem = self.inner.memories.semantic().clone();
        if sem.embedder().is_none() {
            return Ok(Vec::new());
        }
        let store = self.inner.store.clone();
        let (limit, threshold) = (o.batch_size, o.semantic_threshold as f32);
        crate::blocking::run(move || {
            let ids: Vec<String> = store
                .dedup_candidate_ids(limit)?
                .into_iter()
                .filter(|i| !taken.contains(i))
                .collect();
            let allowed: HashSet<String> = ids.iter().cloned().collect();
            let mut parent: HashMap<String, String> = HashMap::new();
            fn root(p: &mut HashMap<String, String>, x: &str) -> String {
                let mut cur = x.to_owned();
                while let Some(next) = p.get(&cur).filter(|n| **n != cur).cloned() {
                    cur = next;
                }
                cur
            }
            for id in &ids {
                let Some(v) = sem.vector_of(id)? else {
                    continue;
                };
                for (other, sim) in sem.search(&v, NEIGHBOURS, Some(&allowed)) {
                    if other != *id && sim >= threshold {
                        let (a, b) = (root(&mut parent, id), root(&mut parent, &other));
                        if a != b {
                            parent.insert(a.clone(), a.clone());
                            parent.insert(b, a);
                        }
                    }
                }
            }
            let mut groups: HashMap<String, Vec<String>> = HashMap::new();
            for id in parent.keys().cloned().collect::<Vec<_>>() {
                let r = root(&mut parent, &id);
                groups.entry(r).or_default().push(id);
            }
            let mut out = Vec::new();
            for (_, members) in groups {
                let rows = store.dedup_rows(&members)?;
                out.extend(merge(&rows, "semantic"));
            }
            Ok(out)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn dedup_params_are_lenient_checked_and_defaulted() {
        let p = DedupParams::try_from(
            &json!({"batchSize": "5000", "dryRun": "true", "semanticEnabled": 1}),
        )
        .unwrap();
        assert_eq!(
            (p.batch_size, p.dry_run, p.semantic_enabled),
            (Some(1000), true, true)
        );
        let d = RepairSettings::default();
        let o = DedupOptions::new(DedupParams::try_from(&Value::Null).unwrap(), &d);
        assert_eq!(o.batch_size, d.dedup_batch_size);
        assert_eq!(o.semantic_threshold, d.dedup_semantic_threshold);
        assert!(!o.dry_run && !o.semantic_enabled);
        let o = DedupOptions::new(
            DedupParams::try_from(&json!({"semanticThreshold": 0.5})).unwrap(),
            &d,
        );
        assert_eq!(o.semantic_threshold, 0.5);
        for (body, error) in [
            (
                json!({"batchSize": 0}),
                "batchSize must be a positive integer",
            ),
            (
                json!({"semanticThreshold": "high"}),
                "semanticThreshold must be a number from 0 to 1",
            ),
            (json!({"dryRun": "perhaps"}), "dryRun must be a boolean"),
            (
                json!({"semanticEnabled": {}}),
                "semanticEnabled must be a boolean",
            ),
            (json!("dedup"), "Invalid JSON body"),
        ] {
            let e = DedupParams::try_from(&body).unwrap_err().to_string();
            assert_eq!(e, error, "{body}");
        }
    }

    fn row(id: &str, importance: f64, tags: Option<&str>) -> DedupRow {
        DedupRow {
            id: id.into(),
            importance,
            updated_at: "2026-01-01T00:00:00.000Z".into(),
            tags: tags.map(Into::into),
            ..Default::default()
        }
    }

    #[test]
    fn keeper_is_the_most_important_and_tags_are_merged() {
        let rows = [
            row("a", 0.5, Some("x, y")),
            row("b", 0.9, Some("z")),
            row("c", 0.5, None),
        ];
        let m = merge(&rows, "exact").unwrap();
        assert_eq!(m.keeper, "b");
        assert_eq!(m.losers, ["a", "c"]);
        assert_eq!(m.tags.as_deref(), Some("z,x,y"));
        let mut pinned = row("c", 0.1, None);
        pinned.pinned = true;
        assert!(keeper_score(&pinned) > keeper_score(&rows[1]));
    }
}
