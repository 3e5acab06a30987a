//! The graph and archive repairs: the cold archive's counts, chunk-group and singleton
//! entity prunes (each with what names the entities), and skipped summary jobs requeued.

use super::maintenance::{audit, taken};
use super::support::{MINUTE, at, is_live, memory, operator};
use super::{Fixtures, Harness};
use crate::MemoryStore;
use crate::documents::LeasePolicy;
use crate::maintenance::{ColdCounts, EntityPrune, MaintenanceStore, PrunedEntities};
use crate::memories::{Actor, ChunkGroup, WriteOptions};
use crate::pipeline::{
    Applied, EXTRACT, ExtractWrite, GraphCounts, GraphTriple, PipelineStore, SessionSummaryRow,
    Summarised, SummaryWrite,
};
use crate::sessions::SummaryJob;

fn pipeline_actor() -> Actor {
    Actor {
        changed_by: "pipeline-v2".to_owned(),
        actor_type: Some("pipeline".to_owned()),
        ..Actor::default()
    }
}

fn triple(source: &str, relationship: &str, target: &str) -> GraphTriple {
    GraphTriple {
        source: source.to_owned(),
        source_type: None,
        relationship: relationship.to_owned(),
        target: target.to_owned(),
        target_type: None,
        confidence: 0.8,
    }
}

/// Remembers the source `id` and applies its extraction at `T0 + ms` with these triples.
fn extract(h: &dyn Harness, id: &str, triples: &[GraphTriple], ms: i64) {
    let opts = WriteOptions {
        enqueue_extraction: true,
        ..WriteOptions::default()
    };
    let content = format!("the memory {id} names some entities");
    h.memory()
        .remember(&memory(id, &content), opts, &operator())
        .expect("remember");
    let job = h
        .pipeline()
        .lease_job(EXTRACT, &at(ms), &LeasePolicy::default())
        .expect("lease_job")
        .expect("the source's extract job");
    let w = ExtractWrite {
        job_id: job.id,
        attempt: job.attempts,
        source_memory_id: id.to_owned(),
        writes: Vec::new(),
        entities: triples.to_vec(),
        extraction_model: "conformance-model".to_owned(),
        result: "{}".to_owned(),
        actor: pipeline_actor(),
        now: at(ms + 1),
    };
    let applied = h.pipeline().apply_extraction(&w).expect("apply_extraction");
    assert_eq!(applied, Applied::Written(Vec::new()));
}

/// A long remember's group `id` of the chunks `chunks`, written at `T0 + ms`.
fn chunks(store: &dyn MemoryStore, id: &str, chunks: &[&str], ms: i64) {
    let group = ChunkGroup {
        group_id: id.to_owned(),
        chunks: chunks
            .iter()
            .map(|c| memory(c, &format!("chunk {c} of a long remember")))
            .collect(),
    };
    let opts = WriteOptions::default();
    let ids = store.remember_chunks(&group, opts, &operator(), &at(ms));
    assert_eq!(ids.expect("remember_chunks").len(), chunks.len());
}

fn prune(
    maint: &dyn MaintenanceStore,
    which: EntityPrune,
    limit: usize,
) -> (PrunedEntities, Option<PrunedEntities>) {
    let (build, seen) = audit("pruneEntities", &at(60 * MINUTE));
    let done = maint.prune_entities(which, limit, build);
    (done.expect("prune_entities"), taken(&seen))
}

fn pruned(entities: usize, mentions: usize, relations: usize) -> PrunedEntities {
    PrunedEntities {
        entities,
        mentions,
        relations,
    }
}

fn graph(p: &dyn PipelineStore) -> (i64, i64, i64) {
    let GraphCounts {
        entities,
        relations,
        mentions,
    } = p.graph_counts().expect("graph_counts");
    (entities, relations, mentions)
}

