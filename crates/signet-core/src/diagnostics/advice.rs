//! What to do about each degraded or unhealthy domain (printed by `signet doctor`, and the
//! report's `advice` in `GET /api/diagnostics`: one source of the texts). Reads the typed
//! report, so a renamed metric is a compile error, not a silent zero.

use serde::Serialize;

use super::{DomainAdvice, ProviderDomain, Report};

/// The advice for one domain that is not healthy.
#[derive(Debug, Clone, Serialize)]
pub struct Advice {
    pub domain: String,
    pub status: String,
    pub score: f64,
    pub actions: Vec<String>,
}

impl From<Advice> for DomainAdvice {
    fn from(a: Advice) -> Self {
        Self {
            domain: a.domain,
            actions: a.actions,
        }
    }
}

/// Advice for every scored domain that is `degraded` or `unhealthy`, in report order.
pub fn advice(report: &Report) -> Vec<Advice> {
    report
        .domains()
        .into_iter()
        .filter(|(_, status, _)| status.needs_attention())
        .map(|(name, status, score)| {
            let mut actions = actions(report, name);
            if actions.is_empty() {
                actions.push(format!("inspect GET /api/diagnostics/{name}"));
            }
            Advice {
                domain: name.to_owned(),
                status: status.as_str().to_owned(),
                score: score.unwrap_or(0.0),
                actions,
            }
        })
        .collect()
}

/// The actions whose condition holds, in order.
fn pick(rules: &[(bool, &str)]) -> Vec<String> {
    rules
        .iter()
        .filter(|(cond, _)| *cond)
        .map(|(_, text)| (*text).to_owned())
        .collect()
}

fn actions(r: &Report, name: &str) -> Vec<String> {
    match name {
        "queue" => queue(r),
        "memory" => memory(r),
        "storage" => storage(r),
        "index" => index(r),
        "provider" => pick(&[(
            matches!(r.provider, ProviderDomain::Measured { .. }),
            "the embedding provider fails or times out: check GET /api/embeddings/status and the provider's own logs; recall falls back to keywords meanwhile",
        )]),
        "mutation" => pick(&[(
            true,
            "many recoveries in the last 7 days: an agent may be deleting too eagerly; review the recovered memories' history (GET /api/memory/:id/history)",
        )]),
        "duplicate" => pick(&[(
            true,
            "duplicate memories: POST /api/repair/deduplicate (try {\"dryRun\": true} first)",
        )]),
        "backup" => crate::backup::advice(&r.backup),
        "connector" => pick(&[(
            true,
            "connectors report errors: check their last_error and re-sync them",
        )]),
        _ => Vec::new(),
    }
}

/// `processing` is true when remember queues extraction jobs, which the extraction worker
/// drains; it is false only when the pipeline is disabled or its provider is `none`. A
/// pipeline that queues but does not drain (paused, out of budget, a provider that is
/// unusable or failing) says why in `GET /api/pipeline/status`.
fn queue(r: &Report) -> Vec<String> {
    let q = &r.queue;
    let dead = q.dead_rate > 0.01 || q.dead > 0;
    pick(&[
        (
            dead && q.processing,
            "dead pipeline jobs: POST /api/repair/requeue-dead puts them back in the queue (fix the extraction provider first, GET /api/pipeline/status shows its last error, or they die again)",
        ),
        (
            dead && !q.processing,
            "dead pipeline jobs (from an earlier pipeline run): nothing processes extraction jobs here while the pipeline is idle (the queue's idleReason says why), so requeueing them would not help; the retention sweep prunes dead jobs 30 days after they died",
        ),
        (
            q.lease_anomalies > 0 || q.stale_leases > 0,
            "stale job leases: POST /api/repair/release-leases returns them to pending",
        ),
        (
            q.processing && (q.depth > 50 || q.oldest_age_sec > 300),
            "the extraction queue is backing up: GET /api/pipeline/status says whether the pipeline is paused, out of budget, or its LLM provider (memory.pipelineV2.extraction) is unusable or failing; see also the daemon log",
        ),
    ])
}

fn memory(r: &Report) -> Vec<String> {
    let m = &r.memory;
    let no_recent_sweep = m.seconds_since_last_sweep.is_none_or(|s| s > 86_400);
    pick(&[
        (
            m.overdue_purges > 0,
            "tombstones past the 30-day recovery window were not purged: POST /api/repair/retention-sweep purges them now (a daemon restart also sweeps); check the daemon log for retention errors",
        ),
        (
            m.tombstones > 0 && m.overdue_purges == 0 && no_recent_sweep,
            "no retention sweep in the last day: is the daemon running? `signet daemon status`; POST /api/repair/retention-sweep runs one now",
        ),
        (
            m.orphaned_embeddings > 0,
            "vectors of memories that no longer exist remain: POST /api/repair/clean-orphans",
        ),
    ])
}

fn storage(r: &Report) -> Vec<String> {
    let s = &r.storage;
    let many = s.tombstone_ratio > 0.3;
    pick(&[
        (
            s.integrity.as_deref().is_some_and(|i| i != "ok"),
            "the database fails PRAGMA quick_check: stop the daemon, back up memory/memories.db, and restore from a backup (or `sqlite3 memories.db .recover`)",
        ),
        (
            many && s.expired_tombstones > 0,
            "many tombstones: POST /api/repair/retention-sweep purges those deleted over 30 days ago (a daemon restart also sweeps)",
        ),
        (
            many && s.expired_tombstones == 0,
            "many recent deletions: tombstones stay recoverable for 30 days, then the retention sweep purges them",
        ),
    ])
}

fn index(r: &Report) -> Vec<String> {
    let i = &r.index;
    pick(&[
        (
            i.fts_mismatch,
            "the keyword index has drifted from the memories table: POST /api/repair/check-fts with {\"repair\": true} rebuilds it",
        ),
        (
            i.embeddings_expected && i.embedding_coverage < 0.8,
            "many memories lack vectors: POST /api/repair/re-embed (or `signet reembed`); check GET /api/embeddings/status if the provider is down",
        ),
        (
            i.tombstone_embeddings > 0,
            "vectors of deleted memories remain: POST /api/repair/clean-orphans",
        ),
    ])
}
