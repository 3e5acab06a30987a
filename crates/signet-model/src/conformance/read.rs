//! Reads: the detail object, history, the listing and its counts, recall rows, access
//! tracking, `distinct_who` and the operational counts.

use super::support::{
    DAY, HOUR, MINUTE, T0, at, content_patch, forget, ids, insert, keys, memory, mutate, mutation,
    operator, recover,
};
use crate::MemoryStore;
use crate::memories::{
    Change, EmbeddingJob, MemoryListStats, MemoryScope, MutationSignals, RecallRow, ScopeFilter,
};

/// The keys of the detail object, upstream's and no others.
const DETAIL_KEYS: [&str; 22] = [
    "id",
    "content",
    "type",
    "importance",
    "tags",
    "pinned",
    "who",
    "source_id",
    "source_type",
    "project",
    "session_id",
    "confidence",
    "access_count",
    "last_accessed",
    "is_deleted",
    "deleted_at",
    "extraction_status",
    "embedding_model",
    "version",
    "created_at",
    "updated_at",
    "updated_by",
];

/// `live_detail` has exactly upstream's keys with flags as 0/1 integers, and answers `None`
/// for deleted and unknown ids.
pub fn live_detail_has_the_upstream_keys_and_hides_deleted_memories(store: &dyn MemoryStore) {
    let mut m = memory("pinned", "always run the linter");
    m.pinned = true;
    m.importance = 0.9;
    insert(store, m);
    let detail = store.live_detail("pinned").expect("live_detail");
    let detail = detail.expect("the memory is live");
    let mut keys: Vec<&str> = detail.keys().map(String::as_str).collect();
    keys.sort_unstable();
    let mut want = DETAIL_KEYS.to_vec();
    want.sort_unstable();
    assert_eq!(keys, want);
    assert_eq!(detail["pinned"], 1);
    assert_eq!(detail["is_deleted"], 0);
    assert_eq!(detail["importance"], 0.9);
    assert_eq!(detail["session_id"], serde_json::Value::Null);
    assert_eq!(detail["deleted_at"], serde_json::Value::Null);
    assert_eq!(detail["updated_at"], T0);

    assert_eq!(store.live_detail("nobody").expect("live_detail"), None);
    insert(store, memory("gone", "forget me"));
    forget(store, "gone", &at(MINUTE));
    assert_eq!(store.live_detail("gone").expect("live_detail"), None);
}

/// History lists every change oldest first, with old and new content where they apply, is
/// cut at `limit`, survives a delete, and is `None` for an id no row has.
pub fn history_is_oldest_first_limited_and_none_for_unknown_ids(store: &dyn MemoryStore) {
    insert(store, memory("h", "first wording"));
    let patch = Change::Modify(content_patch("second wording"));
    mutate(store, mutation("h", patch, &at(HOUR)));
    forget(store, "h", &at(2 * HOUR));
    let history = store.history("h", 10).expect("history");
    let history = history.expect("a deleted memory still has history");
    let events: Vec<&str> = history.iter().map(|e| e.event.as_str()).collect();
    assert_eq!(events, ["created", "updated", "deleted"]);
    let updated = &history[1];
    assert_eq!(updated.old_content.as_deref(), Some("first wording"));
    assert_eq!(updated.new_content.as_deref(), Some("second wording"));
    assert_eq!(updated.reason.as_deref(), Some("conformance"));
    assert_eq!(updated.created_at, at(HOUR));
    let fields = updated.metadata["changedFields"].as_array();
    let fields = fields.expect("metadata.changedFields is an array");
    assert_eq!(fields, &[serde_json::json!("content")]);
    assert_eq!(history[2].old_content.as_deref(), Some("second wording"));
    assert_eq!(history[2].request_id, operator().request_id);

    assert!(matches!(
        recover(store, "h", &at(3 * HOUR)),
        crate::memories::MutationOutcome::Recovered { .. }
    ));
    let history = store.history("h", 10).expect("history").expect("rows");
    assert_eq!(history.len(), 4);
    assert_eq!(history[3].event, "recovered");
    assert_eq!(history[3].new_content.as_deref(), Some("second wording"));
    let first_two = store.history("h", 2).expect("history").expect("rows");
    assert_eq!(first_two, history[..2].to_vec());
    assert_eq!(store.history("nobody", 10).expect("history"), None);
}

