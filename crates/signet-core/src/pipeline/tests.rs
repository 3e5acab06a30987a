//! The workers end to end over a real SQLite store, with a scripted provider standing in
//! for the LLM (the HTTP and CLI providers have their own tests against mock servers and
//! stub executables) and a clock the tests step.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};
use signet_model::memories::{Actor, Change, MemoryPatch, Mutation};
use signet_model::pipeline::WriteOutcome;
use signet_model::sessions::SummaryJob;
use signet_model::{Backend, JobQueue, MemoryStore, PipelineStore};
use tokio::sync::watch;

use super::extract::Tick;
use super::summary;
use super::{ExtractWorker, Pipeline, PipelineParts, SummaryWorker};
use crate::config::{BudgetSettings, Settings};
use crate::llm::{BoxFuture, LlmError, LlmProvider, LlmRequest, LlmResponse, Usage};
use crate::memory::{Memories, MemoryPolicy, RememberInput};

type Script = dyn Fn(&str) -> Result<String, LlmError> + Send + Sync;

/// Answers each prompt with `script(prompt)`, counting calls; 100 input / 50 output tokens.
struct Scripted {
    script: Box<Script>,
    calls: AtomicUsize,
}

impl LlmProvider for Scripted {
    fn name(&self) -> &str {
        "ollama"
    }
    fn model(&self) -> &str {
        "scripted"
    }
    fn complete<'a>(&'a self, req: &'a LlmRequest) -> BoxFuture<'a, Result<LlmResponse, LlmError>> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let out = (self.script)(&req.prompt);
        Box::pin(async move {
            out.map(|text| LlmResponse {
                text,
                usage: Usage {
                    input_tokens: 100,
                    output_tokens: 50,
                },
                duration: std::time::Duration::from_millis(3),
            })
        })
    }
}

fn is_decision(prompt: &str) -> bool {
    prompt.starts_with("You maintain a memory store")
}

fn is_summary(prompt: &str) -> bool {
    prompt.starts_with("You are a session librarian")
}

fn extraction_answer(facts: &[(&str, f64)]) -> String {
    let facts: Vec<Value> = facts
        .iter()
        .map(|(c, conf)| json!({"content": c, "type": "fact", "confidence": conf}))
        .collect();
    json!({
        "facts": facts,
        "entities": [{"source": "deploy pipeline", "source_type": "system", "relationship": "deploys to", "target": "Fly.io platform", "target_type": "system", "confidence": 0.8}]
    })
    .to_string()
}

struct Rig {
    _dir: tempfile::TempDir,
    store: Arc<signet_store::Store>,
    memories: Memories,
    pipeline: Pipeline,
    provider: Arc<Scripted>,
    settings: watch::Sender<Arc<Settings>>,
    clock: Arc<Mutex<DateTime<Utc>>>,
}

fn rig(script: impl Fn(&str) -> Result<String, LlmError> + Send + Sync + 'static) -> Rig {
    rig_with(Settings::default(), script)
}

fn rig_with(
    settings: Settings,
    script: impl Fn(&str) -> Result<String, LlmError> + Send + Sync + 'static,
) -> Rig {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(signet_store::Store::open(&dir.path().join("memories.db"), 2).unwrap());
    let backend: Arc<dyn Backend> = store.clone();
    let (settings_tx, settings_rx) = watch::channel(Arc::new(settings));
    let policy = MemoryPolicy::from(settings_rx.borrow().as_ref());
    let (_policy_tx, policy_rx) = watch::channel(Arc::new(policy));
    // Keep the policy sender alive for the rig's life.
    std::mem::forget(_policy_tx);
    let (access, _worker) = crate::access::channel(backend.clone());
    let semantic = crate::semantic::Semantic::disabled(backend.clone(), "tests".into());
    let memories =
        Memories::new(backend.clone(), policy_rx, access, semantic).with_graph(backend.clone());
    let provider = Arc::new(Scripted {
        script: Box::new(script),
        calls: AtomicUsize::new(0),
    });
    let clock = Arc::new(Mutex::new(Utc::now()));
    let c = clock.clone();
    let pipeline = Pipeline::new(PipelineParts {
        store: backend.clone(),
        memories: memories.clone(),
        provider: provider.clone(),
        unavailable: None,
        settings: settings_rx,
        analytics: Default::default(),
        workspace: dir.path().to_path_buf(),
        now: Arc::new(move || *c.lock().unwrap()),
    });
    Rig {
        _dir: dir,
        store,
        memories,
        pipeline,
        provider,
        settings: settings_tx,
        clock,
    }
}

