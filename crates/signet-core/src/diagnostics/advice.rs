//! What to do about each degraded or unhealthy domain (printed by `signet doctor`).

use serde::Serialize;
use serde_json::Value;

/// The advice for one domain that is not healthy.
#[derive(Debug, Clone, Serialize)]
pub struct Advice {
    pub domain: String,
    pub status: String,
    pub score: f64,
    pub actions: Vec<String>,
}

/// Advice for every scored domain that is `degraded` or `unhealthy`, in report order.
pub fn advice(report: &Value) -> Vec<Advice> {
    super::DOMAINS[1..]
        .iter()
        .filter_map(|name| {
            let d = &report[*name];
            let st = d["status"].as_str()?;
            if st != "degraded" && st != "unhealthy" {
                return None;
            }
            let mut actions = actions(name, d);
            if actions.is_empty() {
                actions.push(format!("inspect GET /api/diagnostics/{name}"));
            }
            Some(Advice {
                domain: (*name).to_owned(),
                status: st.to_owned(),
                score: d["score"].as_f64().unwrap_or(0.0),
                actions,
            })
        })
        .collect()
}

fn n(d: &Value, k: &str) -> f64 {
    d[k].as_f64().unwrap_or(0.0)
}

fn actions(name: &str, d: &Value) -> Vec<String> {
    let mut a = Vec::new();
    let mut when = |cond: bool, text: &str| {
        if cond {
            a.push(text.to_owned());
        }
    };
    match name {
        "queue" => {
            let dead = n(d, "deadRate") > 0.01 || n(d, "dead") > 0.0;
            when(
                dead && d["processing"] == true,
                "dead pipeline jobs: POST /api/repair/requeue-dead puts them back in the queue (fix the extraction provider first, or they die again)",
            );
            when(
                dead && d["processing"] != true,
                "dead pipeline jobs (from an earlier pipeline run): nothing processes extraction jobs here, so requeueing them would not help; the retention sweep prunes dead jobs 30 days after they died",
            );
            when(
                n(d, "leaseAnomalies") > 0.0 || n(d, "staleLeases") > 0.0,
                "stale job leases: POST /api/repair/release-leases returns them to pending",
            );
            when(
                d["processing"] == true && (n(d, "depth") > 50.0 || n(d, "oldestAgeSec") > 300.0),
                "the extraction queue is backing up: check the pipeline's LLM provider (memory.pipelineV2.extraction) and the daemon log",
            );
        }
        "memory" => {
            when(
                n(d, "overduePurges") > 0.0,
                "tombstones past the 30-day recovery window were not purged: POST /api/repair/retention-sweep purges them now (a daemon restart also sweeps); check the daemon log for retention errors",
            );
            when(
                n(d, "tombstones") > 0.0
                    && n(d, "overduePurges") == 0.0
                    && d["secondsSinceLastSweep"]
                        .as_f64()
                        .is_none_or(|s| s > 86_400.0),
                "no retention sweep in the last day: is the daemon running? `signet daemon status`; POST /api/repair/retention-sweep runs one now",
            );
            when(
                n(d, "orphanedEmbeddings") > 0.0,
                "vectors of memories that no longer exist remain: POST /api/repair/clean-orphans",
            );
        }
        "storage" => {
            when(
                d["integrity"].as_str().is_some_and(|i| i != "ok"),
                "the database fails PRAGMA quick_check: stop the daemon, back up memory/memories.db, and restore from a backup (or `sqlite3 memories.db .recover`)",
            );
            when(
                n(d, "tombstoneRatio") > 0.3 && n(d, "expiredTombstones") > 0.0,
                "many tombstones: POST /api/repair/retention-sweep purges those deleted over 30 days ago (a daemon restart also sweeps)",
            );
            when(
                n(d, "tombstoneRatio") > 0.3 && n(d, "expiredTombstones") == 0.0,
                "many recent deletions: tombstones stay recoverable for 30 days, then the retention sweep purges them",
            );
        }
        "index" => {
            when(
                d["ftsMismatch"] == true,
                "the keyword index has drifted from the memories table: POST /api/repair/check-fts with {\"repair\": true} rebuilds it",
            );
            when(
                d["embeddingsExpected"] == true && n(d, "embeddingCoverage") < 0.8,
                "many memories lack vectors: POST /api/repair/re-embed (or `signet reembed`); check GET /api/embeddings/status if the provider is down",
            );
            when(
                n(d, "tombstoneEmbeddings") > 0.0,
                "vectors of deleted memories remain: POST /api/repair/clean-orphans",
            );
        }
        "provider" => when(
            true,
            "the embedding provider fails or times out: check GET /api/embeddings/status and the provider's own logs; recall falls back to keywords meanwhile",
        ),
        "mutation" => when(
            true,
            "many recoveries in the last 7 days: an agent may be deleting too eagerly; review the recovered memories' history (GET /api/memory/:id/history)",
        ),
        "duplicate" => when(
            true,
            "duplicate memories: POST /api/repair/deduplicate (try {\"dryRun\": true} first)",
        ),
        "connector" => when(
            true,
            "connectors report errors: check their last_error and re-sync them",
        ),
        _ => {}
    }
    a
}
