//! Checks of the pipeline store: an extract job's write applied at most once and only by the
//! attempt that holds the job, each planned write's rules (dedup, the mutation guard, the cold
//! archive, audit rows on the source), failures, summary jobs, the graph, the LLM ledger and
//! the queue counts.

use serde_json::{Value, json};

use super::Fixtures;
use super::support::{
    MINUTE, at, forget, hash, insert, is_live, memory, normalize, operator, version,
};
use crate::MemoryStore;
use crate::documents::{FailedJob, LeasePolicy};
use crate::memories::{Actor, HistoryEvent, NewMemory, RememberOutcome, WriteOptions};
use crate::pipeline::{
    Applied, EXTRACT, ExtractWrite, GraphCounts, GraphTriple, JobCount, JobQuery, LlmCall,
    LlmTotals, PipelineStore, PlannedWrite, ProviderTotals, SessionSummaryRow, Summarised,
    SummaryWrite, WriteOutcome,
};
use crate::sessions::SummaryJob;

/// The controlled-writes actor.
fn v2() -> Actor {
    Actor {
        changed_by: "pipeline-v2".to_owned(),
        actor_type: Some("pipeline".to_owned()),
        ..Actor::default()
    }
}

/// A job as the checks hold it: its id and the attempt that leased it.
type Held = (String, i64);

/// Leases the oldest extract job at `T0 + ms`.
fn lease(p: &dyn PipelineStore, ms: i64) -> Option<Held> {
    let job = p.lease_job(EXTRACT, &at(ms), &LeasePolicy::default());
    job.expect("lease_job").map(|j| (j.id, j.attempts))
}

/// Remembers the source `id` with an extract job and leases that job at `T0 + ms`.
fn leased_source(memories: &dyn MemoryStore, p: &dyn PipelineStore, id: &str, ms: i64) -> Held {
    let content = format!("the source memory {id} the extraction reads");
    let opts = WriteOptions {
        enqueue_extraction: true,
        ..WriteOptions::default()
    };
    let out = memories.remember(&memory(id, &content), opts, &operator());
    assert_eq!(out.expect("remember"), RememberOutcome::Inserted);
    lease(p, ms).expect("the source's extract job is leased")
}

/// The write of `job` for `source`, by the controlled-writes actor at `T0 + ms`.
fn write(job: &Held, source: &str, writes: Vec<PlannedWrite>, ms: i64) -> ExtractWrite {
    ExtractWrite {
        job_id: job.0.clone(),
        attempt: job.1,
        source_memory_id: source.to_owned(),
        writes,
        entities: Vec::new(),
        extraction_model: "conformance-model".to_owned(),
        result: r#"{"facts":[],"writeMode":"phase-c"}"#.to_owned(),
        actor: v2(),
        now: at(ms),
    }
}

fn apply(p: &dyn PipelineStore, w: &ExtractWrite) -> Applied {
    p.apply_extraction(w).expect("apply_extraction")
}

/// A fact derived from `source`.
fn fact(id: &str, content: &str, source: &str) -> NewMemory {
    NewMemory {
        who: "pipeline-v2".to_owned(),
        why: "extracted-fact".to_owned(),
        source_type: "pipeline-v2".to_owned(),
        source_id: Some(source.to_owned()),
        extraction_status: "completed".to_owned(),
        ..memory(id, content)
    }
}

fn add(m: NewMemory) -> PlannedWrite {
    PlannedWrite::Add {
        memory: m,
        reason: "a new fact".to_owned(),
        metadata: json!({"proposedAction": "add"}),
    }
}

fn update(target: &str, content: &str) -> PlannedWrite {
    PlannedWrite::Update {
        target_id: target.to_owned(),
        content: content.to_owned(),
        normalized_content: normalize(content),
        content_hash: hash(content),
        reason: "a newer fact".to_owned(),
        metadata: json!({"proposedAction": "update"}),
    }
}

fn delete(target: &str) -> PlannedWrite {
    PlannedWrite::Delete {
        target_id: target.to_owned(),
        reason: "an outdated fact".to_owned(),
        metadata: json!({"proposedAction": "delete"}),
    }
}

fn audit(reason: &str, metadata: Value) -> PlannedWrite {
    PlannedWrite::Audit {
        reason: reason.to_owned(),
        metadata,
    }
}

fn history(memories: &dyn MemoryStore, id: &str) -> Vec<HistoryEvent> {
    let rows = memories.history(id, 100).expect("history");
    rows.expect("the memory exists")
}

/// The source's audit rows (event `none`), oldest first.
fn audits(memories: &dyn MemoryStore, id: &str) -> Vec<HistoryEvent> {
    let rows = history(memories, id).into_iter();
    rows.filter(|e| e.event == "none").collect()
}

fn extraction_status(memories: &dyn MemoryStore, id: &str) -> String {
    let detail = memories.live_detail(id).expect("live_detail");
    let detail = detail.expect("the memory is live");
    detail["extraction_status"]
        .as_str()
        .expect("a status")
        .to_owned()
}

fn added(id: &str) -> WriteOutcome {
    WriteOutcome::Added { id: id.to_owned() }
}

