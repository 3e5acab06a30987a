//! SQLite specifics of the pipeline store that the backend-neutral conformance suite cannot
//! see: what a pipeline update leaves in `memories_cold`, and that retention never touches
//! the append-only LLM ledger.

use serde_json::{Value, json};
use signet_model::documents::LeasePolicy;
use signet_model::maintenance::PruneStep;
use signet_model::memories::{Actor, NewMemory, WriteOptions};
use signet_model::pipeline::{Applied, EXTRACT, ExtractWrite, LlmCall, PlannedWrite, WriteOutcome};
use signet_store::{JobQueue, MaintenanceStore, MemoryStore, PipelineStore, Store};

const T0: &str = "2026-03-02T12:00:00.000Z";

fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("memories.db"), 1).unwrap();
    (dir, store)
}

fn memory(id: &str, content: &str) -> NewMemory {
    NewMemory {
        id: id.into(),
        content: content.into(),
        normalized_content: content.to_lowercase(),
        content_hash: format!("hash-of-{id}"),
        memory_type: "fact".into(),
        tags: None,
        who: "tester".into(),
        why: "test".into(),
        project: Some("proj".into()),
        importance: 0.5,
        pinned: false,
        source_type: "manual".into(),
        source_id: None,
        extraction_status: "none".into(),
        created_at: T0.into(),
        scope_user: None,
    }
}

fn pipeline_actor() -> Actor {
    Actor {
        changed_by: "pipeline-v2".into(),
        actor_type: Some("pipeline".into()),
        ..Actor::default()
    }
}

#[test]
fn a_pipeline_update_archives_the_whole_old_row_under_a_fresh_uuid() {
    let (_dir, store) = store();
    let opts = WriteOptions::default();
    store
        .remember(&memory("t", "the old words"), opts, &pipeline_actor())
        .unwrap();
    let extract = WriteOptions {
        enqueue_extraction: true,
        ..WriteOptions::default()
    };
    store
        .remember(&memory("src", "the source"), extract, &pipeline_actor())
        .unwrap();
    let job = store
        .lease_job(EXTRACT, T0, &LeasePolicy::default())
        .unwrap()
        .unwrap();
    let w = ExtractWrite {
        job_id: job.id,
        attempt: job.attempts,
        source_memory_id: "src".into(),
        writes: vec![PlannedWrite::Update {
            target_id: "t".into(),
            content: "the new words".into(),
            normalized_content: "the new words".into(),
            content_hash: "hash-of-new".into(),
            reason: "newer".into(),
            metadata: json!({}),
        }],
        entities: Vec::new(),
        extraction_model: "m".into(),
        result: "{}".into(),
        actor: pipeline_actor(),
        now: "2026-03-02T12:05:00.000Z".into(),
    };
    let done = store.apply_extraction(&w).unwrap();
    let updated = WriteOutcome::Updated { id: "t".into() };
    assert_eq!(done, Applied::Written(vec![updated]));
    let (archive_id, reason, content, project, at, row): (
        String,
        String,
        String,
        String,
        String,
        String,
    ) = store
        .pool()
        .read(|c| {
            Ok(c.query_row(
                "SELECT archive_id, archived_reason, content, project, archived_at, \
                       original_row_json FROM memories_cold WHERE memory_id = 't'",
                [],
                |r| {
                    Ok((
                        r.get(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                    ))
                },
            )?)
        })
        .unwrap();
    assert!(uuid::Uuid::parse_str(&archive_id).is_ok(), "{archive_id}");
    assert_eq!(
        (reason.as_str(), content.as_str()),
        ("superseded", "the old words")
    );
    assert_eq!((project.as_str(), at.as_str()), ("proj", w.now.as_str()));
    let row: Value = serde_json::from_str(&row).unwrap();
    assert_eq!(row["content"], "the old words");
    assert_eq!(row["version"], 1);
    assert_eq!(row["content_hash"], "hash-of-t");
    assert!(
        row.as_object().unwrap().contains_key("scope_user"),
        "every column"
    );
}

#[test]
fn retention_never_touches_the_llm_ledger() {
    let (_dir, store) = store();
    let call = LlmCall {
        provider: "ollama".into(),
        model: "llama".into(),
        purpose: "extraction".into(),
        input_tokens: 1,
        output_tokens: 2,
        duration_ms: 3,
        outcome: "ok".into(),
        error: None,
        job_id: None,
        created_at: "2000-01-01T00:00:00.000Z".into(),
    };
    store.record_llm_call(&call).unwrap();
    let future = "2100-01-01T00:00:00.000Z";
    store.purge_tombstones(future, 500, future).unwrap();
    for step in [
        PruneStep::History,
        PruneStep::CompletedJobs,
        PruneStep::DeadJobs,
        PruneStep::PredictorPairs,
    ] {
        store.prune(step, future, 500).unwrap();
    }
    assert_eq!(store.llm_totals(None).unwrap().calls, 1);
}