/// Three memories in different scopes, created a minute apart (oldest first): `a` (project
/// p1, who w1, user u1, critical), `b` (p1, w2), `c` (no project, w1); and a deleted `d`.
fn scoped_memories(store: &dyn MemoryStore) {
    let mut a = memory("a", "scoped memory a");
    (a.project, a.who, a.scope_user) = (Some("p1".into()), "w1".into(), Some("u1".into()));
    a.importance = 0.95;
    a.tags = Some("x".into());
    let mut b = memory("b", "scoped memory b");
    (b.project, b.who, b.created_at) = (Some("p1".into()), "w2".into(), at(MINUTE));
    let mut c = memory("c", "scoped memory c");
    (c.who, c.created_at) = ("w1".into(), at(2 * MINUTE));
    let mut d = memory("d", "scoped memory d");
    (d.project, d.who, d.created_at) = (Some("p1".into()), "w1".into(), at(3 * MINUTE));
    for m in [a, b, c, d] {
        insert(store, m);
    }
    forget(store, "d", &at(4 * MINUTE));
}

fn listed(store: &dyn MemoryStore, limit: i64, offset: i64, scope: &ScopeFilter) -> Vec<String> {
    let (rows, _) = store.list(limit, offset, scope, None).expect("list");
    rows.into_iter().map(|r| r.id).collect()
}

/// The listing shows live memories newest first, pages with limit and offset, keeps to the
/// scope (a NULL column is outside a scope that sets it), and counts the same scope.
pub fn list_is_newest_first_paged_and_scoped_with_matching_stats(store: &dyn MemoryStore) {
    scoped_memories(store);
    let all = ScopeFilter::default();
    assert_eq!(listed(store, 10, 0, &all), ids(&["c", "b", "a"]));
    assert_eq!(listed(store, 1, 1, &all), ids(&["b"]));
    assert_eq!(listed(store, 10, 3, &all), Vec::<String>::new());
    let scope = |project: Option<&str>, who: Option<&str>, user: Option<&str>| ScopeFilter {
        project: project.map(str::to_owned),
        who: who.map(str::to_owned),
        user: user.map(str::to_owned),
    };
    assert_eq!(
        listed(store, 10, 0, &scope(Some("p1"), None, None)),
        ids(&["b", "a"])
    );
    assert_eq!(
        listed(store, 10, 0, &scope(None, Some("w1"), None)),
        ids(&["c", "a"])
    );
    assert_eq!(
        listed(store, 10, 0, &scope(None, None, Some("u1"))),
        ids(&["a"])
    );
    let p1_w2 = scope(Some("p1"), Some("w2"), None);
    assert_eq!(listed(store, 10, 0, &p1_w2), ids(&["b"]));
    assert_eq!(
        listed(store, 10, 0, &scope(None, None, Some("u2"))),
        Vec::<String>::new()
    );

    let (rows, stats) = store
        .list(10, 0, &scope(Some("p1"), None, None), None)
        .expect("list");
    let expected = MemoryListStats {
        total: 2,
        with_embeddings: 0,
        critical: 1,
        extra: Default::default(),
    };
    assert_eq!(stats, expected);
    let a = &rows[1];
    assert_eq!(
        (a.content.as_str(), a.who.as_deref()),
        ("scoped memory a", Some("w1"))
    );
    assert_eq!((a.tags.as_deref(), a.importance), (Some("x"), Some(0.95)));
    assert_eq!((a.type_.as_str(), a.pinned), ("fact", false));
    assert_eq!(a.source_type.as_deref(), Some("manual"));
    assert_eq!(a.created_at, T0);
    let (_, stats) = store
        .list(10, 0, &scope(None, None, Some("u1")), None)
        .expect("list");
    assert_eq!((stats.total, stats.critical), (1, 1));
}