/// The write completes the job with its result, marks the source's extraction completed and
/// returns one outcome per planned write; a second apply of the same attempt is `Stale` and
/// writes nothing, and so is a write for an unknown job.
pub fn an_extraction_write_is_applied_once(
    memories: &dyn MemoryStore,
    pipeline: &dyn PipelineStore,
    _: &dyn Fixtures,
) {
    let job = leased_source(memories, pipeline, "src", MINUTE);
    assert_eq!(job.1, 1, "the first lease is attempt 1");
    let writes = vec![
        add(fact("f1", "a fact the extraction found", "src")),
        audit("nothing to do", json!({"proposedAction": "none"})),
    ];
    let w = write(&job, "src", writes, 2 * MINUTE);
    let want = Applied::Written(vec![added("f1"), WriteOutcome::Audited]);
    assert_eq!(apply(pipeline, &w), want, "the write is applied");
    let row = pipeline.job(&job.0).expect("job").expect("the job exists");
    assert_eq!(row.status, "completed");
    assert_eq!(row.result.as_deref(), Some(w.result.as_str()));
    assert_eq!(row.completed_at, Some(at(2 * MINUTE)));
    assert_eq!(extraction_status(memories, "src"), "completed");
    let rows = history(memories, "src").len();
    let total = memories.stats().expect("stats").total;
    let again = ExtractWrite {
        writes: vec![add(fact("f2", "another fact entirely", "src"))],
        ..w.clone()
    };
    assert_eq!(apply(pipeline, &again), Applied::Stale, "applied once");
    assert_eq!(
        history(memories, "src").len(),
        rows,
        "a stale write audits nothing"
    );
    assert_eq!(memories.stats().expect("stats").total, total);
    assert!(!is_live(memories, "f2"), "a stale write inserts nothing");
    let after = pipeline.job(&job.0).expect("job").expect("the job exists");
    assert_eq!(after, row, "a stale write leaves the job alone");
    let unknown = ExtractWrite {
        job_id: "no-such-job".to_owned(),
        ..w
    };
    assert_eq!(apply(pipeline, &unknown), Applied::Stale);
}

/// Once the lease went stale and the job was leased again, the old attempt's write is
/// `Stale` and writes nothing; the new attempt's write is applied.
pub fn a_re_leased_job_refuses_the_old_attempts_write(
    memories: &dyn MemoryStore,
    pipeline: &dyn PipelineStore,
    _: &dyn Fixtures,
) {
    let first = leased_source(memories, pipeline, "src", MINUTE);
    let later = MINUTE + LeasePolicy::default().lease_ms + 1;
    let second = lease(pipeline, later).expect("a stale lease is taken over");
    assert_eq!((second.0.as_str(), second.1), (first.0.as_str(), 2));
    let writes = || vec![add(fact("f1", "a fact the extraction found", "src"))];
    let old = write(&first, "src", writes(), later + 1);
    assert_eq!(
        apply(pipeline, &old),
        Applied::Stale,
        "the old attempt lost the job"
    );
    assert!(!is_live(memories, "f1"));
    assert_eq!(history(memories, "src").len(), 1, "only the created row");
    assert_eq!(extraction_status(memories, "src"), "none");
    let new = write(&second, "src", writes(), later + 2);
    let want = Applied::Written(vec![added("f1")]);
    assert_eq!(apply(pipeline, &new), want);
}

/// A job given back by the attempt that holds it (an extract job leased, a summary job
/// processing) is pending again with that attempt uncounted; any other attempt cannot give
/// it back.
pub fn a_released_job_keeps_its_attempt(
    memories: &dyn MemoryStore,
    pipeline: &dyn PipelineStore,
    fixtures: &dyn Fixtures,
) {
    let job = leased_source(memories, pipeline, "src", MINUTE);
    let release = |attempt, ms| {
        let done = pipeline.release_job(&job.0, attempt, &at(ms));
        done.expect("release_job")
    };
    assert!(!release(2, 2 * MINUTE), "attempt 2 does not hold the job");
    assert!(release(1, 2 * MINUTE), "the holder gives it back");
    assert!(!release(1, 2 * MINUTE), "a pending job is not held");
    let row = pipeline.job(&job.0).expect("job").expect("the job exists");
    assert_eq!((row.status.as_str(), row.attempts), ("pending", 0));
    assert_eq!(row.updated_at, at(2 * MINUTE));
    let again = lease(pipeline, 3 * MINUTE).expect("released jobs lease again");
    assert_eq!(again, (job.0.clone(), 1), "the attempt was not counted");
    let w = write(&again, "src", Vec::new(), 4 * MINUTE);
    assert_eq!(apply(pipeline, &w), Applied::Written(Vec::new()));
    assert_eq!(apply(pipeline, &w), Applied::Stale);
    let summary = summary_job("s1", "sess-1", 0);
    memories.enqueue_summary(&summary).expect("enqueue_summary");
    let leased = lease_summary(pipeline, 5 * MINUTE);
    assert_eq!(leased, Some(("s1".to_owned(), 1)));
    let release = |attempt| pipeline.release_job("s1", attempt, &at(6 * MINUTE));
    assert!(
        !release(2).expect("release_job"),
        "attempt 2 does not hold it"
    );
    assert!(release(1).expect("release_job"), "the holder gives it back");
    assert_eq!(status(fixtures, "s1"), "pending");
    let again = lease_summary(pipeline, 7 * MINUTE);
    assert_eq!(
        again,
        Some(("s1".to_owned(), 1)),
        "the attempt was not counted"
    );
}

