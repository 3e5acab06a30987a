//! The graph and archive repairs: cold-archive statistics (a read), chunk-group and singleton
//! entity prunes, and the backfill of summary jobs that completed without a session summary.
//! Each write runs in one store transaction with its audit row; a dry run only counts and
//! writes nothing (no audit row, no limiter run), as the other repairs' dry runs.

use serde_json::Value;
use signet_api::repair::ColdStats;
use signet_model::maintenance::{AuditOf, EntityPrune, PrunedEntities, RepairAudit};

use super::{Limits, RepairContext, RepairResult};
use crate::error::{CoreError, Result};
use crate::maintenance::Maintenance;
use crate::memory::input;

/// The most rows one prune takes.
pub const MAX_PRUNE_BATCH: usize = 10_000;
/// The most summary jobs one backfill requeues.
pub const MAX_BACKFILL: usize = 1_000;

const CHUNK_GROUPS: &str = "pruneChunkGroupEntities";
const SINGLETONS: &str = "pruneSingletonExtractedEntities";
const BACKFILL: &str = "backfillSkippedSessions";

/// The fields of an optional body: no body is an empty object; anything but an object is
/// "Invalid JSON body".
fn fields(body: &Value) -> Result<serde_json::Map<String, Value>> {
    match body {
        Value::Null => Ok(serde_json::Map::new()),
        b => Ok(input::object(b)?.clone()),
    }
}

fn dry_run(o: &serde_json::Map<String, Value>) -> Result<bool> {
    Ok(input::opt_bool(o.get("dryRun"), "dryRun")?.unwrap_or(false))
}

/// The body of `POST /api/repair/prune-chunk-groups` (`{batchSize=500, dryRun}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkGroupPrune {
    /// Entities deleted at most, 1 to [`MAX_PRUNE_BATCH`].
    pub batch_size: usize,
    pub dry_run: bool,
}

impl Default for ChunkGroupPrune {
    fn default() -> Self {
        Self {
            batch_size: 500,
            dry_run: false,
        }
    }
}

impl TryFrom<&Value> for ChunkGroupPrune {
    type Error = CoreError;

    fn try_from(body: &Value) -> Result<Self> {
        let o = fields(body)?;
        let d = Self::default();
        Ok(Self {
            batch_size: input::limit(
                o.get("batchSize"),
                "batchSize",
                d.batch_size,
                MAX_PRUNE_BATCH,
            )?,
            dry_run: dry_run(&o)?,
        })
    }
}

/// The body of `POST /api/repair/prune-singleton-entities` (`{batchSize=200, dryRun,
/// maxMentions=1}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SingletonPrune {
    /// Entities deleted at most, 1 to [`MAX_PRUNE_BATCH`].
    pub batch_size: usize,
    pub dry_run: bool,
    /// Entities with at most this many mentions are singletons (0 or more).
    pub max_mentions: i64,
}

impl Default for SingletonPrune {
    fn default() -> Self {
        Self {
            batch_size: 200,
            dry_run: false,
            max_mentions: 1,
        }
    }
}

impl TryFrom<&Value> for SingletonPrune {
    type Error = CoreError;

    fn try_from(body: &Value) -> Result<Self> {
        let o = fields(body)?;
        let d = Self::default();
        Ok(Self {
            batch_size: input::limit(
                o.get("batchSize"),
                "batchSize",
                d.batch_size,
                MAX_PRUNE_BATCH,
            )?,
            dry_run: dry_run(&o)?,
            max_mentions: input::count(
                o.get("maxMentions"),
                "maxMentions",
                d.max_mentions,
                i64::MAX,
            )?,
        })
    }
}

/// The body of `POST /api/repair/backfill-skipped` (`{limit=50, dryRun}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SkippedBackfill {
    /// Summary jobs requeued at most, 1 to [`MAX_BACKFILL`].
    pub limit: usize,
    pub dry_run: bool,
}

impl Default for SkippedBackfill {
    fn default() -> Self {
        Self {
            limit: 50,
            dry_run: false,
        }
    }
}

impl TryFrom<&Value> for SkippedBackfill {
    type Error = CoreError;

    fn try_from(body: &Value) -> Result<Self> {
        let o = fields(body)?;
        Ok(Self {
            limit: input::limit(o.get("limit"), "limit", Self::default().limit, MAX_BACKFILL)?,
            dry_run: dry_run(&o)?,
        })
    }
}

