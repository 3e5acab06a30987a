//! Single-memory mutations: the shared guard (state, version, pinned), modify, forget and
//! recover with the recover window.

use super::support::{
    DAY, HOUR, MINUTE, T0, at, content_patch, forget, insert, is_live, memory, mutate, mutation,
    pipeline, recover, search, version,
};
use crate::MemoryStore;
use crate::keyword::KeywordQuery;
use crate::memories::{
    Change, MemoryPatch, Mutation, MutationOutcome as O, OutcomeKind, RECOVER_WINDOW_MS,
    RecallFilters,
};

/// A modify changes the fields the patch sets, bumps the version by one, records an
/// `updated` history row, and new content is searchable at once (the old is not).
pub fn modify_applies_the_patch_and_bumps_the_version(store: &dyn MemoryStore) {
    let mut m = memory("m", "the build uses make");
    m.tags = Some("build".into());
    insert(store, m);
    let patch = full_patch("the build uses cargo", "decision", "build,ci", 0.75, true);
    let out = mutate(store, mutation("m", Change::Modify(patch), &at(HOUR)));
    let updated = O::Updated {
        current: 1,
        new: 2,
        content_changed: true,
    };
    assert_eq!(out, updated);
    assert_eq!(out.kind(), OutcomeKind::Done);
    let detail = store.live_detail("m").expect("live_detail").expect("live");
    assert_eq!(detail["content"], "the build uses cargo");
    assert_eq!(detail["type"], "decision");
    assert_eq!(detail["tags"], "build,ci");
    assert_eq!(detail["importance"], 0.75);
    assert_eq!(detail["pinned"], 1);
    assert_eq!(detail["version"], 2);
    assert_eq!(detail["updated_at"], at(HOUR));
    let none = RecallFilters::default();
    assert_eq!(search(store, &KeywordQuery::all(["cargo"]), &none), ["m"]);
    assert!(search(store, &KeywordQuery::all(["make"]), &none).is_empty());

    let clear = MemoryPatch {
        tags: Some(None),
        ..MemoryPatch::default()
    };
    let out = mutate(store, mutation("m", Change::Modify(clear), &at(2 * HOUR)));
    let cleared = O::Updated {
        current: 2,
        new: 3,
        content_changed: false,
    };
    assert_eq!(out, cleared, "`Some(None)` clears the tags");
    let detail = store.live_detail("m").expect("live_detail").expect("live");
    assert_eq!(detail["tags"], serde_json::Value::Null);
    let history = store.history("m", 10).expect("history").expect("rows");
    let events: Vec<&str> = history.iter().map(|e| e.event.as_str()).collect();
    assert_eq!(events, ["created", "updated", "updated"]);
}

/// `if_version` guards every operation: a stale version is a conflict that changes nothing,
/// the current one lets the change run.
pub fn a_stale_if_version_conflicts(store: &dyn MemoryStore) {
    insert(store, memory("m", "version one"));
    let edit = |text: &str, if_version| {
        guarded(Change::Modify(content_patch(text)), &at(HOUR), if_version)
    };
    let out = mutate(store, edit("version two", 1));
    assert_updated(&out, 1, 2);
    let out = mutate(store, edit("stale edit", 1));
    assert_eq!(out, O::VersionConflict { current: 2 });
    assert_eq!(out.kind(), OutcomeKind::Conflict);
    let detail = store.live_detail("m").expect("live_detail").expect("live");
    assert_eq!(detail["content"], "version two");

    let forget_m = |if_version| guarded(Change::Forget { force: false }, &at(HOUR), if_version);
    assert_eq!(
        mutate(store, forget_m(1)),
        O::VersionConflict { current: 2 }
    );
    assert!(is_live(store, "m"));
    assert_eq!(
        mutate(store, forget_m(2)),
        O::Deleted { current: 2, new: 3 }
    );
    let stale_recover = guarded(Change::Recover, &at(2 * HOUR), 2);
    assert_eq!(
        mutate(store, stale_recover),
        O::VersionConflict { current: 3 }
    );
}

/// A patch that sets every field: the content, type, tags, importance and pinned flag.
fn full_patch(
    content: &str,
    memory_type: &str,
    tags: &str,
    importance: f64,
    pinned: bool,
) -> MemoryPatch {
    MemoryPatch {
        memory_type: Some(memory_type.into()),
        tags: Some(Some(tags.into())),
        importance: Some(importance),
        pinned: Some(pinned),
        ..content_patch(content)
    }
}