/// With a type, the listing keeps to memories of that type (still newest first, paged and
/// scoped); the stats still count the whole scope.
pub fn list_keeps_to_the_type_asked_for(store: &dyn MemoryStore) {
    for (i, (id, kind, project)) in [
        ("f1", "fact", "p1"),
        ("d1", "decision", "p1"),
        ("f2", "fact", "p2"),
        ("d2", "decision", "p1"),
    ]
    .into_iter()
    .enumerate()
    {
        let mut m = memory(id, &format!("typed memory {id}"));
        (m.memory_type, m.project) = (kind.into(), Some(project.into()));
        m.created_at = at(i as i64 * MINUTE);
        insert(store, m);
    }
    let typed = |scope: &ScopeFilter, kind: &str, limit: i64, offset: i64| {
        let (rows, stats) = store.list(limit, offset, scope, Some(kind)).expect("list");
        let ids: Vec<String> = rows.into_iter().map(|r| r.id).collect();
        (ids, stats.total)
    };
    let all = ScopeFilter::default();
    assert_eq!(typed(&all, "decision", 10, 0), (ids(&["d2", "d1"]), 4));
    assert_eq!(typed(&all, "fact", 1, 1), (ids(&["f1"]), 4));
    assert_eq!(typed(&all, "preference", 10, 0), (Vec::new(), 4));
    let p1 = ScopeFilter {
        project: Some("p1".into()),
        ..ScopeFilter::default()
    };
    assert_eq!(typed(&p1, "fact", 10, 0), (ids(&["f1"]), 3));
}

/// `stats` counts all live memories, those with a stored vector, and the critical ones
/// (importance ≥ 0.9, inclusive); tombstones count nowhere.
pub fn stats_count_live_embedded_and_critical_memories(store: &dyn MemoryStore) {
    let mut edge = memory("edge", "importance exactly 0.9");
    edge.importance = 0.9;
    let mut below = memory("below", "importance 0.89");
    below.importance = 0.89;
    let mut deleted = memory("deleted", "critical but deleted");
    deleted.importance = 1.0;
    for m in [edge, below, deleted] {
        insert(store, m);
    }
    forget(store, "deleted", &at(MINUTE));
    let job = EmbeddingJob {
        memory_id: "below".into(),
        content: "importance 0.89".into(),
        content_hash: super::support::hash("importance 0.89"),
    };
    let saved = store.save_embeddings(&[(job, vec![0; 8])], 2, "model", T0);
    assert_eq!(saved.expect("save_embeddings"), vec![true]);
    let expected = MemoryListStats {
        total: 2,
        with_embeddings: 1,
        critical: 1,
        extra: Default::default(),
    };
    assert_eq!(store.stats().expect("stats"), expected);
}

/// `recall_rows` answers in the order asked, leaving out deleted and unknown ids.
pub fn recall_rows_keep_the_requested_order_and_skip_deleted(store: &dyn MemoryStore) {
    scoped_memories(store);
    let asked = keys(&["c", "unknown", "a", "d", "b"]);
    let rows = store.recall_rows(&asked).expect("recall_rows");
    let got: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(got, ["c", "a", "b"]);
    let expected = RecallRow {
        id: "a".into(),
        content: "scoped memory a".into(),
        memory_type: "fact".into(),
        tags: Some("x".into()),
        pinned: false,
        importance: 0.95,
        who: Some("w1".into()),
        project: Some("p1".into()),
        created_at: T0.into(),
        access_count: 0,
        last_accessed: None,
    };
    assert_eq!(rows[1], expected);
}