fn plural(n: usize, one: &str) -> String {
    match n {
        1 => format!("1 {one}"),
        n => format!("{n} {one}s"),
    }
}

fn entity_noun(n: usize) -> &'static str {
    if n == 1 { "entity" } else { "entities" }
}

/// One entity prune: which repair, and what it selects.
struct Prune {
    action: &'static str,
    limits: Limits,
    which: EntityPrune,
    /// How messages name the entities (`chunk-group`, `singleton`).
    kind: &'static str,
    batch: usize,
    dry_run: bool,
}

impl Maintenance {
    /// `GET /api/repair/cold-stats` (a read: no audit row, no limiter).
    pub async fn cold_stats(&self) -> Result<ColdStats> {
        let store = self.inner.store.clone();
        let counts = crate::blocking::run(move || Ok(store.cold_counts()?)).await?;
        let missing = counts.is_none();
        let c = counts.unwrap_or_default();
        Ok(ColdStats {
            count: c.count,
            oldest: c.oldest,
            newest: c.newest,
            total_bytes: c.total_bytes,
            by_reason: c.by_reason.into_iter().collect(),
            message: missing
                .then(|| "Cold tier not yet initialized (migration pending)".to_owned()),
            extra: Default::default(),
        })
    }

    /// `POST /api/repair/prune-chunk-groups`: deletes up to `batchSize` chunk-group entities
    /// (the bookkeeping of long remembers, never matched by recall) with their mentions and
    /// relations; the chunks themselves stay.
    pub async fn prune_chunk_groups(
        &self,
        ctx: &RepairContext,
        p: ChunkGroupPrune,
    ) -> Result<RepairResult> {
        let prune = Prune {
            action: CHUNK_GROUPS,
            limits: Limits::ChunkGroups,
            which: EntityPrune::ChunkGroups,
            kind: "chunk-group",
            batch: p.batch_size,
            dry_run: p.dry_run,
        };
        self.prune(ctx, prune).await
    }

    /// `POST /api/repair/prune-singleton-entities`: deletes up to `batchSize` entities with at
    /// most `maxMentions` mentions that are not chunk groups, not pinned and carry no aspect or
    /// attribute, with their mentions and relations.
    pub async fn prune_singletons(
        &self,
        ctx: &RepairContext,
        p: SingletonPrune,
    ) -> Result<RepairResult> {
        let prune = Prune {
            action: SINGLETONS,
            limits: Limits::Singletons,
            which: EntityPrune::Singletons {
                max_mentions: p.max_mentions,
            },
            kind: "singleton",
            batch: p.batch_size,
            dry_run: p.dry_run,
        };
        self.prune(ctx, prune).await
    }

    async fn prune(&self, ctx: &RepairContext, p: Prune) -> Result<RepairResult> {
        let Prune {
            action,
            limits,
            which,
            kind,
            batch,
            dry_run,
        } = p;
        if dry_run {
            let store = self.inner.store.clone();
            let total = crate::blocking::run(move || Ok(store.prunable_entities(which)?)).await?;
            let would = total.min(batch);
            let noun = entity_noun(would);
            let message = format!("dry run: would prune {would} {kind} {noun} ({total} in all)");
            let mut r = RepairResult::ok(action, would as i64, message);
            r.response.dry_run = Some(true);
            return Ok(r);
        }
        self.run(action, limits, ctx, async {
            let store = self.inner.store.clone();
            let message = move |p: &PrunedEntities| prune_message(kind, p);
            let template = self.audit_template(ctx, action);
            let audit: AuditOf<PrunedEntities> = Box::new(move |p| RepairAudit {
                affected: p.entities as i64,
                message: message(p),
                ..template
            });
            let done = crate::blocking::run(move || Ok(store.prune_entities(which, batch, audit)?))
                .await?;
            Ok(RepairResult::ok(action, done.entities as i64, message(&done)).audited())
        })
        .await
    }

