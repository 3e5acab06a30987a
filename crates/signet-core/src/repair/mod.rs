//! The repairs (`/api/repair/*`): each runs once, answers a [`RepairResponse`] (`{action,
//! success, affected, message}` and the action's own fields) and writes an audit row (`memory_history`, `memory_id = 'system'`, `event =
//! 'none'`) saying who ran it, why, and what it changed. A dry run writes nothing.
//!
//! Policy: operators and the daemon are never limited; agents (`x-signet-actor-type: agent`)
//! pass the [`limiter::Limiter`] (cooldown and hourly budget per action, from
//! `memory.pipelineV2.repair.*`, or upstream's constants for the graph and summary repairs).

mod dedup;
mod graph;
pub mod limiter;

use std::time::{Duration, Instant};

use serde_json::Value;
use signet_api::{DedupStats, EmbeddingGaps, RepairResponse, SweepRemoved};
use signet_model::maintenance::{AuditOf, FtsCounts, RepairAudit};

use crate::error::{CoreError, Result};
use crate::maintenance::Maintenance;
use crate::memory::input;

pub use dedup::{DedupOptions, DedupParams, keeper_score};
pub use graph::{ChunkGroupPrune, MAX_BACKFILL, MAX_PRUNE_BATCH, SingletonPrune, SkippedBackfill};

/// Most dead jobs one requeue moves.
pub const REQUEUE_LIMIT: usize = 50;

/// Who asked for a repair, and why (from the `x-signet-*` headers).
#[derive(Debug, Clone)]
pub struct RepairContext {
    pub actor: String,
    /// `operator` (default), `agent`, `daemon`, ...
    pub actor_type: String,
    pub reason: String,
    pub request_id: Option<String>,
}

impl Default for RepairContext {
    fn default() -> Self {
        Self {
            actor: "operator".into(),
            actor_type: "operator".into(),
            reason: "manual repair".into(),
            request_id: None,
        }
    }
}

/// A repair's answer and what the server needs to know about it.
#[derive(Debug, Clone)]
pub struct RepairResult {
    /// The body sent to the client.
    pub response: RepairResponse,
    /// Refused by the policy gate or the limiter, or already running (retry later).
    pub denied: bool,
    /// The audit row was already written in the repair's own transaction.
    audited: bool,
}

impl From<RepairResponse> for RepairResult {
    /// A repair that ran (its audit row still to be written).
    fn from(response: RepairResponse) -> Self {
        Self {
            response,
            denied: false,
            audited: false,
        }
    }
}

impl RepairResult {
    fn ok(action: &str, affected: i64, message: String) -> Self {
        RepairResponse::new(action, true, affected, message).into()
    }

    fn denied(action: &str, message: String) -> Self {
        Self {
            denied: true,
            ..RepairResponse::new(action, false, 0, message).into()
        }
    }

    /// Marks the audit row as written by the repair's own transaction.
    fn audited(mut self) -> Self {
        self.audited = true;
        self
    }
}

/// The body of `POST /api/repair/check-fts` (`{"repair": bool}`, optional).
#[derive(Debug, Clone, Copy, Default)]
pub struct FtsCheck {
    /// Rebuild the index on drift (else only report it).
    pub repair: bool,
}

impl TryFrom<&Value> for FtsCheck {
    type Error = CoreError;

    fn try_from(body: &Value) -> Result<Self> {
        Ok(Self {
            repair: opt_flag(body, "repair")?,
        })
    }
}

/// The body of `POST /api/repair/re-embed` (`{"dryRun": bool}`, optional).
#[derive(Debug, Clone, Copy, Default)]
pub struct ReembedOptions {
    /// Only count what would be re-embedded.
    pub dry_run: bool,
}

impl TryFrom<&Value> for ReembedOptions {
    type Error = CoreError;

    fn try_from(body: &Value) -> Result<Self> {
        Ok(Self {
            dry_run: opt_flag(body, "dryRun")?,
        })
    }
}

/// A boolean field of an optional body (no body: false; not an object: "Invalid JSON body").
fn opt_flag(body: &Value, key: &str) -> Result<bool> {
    match body {
        Value::Null => Ok(false),
        b => Ok(input::opt_bool(input::object(b)?.get(key), key)?.unwrap_or(false)),
    }
}

/// Which limits an action uses. The graph and summary repairs have no settings upstream:
/// their cooldowns and budgets are upstream's constants.
#[derive(Clone, Copy)]
enum Limits {
    Requeue,
    Reembed,
    Fts,
    Dedup,
    /// 60 s / 5 per hour.
    ChunkGroups,
    /// 60 s / 10 per hour.
    Singletons,
    /// 60 s / 20 per hour.
    Backfill,
}