/// An add whose content a live memory holds inserts nothing (`Deduped`); one whose twin is
/// deleted is inserted as `remember` would, by the write's actor, with no extract job. Each
/// leaves an audit row on the source naming what happened.
pub fn an_add_dedups_on_a_live_content_hash(
    memories: &dyn MemoryStore,
    pipeline: &dyn PipelineStore,
    _: &dyn Fixtures,
) {
    let (known, gone) = (
        "a fact someone remembered already",
        "a fact that was forgotten",
    );
    insert(memories, memory("twin", known));
    insert(memories, memory("gone", gone));
    forget(memories, "gone", &at(1));
    let job = leased_source(memories, pipeline, "src", MINUTE);
    let writes = vec![add(fact("f1", known, "src")), add(fact("f2", gone, "src"))];
    let done = apply(pipeline, &write(&job, "src", writes, 2 * MINUTE));
    let deduped = WriteOutcome::Deduped {
        existing_id: "twin".to_owned(),
    };
    assert_eq!(done, Applied::Written(vec![deduped, added("f2")]));
    assert!(!is_live(memories, "f1"), "a deduped fact is not inserted");
    let detail = memories
        .live_detail("f2")
        .expect("detail")
        .expect("f2 is live");
    assert_eq!(
        (&detail["source_type"], &detail["source_id"]),
        (&json!("pipeline-v2"), &json!("src"))
    );
    assert_eq!(version(memories, "f2"), 1);
    let created = history(memories, "f2");
    assert_eq!(created.len(), 1, "{created:?}");
    let row = &created[0];
    assert_eq!(
        (row.event.as_str(), row.changed_by.as_str()),
        ("created", "pipeline-v2")
    );
    assert_eq!(row.actor_type.as_deref(), Some("pipeline"));
    assert_eq!(row.reason.as_deref(), Some("a new fact"));
    assert_eq!(row.metadata["proposedAction"], "add");
    let rows = audits(memories, "src");
    assert_eq!(rows.len(), 2, "one audit row per add");
    assert_eq!(rows[0].metadata["dedupedExistingId"], "twin");
    assert_eq!(rows[0].metadata["createdMemoryId"], Value::Null);
    assert_eq!(rows[1].metadata["createdMemoryId"], "f2");
    assert_eq!(rows[1].metadata["dedupedExistingId"], Value::Null);
    assert_eq!(rows[1].metadata["proposedAction"], "add");
    let extract_jobs: i64 = pipeline
        .job_counts()
        .expect("job_counts")
        .iter()
        .filter(|c| c.job_type == EXTRACT)
        .map(|c| c.count)
        .sum();
    assert_eq!(extract_jobs, 1, "inserted facts get no extract job");
}

/// An update is a modify by the pipeline actor through the shared guard: the old row goes to
/// the cold archive (`superseded`), the version goes up, an `updated` history row holds the
/// old content, and the source's audit row names the target. A refused update (a deleted
/// target) changes nothing but the audit row (`update_is_deleted`).
pub fn an_update_goes_through_the_guard_and_archives_the_old_row(
    memories: &dyn MemoryStore,
    pipeline: &dyn PipelineStore,
    fixtures: &dyn Fixtures,
) {
    let old = "the old content of the target";
    insert(memories, memory("t", old));
    insert(memories, memory("gone", "a deleted target"));
    forget(memories, "gone", &at(1));
    let gone_version = version(memories, "gone");
    let job = leased_source(memories, pipeline, "src", MINUTE);
    let new = "the new content of the target";
    let writes = vec![
        update("t", new),
        update("gone", "new words for a deleted row"),
    ];
    let done = apply(pipeline, &write(&job, "src", writes, 2 * MINUTE));
    let refused = WriteOutcome::Refused {
        target_id: "gone".to_owned(),
        code: "is_deleted".to_owned(),
    };
    let updated = WriteOutcome::Updated { id: "t".to_owned() };
    assert_eq!(done, Applied::Written(vec![updated, refused]));
    assert_eq!(version(memories, "t"), 2, "an update bumps the version");
    let detail = memories
        .live_detail("t")
        .expect("detail")
        .expect("t is live");
    assert_eq!(detail["content"], new);
    let rows = history(memories, "t");
    let last = rows.last().expect("a history row");
    assert_eq!(
        (last.event.as_str(), last.changed_by.as_str()),
        ("updated", "pipeline-v2")
    );
    assert_eq!(last.actor_type.as_deref(), Some("pipeline"));
    assert_eq!(last.old_content.as_deref(), Some(old));
    assert_eq!(last.reason.as_deref(), Some("a newer fact"));
    assert_eq!(fixtures.cold_reasons("t"), ["superseded"], "archived first");
    assert!(
        fixtures.cold_reasons("gone").is_empty(),
        "a refusal archives nothing"
    );
    assert_eq!(version(memories, "gone"), gone_version);
    let rows = audits(memories, "src");
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].metadata["updatedMemoryId"], "t");
    assert_eq!(rows[1].metadata["skippedReason"], "update_is_deleted");
    assert_eq!(rows[1].metadata["proposedAction"], "update");
}