impl Rig {
    async fn remember(&self, content: &str) -> String {
        let res = self
            .memories
            .remember(
                RememberInput {
                    content: content.into(),
                    ..Default::default()
                },
                Actor {
                    changed_by: "test".into(),
                    ..Default::default()
                },
                &Default::default(),
            )
            .await
            .unwrap();
        match res {
            signet_api::RememberResponse::Stored(m) => m.id,
            other => panic!("{other:?}"),
        }
    }

    fn worker(&self) -> ExtractWorker {
        ExtractWorker::new(self.pipeline.clone())
    }

    fn calls(&self) -> usize {
        self.provider.calls.load(Ordering::SeqCst)
    }

    fn advance(&self, d: Duration) {
        *self.clock.lock().unwrap() += d;
    }

    fn set(&self, f: impl FnOnce(&mut Settings)) {
        let mut s = (**self.settings.borrow()).clone();
        f(&mut s);
        self.settings.send(Arc::new(s)).unwrap();
    }

    fn db(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(self._dir.path().join("memories.db")).unwrap()
    }

    fn count(&self, sql: &str) -> i64 {
        self.db().query_row(sql, [], |r| r.get(0)).unwrap()
    }
}

const SOURCE: &str =
    "Our deploy pipeline uses GitHub Actions and deploys to Fly.io every night at 2am.";
const FACT_CI: &str = "The deploy pipeline runs on GitHub Actions";
const FACT_2AM: &str = "Deploys to Fly.io happen nightly at 2am";

#[tokio::test]
async fn controlled_write_adds_facts_linked_to_their_source_with_history_graph_and_ledger() {
    let r = rig(|p| {
        assert!(!is_decision(p), "no candidates: no decision call");
        Ok(extraction_answer(&[(FACT_CI, 0.9), (FACT_2AM, 0.85)]))
    });
    let source = r.remember(SOURCE).await;
    let tick = r.worker().tick().await;
    let Tick::Applied {
        outcomes, job_id, ..
    } = tick
    else {
        panic!("{tick:?}")
    };
    let added: Vec<&String> = outcomes
        .iter()
        .filter_map(|o| match o {
            WriteOutcome::Added { id } => Some(id),
            _ => None,
        })
        .collect();
    assert_eq!(added.len(), 2, "{outcomes:?}");
    assert_eq!(r.calls(), 1, "one extraction call");
    let detail = r.store.live_detail(added[0]).unwrap().unwrap();
    assert_eq!(detail["source_type"], "pipeline-v2");
    assert_eq!(detail["source_id"], source.as_str());
    assert_eq!(detail["who"], "pipeline-v2");
    let history = r.store.history(added[0], 10).unwrap().unwrap();
    assert_eq!(history[0].event, "created");
    assert_eq!(history[0].changed_by, "pipeline-v2");
    // The source's audit rows and its extraction status.
    let src = r.store.live_detail(&source).unwrap().unwrap();
    assert_eq!(src["extraction_status"], "completed");
    let audits = r.count(&format!(
        "SELECT COUNT(*) FROM memory_history WHERE memory_id = '{source}' AND event = 'none'"
    ));
    assert_eq!(audits, 2);
    // The job, its result, the ledger and the graph.
    let job = r.pipeline.job(&job_id).await.unwrap().unwrap();
    assert_eq!(job.status, "completed");
    assert_eq!(job.result.as_ref().unwrap()["writeMode"], "phase-c");
    let ledger = r.pipeline.ledger().await.unwrap();
    assert_eq!((ledger.total.calls, ledger.total.input_tokens), (1, 100));
    assert_eq!(ledger.by_provider["ollama/scripted"].output_tokens, 50);
    let g = r.store.graph_counts().unwrap();
    assert!(g.entities >= 2 && g.relations >= 1, "{g:?}");
    // The new facts are found by recall, and the queue is empty.
    let found = r
        .memories
        .recall(
            crate::memory::RecallInput {
                query: "GitHub Actions pipeline".into(),
                limit: 5,
                ..Default::default()
            },
            &Default::default(),
        )
        .await
        .unwrap();
    assert!(
        found.results.iter().any(|m| m.content == FACT_CI),
        "{found:?}"
    );
    assert!(matches!(r.worker().tick().await, Tick::Idle(None)));
    let status = r.pipeline.status().await.unwrap();
    assert_eq!(status.mode, "controlled-write");
    assert_eq!(status.queues["memory"].completed, 1);
    assert_eq!(status.provider.health, "ok");
}

