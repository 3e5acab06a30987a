//! The repairs (`/api/repair/*`): each runs once, answers `{action, success, affected,
//! message}` and writes an audit row (`memory_history`, `memory_id = 'system'`, `event =
//! 'none'`) saying who ran it, why, and what it changed. A dry run writes nothing.
//!
//! Policy: operators and the daemon are never limited; agents (`x-signet-actor-type: agent`)
//! pass the [`limiter::Limiter`] (cooldown and hourly budget per action, from
//! `memory.pipelineV2.repair.*`).

mod dedup;
pub mod limiter;

use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};
use signet_store::maintenance::{AuditOf, FtsCounts, RepairAudit};

use crate::error::Result;
use crate::maintenance::Maintenance;
use crate::memory::input;

pub use dedup::{DedupOptions, keeper_score};

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

/// A repair's answer.
#[derive(Debug, Clone)]
pub struct RepairResult {
    pub action: &'static str,
    pub success: bool,
    pub affected: i64,
    pub message: String,
    /// Refused by the policy gate or the limiter, or already running (retry later).
    pub denied: bool,
    /// Extra fields (`clusters`, `progress`, ...).
    pub extra: Map<String, Value>,
    /// The audit row was already written in the repair's own transaction.
    pub audited: bool,
}

impl RepairResult {
    fn ok(action: &'static str, affected: i64, message: String) -> Self {
        Self {
            action,
            success: true,
            affected,
            message,
            denied: false,
            extra: Map::new(),
            audited: false,
        }
    }

    fn denied(action: &'static str, message: String) -> Self {
        Self {
            success: false,
            denied: true,
            ..Self::ok(action, 0, message)
        }
    }

    /// The JSON body.
    pub fn to_json(&self) -> Value {
        let mut v = json!({"action": self.action, "success": self.success,
            "affected": self.affected, "message": self.message});
        if let Some(o) = v.as_object_mut() {
            o.extend(self.extra.clone());
        }
        v
    }
}

/// Which limits an action uses.
#[derive(Clone, Copy)]
enum Limits {
    Requeue,
    Reembed,
    Fts,
    Dedup,
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
            affected: r.affected,
            message: r.message.clone(),
            ..self.audit_template(ctx, r.action)
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
            now: signet_store::time::now_iso(),
        }
    }

    /// `POST /api/repair/requeue-dead`: up to 50 dead jobs back to pending.
    pub async fn requeue_dead(&self, ctx: &RepairContext) -> Result<RepairResult> {
        self.run("requeueDeadJobs", Limits::Requeue, ctx, async {
            let store = self.inner.store.clone();
            let now = signet_store::time::now_iso();
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
            let mut r = RepairResult::ok("requeueDeadJobs", (m + s) as i64, message(m, s));
            r.audited = true;
            Ok(r)
        })
        .await
    }

    /// `POST /api/repair/release-leases`: leases older than the lease timeout back to pending.
    pub async fn release_leases(&self, ctx: &RepairContext) -> Result<RepairResult> {
        self.run("releaseStaleLeases", Limits::Requeue, ctx, async {
            let timeout = self.settings().pipeline.worker.lease_timeout_ms;
            let now = chrono::Utc::now();
            let cutoff = signet_store::time::format_iso(
                now - chrono::Duration::milliseconds(timeout as i64),
            );
            let now = signet_store::time::format_iso(now);
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
            let mut r = RepairResult::ok("releaseStaleLeases", n as i64, message(n));
            r.audited = true;
            Ok(r)
        })
        .await
    }

    /// `POST /api/repair/check-fts` (`{"repair": bool}`): compares the keyword index with the
    /// memories table and rebuilds it on drift when asked.
    pub async fn check_fts(&self, ctx: &RepairContext, body: &Value) -> Result<RepairResult> {
        let repair = match body {
            Value::Null => false,
            b => input::opt_bool(input::object(b)?.get("repair"), "repair")?.unwrap_or(false),
        };
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
                r.extra.insert("repaired".into(), false.into());
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
            let mut r = RepairResult::ok("checkFtsConsistency", 1, rebuilt(&after));
            r.extra.insert("repaired".into(), true.into());
            r.audited = true;
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
            r.extra.insert(
                "removed".into(),
                serde_json::to_value(&report).unwrap_or_default(),
            );
            Ok(r)
        })
        .await
    }

    /// `GET /api/repair/embedding-gaps` (read-only, no audit).
    pub async fn embedding_gaps(&self) -> Result<Value> {
        self.inner.memories.embedding_gaps().await
    }

    /// `POST /api/repair/re-embed` (`{"dryRun": bool}`).
    pub async fn reembed(&self, ctx: &RepairContext, body: &Value) -> Result<RepairResult> {
        let dry_run = match body {
            Value::Null => false,
            b => input::opt_bool(input::object(b)?.get("dryRun"), "dryRun")?.unwrap_or(false),
        };
        if dry_run {
            return Ok(from_json(
                "re-embed",
                self.inner.memories.reembed(true).await?,
            ));
        }
        self.run("re-embed", Limits::Reembed, ctx, async {
            Ok(from_json(
                "re-embed",
                self.inner.memories.reembed(false).await?,
            ))
        })
        .await
    }

    /// `POST /api/repair/clean-orphans`.
    pub async fn clean_orphans(&self, ctx: &RepairContext) -> Result<RepairResult> {
        self.run("clean-orphans", Limits::Requeue, ctx, async {
            Ok(from_json(
                "clean-orphans",
                self.inner.memories.clean_orphans().await?,
            ))
        })
        .await
    }

    /// `GET /api/repair/dedup-stats`.
    pub async fn dedup_stats(&self) -> Result<Value> {
        let store = self.inner.store.clone();
        let params =
            crate::maintenance::snapshot_params(&self.settings(), chrono::Utc::now(), false);
        let s = crate::blocking::run(move || Ok(store.diagnostics_snapshot(&params)?)).await?;
        let d = s.duplicate;
        Ok(
            json!({"exactClusters": d.exact_clusters, "exactExcess": d.exact_excess, "totalActive": d.total_active}),
        )
    }

    /// `POST /api/repair/deduplicate`.
    pub async fn deduplicate(&self, ctx: &RepairContext, body: &Value) -> Result<RepairResult> {
        let opts = DedupOptions::parse(body, &self.settings().pipeline.repair)?;
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

/// A result already in JSON (the embedding repairs keep their existing shapes).
fn from_json(action: &'static str, v: Value) -> RepairResult {
    let mut extra = match v {
        Value::Object(o) => o,
        _ => Map::new(),
    };
    let take = |extra: &mut Map<String, Value>, k: &str| extra.remove(k).unwrap_or(Value::Null);
    let success = take(&mut extra, "success").as_bool().unwrap_or(true);
    let affected = take(&mut extra, "affected").as_i64().unwrap_or(0);
    let message = take(&mut extra, "message")
        .as_str()
        .unwrap_or_default()
        .to_owned();
    extra.remove("action");
    RepairResult {
        success,
        extra,
        ..RepairResult::ok(action, affected, message)
    }
}