    /// `POST /api/repair/backfill-skipped`: completed summary jobs whose session has no
    /// summary (the worker judged it insignificant, or wrote nothing) go back to pending, so
    /// the summary worker tries them again.
    pub async fn backfill_skipped(
        &self,
        ctx: &RepairContext,
        p: SkippedBackfill,
    ) -> Result<RepairResult> {
        if p.dry_run {
            let store = self.inner.store.clone();
            let total = crate::blocking::run(move || Ok(store.skipped_summaries()?)).await?;
            let would = total.min(p.limit);
            let message = format!(
                "dry run: would requeue {} ({total} in all)",
                plural(would, "skipped summary job")
            );
            let mut r = RepairResult::ok(BACKFILL, would as i64, message);
            r.response.dry_run = Some(true);
            return Ok(r);
        }
        self.run(BACKFILL, Limits::Backfill, ctx, async {
            let store = self.inner.store.clone();
            let message =
                |n: usize| format!("requeued {} to pending", plural(n, "skipped summary job"));
            let template = self.audit_template(ctx, BACKFILL);
            let audit: AuditOf<usize> = Box::new(move |&n| RepairAudit {
                affected: n as i64,
                message: message(n),
                ..template
            });
            let limit = p.limit;
            let n =
                crate::blocking::run(move || Ok(store.requeue_skipped_summaries(limit, audit)?))
                    .await?;
            Ok(RepairResult::ok(BACKFILL, n as i64, message(n)).audited())
        })
        .await
    }
}

/// "pruned 2 chunk-group entities (3 mentions and 0 relations removed with them)".
fn prune_message(kind: &str, p: &PrunedEntities) -> String {
    format!(
        "pruned {} {kind} {} ({} and {} removed with them)",
        p.entities,
        entity_noun(p.entities),
        plural(p.mentions, "mention"),
        plural(p.relations, "relation"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn bodies_take_defaults_and_name_the_bad_field() {
        assert_eq!(
            ChunkGroupPrune::try_from(&Value::Null).unwrap(),
            ChunkGroupPrune::default()
        );
        let p = ChunkGroupPrune::try_from(&json!({"batchSize": "20", "dryRun": 1})).unwrap();
        assert_eq!((p.batch_size, p.dry_run), (20, true));
        let big = ChunkGroupPrune::try_from(&json!({"batchSize": 1e9})).unwrap();
        assert_eq!(big.batch_size, MAX_PRUNE_BATCH);
        for (body, field) in [
            (
                json!({"batchSize": -1}),
                "batchSize must be a positive integer",
            ),
            (
                json!({"batchSize": 0}),
                "batchSize must be a positive integer",
            ),
            (
                json!({"batchSize": "many"}),
                "batchSize must be a positive integer",
            ),
            (json!({"dryRun": "maybe"}), "dryRun must be a boolean"),
            (json!([1]), "Invalid JSON body"),
        ] {
            let e = ChunkGroupPrune::try_from(&body).unwrap_err();
            assert!(
                matches!(&e, CoreError::Invalid(m) if m == field),
                "{body}: {e:?}"
            );
        }

        let s = SingletonPrune::try_from(&json!({})).unwrap();
        assert_eq!(s, SingletonPrune::default());
        assert_eq!((s.batch_size, s.max_mentions), (200, 1));
        let zero = SingletonPrune::try_from(&json!({"maxMentions": 0})).unwrap();
        assert_eq!(zero.max_mentions, 0);
        let e = SingletonPrune::try_from(&json!({"maxMentions": -2})).unwrap_err();
        assert!(
            matches!(&e, CoreError::Invalid(m) if m == "maxMentions must be a non-negative integer")
        );
        let e = SingletonPrune::try_from(&json!({"maxMentions": true})).unwrap_err();
        assert!(matches!(&e, CoreError::Invalid(m) if m.starts_with("maxMentions")));

        let b = SkippedBackfill::try_from(&Value::Null).unwrap();
        assert_eq!((b.limit, b.dry_run), (50, false));
        let e = SkippedBackfill::try_from(&json!({"limit": -5})).unwrap_err();
        assert!(matches!(&e, CoreError::Invalid(m) if m == "limit must be a positive integer"));
        let capped = SkippedBackfill::try_from(&json!({"limit": 5000})).unwrap();
        assert_eq!(capped.limit, MAX_BACKFILL);
    }

    #[test]
    fn messages_say_what_was_done() {
        let p = PrunedEntities {
            entities: 1,
            mentions: 2,
            relations: 1,
        };
        assert_eq!(
            prune_message("chunk-group", &p),
            "pruned 1 chunk-group entity (2 mentions and 1 relation removed with them)"
        );
        let none = PrunedEntities::default();
        assert_eq!(
            prune_message("singleton", &none),
            "pruned 0 singleton entities (0 mentions and 0 relations removed with them)"
        );
    }
}
