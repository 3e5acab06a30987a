//! Batch-forget candidates (by ids, by keywords, by filters) and the legacy search.

use super::search::ranking_corpus;
use super::support::{HOUR, MINUTE, T0, at, forget, ids, insert, memory, mutate, mutation};
use crate::MemoryStore;
use crate::keyword::KeywordQuery;
use crate::memories::{
    CandidateQuery, Change, ForgetCandidate, KeywordHit, LegacyQuery, MemoryPatch, RecallFilters,
};

fn candidates(store: &dyn MemoryStore, q: &CandidateQuery) -> Vec<ForgetCandidate> {
    store.forget_candidates(q).expect("forget_candidates")
}

fn candidate_ids(store: &dyn MemoryStore, q: &CandidateQuery) -> Vec<String> {
    candidates(store, q).into_iter().map(|c| c.id).collect()
}

/// Seeds the ranking corpus; returns the query `alpha OR beta` and its keyword hits, best first.
fn alpha_or_beta(store: &dyn MemoryStore) -> (KeywordQuery, Vec<KeywordHit>) {
    ranking_corpus(store);
    let any = KeywordQuery::any(["alpha", "beta"]);
    let hits = store.keyword_search(&any, &RecallFilters::default(), 10);
    (any, hits.expect("keyword_search"))
}

/// By ids: the qualifying ones among the first `limit` ids, in request order, with their pinned
/// flag and current version and score 0; unknown, deleted and filtered-out ids are left out;
/// ids win over keywords.
pub fn forget_candidates_by_ids_keep_the_request_order(store: &dyn MemoryStore) {
    insert(store, memory("a", "candidate a"));
    let mut b = memory("b", "candidate b");
    (b.pinned, b.who) = (true, "someone else".into());
    insert(store, b);
    insert(store, memory("c", "candidate c"));
    insert(store, memory("d", "candidate d"));
    forget(store, "c", &at(MINUTE));
    let edit = MemoryPatch {
        importance: Some(0.7),
        ..MemoryPatch::default()
    };
    mutate(store, mutation("d", Change::Modify(edit), &at(HOUR)));

    let q = CandidateQuery {
        ids: ids(&["d", "unknown", "c", "a", "b"]),
        limit: 10,
        ..CandidateQuery::default()
    };
    let candidate = |id: &str, pinned, version| ForgetCandidate {
        id: id.into(),
        score: 0.0,
        pinned,
        version,
    };
    let want = [
        candidate("d", false, 2),
        candidate("a", false, 1),
        candidate("b", true, 1),
    ];
    assert_eq!(candidates(store, &q), want);
    let first_two = CandidateQuery {
        limit: 2,
        ..q.clone()
    };
    assert_eq!(
        candidate_ids(store, &first_two),
        ids(&["d"]),
        "only the first `limit` ids"
    );
    let filtered = CandidateQuery {
        filters: RecallFilters {
            who: Some("tester".into()),
            ..RecallFilters::default()
        },
        ..q.clone()
    };
    assert_eq!(candidate_ids(store, &filtered), ids(&["d", "a"]));
    let with_keywords = CandidateQuery {
        ids: ids(&["a"]),
        keywords: Some(KeywordQuery::all(["candidate"])),
        ..q
    };
    assert_eq!(candidate_ids(store, &with_keywords), ids(&["a"]), "ids win");
}

/// By keywords: the matches best first, score `1 / (1 + |bm25|)`, within the filters and the
/// limit.
pub fn forget_candidates_by_keywords_are_ranked(store: &dyn MemoryStore) {
    let (any, hits) = alpha_or_beta(store);
    let q = CandidateQuery {
        keywords: Some(any),
        limit: 10,
        ..CandidateQuery::default()
    };
    let found = candidates(store, &q);
    let found_ids: Vec<&str> = found.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(found_ids, ["both", "one"]);
    for (c, h) in found.iter().zip(&hits) {
        let want = 1.0 / (1.0 + h.bm25.abs());
        assert!((c.score - want).abs() < 1e-9, "{c:?} for {h:?}");
        assert!(c.score > 0.0 && c.score <= 1.0);
    }
    let one = CandidateQuery {
        limit: 1,
        ..q.clone()
    };
    assert_eq!(candidate_ids(store, &one), ids(&["both"]));
    let filtered = CandidateQuery {
        filters: RecallFilters {
            memory_type: Some("none of these".into()),
            ..RecallFilters::default()
        },
        ..q
    };
    assert_eq!(candidate_ids(store, &filtered), Vec::<String>::new());
}