/// A pipeline delete of a pinned target is refused (`pinned_requires_force` or
/// `autonomous_force_denied`) and changes nothing; a plain target is archived
/// (`pipeline_delete`) and soft-deleted by the pipeline actor.
pub fn a_delete_of_a_pinned_target_is_refused_and_changes_nothing(
    memories: &dyn MemoryStore,
    pipeline: &dyn PipelineStore,
    fixtures: &dyn Fixtures,
) {
    let pinned = NewMemory {
        pinned: true,
        ..memory("p", "a pinned memory the user keeps")
    };
    insert(memories, pinned);
    insert(memories, memory("plain", "a plain memory that is outdated"));
    let job = leased_source(memories, pipeline, "src", MINUTE);
    let writes = vec![delete("p"), delete("plain")];
    let Applied::Written(done) = apply(pipeline, &write(&job, "src", writes, 2 * MINUTE)) else {
        panic!("the write is applied");
    };
    let code = match &done[0] {
        WriteOutcome::Refused { target_id, code } if target_id == "p" => code.clone(),
        other => panic!("a pinned target is refused: {other:?}"),
    };
    let codes = ["pinned_requires_force", "autonomous_force_denied"];
    assert!(codes.contains(&code.as_str()), "refusal code {code}");
    let deleted = WriteOutcome::Deleted {
        id: "plain".to_owned(),
    };
    assert_eq!(done[1], deleted);
    assert!(is_live(memories, "p"), "the pinned memory lives");
    assert_eq!(version(memories, "p"), 1);
    assert_eq!(history(memories, "p").len(), 1);
    assert!(
        fixtures.cold_reasons("p").is_empty(),
        "a refusal archives nothing"
    );
    assert!(!is_live(memories, "plain"));
    assert_eq!(version(memories, "plain"), 2);
    let rows = history(memories, "plain");
    let last = rows.last().expect("a history row");
    assert_eq!(
        (last.event.as_str(), last.changed_by.as_str()),
        ("deleted", "pipeline-v2")
    );
    assert_eq!(fixtures.cold_reasons("plain"), ["pipeline_delete"]);
    let rows = audits(memories, "src");
    assert_eq!(rows[0].metadata["skippedReason"], format!("delete_{code}"));
    assert_eq!(rows[1].metadata["deletedMemoryId"], "plain");
}

/// An audit write is a history row on the source: event `none`, the reason and metadata as
/// given, by the write's actor, at the write's time, with no content.
pub fn audit_rows_land_on_the_source_memory(
    memories: &dyn MemoryStore,
    pipeline: &dyn PipelineStore,
    _: &dyn Fixtures,
) {
    let job = leased_source(memories, pipeline, "src", MINUTE);
    let meta = json!({"proposedAction": "none", "confidence": 0.4, "fact": "x"});
    let writes = vec![audit("already known", meta.clone())];
    let done = apply(pipeline, &write(&job, "src", writes, 3 * MINUTE));
    assert_eq!(done, Applied::Written(vec![WriteOutcome::Audited]));
    let rows = history(memories, "src");
    assert_eq!(rows.len(), 2, "created, then the audit row");
    let row = &rows[1];
    assert_eq!(row.event, "none");
    assert_eq!(row.reason.as_deref(), Some("already known"));
    assert_eq!(row.metadata, meta);
    assert_eq!(row.changed_by, "pipeline-v2");
    assert_eq!(row.actor_type.as_deref(), Some("pipeline"));
    assert_eq!(row.created_at, at(3 * MINUTE));
    assert_eq!(
        (row.old_content.as_deref(), row.new_content.as_deref()),
        (None, None)
    );
}

/// A shadow write (audit rows only, by `pipeline-shadow`) changes no memory: the others keep
/// their version and history, the live count stays; the source gets the rows and completes.
pub fn a_shadow_write_changes_no_memory(
    memories: &dyn MemoryStore,
    pipeline: &dyn PipelineStore,
    fixtures: &dyn Fixtures,
) {
    insert(
        memories,
        memory("t", "a memory the shadow run proposes to update"),
    );
    let job = leased_source(memories, pipeline, "src", MINUTE);
    let total = memories.stats().expect("stats").total;
    let shadow = Actor {
        changed_by: "pipeline-shadow".to_owned(),
        ..v2()
    };
    let writes = vec![
        audit(
            "would update",
            json!({"shadow": true, "proposedAction": "update", "targetMemoryId": "t"}),
        ),
        audit(
            "would add",
            json!({"shadow": true, "proposedAction": "add", "createdMemoryId": null}),
        ),
    ];
    let w = ExtractWrite {
        actor: shadow,
        ..write(&job, "src", writes, 2 * MINUTE)
    };
    let want = Applied::Written(vec![WriteOutcome::Audited, WriteOutcome::Audited]);
    assert_eq!(apply(pipeline, &w), want);
    assert_eq!(
        memories.stats().expect("stats").total,
        total,
        "nothing inserted"
    );
    assert_eq!(version(memories, "t"), 1);
    assert_eq!(history(memories, "t").len(), 1);
    assert!(fixtures.cold_reasons("t").is_empty());
    let rows = audits(memories, "src");
    let by: Vec<&str> = rows.iter().map(|r| r.changed_by.as_str()).collect();
    assert_eq!(by, ["pipeline-shadow", "pipeline-shadow"]);
    assert_eq!(extraction_status(memories, "src"), "completed");
}