/// Each touch adds its counts and sets `last_accessed`; an id listed twice gets both counts;
/// unknown ids are ignored; a touch is not a mutation (no version, no history).
pub fn touch_accessed_counts_accesses(store: &dyn MemoryStore) {
    insert(store, memory("a", "read often"));
    insert(store, memory("b", "read once"));
    let counts = |c: &[(&str, u32)]| -> Vec<(String, u32)> {
        c.iter().map(|(id, n)| ((*id).to_owned(), *n)).collect()
    };
    store
        .touch_accessed(&counts(&[("a", 1)]), &at(MINUTE))
        .expect("touch_accessed");
    let again = counts(&[("a", 2), ("b", 1), ("unknown", 4), ("a", 1)]);
    store
        .touch_accessed(&again, &at(2 * MINUTE))
        .expect("touch_accessed");
    let rows = store.recall_rows(&keys(&["a", "b"])).expect("recall_rows");
    let seen: Vec<_> = rows
        .iter()
        .map(|r| (r.access_count, r.last_accessed.clone()))
        .collect();
    assert_eq!(seen, [(4, Some(at(2 * MINUTE))), (1, Some(at(2 * MINUTE)))]);
    let detail = store.live_detail("a").expect("live_detail").expect("live");
    assert_eq!(detail["access_count"], 4);
    assert_eq!(detail["version"], 1);
    assert_eq!(
        store
            .history("a", 10)
            .expect("history")
            .expect("rows")
            .len(),
        1
    );
}

/// `distinct_who` lists each writer of a live memory once, sorted.
pub fn distinct_who_is_sorted_distinct_and_live_only(store: &dyn MemoryStore) {
    for (id, who) in [("1", "zed"), ("2", "amy"), ("3", "amy"), ("4", "bob")] {
        let mut m = memory(id, &format!("written by {who}, number {id}"));
        m.who = who.into();
        insert(store, m);
    }
    forget(store, "4", &at(MINUTE));
    assert_eq!(
        store.distinct_who().expect("distinct_who"),
        ids(&["amy", "zed"])
    );
}

/// `ops_counts`, `mutation_signals` and `memory_scope` follow the writes: live and deleted
/// memories, jobs by status, deletes and recovers since a time, a deleted memory's scope.
pub fn ops_counts_signals_and_scope_follow_the_writes(store: &dyn MemoryStore) {
    scoped_memories(store);
    insert(store, memory("e", "deleted and recovered"));
    forget(store, "e", &at(DAY));
    assert!(matches!(
        recover(store, "e", &at(DAY + HOUR)),
        crate::memories::MutationOutcome::Recovered { .. }
    ));
    let counts = store.ops_counts().expect("ops_counts");
    assert_eq!((counts.live, counts.deleted), (4, 1));
    let signals = |since: &str| store.mutation_signals(since).expect("mutation_signals");
    let all = MutationSignals {
        recent_recovers: 1,
        recent_deletes: 2,
    };
    assert_eq!(signals(T0), all);
    let since_day = MutationSignals {
        recent_recovers: 1,
        recent_deletes: 1,
    };
    assert_eq!(signals(&at(DAY)), since_day, "`since` is inclusive");
    assert_eq!(signals(&at(2 * DAY)), MutationSignals::default());

    let scope = store.memory_scope("d").expect("memory_scope");
    let expected = MemoryScope {
        memory_type: "fact".into(),
        project: Some("p1".into()),
        who: Some("w1".into()),
        scope_user: None,
        version: 2,
    };
    assert_eq!(scope, Some(expected));
    let a = store.memory_scope("a").expect("memory_scope").expect("a");
    assert_eq!((a.scope_user.as_deref(), a.version), (Some("u1"), 1));
    assert_eq!(store.memory_scope("nobody").expect("memory_scope"), None);
    store.ping().expect("ping");
}