/// By filters alone: pinned first, then higher importance, then the most recently updated.
pub fn forget_candidates_by_filters_put_pinned_and_important_first(store: &dyn MemoryStore) {
    let with = |id: &str, importance, pinned, created_ms| {
        let mut m = memory(id, &format!("filtered candidate {id}"));
        (m.importance, m.pinned, m.created_at) = (importance, pinned, at(created_ms));
        m
    };
    insert(store, with("low", 0.2, false, 0));
    insert(store, with("pinned", 0.1, true, 0));
    insert(store, with("older", 0.8, false, 0));
    insert(store, with("newer", 0.8, false, MINUTE));
    let q = CandidateQuery {
        limit: 10,
        ..CandidateQuery::default()
    };
    assert_eq!(
        candidate_ids(store, &q),
        ids(&["pinned", "newer", "older", "low"])
    );
    let touched = MemoryPatch {
        tags: Some(Some("touched".into())),
        ..MemoryPatch::default()
    };
    mutate(store, mutation("older", Change::Modify(touched), &at(HOUR)));
    assert_eq!(
        candidate_ids(store, &q),
        ids(&["pinned", "older", "newer", "low"])
    );
    let two = CandidateQuery { limit: 2, ..q };
    assert_eq!(candidate_ids(store, &two), ids(&["pinned", "older"]));
    assert!(candidates(store, &two).iter().all(|c| c.score == 0.0));
}

/// The legacy search answers rows of fixed keys: by keywords best first with the raw bm25 as
/// score; by filters with pinned memories at 1.0 and others at their importance decayed per
/// day, never below a tenth of it.
pub fn legacy_search_returns_rows_by_keyword_or_by_filter(store: &dyn MemoryStore) {
    let (any, hits) = alpha_or_beta(store);
    let q = LegacyQuery {
        keywords: Some(any),
        limit: 10,
        ..LegacyQuery::default()
    };
    let rows = store.legacy_search(&q).expect("legacy_search");
    let found: Vec<&str> = rows.iter().filter_map(|r| r["id"].as_str()).collect();
    assert_eq!(found, ["both", "one"]);
    let mut keys: Vec<&str> = rows[0]
        .as_object()
        .expect("rows are objects")
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    let want = [
        "content",
        "created_at",
        "id",
        "importance",
        "pinned",
        "score",
        "tags",
        "type",
        "who",
    ];
    assert_eq!(keys, want);
    let score = rows[0]["score"].as_f64().expect("a numeric score");
    assert!(
        (score - hits[0].bm25).abs() < 1e-9,
        "{score} vs {:?}",
        hits[0]
    );
    assert_eq!(rows[0]["content"], "alpha beta gamma");
    assert_eq!(rows[0]["created_at"], T0);

    // Created long ago, so every unpinned score sits at the floor whatever today's date.
    let old = |id: &str, importance, pinned| {
        let mut m = memory(id, &format!("ancient memory {id}"));
        (m.importance, m.pinned) = (importance, pinned);
        m.created_at = "2000-01-01T00:00:00.000Z".into();
        m.source_type = "legacy".into();
        m
    };
    insert(store, old("lo", 0.3, false));
    insert(store, old("pin", 0.1, true));
    insert(store, old("hi", 0.9, false));
    let by_filter = LegacyQuery {
        filters: RecallFilters {
            source_type: Some("legacy".into()),
            ..RecallFilters::default()
        },
        limit: 10,
        ..LegacyQuery::default()
    };
    let rows = store.legacy_search(&by_filter).expect("legacy_search");
    let scored: Vec<(&str, f64)> = rows
        .iter()
        .map(|r| {
            (
                r["id"].as_str().unwrap_or(""),
                r["score"].as_f64().unwrap_or(-1.0),
            )
        })
        .collect();
    let want = [("pin", 1.0), ("hi", 0.09), ("lo", 0.03)];
    assert_eq!(scored.len(), want.len(), "{scored:?}");
    for ((id, score), (want_id, want_score)) in scored.iter().zip(want) {
        assert_eq!(*id, want_id);
        assert!((score - want_score).abs() < 1e-9, "{scored:?}");
    }
    let two = LegacyQuery {
        limit: 2,
        ..by_filter
    };
    assert_eq!(store.legacy_search(&two).expect("legacy_search").len(), 2);
}
