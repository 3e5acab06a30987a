//! Keyword search (ranking, phrases, connectives), the filters shared by search and
//! `filter_ids`, and the rule that deleted memories are never returned.

use super::support::{
    DAY, MINUTE, T0, at, forget, hash, ids, insert, keys, memory, search, sorted,
};
use crate::MemoryStore;
use crate::keyword::{Connective, KeywordQuery};
use crate::memories::{CandidateQuery, LegacyQuery, RecallFilters, ScopeFilter};

/// Two matching memories of equal length among three that do not match: `both` holds both
/// query words, `one` only the commoner one.
pub(super) fn ranking_corpus(store: &dyn MemoryStore) {
    for (id, text) in [
        ("both", "alpha beta gamma"),
        ("one", "alpha delta epsilon"),
        ("n1", "zeta eta theta"),
        ("n2", "iota kappa lambda"),
        ("n3", "mu nu omicron"),
    ] {
        insert(store, memory(id, text));
    }
}

/// Hits come best first: a memory matching more of an any-word query ranks above one matching
/// fewer; `|bm25|` never grows down the list; `limit` cuts; an empty query finds nothing.
pub fn keyword_search_ranks_better_matches_first(store: &dyn MemoryStore) {
    ranking_corpus(store);
    let none = RecallFilters::default();
    let any = KeywordQuery::any(["alpha", "beta"]);
    let hits = store
        .keyword_search(&any, &none, 10)
        .expect("keyword_search");
    let got: Vec<&str> = hits.iter().map(|h| h.id.as_str()).collect();
    assert_eq!(got, ["both", "one"]);
    assert!(
        hits.iter().all(|h| h.bm25 < 0.0),
        "bm25 is negative: {hits:?}"
    );
    assert!(
        hits.windows(2).all(|w| w[0].bm25.abs() >= w[1].bm25.abs()),
        "|bm25| does not grow down the list: {hits:?}"
    );
    assert!(hits[0].bm25.abs() > hits[1].bm25.abs(), "{hits:?}");
    let first = store
        .keyword_search(&any, &none, 1)
        .expect("keyword_search");
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].id, "both");
    let all = KeywordQuery::all(["alpha", "beta"]);
    assert_eq!(search(store, &all, &none), ["both"]);
    let empty = KeywordQuery::all(["", "  ", "!?"]);
    assert!(empty.is_empty());
    assert!(search(store, &empty, &none).is_empty());
}

/// A term matches its words consecutively and in order, ignoring case; punctuation separates
/// words.
pub fn keyword_search_matches_phrases_case_insensitively(store: &dyn MemoryStore) {
    insert(store, memory("ordered", "the quick brown fox"));
    insert(store, memory("reversed", "the brown quick fox"));
    insert(store, memory("apart", "quick, said the brown fox"));
    insert(store, memory("punct", "a quick-brown fox"));
    let none = RecallFilters::default();
    let phrase = KeywordQuery::all(["quick brown"]);
    assert_eq!(
        sorted(search(store, &phrase, &none)),
        ids(&["ordered", "punct"])
    );
    let shouted = KeywordQuery::all(["QUICK Brown"]);
    assert_eq!(
        sorted(search(store, &shouted, &none)),
        ids(&["ordered", "punct"])
    );
    let words = KeywordQuery::all(["quick", "brown"]);
    let all_four = ids(&["apart", "ordered", "punct", "reversed"]);
    assert_eq!(sorted(search(store, &words, &none)), all_four);
    let quoted = KeywordQuery::all(["\"quick\" brown*"]);
    assert_eq!(
        sorted(search(store, &quoted, &none)),
        ids(&["ordered", "punct"]),
        "quotes and stars are not syntax"
    );
}