#[tokio::test]
async fn an_update_archives_the_target_goes_through_the_guard_and_can_be_undone() {
    let target: Arc<Mutex<Option<String>>> = Arc::default();
    let t = target.clone();
    let r = rig(move |p| {
        if is_decision(p) {
            let id = t.lock().unwrap().clone().unwrap();
            return Ok(json!({"action": "update", "targetId": id, "confidence": 0.9,
                "reason": "the deploy time changed", "content": "Deploys to Fly.io happen nightly at 4am"}).to_string());
        }
        if p.contains("contradict") {
            return Ok(json!({"detected": false, "confidence": 0.2}).to_string());
        }
        if p.contains("4am") {
            return Ok(extraction_answer(&[(
                "Deploys to Fly.io now happen nightly at 4am",
                0.9,
            )]));
        }
        Ok(extraction_answer(&[(FACT_2AM, 0.9)]))
    });
    r.remember(SOURCE).await;
    let Tick::Applied { outcomes, .. } = r.worker().tick().await else {
        panic!()
    };
    let WriteOutcome::Added { id: fact } = &outcomes[0] else {
        panic!("{outcomes:?}")
    };
    *target.lock().unwrap() = Some(fact.clone());
    r.remember("Change of plan: the Fly.io deploys now run nightly at 4am instead of 2am.")
        .await;
    let tick = r.worker().tick().await;
    let Tick::Applied { outcomes, .. } = &tick else {
        panic!("{tick:?}")
    };
    assert!(
        outcomes.contains(&WriteOutcome::Updated { id: fact.clone() }),
        "{outcomes:?}"
    );
    let now = r.store.live_detail(fact).unwrap().unwrap();
    assert_eq!(now["content"], "Deploys to Fly.io happen nightly at 4am");
    assert_eq!(now["version"], 2);
    let cold = r.count(&format!(
        "SELECT COUNT(*) FROM memories_cold WHERE memory_id = '{fact}' AND archived_reason = 'superseded'"
    ));
    assert_eq!(cold, 1);
    let history = r.store.history(fact, 10).unwrap().unwrap();
    let update = history.iter().find(|h| h.event == "updated").unwrap();
    assert_eq!(update.changed_by, "pipeline-v2");
    assert_eq!(update.actor_type.as_deref(), Some("pipeline"));
    // Undo: the old content from the history row, written back as a normal modify.
    let old = update.old_content.clone().unwrap();
    let outcome = r
        .store
        .mutate(Mutation {
            id: fact.clone(),
            if_version: Some(2),
            reason: "undo the pipeline's update".into(),
            actor: Actor {
                changed_by: "operator".into(),
                ..Default::default()
            },
            now: signet_model::time::now_iso(),
            change: Change::Modify(MemoryPatch {
                content: crate::text::normalize(&old).map(|n| (n.storage, n.normalized, n.hash)),
                ..Default::default()
            }),
        })
        .unwrap();
    assert!(
        matches!(
            outcome,
            signet_model::memories::MutationOutcome::Updated { .. }
        ),
        "{outcome:?}"
    );
    let back = r.store.live_detail(fact).unwrap().unwrap();
    assert_eq!(back["content"], FACT_2AM);
}