/// A mutation of `m` guarded by `if_version`.
fn guarded(change: Change, now: &str, if_version: i64) -> Mutation {
    Mutation {
        if_version: Some(if_version),
        ..mutation("m", change, now)
    }
}

/// Asserts that `out` is an update from version `from` to `to`.
#[track_caller]
fn assert_updated(out: &O, from: i64, to: i64) {
    assert!(
        matches!(out, O::Updated { current, new, .. } if (*current, *new) == (from, to)),
        "{out:?}"
    );
}

/// A patch that sets nothing new (or nothing at all) is `NoChanges`: no version bump, no
/// history row.
pub fn modify_without_a_change_is_a_no_op(store: &dyn MemoryStore) {
    let mut m = memory("m", "unchanged text");
    m.tags = Some("a".into());
    m.importance = 0.4;
    insert(store, m);
    let same = full_patch("unchanged text", "fact", "a", 0.4, false);
    let out = mutate(store, mutation("m", Change::Modify(same), &at(HOUR)));
    assert_eq!(out, O::NoChanges { current: 1 });
    assert_eq!(out.kind(), OutcomeKind::Done);
    let empty = Change::Modify(MemoryPatch::default());
    assert_eq!(
        mutate(store, mutation("m", empty, &at(HOUR))),
        O::NoChanges { current: 1 }
    );
    assert_eq!(version(store, "m"), 1);
    let history = store.history("m", 10).expect("history").expect("rows");
    assert_eq!(history.len(), 1);
}

/// New content that another live memory holds is refused (naming that memory); a deleted
/// memory's content is free to take.
pub fn modify_refuses_content_a_live_memory_holds(store: &dyn MemoryStore) {
    insert(store, memory("a", "content of a"));
    insert(store, memory("b", "content of b"));
    insert(store, memory("c", "content of c"));
    forget(store, "c", &at(MINUTE));
    let take_a = Change::Modify(content_patch("Content of A"));
    let out = mutate(store, mutation("b", take_a, &at(HOUR)));
    let refused = O::DuplicateContentHash {
        current: 1,
        duplicate_id: "a".into(),
    };
    assert_eq!(out, refused);
    assert_eq!(out.kind(), OutcomeKind::Conflict);
    let detail = store.live_detail("b").expect("live_detail").expect("live");
    assert_eq!(detail["content"], "content of b");
    assert_eq!(detail["version"], 1);
    let take_c = Change::Modify(content_patch("content of c"));
    let out = mutate(store, mutation("b", take_c, &at(HOUR)));
    assert!(
        matches!(
            out,
            O::Updated {
                content_changed: true,
                ..
            }
        ),
        "{out:?}"
    );
}

/// A pinned memory is forgotten only with `force`, and never by a pipeline actor (even with
/// force); pinning does not block a modify.
pub fn forget_of_a_pinned_memory_needs_force_and_a_non_pipeline_actor(store: &dyn MemoryStore) {
    let mut m = memory("p", "pinned knowledge");
    m.pinned = true;
    insert(store, m);
    let forget_p = |force| mutation("p", Change::Forget { force }, &at(HOUR));
    let out = mutate(store, forget_p(false));
    assert_eq!(out, O::PinnedRequiresForce { current: 1 });
    assert_eq!(out.kind(), OutcomeKind::Conflict);
    let mut by_pipeline = forget_p(true);
    by_pipeline.actor = pipeline();
    let out = mutate(store, by_pipeline);
    assert_eq!(out, O::AutonomousForceDenied { current: 1 });
    assert_eq!(out.kind(), OutcomeKind::Forbidden);
    assert!(is_live(store, "p"), "refusals change nothing");

    let edit = Change::Modify(content_patch("pinned knowledge, edited"));
    let out = mutate(store, mutation("p", edit, &at(HOUR)));
    assert_updated(&out, 1, 2);
    assert_eq!(
        mutate(store, forget_p(true)),
        O::Deleted { current: 2, new: 3 }
    );
    assert!(!is_live(store, "p"));
}