/// Failed attempts put the job back as pending with the error; the last kills it and marks
/// its memory's extraction failed. An unknown job is `Unknown`.
pub fn a_dead_extraction_job_fails_its_memory(
    memories: &dyn MemoryStore,
    pipeline: &dyn PipelineStore,
    _: &dyn Fixtures,
) {
    let mut job = leased_source(memories, pipeline, "src", 0);
    for attempt in 1..=3 {
        let t = attempt * 10 * MINUTE;
        if attempt > 1 {
            job = lease(pipeline, t).expect("a failed job is leased again");
        }
        assert_eq!(job.1, attempt);
        let failed = pipeline.fail_extraction(&job.0, "llm unreachable", &at(t + 1));
        let failed = failed.expect("fail_extraction");
        let want = if attempt < 3 {
            FailedJob::Retrying
        } else {
            FailedJob::Dead
        };
        assert_eq!(failed, want, "attempt {attempt}");
        if attempt < 3 {
            assert_eq!(
                extraction_status(memories, "src"),
                "none",
                "still to be extracted"
            );
        }
    }
    assert_eq!(extraction_status(memories, "src"), "failed");
    let row = pipeline.job(&job.0).expect("job").expect("the job exists");
    assert_eq!((row.status.as_str(), row.attempts), ("dead", 3));
    assert_eq!(row.error.as_deref(), Some("llm unreachable"));
    assert_eq!(row.failed_at, Some(at(30 * MINUTE + 1)));
    assert!(
        lease(pipeline, 100 * MINUTE).is_none(),
        "a dead job is not leased"
    );
    let unknown = pipeline.fail_extraction("nope", "x", &at(0));
    assert_eq!(unknown.expect("fail_extraction"), FailedJob::Unknown);
}

fn summary_job(id: &str, session: &str, ms: i64) -> SummaryJob {
    SummaryJob {
        id: id.to_owned(),
        session_key: Some(session.to_owned()),
        harness: "claude-code".to_owned(),
        project: Some("/work/project".to_owned()),
        transcript: format!("User: hello from {id}\nAssistant: hi"),
        created_at: at(ms),
    }
}

fn session_row(id: &str, session: &str, content: &str) -> SessionSummaryRow {
    SessionSummaryRow {
        id: id.to_owned(),
        session_key: session.to_owned(),
        project: Some("/work/project".to_owned()),
        harness: "claude-code".to_owned(),
        content: content.to_owned(),
        earliest_at: at(0),
        latest_at: at(MINUTE),
    }
}

fn lease_summary(p: &dyn PipelineStore, ms: i64) -> Option<(String, i64)> {
    let job = p.lease_summary(&at(ms)).expect("lease_summary");
    job.map(|j| (j.id, j.attempts))
}

fn status(fixtures: &dyn Fixtures, id: &str) -> String {
    fixtures.summary_job(id).expect("the summary job exists").1
}

