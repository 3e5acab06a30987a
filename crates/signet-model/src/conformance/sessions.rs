//! Checks of what the hooks keep about sessions: session memories, summary jobs, checkpoints.

use super::support::{T0, at, insert, memory};
use super::{Fixtures, MaintenanceStore};
use crate::MemoryStore;
use crate::sessions::{Checkpoint, CheckpointQuery, SessionMemory, SummaryJob};

fn given(session_key: &str, memory_id: &str, rank: i64) -> SessionMemory {
    SessionMemory {
        id: format!("{session_key}/{memory_id}"),
        session_key: session_key.to_owned(),
        memory_id: memory_id.to_owned(),
        source: "effective".to_owned(),
        effective_score: Some(0.7),
        final_score: 0.7,
        rank,
        was_injected: true,
        fts_hit_count: 0,
        created_at: T0.to_owned(),
    }
}

/// Each `(session, memory)` pair is recorded once: a second record of it writes nothing (and
/// keeps the first row's rating), another session's record of the same memory is its own.
pub fn session_memories_are_recorded_once_per_session_and_memory(
    store: &dyn MemoryStore,
    _: &dyn MaintenanceStore,
    fixtures: &dyn Fixtures,
) {
    insert(store, memory("m1", "a memory the session was given"));
    let rows = [given("s1", "m1", 0), given("s1", "unknown-id", 1)];
    assert_eq!(store.record_session_memories(&rows).expect("record"), 2);
    store
        .record_feedback("s1", &[("m1".to_owned(), 1.0)])
        .expect("feedback");
    let again = [given("s1", "m1", 5), given("s2", "m1", 0)];
    assert_eq!(
        store.record_session_memories(&again).expect("record again"),
        1
    );
    assert_eq!(fixtures.session_feedback("s1", "m1"), Some((Some(1.0), 1)));
    assert_eq!(fixtures.session_feedback("s2", "m1"), Some((None, 0)));
    assert_eq!(store.record_session_memories(&[]).expect("nothing"), 0);
}

/// A queued transcript is a pending job with every field as given; its id cannot be queued
/// twice.
pub fn a_queued_summary_is_a_pending_job(
    store: &dyn MemoryStore,
    _: &dyn MaintenanceStore,
    fixtures: &dyn Fixtures,
) {
    let job = SummaryJob {
        id: "job-1".to_owned(),
        session_key: Some("s1".to_owned()),
        harness: "claude-code".to_owned(),
        project: Some("/home/dev/acme".to_owned()),
        transcript: "User: hello\nAssistant: hi".to_owned(),
        created_at: T0.to_owned(),
    };
    store.enqueue_summary(&job).expect("enqueue");
    assert_eq!(
        fixtures.summary_job("job-1"),
        Some((job.clone(), "pending".to_owned()))
    );
    assert!(
        store.enqueue_summary(&job).is_err(),
        "a job id is queued once"
    );
    assert_eq!(fixtures.summary_job("job-2"), None);
}

/// While a session's summary job is pending, a later transcript of that session replaces its
/// transcript instead of queueing a second job; a job without a session key always queues.
pub fn a_pending_summary_takes_the_sessions_later_transcript(
    store: &dyn MemoryStore,
    _: &dyn MaintenanceStore,
    fixtures: &dyn Fixtures,
) {
    let first = SummaryJob {
        id: "turn-1".to_owned(),
        session_key: Some("codex-s".to_owned()),
        harness: "codex".to_owned(),
        project: Some("/home/dev/acme".to_owned()),
        transcript: "User: one".to_owned(),
        created_at: T0.to_owned(),
    };
    assert_eq!(store.enqueue_summary(&first).expect("first"), "turn-1");
    let later = SummaryJob {
        id: "turn-2".to_owned(),
        transcript: "User: one\nUser: two".to_owned(),
        ..first.clone()
    };
    assert_eq!(store.enqueue_summary(&later).expect("later"), "turn-1");
    let expected = SummaryJob {
        id: "turn-1".to_owned(),
        ..later
    };
    assert_eq!(
        fixtures.summary_job("turn-1"),
        Some((expected, "pending".to_owned()))
    );
    assert_eq!(fixtures.summary_job("turn-2"), None, "no second job");
    let loose = SummaryJob {
        id: "loose-1".to_owned(),
        session_key: None,
        ..first
    };
    let loose_again = SummaryJob {
        id: "loose-2".to_owned(),
        ..loose.clone()
    };
    assert_eq!(store.enqueue_summary(&loose).expect("loose"), "loose-1");
    assert_eq!(
        store.enqueue_summary(&loose_again).expect("again"),
        "loose-2"
    );
}

fn checkpoint(id: &str, session_key: &str, project: Option<&str>, ms: i64) -> Checkpoint {
    Checkpoint {
        id: id.to_owned(),
        session_key: session_key.to_owned(),
        harness: "codex".to_owned(),
        project: project.map(str::to_owned),
        project_normalized: project.map(str::to_owned),
        trigger: "periodic".to_owned(),
        digest: format!("digest of {id}"),
        prompt_count: 3,
        memory_queries: Some("[\"q\"]".to_owned()),
        recent_remembers: None,
        created_at: at(ms),
    }
}

/// Checkpoints are read by session or by project, newest first, up to the limit.
pub fn checkpoints_by_session_or_project_are_newest_first(
    store: &dyn MemoryStore,
    _: &dyn MaintenanceStore,
    fixtures: &dyn Fixtures,
) {
    let rows = [
        checkpoint("c1", "s1", Some("/p"), 0),
        checkpoint("c2", "s1", Some("/p"), 2_000),
        checkpoint("c3", "s2", Some("/p"), 1_000),
        checkpoint("c4", "s3", None, 3_000),
    ];
    for c in &rows {
        fixtures.give_checkpoint(c);
    }
    let ids = |q: CheckpointQuery| -> Vec<String> {
        let found = store.checkpoints(&q).expect("checkpoints");
        found.into_iter().map(|c| c.id).collect()
    };
    let session = |key: &str, limit| CheckpointQuery::Session {
        session_key: key.to_owned(),
        limit,
    };
    assert_eq!(ids(session("s1", 10)), ["c2", "c1"]);
    assert_eq!(ids(session("s1", 1)), ["c2"]);
    assert!(ids(session("nobody", 10)).is_empty());
    let project = CheckpointQuery::Project {
        project: "/p".to_owned(),
        limit: 10,
    };
    assert_eq!(ids(project), ["c2", "c3", "c1"]);
    let whole = store.checkpoints(&session("s3", 1)).expect("checkpoints");
    assert_eq!(whole, [rows[3].clone()], "every column as stored");
}
