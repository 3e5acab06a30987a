//! What the checks share: a fixed clock, memories with caller-made hashes, the actors, and
//! short forms of the calls every check makes (each panics, naming the call, on a store error).

use chrono::Duration;

use crate::keyword::KeywordQuery;
use crate::memories::{
    Actor, Change, EmbeddingJob, MemoryPatch, Mutation, MutationOutcome, NewMemory, RecallFilters,
    RememberOutcome, WriteOptions,
};
use crate::{MemoryStore, time};

/// The suite's "now": every timestamp a check records is this one moved by some amount, so no
/// check depends on the wall clock.
pub(super) const T0: &str = "2026-03-02T12:00:00.000Z";
pub(super) const MINUTE: i64 = 60 * 1000;
pub(super) const HOUR: i64 = 60 * MINUTE;
pub(super) const DAY: i64 = 24 * HOUR;

/// `T0` moved by `ms` milliseconds (negative: before).
pub(super) fn at(ms: i64) -> String {
    time::format_iso(instant(ms))
}

/// `T0` moved by `ms` milliseconds, as a time.
pub(super) fn instant(ms: i64) -> chrono::DateTime<chrono::Utc> {
    time::parse(T0).expect("T0 parses") + Duration::milliseconds(ms)
}

/// The normalised form the suite hashes (the core's normalisation is not the store's business).
pub(super) fn normalize(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// A content hash: FNV-1a over the normalised text, in hex. Stores treat hashes as opaque.
pub(super) fn hash(text: &str) -> String {
    let h = normalize(text)
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
    format!("{h:016x}")
}

/// The embedding job for the memory `id` holding `content`.
pub(super) fn job(id: &str, content: &str) -> EmbeddingJob {
    EmbeddingJob {
        memory_id: id.into(),
        content: content.into(),
        content_hash: hash(content),
    }
}

/// A plain memory: type `fact`, no tags, `who` = `tester`, importance 0.5, created at `T0`.
pub fn memory(id: &str, content: &str) -> NewMemory {
    NewMemory {
        id: id.to_owned(),
        content: content.to_owned(),
        normalized_content: normalize(content),
        content_hash: hash(content),
        memory_type: "fact".to_owned(),
        tags: None,
        who: "tester".to_owned(),
        why: "conformance".to_owned(),
        project: None,
        importance: 0.5,
        pinned: false,
        source_type: "manual".to_owned(),
        source_id: None,
        extraction_status: "none".to_owned(),
        created_at: T0.to_owned(),
        scope_user: None,
    }
}

/// An operator with a session and a request id, so history rows carry every actor field.
pub(super) fn operator() -> Actor {
    Actor {
        changed_by: "conformance-operator".to_owned(),
        actor_type: Some("operator".to_owned()),
        session_id: Some("session-1".to_owned()),
        request_id: Some("request-1".to_owned()),
    }
}

/// An autonomous pipeline actor (may never force-delete a pinned memory).
pub(super) fn pipeline() -> Actor {
    Actor {
        changed_by: "pipeline".to_owned(),
        actor_type: Some("pipeline".to_owned()),
        ..Actor::default()
    }
}

/// Remembers `m` (no extraction job) and asserts it was inserted.
pub fn insert(store: &dyn MemoryStore, m: NewMemory) {
    let out = store.remember(&m, WriteOptions::default(), &operator());
    let out = out.expect("remember");
    assert_eq!(out, RememberOutcome::Inserted, "remember {} inserts", m.id);
}

/// Remembers `m` and returns what the store did.
pub(super) fn remember(store: &dyn MemoryStore, m: &NewMemory) -> RememberOutcome {
    store
        .remember(m, WriteOptions::default(), &operator())
        .expect("remember")
}

/// A mutation of `id` by the operator at `now`, without a version guard.
pub(super) fn mutation(id: &str, change: Change, now: &str) -> Mutation {
    Mutation {
        id: id.to_owned(),
        if_version: None,
        reason: "conformance".to_owned(),
        actor: operator(),
        now: now.to_owned(),
        change,
    }
}

pub(super) fn mutate(store: &dyn MemoryStore, m: Mutation) -> MutationOutcome {
    store.mutate(m).expect("mutate")
}

/// Soft-deletes `id` at `now` (with force, so pinned memories too) and asserts it was deleted.
pub(super) fn forget(store: &dyn MemoryStore, id: &str, now: &str) {
    let out = mutate(store, mutation(id, Change::Forget { force: true }, now));
    assert!(
        matches!(out, MutationOutcome::Deleted { .. }),
        "forget {id}: {out:?}"
    );
}

/// Recovers `id` at `now` and returns the outcome.
pub(super) fn recover(store: &dyn MemoryStore, id: &str, now: &str) -> MutationOutcome {
    mutate(store, mutation(id, Change::Recover, now))
}

/// A patch that changes the content (with its normalised form and hash).
pub(super) fn content_patch(content: &str) -> MemoryPatch {
    MemoryPatch {
        content: Some((content.to_owned(), normalize(content), hash(content))),
        ..MemoryPatch::default()
    }
}

/// Ids of the keyword hits, best first.
pub(super) fn search(
    store: &dyn MemoryStore,
    query: &KeywordQuery,
    filters: &RecallFilters,
) -> Vec<String> {
    let hits = store.keyword_search(query, filters, 50);
    hits.expect("keyword_search")
        .into_iter()
        .map(|h| h.id)
        .collect()
}

/// Owned, sorted ids (for results whose order the contract leaves open).
pub(super) fn sorted(mut ids: Vec<String>) -> Vec<String> {
    ids.sort();
    ids
}

/// Owned ids from literals.
pub(super) fn ids(ids: &[&str]) -> Vec<String> {
    ids.iter().map(|s| (*s).to_owned()).collect()
}

/// `ids` as keys for `recall_rows`, without positions.
pub(super) fn keys(ids: &[&str]) -> Vec<crate::memories::RowKey> {
    ids.iter().map(|s| (*s).into()).collect()
}

/// Whether `id` is a live memory.
pub(super) fn is_live(store: &dyn MemoryStore, id: &str) -> bool {
    store.live_detail(id).expect("live_detail").is_some()
}

/// The current version of `id` (live or deleted).
pub(super) fn version(store: &dyn MemoryStore, id: &str) -> i64 {
    let scope = store.memory_scope(id).expect("memory_scope");
    scope.expect("the memory exists").version
}