/// The oldest pending summary is leased (`processing`, one more attempt); its write inserts
/// the memories no live one holds, upserts the session's depth-0 row linked to them and
/// completes the job, once and only for the attempt holding it. Failures retry until dead;
/// recovery puts `processing` jobs back.
pub fn summary_jobs_are_leased_applied_once_failed_and_recovered(
    memories: &dyn MemoryStore,
    pipeline: &dyn PipelineStore,
    fixtures: &dyn Fixtures,
) {
    let enqueue = |job: SummaryJob| memories.enqueue_summary(&job).expect("enqueue_summary");
    enqueue(summary_job("s1", "sess-1", 0));
    enqueue(summary_job("s2", "sess-2", MINUTE));
    insert(memories, memory("known", "a fact the session repeated"));
    let leased = pipeline
        .lease_summary(&at(2 * MINUTE))
        .expect("lease_summary");
    let leased = leased.expect("the oldest pending job");
    assert_eq!(
        (leased.id.as_str(), leased.attempts, leased.max_attempts),
        ("s1", 1, 3)
    );
    assert_eq!(leased.session_key.as_deref(), Some("sess-1"));
    assert_eq!(status(fixtures, "s1"), "processing");
    let notes = "# Session notes\nWe talked about the pipeline.";
    let w = SummaryWrite {
        job_id: "s1".to_owned(),
        attempt: 2,
        memories: vec![
            NewMemory {
                memory_type: "session_summary".to_owned(),
                ..memory("sum", notes)
            },
            memory("fact", "a fact the session established"),
            memory("dup", "a fact the session repeated"),
        ],
        session: Some(session_row("row-1", "sess-1", notes)),
        result: "ok".to_owned(),
        actor: v2(),
        now: at(3 * MINUTE),
    };
    let apply = |w: &SummaryWrite| pipeline.apply_summary(w).expect("apply_summary");
    assert_eq!(
        apply(&w),
        Summarised::Stale,
        "attempt 2 does not hold the job"
    );
    assert!(!is_live(memories, "sum"));
    let w = SummaryWrite { attempt: 1, ..w };
    let ids = vec!["sum".to_owned(), "fact".to_owned()];
    assert_eq!(
        apply(&w),
        Summarised::Written(ids),
        "live content is skipped"
    );
    assert_eq!(status(fixtures, "s1"), "completed");
    assert_eq!(history(memories, "fact")[0].changed_by, "pipeline-v2");
    let tokens = (notes.chars().count() / 4) as i64;
    let linked = vec!["fact".to_owned(), "sum".to_owned()];
    let want = ("row-1".to_owned(), notes.to_owned(), tokens, linked);
    assert_eq!(fixtures.session_summary("sess-1"), Some(want));
    assert_eq!(apply(&w), Summarised::Stale, "applied once");

    assert_eq!(
        lease_summary(pipeline, 4 * MINUTE),
        Some(("s2".to_owned(), 1))
    );
    assert_eq!(pipeline.recover_summaries().expect("recover_summaries"), 1);
    assert_eq!(status(fixtures, "s2"), "pending");
    assert_eq!(
        lease_summary(pipeline, 5 * MINUTE),
        Some(("s2".to_owned(), 1)),
        "the interrupted attempt was given back"
    );
    assert_eq!(pipeline.recover_summaries().expect("recover_summaries"), 1);
    assert_eq!(
        lease_summary(pipeline, 5 * MINUTE),
        Some(("s2".to_owned(), 1))
    );
    assert!(
        pipeline
            .fail_summary("s2", "first", &at(5 * MINUTE))
            .is_ok()
    );
    assert_eq!(
        lease_summary(pipeline, 5 * MINUTE),
        Some(("s2".to_owned(), 2))
    );
    let fail = |ms| {
        pipeline
            .fail_summary("s2", "model timed out", &at(ms))
            .expect("fail")
    };
    assert_eq!(fail(6 * MINUTE), FailedJob::Retrying);
    assert_eq!(status(fixtures, "s2"), "pending");
    assert_eq!(
        lease_summary(pipeline, 7 * MINUTE),
        Some(("s2".to_owned(), 3))
    );
    assert_eq!(fail(8 * MINUTE), FailedJob::Dead);
    assert_eq!(status(fixtures, "s2"), "dead");
    assert_eq!(lease_summary(pipeline, 9 * MINUTE), None, "no job is left");
    assert_eq!(
        fail(10 * MINUTE),
        FailedJob::Unknown,
        "a dead job is not held"
    );

    enqueue(summary_job("s3", "sess-1", 10 * MINUTE));
    assert_eq!(
        lease_summary(pipeline, 11 * MINUTE),
        Some(("s3".to_owned(), 1))
    );
    let later = "# Session notes\nThe session went on.";
    let w3 = SummaryWrite {
        job_id: "s3".to_owned(),
        attempt: 1,
        memories: vec![memory("fact-2", "a later fact of the session")],
        session: Some(session_row("row-2", "sess-1", later)),
        result: "ok".to_owned(),
        actor: v2(),
        now: at(12 * MINUTE),
    };
    assert_eq!(apply(&w3), Summarised::Written(vec!["fact-2".to_owned()]));
    let (id, content, _, linked) = fixtures.session_summary("sess-1").expect("the row");
    assert_eq!(
        (id.as_str(), content.as_str()),
        ("row-1", later),
        "one row per session"
    );
    assert_eq!(linked, ["fact", "fact-2", "sum"]);
}

fn triple(source: &str, relationship: &str, target: &str, confidence: f64) -> GraphTriple {
    GraphTriple {
        source: source.to_owned(),
        source_type: None,
        relationship: relationship.to_owned(),
        target: target.to_owned(),
        target_type: None,
        confidence,
    }
}

/// Writes `entities` as the extraction of a new source memory `id`.
fn extract_graph(
    memories: &dyn MemoryStore,
    pipeline: &dyn PipelineStore,
    id: &str,
    entities: Vec<GraphTriple>,
) {
    let job = leased_source(memories, pipeline, id, MINUTE);
    let w = ExtractWrite {
        entities,
        ..write(&job, id, Vec::new(), 2 * MINUTE)
    };
    assert_eq!(apply(pipeline, &w), Applied::Written(Vec::new()));
}

fn graph(pipeline: &dyn PipelineStore, tokens: &[&str], limit: usize) -> Vec<String> {
    let tokens: Vec<String> = tokens.iter().map(|t| (*t).to_owned()).collect();
    let mut ids = pipeline
        .graph_memories(&tokens, limit)
        .expect("graph_memories");
    ids.sort();
    ids
}