#[tokio::test]
async fn shadow_mode_records_proposals_in_history_and_writes_no_memory() {
    let r = rig(|_| Ok(extraction_answer(&[(FACT_CI, 0.9)])));
    r.set(|s| s.pipeline.shadow_mode = true);
    let source = r.remember(SOURCE).await;
    let before = r.store.stats().unwrap().total;
    let Tick::Applied { outcomes, .. } = r.worker().tick().await else {
        panic!()
    };
    assert_eq!(outcomes, vec![WriteOutcome::Audited]);
    assert_eq!(r.store.stats().unwrap().total, before, "no new memory");
    let shadow = r.count(&format!(
        "SELECT COUNT(*) FROM memory_history WHERE memory_id = '{source}' AND changed_by = 'pipeline-shadow' AND json_extract(metadata, '$.shadow') = 1"
    ));
    assert_eq!(shadow, 1);
    assert_eq!(r.pipeline.status().await.unwrap().mode, "shadow");
}

#[tokio::test]
async fn the_budget_stops_calls_at_the_ceiling_keeps_jobs_pending_and_resumes_after_the_window() {
    // No facts: one call per job.
    let r = rig(|_| Ok(extraction_answer(&[])));
    r.set(|s| {
        s.pipeline.budget = BudgetSettings {
            max_tokens_per_day: None,
            max_calls_per_hour: Some(2),
        }
    });
    for i in 0..4 {
        r.remember(&format!(
            "Memory number {i} about the deploy pipeline and its schedule"
        ))
        .await;
    }
    assert!(matches!(r.worker().tick().await, Tick::Applied { .. }));
    assert!(matches!(r.worker().tick().await, Tick::Applied { .. }));
    let tick = r.worker().tick().await;
    let Tick::Idle(Some(reason)) = &tick else {
        panic!("{tick:?}")
    };
    assert!(reason.contains("maxCallsPerHour"), "{reason}");
    assert_eq!(r.calls(), 2, "no call past the ceiling");
    let status = r.pipeline.status().await.unwrap();
    assert!(status.budget.exhausted && status.paused, "{status:?}");
    assert_eq!(
        status.queues["memory"].pending, 2,
        "jobs wait, none dropped"
    );
    assert_eq!(status.queues["memory"].dead, 0);
    r.advance(Duration::minutes(61));
    assert!(matches!(r.worker().tick().await, Tick::Applied { .. }));
    assert_eq!(r.calls(), 3);
    assert!(!r.pipeline.status().await.unwrap().budget.exhausted);
}

#[tokio::test]
async fn a_failing_provider_retries_then_dead_letters_and_marks_the_memory_failed() {
    let r = rig(|_| {
        Err(LlmError::Status {
            provider: "ollama".into(),
            status: 500,
            body: "boom".into(),
        })
    });
    let source = r.remember(SOURCE).await;
    let mut dead = false;
    for attempt in 1..=3 {
        let tick = r.worker().tick().await;
        let Tick::Failed { dead: d, .. } = tick else {
            panic!("attempt {attempt}: {tick:?}")
        };
        dead = d;
        // Past the backoff (5 s × 2^n, at most 120 s).
        r.advance(Duration::seconds(200));
    }
    assert!(dead);
    assert!(matches!(r.worker().tick().await, Tick::Idle(None)));
    let src = r.store.live_detail(&source).unwrap().unwrap();
    assert_eq!(src["extraction_status"], "failed");
    let status = r.pipeline.status().await.unwrap();
    assert_eq!(status.queues["memory"].dead, 1);
    assert_eq!(status.provider.health, "degraded");
    assert_eq!(status.ledger.total.errors, 3);
    assert!(status.error_summary.contains_key("EXTRACTION_PARSE_FAIL"));
}