/// Forget soft-deletes (the memory leaves reads and search); recover brings it back, found
/// again, up to and including `RECOVER_WINDOW_MS` after the delete.
pub fn forget_soft_deletes_and_recover_restores_within_the_window(store: &dyn MemoryStore) {
    insert(store, memory("m", "recoverable walrus"));
    insert(store, memory("edge", "recoverable at the edge"));
    let walrus = KeywordQuery::all(["walrus"]);
    let none = RecallFilters::default();
    let out = mutate(
        store,
        mutation("m", Change::Forget { force: false }, &at(HOUR)),
    );
    assert_eq!(out, O::Deleted { current: 1, new: 2 });
    assert_eq!(out.kind(), OutcomeKind::Done);
    assert!(!is_live(store, "m"));
    assert!(search(store, &walrus, &none).is_empty());
    let detail = store.memory_scope("m").expect("memory_scope");
    assert_eq!(detail.expect("the row remains").version, 2);

    let out = recover(store, "m", &at(HOUR + 29 * DAY));
    assert_eq!(out, O::Recovered { current: 2, new: 3 });
    assert!(is_live(store, "m"));
    assert_eq!(search(store, &walrus, &none), ["m"]);
    let detail = store.live_detail("m").expect("live_detail").expect("live");
    assert_eq!(detail["deleted_at"], serde_json::Value::Null);

    forget(store, "edge", T0);
    let out = recover(store, "edge", &at(RECOVER_WINDOW_MS));
    assert_eq!(
        out,
        O::Recovered { current: 2, new: 3 },
        "the window is inclusive"
    );
}

/// After the window a recover is `RetentionExpired` and the memory stays deleted.
pub fn recover_after_the_window_is_refused(store: &dyn MemoryStore) {
    insert(store, memory("m", "too late to recover"));
    forget(store, "m", T0);
    let out = recover(store, "m", &at(RECOVER_WINDOW_MS + 1));
    assert_eq!(out, O::RetentionExpired { current: 2 });
    assert_eq!(out.kind(), OutcomeKind::Conflict);
    assert!(!is_live(store, "m"));
}

/// A recover is refused while another live memory holds the same content.
pub fn recover_is_refused_while_a_live_twin_holds_the_content(store: &dyn MemoryStore) {
    insert(store, memory("old", "the same words"));
    forget(store, "old", T0);
    insert(store, memory("new", "the same words"));
    let out = recover(store, "old", &at(HOUR));
    let refused = O::DuplicateContentHash {
        current: 2,
        duplicate_id: "new".into(),
    };
    assert_eq!(out, refused);
    assert!(!is_live(store, "old"));
}

/// Every operation on an id no row has is `NotFound`.
pub fn mutations_of_unknown_ids_are_not_found(store: &dyn MemoryStore) {
    insert(store, memory("other", "an unrelated memory"));
    let changes = [
        Change::Modify(content_patch("anything")),
        Change::Forget { force: true },
        Change::Recover,
    ];
    for change in changes {
        let out = mutate(store, mutation("nobody", change, T0));
        assert_eq!(out, O::NotFound);
        assert_eq!(out.kind(), OutcomeKind::NotFound);
    }
}

/// The state rule comes first: modifying or forgetting a deleted memory, or recovering a live
/// one, is refused as such even with a stale version.
pub fn mutations_refuse_the_wrong_state_before_the_version(store: &dyn MemoryStore) {
    insert(store, memory("live", "a live memory"));
    insert(store, memory("gone", "a deleted memory"));
    forget(store, "gone", T0);
    let stale = |id: &str, change| {
        let mut m = mutation(id, change, &at(HOUR));
        m.if_version = Some(99);
        m
    };
    let modify = Change::Modify(content_patch("new words"));
    assert_eq!(
        mutate(store, stale("gone", modify)),
        O::IsDeleted { current: 2 }
    );
    let forget_again = Change::Forget { force: true };
    let out = mutate(store, stale("gone", forget_again));
    assert_eq!(out, O::AlreadyDeleted { current: 2 });
    assert_eq!(out.kind(), OutcomeKind::Conflict);
    let out = mutate(store, stale("live", Change::Recover));
    assert_eq!(out, O::NotDeleted { current: 1 });
    assert_eq!(out.kind(), OutcomeKind::Conflict);
}

/// The version guard comes before the pinned rules: a stale forget of a pinned memory is a
/// version conflict, a current one needs force.
pub fn the_version_guard_comes_before_the_pinned_rules(store: &dyn MemoryStore) {
    let mut m = memory("p", "pinned and guarded");
    m.pinned = true;
    insert(store, m);
    let guarded = |v| {
        let mut m = mutation("p", Change::Forget { force: false }, &at(HOUR));
        m.if_version = Some(v);
        m
    };
    assert_eq!(mutate(store, guarded(7)), O::VersionConflict { current: 1 });
    assert_eq!(
        mutate(store, guarded(1)),
        O::PinnedRequiresForce { current: 1 }
    );
}