/// Entities upsert by canonical name (a known one gains a mention and a real type), names
/// under 4 chars are skipped, relations upsert on their ends and type; `graph_memories` finds
/// the live memories mentioning the matched entities or their neighbours, never deleted ones.
pub fn the_graph_counts_mentions_and_links_live_memories(
    memories: &dyn MemoryStore,
    pipeline: &dyn PipelineStore,
    fixtures: &dyn Fixtures,
) {
    let first = GraphTriple {
        source_type: Some("project".to_owned()),
        ..triple("Signet Daemon", "uses", "SQLite Database", 0.9)
    };
    let short = triple("Ann", "maintains", "Signet Daemon", 0.8);
    extract_graph(memories, pipeline, "src1", vec![first, short]);
    let counts = |e, r, m| GraphCounts {
        entities: e,
        relations: r,
        mentions: m,
    };
    assert_eq!(
        pipeline.graph_counts().expect("graph_counts"),
        counts(2, 1, 2)
    );
    assert_eq!(
        fixtures.entity("signet daemon"),
        Some((1, "project".to_owned()))
    );
    assert_eq!(
        fixtures.entity("sqlite database"),
        Some((1, "extracted".to_owned()))
    );
    assert_eq!(fixtures.entity("ann"), None, "short names are skipped");
    let again = GraphTriple {
        target_type: Some("tool".to_owned()),
        ..triple("  signet   DAEMON ", "uses", "SQLite database", 0.5)
    };
    extract_graph(memories, pipeline, "src2", vec![again]);
    assert_eq!(
        pipeline.graph_counts().expect("graph_counts"),
        counts(2, 1, 4)
    );
    assert_eq!(
        fixtures.entity("signet daemon"),
        Some((2, "project".to_owned()))
    );
    assert_eq!(
        fixtures.entity("sqlite database"),
        Some((2, "tool".to_owned()))
    );
    let report = triple("Weekly Report", "describes", "SQLite Database", 0.7);
    extract_graph(memories, pipeline, "src3", vec![report]);
    assert_eq!(
        pipeline.graph_counts().expect("graph_counts"),
        counts(3, 2, 6)
    );
    assert_eq!(
        graph(pipeline, &["daemon"], 10),
        ["src1", "src2", "src3"],
        "one hop out"
    );
    assert_eq!(graph(pipeline, &["WEEKLY"], 10), ["src1", "src2", "src3"]);
    assert_eq!(graph(pipeline, &["weekly"], 1).len(), 1, "at most limit");
    forget(memories, "src2", &at(3 * MINUTE));
    assert_eq!(
        graph(pipeline, &["daemon"], 10),
        ["src1", "src3"],
        "live memories only"
    );
    assert!(graph(pipeline, &["unheard of"], 10).is_empty());
    assert!(graph(pipeline, &[], 10).is_empty(), "no tokens, nothing");
}

fn call(provider: &str, model: &str, outcome: &str, tokens: (i64, i64), ms: i64) -> LlmCall {
    LlmCall {
        provider: provider.to_owned(),
        model: model.to_owned(),
        purpose: "extraction".to_owned(),
        input_tokens: tokens.0,
        output_tokens: tokens.1,
        duration_ms: 100,
        outcome: outcome.to_owned(),
        error: (outcome != "ok").then(|| "timed out after 90s".to_owned()),
        job_id: Some("job-1".to_owned()),
        created_at: at(ms),
    }
}

/// The ledger sums every call, or those at or after `since`; errors are the calls whose
/// outcome is not `ok`; per provider and model sorted by provider, then model.
pub fn the_ledger_sums_calls_since_a_time(
    _: &dyn MemoryStore,
    pipeline: &dyn PipelineStore,
    _: &dyn Fixtures,
) {
    assert_eq!(
        pipeline.llm_totals(None).expect("llm_totals"),
        LlmTotals::default()
    );
    for c in [
        call("openai", "gpt-small", "ok", (10, 20), 0),
        call("openai", "gpt-small", "timeout", (10, 0), MINUTE),
        call("ollama", "llama", "ok", (5, 7), 2 * MINUTE),
    ] {
        pipeline.record_llm_call(&c).expect("record_llm_call");
    }
    let sums = |calls, errors, input_tokens, output_tokens| LlmTotals {
        calls,
        errors,
        input_tokens,
        output_tokens,
        duration_ms: calls * 100,
    };
    let totals = |since: Option<&str>| pipeline.llm_totals(since).expect("llm_totals");
    assert_eq!(totals(None), sums(3, 1, 25, 27));
    assert_eq!(
        totals(Some(&at(MINUTE))),
        sums(2, 1, 15, 7),
        "at or after since"
    );
    assert_eq!(totals(Some(&at(3 * MINUTE))), LlmTotals::default());
    let by = pipeline.llm_totals_by_provider(None).expect("by provider");
    let row = |provider: &str, model: &str, totals| ProviderTotals {
        provider: provider.to_owned(),
        model: model.to_owned(),
        totals,
    };
    let want = vec![
        row("ollama", "llama", sums(1, 0, 5, 7)),
        row("openai", "gpt-small", sums(2, 1, 20, 20)),
    ];
    assert_eq!(by, want);
    let since = pipeline
        .llm_totals_by_provider(Some(&at(MINUTE)))
        .expect("by provider");
    assert_eq!(since.len(), 2);
    assert_eq!(since[1].totals, sums(1, 1, 10, 0));
}

/// Both queues are counted by type and status: `memory_jobs` by its job types, summary jobs
/// as queue and type `summary`; sorted by queue, type, status.
pub fn job_counts_cover_both_queues(
    memories: &dyn MemoryStore,
    pipeline: &dyn PipelineStore,
    _: &dyn Fixtures,
) {
    assert!(pipeline.job_counts().expect("job_counts").is_empty());
    let job = leased_source(memories, pipeline, "a", MINUTE);
    let done = apply(pipeline, &write(&job, "a", Vec::new(), 2 * MINUTE));
    assert_eq!(done, Applied::Written(Vec::new()));
    let opts = WriteOptions {
        enqueue_extraction: true,
        ..WriteOptions::default()
    };
    let b = memory("b", "another memory to extract");
    memories.remember(&b, opts, &operator()).expect("remember");
    memories
        .enqueue_summary(&summary_job("s1", "sess-1", 0))
        .expect("enqueue_summary");
    let count = |queue: &str, job_type: &str, status: &str, count| JobCount {
        queue: queue.to_owned(),
        job_type: job_type.to_owned(),
        status: status.to_owned(),
        count,
    };
    let want = vec![
        count("memory", EXTRACT, "completed", 1),
        count("memory", EXTRACT, "pending", 1),
        count("summary", "summary", "pending", 1),
    ];
    assert_eq!(pipeline.job_counts().expect("job_counts"), want);
}