impl Maintenance {
    /// The policy gate and limiter: `Some(denial)` when the caller may not run `action` now.
    fn gate(
        &self,
        action: &'static str,
        limits: Limits,
        ctx: &RepairContext,
    ) -> Option<RepairResult> {
        let pipeline = &self.settings().pipeline;
        if pipeline.autonomous_frozen {
            return Some(RepairResult::denied(
                action,
                "denied by policy gate: autonomous.frozen is set".into(),
            ));
        }
        if ctx.actor_type != "agent" {
            return None;
        }
        if !pipeline.autonomous_enabled {
            return Some(RepairResult::denied(
                action,
                "agents cannot trigger repairs: autonomous.enabled is false".into(),
            ));
        }
        let r = pipeline.repair.clone();
        let (cooldown, budget) = match limits {
            Limits::Requeue => (r.requeue_cooldown_ms, r.requeue_hourly_budget),
            Limits::Reembed => (r.reembed_cooldown_ms, r.reembed_hourly_budget),
            Limits::Fts => (r.reembed_cooldown_ms, 5),
            Limits::Dedup => (r.dedup_cooldown_ms, r.dedup_hourly_budget),
            Limits::ChunkGroups => (60_000, 5),
            Limits::Singletons => (60_000, 10),
            Limits::Backfill => (60_000, 20),
        };
        let admitted = self
            .inner
            .limiter
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .admit(
                action,
                Duration::from_millis(cooldown),
                budget,
                Instant::now(),
            );
        admitted.err().map(|why| RepairResult::denied(action, why))
    }

    /// Writes the audit row of a repair that ran, and drops the cached diagnostics.
    async fn audit(&self, ctx: &RepairContext, r: &RepairResult) -> Result<()> {
        self.invalidate();
        let audit = RepairAudit {
            affected: r.response.affected,
            message: r.response.message.clone(),
            ..self.audit_template(ctx, &r.response.action)
        };
        let store = self.inner.store.clone();
        crate::blocking::run(move || Ok(store.record_repair(&audit)?)).await
    }

    /// Runs `body` behind the gate and audits what it did.
    async fn run<F>(
        &self,
        action: &'static str,
        limits: Limits,
        ctx: &RepairContext,
        body: F,
    ) -> Result<RepairResult>
    where
        F: std::future::Future<Output = Result<RepairResult>>,
    {
        if let Some(denied) = self.gate(action, limits, ctx) {
            return Ok(denied);
        }
        let r = body.await?;
        if r.audited {
            self.invalidate();
        } else {
            self.audit(ctx, &r).await?;
        }
        Ok(r)
    }

    /// The audit row of `action` for this caller, with what it changed left to fill in.
    pub(super) fn audit_template(&self, ctx: &RepairContext, action: &str) -> RepairAudit {
        RepairAudit {
            action: action.to_owned(),
            changed_by: ctx.actor.clone(),
            actor_type: ctx.actor_type.clone(),
            reason: ctx.reason.clone(),
            request_id: ctx.request_id.clone(),
            affected: 0,
            message: String::new(),
            now: signet_model::time::now_iso(),
        }
    }

    /// `POST /api/repair/requeue-dead`: up to 50 dead jobs back to pending.
    pub async fn requeue_dead(&self, ctx: &RepairContext) -> Result<RepairResult> {
        self.run("requeueDeadJobs", Limits::Requeue, ctx, async {
            let store = self.inner.store.clone();
            let now = signet_model::time::now_iso();
            let message = |m: usize, s: usize| {
                format!("requeued {m} dead memory job(s) and {s} dead summary job(s) to pending")
            };
            let template = self.audit_template(ctx, "requeueDeadJobs");
            let audit: AuditOf<(usize, usize)> = Box::new(move |&(m, s)| RepairAudit {
                affected: (m + s) as i64,
                message: message(m, s),
                ..template
            });
            let (m, s) = crate::blocking::run(move || {
                Ok(store.requeue_dead_jobs(REQUEUE_LIMIT, &now, audit)?)
            })
            .await?;
            Ok(RepairResult::ok("requeueDeadJobs", (m + s) as i64, message(m, s)).audited())
        })
        .await
    }

    /// `POST /api/repair/release-leases`: leases older than the lease timeout back to pending.
    pub async fn release_leases(&self, ctx: &RepairContext) -> Result<RepairResult> {
        self.run("releaseStaleLeases", Limits::Requeue, ctx, async {
            let timeout = self.settings().pipeline.worker.lease_timeout_ms;
            let now = chrono::Utc::now();
            let cutoff = signet_model::time::format_iso(
                now - chrono::Duration::milliseconds(timeout as i64),
            );
            let now = signet_model::time::format_iso(now);
            let store = self.inner.store.clone();
            let message =
                move |n: usize| format!("released {n} stale lease(s) older than {timeout}ms");
            let template = self.audit_template(ctx, "releaseStaleLeases");
            let audit: AuditOf<usize> = Box::new(move |&n| RepairAudit {
                affected: n as i64,
                message: message(n),
                ..template
            });
            let n =
                crate::blocking::run(move || Ok(store.release_stale_leases(&cutoff, &now, audit)?))
                    .await?;
            Ok(RepairResult::ok("releaseStaleLeases", n as i64, message(n)).audited())
        })
        .await
    }