/// The archive's counts: rows, first and last `archived_at`, the UTF-8 bytes of the content
/// plus the archived row's JSON, and rows per reason (`unknown` for none), sorted by reason.
pub fn cold_counts_sum_the_archive_by_reason(h: &dyn Harness) {
    let maint = h.maintenance();
    let empty = maint.cold_counts().expect("cold_counts");
    assert_eq!(empty, Some(ColdCounts::default()), "an empty archive");
    let rows = [
        (
            "a",
            Some("retention_decay"),
            2,
            "alpha",
            Some(r#"{"id":"a"}"#),
        ),
        ("b", Some("superseded"), 1, "béta ünïcode", None),
        (
            "c",
            None,
            3,
            "gamma",
            Some(r#"{"id":"c","content":"gamma"}"#),
        ),
        ("d", Some("retention_decay"), 4, "delta", Some("{}")),
    ];
    let mut bytes = 0;
    for (id, reason, hours, content, json) in rows {
        h.give_cold(id, reason, &at(hours * 60 * MINUTE), content, json);
        bytes += content.len() + json.map_or(0, str::len);
    }
    let counts = maint
        .cold_counts()
        .expect("cold_counts")
        .expect("an archive");
    let reasons = [("retention_decay", 2), ("superseded", 1), ("unknown", 1)];
    let want = ColdCounts {
        count: 4,
        oldest: Some(at(60 * MINUTE)),
        newest: Some(at(4 * 60 * MINUTE)),
        total_bytes: bytes as i64,
        by_reason: reasons.map(|(r, n)| (r.to_owned(), n)).to_vec(),
    };
    assert_eq!(counts, want);
}

/// Chunk groups are counted whole and pruned oldest first, a batch at a time, with their
/// mentions; their chunks stay live, and other entities are untouched.
pub fn chunk_groups_are_pruned_in_batches_with_their_mentions(h: &dyn Harness) {
    let (store, maint) = (h.memory(), h.maintenance());
    chunks(store, "g1", &["c1", "c2"], MINUTE);
    chunks(store, "g2", &["c3"], 2 * MINUTE);
    extract(
        h,
        "src",
        &[triple("Kept Entity", "uses", "Also Kept")],
        3 * MINUTE,
    );
    assert_eq!(graph(h.pipeline()), (4, 1, 5));
    let groups = |m: &dyn MaintenanceStore| m.prunable_entities(EntityPrune::ChunkGroups);
    assert_eq!(groups(maint).expect("prunable_entities"), 2);

    let (done, seen) = prune(maint, EntityPrune::ChunkGroups, 1);
    assert_eq!(
        done,
        pruned(1, 2, 0),
        "the oldest group and its two chunks' mentions"
    );
    assert_eq!(
        seen,
        Some(done),
        "the audit row is built from what was done"
    );
    assert_eq!(h.entity("chunk-group:g1"), None);
    assert!(h.entity("chunk-group:g2").is_some());
    assert_eq!(groups(maint).expect("prunable_entities"), 1);

    assert_eq!(
        prune(maint, EntityPrune::ChunkGroups, 10).0,
        pruned(1, 1, 0)
    );
    assert_eq!(
        prune(maint, EntityPrune::ChunkGroups, 10).0,
        pruned(0, 0, 0)
    );
    assert_eq!(groups(maint).expect("prunable_entities"), 0);
    assert_eq!(
        graph(h.pipeline()),
        (2, 1, 2),
        "the extracted graph is kept"
    );
    for id in ["c1", "c2", "c3", "src"] {
        assert!(is_live(store, id), "{id} stays live");
    }
}

/// Singletons are entities with at most `max_mentions` mentions that are not chunk groups,
/// not pinned, and have no aspect and no attribute (under an aspect, or a stub on a memory
/// that mentions them); a prune removes them oldest first with their mentions and relations.
pub fn singleton_prune_keeps_pinned_structured_and_busier_entities(h: &dyn Harness) {
    let (store, maint) = (h.memory(), h.maintenance());
    extract(
        h,
        "m1",
        &[triple("Lonely Entity", "uses", "Popular Entity")],
        MINUTE,
    );
    let m2 = [
        triple("Popular Entity", "likes", "Pinned Entity"),
        triple("Aspect Holder", "has", "Other Loner"),
    ];
    extract(h, "m2", &m2, 2 * MINUTE);
    extract(
        h,
        "m3",
        &[triple("Stub Holder", "near", "Stub Partner")],
        3 * MINUTE,
    );
    chunks(store, "g1", &["c1"], 4 * MINUTE);
    h.pin_entity("pinned entity");
    h.give_aspect("aspect holder", true);
    h.give_stub_attribute("m3");
    assert_eq!(graph(h.pipeline()), (8, 4, 9));
    assert_eq!(
        h.entity("popular entity"),
        Some((2, "extracted".to_owned()))
    );

    let count = |n| {
        let which = EntityPrune::Singletons { max_mentions: n };
        maint.prunable_entities(which).expect("prunable_entities")
    };
    assert_eq!((count(0), count(1), count(2)), (0, 2, 3));

    let once = EntityPrune::Singletons { max_mentions: 1 };
    let (done, seen) = prune(maint, once, 1);
    assert_eq!(
        done,
        pruned(1, 1, 1),
        "the oldest singleton, its mention and relation"
    );
    assert_eq!(seen, Some(done));
    assert_eq!(h.entity("lonely entity"), None);
    assert_eq!(
        h.entity("popular entity"),
        Some((2, "extracted".to_owned()))
    );
    assert_eq!(prune(maint, once, 10).0, pruned(1, 1, 1));
    assert_eq!(h.entity("other loner"), None);
    assert_eq!(prune(maint, once, 10).0, pruned(0, 0, 0));
    for kept in [
        "popular entity",
        "pinned entity",
        "aspect holder",
        "stub holder",
        "stub partner",
        "chunk-group:g1",
    ] {
        assert!(h.entity(kept).is_some(), "{kept} is kept");
    }
    assert_eq!(graph(h.pipeline()), (6, 2, 7));
    for id in ["m1", "m2", "m3", "c1"] {
        assert!(is_live(store, id), "{id} stays live");
    }
}

fn summary_job(id: &str, session: Option<&str>, ms: i64) -> SummaryJob {
    SummaryJob {
        id: id.to_owned(),
        session_key: session.map(str::to_owned),
        harness: "claude-code".to_owned(),
        project: Some("/work/project".to_owned()),
        transcript: format!("User: hello from {id}\nAssistant: hi"),
        created_at: at(ms),
    }
}

/// Enqueues, leases and completes the summary job `id` at `T0 + ms`, writing the session's
/// summary row only with `summarised`.
fn summarise(h: &dyn Harness, id: &str, session: Option<&str>, summarised: bool, ms: i64) {
    let job = summary_job(id, session, ms);
    h.memory().enqueue_summary(&job).expect("enqueue_summary");
    let leased = h
        .pipeline()
        .lease_summary(&at(ms + 1))
        .expect("lease_summary");
    let leased = leased.expect("the job just queued");
    assert_eq!(leased.id, id);
    let row = |key: &str| SessionSummaryRow {
        id: format!("row-{id}"),
        session_key: key.to_owned(),
        project: None,
        harness: "claude-code".to_owned(),
        content: "# Session notes".to_owned(),
        earliest_at: at(ms),
        latest_at: at(ms),
    };
    let w = SummaryWrite {
        job_id: id.to_owned(),
        attempt: leased.attempts,
        memories: Vec::new(),
        session: session.filter(|_| summarised).map(row),
        result: "ok".to_owned(),
        actor: pipeline_actor(),
        now: at(ms + 2),
    };
    let done = h.pipeline().apply_summary(&w).expect("apply_summary");
    assert_eq!(done, Summarised::Written(Vec::new()));
}

fn status(fixtures: &dyn Fixtures, id: &str) -> String {
    fixtures.summary_job(id).expect("the summary job exists").1
}

/// Completed jobs whose session has no depth-0 summary are counted and requeued oldest first
/// (pending, attempts reset); summarised sessions, jobs without a session key and jobs not
/// completed are left alone.
pub fn skipped_summaries_are_requeued_and_summarised_ones_kept(h: &dyn Harness) {
    let maint = h.maintenance();
    summarise(h, "s1", Some("sess-1"), true, 0);
    summarise(h, "s2", Some("sess-2"), false, MINUTE);
    summarise(h, "s3", Some("sess-3"), false, 2 * MINUTE);
    summarise(h, "s4", None, false, 3 * MINUTE);
    let queued = summary_job("s5", Some("sess-5"), 4 * MINUTE);
    h.memory()
        .enqueue_summary(&queued)
        .expect("enqueue_summary");
    let skipped = || maint.skipped_summaries().expect("skipped_summaries");
    assert_eq!(skipped(), 2);

    let (build, seen) = audit("backfillSkippedSessions", &at(10 * MINUTE));
    let n = maint.requeue_skipped_summaries(1, build);
    assert_eq!(n.expect("requeue_skipped_summaries"), 1);
    assert_eq!(taken(&seen), Some(1));
    assert_eq!(status(h, "s2"), "pending", "the oldest first");
    assert_eq!(status(h, "s3"), "completed");
    assert_eq!(skipped(), 1);
    let (build, _) = audit("backfillSkippedSessions", &at(11 * MINUTE));
    let n = maint.requeue_skipped_summaries(10, build);
    assert_eq!(n.expect("requeue_skipped_summaries"), 1);
    assert_eq!(skipped(), 0);
    for (id, want) in [("s1", "completed"), ("s3", "pending"), ("s4", "completed")] {
        assert_eq!(status(h, id), want, "{id}");
    }
    let again = h
        .pipeline()
        .lease_summary(&at(12 * MINUTE))
        .expect("lease_summary");
    let again = again.expect("a requeued job");
    assert_eq!(
        (again.id.as_str(), again.attempts),
        ("s2", 1),
        "attempts start over"
    );
}