#[tokio::test]
async fn a_paused_or_disabled_pipeline_leases_nothing_and_a_deleted_source_is_skipped() {
    let r = rig(|_| Ok(extraction_answer(&[(FACT_CI, 0.9)])));
    let source = r.remember(SOURCE).await;
    r.pipeline.pause();
    assert!(matches!(r.worker().tick().await, Tick::Idle(Some(_))));
    r.pipeline.resume();
    r.set(|s| s.pipeline.enabled = false);
    let Tick::Idle(Some(reason)) = r.worker().tick().await else {
        panic!()
    };
    assert!(reason.contains("enabled is false"));
    assert_eq!(r.pipeline.status().await.unwrap().mode, "disabled");
    r.set(|s| s.pipeline.enabled = true);
    r.store
        .mutate(Mutation {
            id: source.clone(),
            if_version: None,
            reason: "gone".into(),
            actor: Actor::default(),
            now: signet_model::time::now_iso(),
            change: Change::Forget { force: true },
        })
        .unwrap();
    let tick = r.worker().tick().await;
    assert!(
        matches!(&tick, Tick::Skipped { reason, .. } if reason == "memory_deleted"),
        "{tick:?}"
    );
    assert_eq!(r.calls(), 0);
}

#[tokio::test]
async fn a_job_applied_by_a_stale_attempt_changes_nothing() {
    let r = rig(|_| Ok(extraction_answer(&[(FACT_CI, 0.9)])));
    r.remember(SOURCE).await;
    // Lease the job as a crashed worker would have.
    let now = signet_model::time::format_iso(*r.clock.lock().unwrap());
    let crashed = r
        .store
        .lease_job(signet_model::pipeline::EXTRACT, &now, &Default::default())
        .unwrap()
        .unwrap();
    // A new worker's first tick frees every lease at once (no wait for the lease timeout:
    // only a dead process can hold one), gives the interrupted attempt back, and applies
    // the job.
    let Tick::Applied { .. } = r.worker().tick().await else {
        panic!()
    };
    let job = r.pipeline.job(&crashed.id).await.unwrap().unwrap();
    assert_eq!((job.status.as_str(), job.attempts), ("completed", 1));
    let facts = r.count("SELECT COUNT(*) FROM memories WHERE source_type = 'pipeline-v2'");
    assert_eq!(facts, 1, "applied once");
}

#[tokio::test]
async fn the_summary_worker_writes_a_session_summary_facts_and_a_note() {
    let r = rig(|p| {
        assert!(is_summary(p), "{p}");
        Ok(json!({
            "summary": "# 2026-12-02 Session Notes\n\nMoved the nightly deploy to 4am.",
            "facts": [
                {"content": "The team prefers squash merges for feature branches", "importance": 0.9, "type": "preference", "tags": "git,workflow"},
                {"content": "short", "importance": 0.4}
            ]
        })
        .to_string())
    });
    r.store
        .enqueue_summary(&SummaryJob {
            id: "sum-1".into(),
            session_key: Some("sess-1".into()),
            harness: "claude-code".into(),
            project: Some("/work/app".into()),
            transcript: "User: move the deploy\nAssistant: done, 4am now".into(),
            created_at: signet_model::time::now_iso(),
        })
        .unwrap();
    let w = SummaryWorker::new(r.pipeline.clone());
    let tick = w.tick().await;
    let summary::Tick::Summarised { memories, .. } = &tick else {
        panic!("{tick:?}")
    };
    assert_eq!(
        memories.len(),
        2,
        "the summary and one fact (the short one is dropped)"
    );
    let s = r.store.live_detail(&memories[0]).unwrap().unwrap();
    assert_eq!(s["type"], "session_summary");
    let f = r.store.live_detail(&memories[1]).unwrap().unwrap();
    assert_eq!(
        (f["type"].as_str(), f["importance"].as_f64()),
        (Some("preference"), Some(0.5))
    );
    assert_eq!(
        r.count(
            "SELECT COUNT(*) FROM session_summaries WHERE session_key = 'sess-1' AND depth = 0"
        ),
        1
    );
    let notes: Vec<_> = std::fs::read_dir(r._dir.path().join("memory"))
        .unwrap()
        .collect();
    assert_eq!(notes.len(), 1);
    assert!(matches!(w.tick().await, summary::Tick::Idle(None)));
}