    /// `POST /api/repair/check-fts` (`{"repair": bool}`): compares the keyword index with the
    /// memories table and rebuilds it on drift when asked.
    pub async fn check_fts(&self, ctx: &RepairContext, req: FtsCheck) -> Result<RepairResult> {
        let repair = req.repair;
        self.run("checkFtsConsistency", Limits::Fts, ctx, async {
            let store = self.inner.store.clone();
            let c = crate::blocking::run(move || Ok(store.fts_counts()?)).await?;
            if c.missing == 0 && c.orphans == 0 {
                return Ok(RepairResult::ok(
                    "checkFtsConsistency",
                    0,
                    format!(
                        "FTS consistent: {} memories ({} live), {} indexed",
                        c.memories, c.live, c.fts_rows
                    ),
                ));
            }
            let msg = format!(
                "FTS mismatch: {} memories ({} live), {} indexed, {} missing, {} orphaned",
                c.memories, c.live, c.fts_rows, c.missing, c.orphans
            );
            if !repair {
                let mut r = RepairResult::ok("checkFtsConsistency", 1, msg);
                r.response.repaired = Some(false);
                return Ok(r);
            }
            let rebuilt =
                move |after: &FtsCounts| format!("{msg} — rebuilt ({} indexed)", after.fts_rows);
            let (store, template) = (
                self.inner.store.clone(),
                self.audit_template(ctx, "checkFtsConsistency"),
            );
            let message = rebuilt.clone();
            let audit: AuditOf<FtsCounts> = Box::new(move |after| RepairAudit {
                affected: 1,
                message: message(after),
                ..template
            });
            let after = crate::blocking::run(move || Ok(store.fts_rebuild(audit)?)).await?;
            let mut r = RepairResult::ok("checkFtsConsistency", 1, rebuilt(&after)).audited();
            r.response.repaired = Some(true);
            Ok(r)
        })
        .await
    }

    /// `POST /api/repair/retention-sweep`: runs a sweep now and reports what it removed.
    pub async fn retention_sweep(&self, ctx: &RepairContext) -> Result<RepairResult> {
        self.run("triggerRetentionSweep", Limits::Requeue, ctx, async {
            let Some(report) = self.inner.retention.sweep().await? else {
                return Ok(RepairResult::denied(
                    "triggerRetentionSweep",
                    "retention sweep already in progress".into(),
                ));
            };
            let mut r = RepairResult::ok(
                "triggerRetentionSweep",
                report.total() as i64,
                report.message(),
            );
            r.response.removed = Some(SweepRemoved {
                completed_jobs: report.completed_jobs,
                dead_jobs: report.dead_jobs,
                embeddings: report.embeddings,
                entities: report.entities,
                history: report.history,
                mentions: report.mentions,
                predictor_pairs: report.predictor_pairs,
                tombstones: report.tombstones,
                extra: Default::default(),
            });
            Ok(r)
        })
        .await
    }

    /// `GET /api/repair/embedding-gaps` (read-only, no audit).
    pub async fn embedding_gaps(&self) -> Result<EmbeddingGaps> {
        self.inner.memories.embedding_gaps().await
    }

    /// `POST /api/repair/re-embed` (`{"dryRun": bool}`).
    pub async fn reembed(&self, ctx: &RepairContext, req: ReembedOptions) -> Result<RepairResult> {
        if req.dry_run {
            return Ok(self.inner.memories.reembed(true).await?.into());
        }
        self.run("re-embed", Limits::Reembed, ctx, async {
            Ok(self.inner.memories.reembed(false).await?.into())
        })
        .await
    }

    /// `POST /api/repair/clean-orphans`.
    pub async fn clean_orphans(&self, ctx: &RepairContext) -> Result<RepairResult> {
        self.run("clean-orphans", Limits::Requeue, ctx, async {
            Ok(self.inner.memories.clean_orphans().await?.into())
        })
        .await
    }

    /// `GET /api/repair/dedup-stats`.
    pub async fn dedup_stats(&self) -> Result<DedupStats> {
        let store = self.inner.store.clone();
        let params =
            crate::maintenance::snapshot_params(&self.settings(), chrono::Utc::now(), false);
        let s = crate::blocking::run(move || Ok(store.diagnostics_snapshot(&params)?)).await?;
        let d = s.duplicate;
        Ok(DedupStats {
            exact_clusters: d.exact_clusters,
            exact_excess: d.exact_excess,
            total_active: d.total_active,
            extra: Default::default(),
        })
    }

    /// `POST /api/repair/deduplicate` (defaults from `memory.pipelineV2.repair`).
    pub async fn deduplicate(&self, ctx: &RepairContext, req: DedupParams) -> Result<RepairResult> {
        let opts = DedupOptions::new(req, &self.settings().pipeline.repair);
        if opts.dry_run {
            return self.dedup(ctx, &opts).await;
        }
        self.run(
            "deduplicateMemories",
            Limits::Dedup,
            ctx,
            self.dedup(ctx, &opts),
        )
        .await
    }
}