/// `memory_jobs` are listed newest first by `updated_at`, filtered by status and type, a page
/// at a time, with the number of all matches; each row as [`PipelineStore::job`] reads it.
pub fn jobs_are_listed_newest_first_by_status_and_type(
    memories: &dyn MemoryStore,
    pipeline: &dyn PipelineStore,
    _: &dyn Fixtures,
) {
    let opts = WriteOptions {
        enqueue_extraction: true,
        extraction_attempts: 1,
    };
    for id in ["a", "b", "c"] {
        let content = format!("the memory {id} whose job is listed");
        let out = memories.remember(&memory(id, &content), opts, &operator());
        assert_eq!(out.expect("remember"), RememberOutcome::Inserted);
    }
    let done = lease(pipeline, MINUTE).expect("leased").0;
    assert!(
        pipeline
            .complete_job(&done, None, &at(2 * MINUTE))
            .expect("complete_job")
    );
    let dead = lease(pipeline, 3 * MINUTE).expect("leased").0;
    let failed = pipeline.fail_job(&dead, "boom", &at(4 * MINUTE));
    assert_eq!(
        failed.expect("fail_job"),
        FailedJob::Dead,
        "its one attempt is used"
    );
    let list = |status: Option<&str>, job_type: Option<&str>, limit, offset| {
        let q = JobQuery {
            status: status.map(str::to_owned),
            job_type: job_type.map(str::to_owned),
            limit,
            offset,
        };
        let page = pipeline.jobs(&q).expect("jobs");
        let ids: Vec<String> = page.jobs.iter().map(|j| j.id.clone()).collect();
        (ids, page.total, page.jobs)
    };
    let (ids, total, rows) = list(None, None, 10, 0);
    assert_eq!((ids.len(), total), (3, 3));
    assert_eq!(&ids[..2], [dead.clone(), done.clone()], "newest first");
    for row in &rows {
        let one = pipeline.job(&row.id).expect("job").expect("exists");
        assert_eq!(&one, row);
    }
    assert_eq!(rows[2].status, "pending");
    let pending = ids[2].clone();
    assert_eq!(list(Some("dead"), None, 10, 0).0, [dead]);
    let (ids, total, _) = list(Some("pending"), Some(EXTRACT), 10, 0);
    assert_eq!((ids, total), (vec![pending], 1));
    assert_eq!(list(None, Some("document_ingest"), 10, 0).1, 0);
    let (ids, total, _) = list(None, None, 1, 1);
    assert_eq!(
        (ids, total),
        (vec![done], 3),
        "a page, and every match counted"
    );
}

/// A job queued with `extraction_attempts` gets that many; a lease interrupted on the last
/// attempt is not leased again (even once stale) and recovery makes it `dead`, its memory's
/// extraction `failed` — never a pending job nothing will run.
pub fn a_lease_interrupted_on_the_last_attempt_dies_on_recovery(
    memories: &dyn MemoryStore,
    pipeline: &dyn PipelineStore,
    _fixtures: &dyn Fixtures,
) {
    let opts = WriteOptions {
        enqueue_extraction: true,
        extraction_attempts: 1,
    };
    let content = "the source memory whose worker keeps dying";
    let out = memories.remember(&memory("last", content), opts, &operator());
    assert_eq!(out.expect("remember"), RememberOutcome::Inserted);
    let job = lease(pipeline, MINUTE).expect("leased");
    let row = pipeline.job(&job.0).expect("job").expect("exists");
    assert_eq!(
        (row.attempts, row.max_attempts),
        (1, 1),
        "maxRetries is the row's"
    );
    // Stale by far: still not leased again, the attempt was its last.
    assert_eq!(lease(pipeline, 60 * MINUTE), None, "no attempt is left");
    let n = pipeline
        .recover_leases(EXTRACT, &at(60 * MINUTE), &at(60 * MINUTE))
        .expect("recover_leases");
    assert_eq!(n, 1);
    let row = pipeline.job(&job.0).expect("job").expect("exists");
    assert_eq!(row.status, "dead", "{row:?}");
    assert!(row.error.is_some() && row.failed_at.is_some(), "{row:?}");
    let detail = memories.live_detail("last").expect("detail").expect("live");
    assert_eq!(detail["extraction_status"], "failed");
}

/// A worker's start-up frees every lease of its kind with the interrupted attempt given back:
/// a job killed with its process any number of times is never dead for it.
pub fn orphaned_leases_are_released_with_their_attempt(
    memories: &dyn MemoryStore,
    pipeline: &dyn PipelineStore,
    _fixtures: &dyn Fixtures,
) {
    let job = leased_source(memories, pipeline, "orphan", MINUTE);
    for i in 0..5 {
        let n = pipeline
            .release_orphans(EXTRACT, &at(2 * MINUTE + i))
            .expect("release_orphans");
        assert_eq!(n, 1, "the one lease is freed");
        let again = lease(pipeline, 2 * MINUTE + i + 1).expect("leased again at once");
        assert_eq!(again, (job.0.clone(), 1), "the attempt was given back");
    }
    assert_eq!(
        pipeline
            .release_orphans("document_ingest", &at(3 * MINUTE))
            .expect("other kind"),
        0,
        "other kinds are left alone"
    );
}