/// `OR`, `NOT` and `AND` combine as `crate::keyword` documents: runs of `And` group first,
/// then `Not`, then `Or`.
pub fn keyword_query_connectives_combine_with_the_documented_precedence(store: &dyn MemoryStore) {
    let docs = [
        ("A", "apple only"),
        ("B", "banana only"),
        ("C", "cherry only"),
        ("AB", "apple banana"),
        ("AC", "apple cherry"),
        ("BC", "banana cherry"),
        ("ABC", "apple banana cherry"),
    ];
    for (id, text) in docs {
        insert(store, memory(id, text));
    }
    let none = RecallFilters::default();
    let query = |terms: &[(Connective, &str)]| {
        let mut q = KeywordQuery::default();
        for (c, t) in terms {
            q.push(*c, t);
        }
        sorted(search(store, &q, &none))
    };
    use Connective::{And, Not, Or};
    type Case<'a> = (&'a [(Connective, &'a str)], &'a [&'a str]);
    let cases: [Case; 8] = [
        (
            &[(And, "apple"), (Or, "banana")],
            &["A", "AB", "ABC", "AC", "B", "BC"],
        ),
        (&[(And, "apple"), (And, "banana")], &["AB", "ABC"]),
        (&[(And, "apple"), (Not, "banana")], &["A", "AC"]),
        (
            &[(And, "apple"), (Or, "banana"), (And, "cherry")],
            &["A", "AB", "ABC", "AC", "BC"],
        ),
        (
            &[(And, "apple"), (Or, "banana"), (Not, "cherry")],
            &["A", "AB", "ABC", "AC", "B"],
        ),
        (
            &[(And, "apple"), (Not, "banana"), (And, "cherry")],
            &["A", "AB", "AC"],
        ),
        (&[(And, "apple"), (Not, "banana"), (Not, "cherry")], &["A"]),
        (
            &[(And, "apple"), (Not, "banana"), (Or, "cherry")],
            &["A", "ABC", "AC", "BC", "C"],
        ),
    ];
    for (terms, want) in cases {
        assert_eq!(query(terms), ids(want), "query {terms:?}");
    }
    assert_eq!(
        query(&[(Not, "cherry")]),
        ids(&["ABC", "AC", "BC", "C"]),
        "a leading NOT is AND"
    );
}

/// Three memories that all match `kiwi` with different attributes, and a deleted one that
/// matches every filter.
fn filter_corpus(store: &dyn MemoryStore) {
    let mut f1 = memory("f1", "kiwi one");
    f1.memory_type = "preference".into();
    (f1.tags, f1.who, f1.pinned, f1.importance) =
        (Some("ops,deploy".into()), "alice".into(), true, 0.9);
    (f1.created_at, f1.project, f1.scope_user) =
        (at(-2 * DAY), Some("p1".into()), Some("u1".into()));
    let mut f2 = memory("f2", "kiwi two");
    (f2.tags, f2.who, f2.importance) = (Some("deploy".into()), "bob".into(), 0.3);
    (f2.created_at, f2.project, f2.source_type) = (at(-DAY), Some("p2".into()), "import".into());
    let mut f3 = memory("f3", "kiwi three");
    (f3.who, f3.importance, f3.scope_user) = ("alice".into(), 0.6, Some("u2".into()));
    let mut gone = memory("gone", "kiwi deleted");
    gone.memory_type = "preference".into();
    (gone.tags, gone.who, gone.pinned, gone.importance) =
        (Some("ops,deploy".into()), "alice".into(), true, 1.0);
    (gone.created_at, gone.project, gone.scope_user) =
        (at(-DAY), Some("p1".into()), Some("u1".into()));
    for m in [f1, f2, f3, gone] {
        insert(store, m);
    }
    forget(store, "gone", &at(MINUTE));
}

/// Filters with what `set` sets.
fn filters(set: impl FnOnce(&mut RecallFilters)) -> RecallFilters {
    let mut f = RecallFilters::default();
    set(&mut f);
    f
}

/// Every filter of [`RecallFilters`] with the ids it must leave of [`filter_corpus`].
fn filter_cases() -> Vec<(RecallFilters, Vec<String>)> {
    let s = |v: &str| Some(v.to_owned());
    vec![
        (filters(|_| ()), ids(&["f1", "f2", "f3"])),
        (filters(|f| f.memory_type = s("fact")), ids(&["f2", "f3"])),
        (filters(|f| f.tags = ids(&["deploy"])), ids(&["f1", "f2"])),
        (filters(|f| f.tags = ids(&["ops", "deploy"])), ids(&["f1"])),
        (filters(|f| f.tags = ids(&["deploy", "missing"])), ids(&[])),
        (filters(|f| f.who = s("alice")), ids(&["f1", "f3"])),
        (filters(|f| f.pinned_only = true), ids(&["f1"])),
        (
            filters(|f| f.importance_min = Some(0.6)),
            ids(&["f1", "f3"]),
        ),
        (filters(|f| f.since = Some(at(-DAY))), ids(&["f2", "f3"])),
        (filters(|f| f.until = Some(at(-DAY))), ids(&["f1", "f2"])),
        (
            filters(|f| (f.since, f.until) = (Some(at(-DAY)), Some(at(-DAY)))),
            ids(&["f2"]),
        ),
        (filters(|f| f.project = s("p1")), ids(&["f1"])),
        (filters(|f| f.source_type = s("import")), ids(&["f2"])),
        (filters(|f| f.scope_user = s("u1")), ids(&["f1"])),
        (
            filters(|f| (f.memory_type, f.who) = (s("fact"), s("alice"))),
            ids(&["f3"]),
        ),
    ]
}

/// Keyword search keeps to every filter (type, tags, who, pinned, importance, since/until
/// inclusive, project, source type, user scope, and several at once).
pub fn keyword_search_applies_every_filter(store: &dyn MemoryStore) {
    filter_corpus(store);
    let kiwi = KeywordQuery::all(["kiwi"]);
    for (filters, want) in filter_cases() {
        assert_eq!(sorted(search(store, &kiwi, &filters)), want, "{filters:?}");
    }
}

/// `filter_ids` (the vector leg's allow-list) applies the same filters the same way.
pub fn filter_ids_applies_every_filter(store: &dyn MemoryStore) {
    filter_corpus(store);
    for (filters, want) in filter_cases() {
        let got = store.filter_ids(&filters).expect("filter_ids");
        assert_eq!(sorted(got), want, "{filters:?}");
    }
}

/// A tag filter is a substring match ignoring ASCII case, with `%`, `_` and `\` taken
/// literally.
pub fn tag_filters_match_substrings_literally(store: &dyn MemoryStore) {
    let tagged = [
        ("pct", "50%,a_b,back\\slash"),
        ("near", "500,axb,backslash"),
        ("dev", "devops"),
    ];
    for (id, tags) in tagged {
        let mut m = memory(id, &format!("tagged memory {id}"));
        m.tags = Some(tags.into());
        insert(store, m);
    }
    let with_tag = |tag: &str| {
        let filters = RecallFilters {
            tags: vec![tag.to_owned()],
            ..RecallFilters::default()
        };
        sorted(store.filter_ids(&filters).expect("filter_ids"))
    };
    assert_eq!(with_tag("50%"), ids(&["pct"]));
    assert_eq!(with_tag("a_b"), ids(&["pct"]));
    assert_eq!(with_tag("back\\slash"), ids(&["pct"]));
    assert_eq!(with_tag("dev"), ids(&["dev"]));
    assert_eq!(with_tag("DevOps"), ids(&["dev"]));
    assert_eq!(with_tag("%"), ids(&["pct"]));
}

/// A deleted memory is never returned by any read that lists memories: search, filters,
/// recall rows, candidates, legacy search, the listing, `distinct_who`, the detail, vectors.
pub fn deleted_memories_are_never_returned(store: &dyn MemoryStore) {
    let mut live = memory("live", "mango live");
    live.who = "keeper".into();
    let mut gone = memory("gone", "mango deleted");
    gone.who = "ghost".into();
    insert(store, live);
    insert(store, gone);
    let jobs = store
        .embedding_gaps("m", 1, false, 10)
        .expect("embedding_gaps");
    let items: Vec<_> = jobs.into_iter().map(|j| (j, vec![0, 0, 128, 63])).collect();
    let saved = store
        .save_embeddings(&items, 1, "m", T0)
        .expect("save_embeddings");
    assert_eq!(saved, [true, true]);
    forget(store, "gone", &at(MINUTE));

    let none = RecallFilters::default();
    let mango = KeywordQuery::all(["mango"]);
    assert_eq!(search(store, &mango, &none), ["live"]);
    assert_eq!(store.filter_ids(&none).expect("filter_ids"), ["live"]);
    let rows = store
        .recall_rows(&keys(&["gone", "live"]))
        .expect("recall_rows");
    assert_eq!(rows.len(), 1);
    let by_ids = CandidateQuery {
        ids: ids(&["gone", "live"]),
        limit: 10,
        ..CandidateQuery::default()
    };
    let by_keywords_or_filters = [Some(mango), None].map(|keywords| CandidateQuery {
        keywords,
        limit: 10,
        ..CandidateQuery::default()
    });
    for q in [by_ids].iter().chain(&by_keywords_or_filters) {
        let found = store.forget_candidates(q).expect("forget_candidates");
        let found: Vec<&str> = found.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(found, ["live"], "{q:?}");
    }
    for q in by_keywords_or_filters.map(|c| LegacyQuery {
        keywords: c.keywords,
        limit: c.limit,
        ..LegacyQuery::default()
    }) {
        let rows = store.legacy_search(&q).expect("legacy_search");
        let found: Vec<&str> = rows.iter().filter_map(|r| r["id"].as_str()).collect();
        assert_eq!(found, ["live"], "{q:?}");
    }
    let (listed, stats) = store
        .list(10, 0, &ScopeFilter::default(), None)
        .expect("list");
    assert_eq!(
        (listed.len(), stats.total, stats.with_embeddings),
        (1, 1, 1)
    );
    assert_eq!(store.distinct_who().expect("distinct_who"), ["keeper"]);
    assert_eq!(store.live_detail("gone").expect("live_detail"), None);
    let vectors = store.load_vectors("m", 1).expect("load_vectors");
    let owners: Vec<&str> = vectors.iter().map(|v| v.memory_id.as_str()).collect();
    assert_eq!(owners, ["live"]);
    let (embeddings, total) = store
        .list_embeddings(10, 0, false)
        .expect("list_embeddings");
    assert_eq!((embeddings.len(), total), (1, 1));
    let gaps = store
        .embedding_gaps("other", 1, true, 10)
        .expect("embedding_gaps");
    assert_eq!(gaps.len(), 1);
    assert_eq!(gaps[0].content_hash, hash("mango live"));
}

/// The positions keyword hits carry load the same rows as the ids alone; a position that
/// points at another row, or at none, still loads the row of the key's id.
pub fn recall_rows_take_positions_only_as_hints(store: &dyn MemoryStore) {
    use crate::memories::RowKey;
    ranking_corpus(store);
    let any = KeywordQuery::any(["alpha", "beta"]);
    let hits = store
        .keyword_search(&any, &RecallFilters::default(), 10)
        .expect("keyword_search");
    let by_id = keys(&["both", "one"]);
    let hinted: Vec<RowKey> = hits
        .iter()
        .map(|h| RowKey {
            id: h.id.clone(),
            position: h.position,
        })
        .collect();
    let want = store.recall_rows(&by_id).expect("recall_rows");
    assert_eq!(want.len(), 2);
    assert_eq!(store.recall_rows(&hinted).expect("recall_rows"), want);
    // Each key's position swapped for the other's, then one far past any row.
    let positions: Vec<Option<i64>> = hinted.iter().map(|k| k.position).collect();
    let swapped: Vec<RowKey> = hinted
        .iter()
        .zip(positions.iter().rev())
        .map(|(k, p)| RowKey {
            id: k.id.clone(),
            position: *p,
        })
        .collect();
    assert_eq!(store.recall_rows(&swapped).expect("recall_rows"), want);
    let nowhere: Vec<RowKey> = hinted
        .iter()
        .map(|k| RowKey {
            id: k.id.clone(),
            position: Some(i64::MAX - 1),
        })
        .collect();
    assert_eq!(store.recall_rows(&nowhere).expect("recall_rows"), want);
    // A deleted memory stays out, whatever its key says.
    forget(store, "one", &at(MINUTE));
    let rows = store.recall_rows(&hinted).expect("recall_rows");
    let got: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(got, ["both"]);
}