#[tokio::test]
async fn worker_max_retries_is_the_jobs_max_attempts() {
    let mut settings = Settings::default();
    settings.pipeline.worker.max_retries = 1;
    let r = rig_with(settings, |_| {
        Err(LlmError::Status {
            provider: "ollama".into(),
            status: 500,
            body: "boom".into(),
        })
    });
    r.remember(SOURCE).await;
    let tick = r.worker().tick().await;
    assert!(matches!(tick, Tick::Failed { dead: true, .. }), "{tick:?}");
}

#[test]
fn near_duplicates_and_pieces() {
    assert!(summary::near_duplicate(
        "The team prefers squash merges",
        "we know the team prefers squash merges everywhere"
    ));
    assert!(!summary::near_duplicate(
        "The team prefers squash merges",
        "rebase only"
    ));
    let long = "line\n".repeat(10_000);
    let parts = summary::pieces(&long);
    assert!(
        parts.len() >= 3
            && parts
                .iter()
                .all(|p| p.chars().count() <= summary::CHUNK_CHARS)
    );
    assert!(
        summary::parse("<think>hm</think>```json\n{\"summary\": \"x\", \"facts\": [],}\n```")
            .is_some()
    );
    assert!(summary::parse("no json here").is_none());
}

#[tokio::test]
async fn recall_boosts_memories_linked_to_an_entity_the_query_names() {
    // The same two memories, extracted the same way, with the graph boost on and off.
    let scores = |graph: bool| async move {
        let mut settings = Settings::default();
        settings.pipeline.graph.enabled = graph;
        let r = rig_with(settings, |_| Ok(extraction_answer(&[])));
        let linked = r.remember(SOURCE).await;
        assert!(matches!(r.worker().tick().await, Tick::Applied { .. }));
        let other = r
            .remember("The deploy pipeline schedule is written down in the team wiki.")
            .await;
        let found = r
            .memories
            .recall(
                crate::memory::RecallInput {
                    // Matches `other` best by keyword, so the boost has room to lift `linked`.
                    query: "deploy pipeline platform team wiki".into(),
                    limit: 5,
                    explain: true,
                    ..Default::default()
                },
                &Default::default(),
            )
            .await
            .unwrap();
        // The explanation names the boost where it was applied, and the parts add up.
        for m in &found.results {
            let e = m.explain.unwrap();
            assert_eq!(e.graph > 0.0, graph && m.id == linked, "{e:?}");
            assert!(
                (e.fused * e.rehearsal + e.graph - e.final_).abs() < 1e-9,
                "{e:?}"
            );
        }
        let score = |id: &str| found.results.iter().find(|m| m.id == id).map(|m| m.score);
        (score(&linked).unwrap(), score(&other).unwrap())
    };
    let (on_linked, on_other) = scores(true).await;
    let (off_linked, off_other) = scores(false).await;
    assert!(
        on_linked > off_linked,
        "boosted: {on_linked} vs {off_linked}"
    );
    assert_eq!(
        on_other, off_other,
        "a memory outside the graph keeps its score"
    );
}
