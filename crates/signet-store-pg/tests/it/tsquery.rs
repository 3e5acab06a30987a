//! The keyword query's tsquery rendering: no input, however odd, makes PostgreSQL fail, and
//! what looks like tsquery syntax is only words.

use proptest::prelude::*;
use signet_model::MemoryStore;
use signet_model::keyword::{Connective, KeywordQuery};
use signet_model::memories::{NewMemory, RecallFilters};
use signet_store_pg::PgStore;

use super::support::{PgHarness, fresh};

fn memory(id: &str, content: &str) -> NewMemory {
    super::support::memory(id, content, "2026-03-02T12:00:00.000Z")
}

fn seeded() -> Option<PgHarness> {
    let h = fresh()?;
    for (id, text) in [
        (
            "ops",
            "a & b | !c: the deploy (prod) uses foo:* and <-> arrows",
        ),
        (
            "cfg",
            "edit config.yaml and user@example.com, see https://example.org/a?b=1",
        ),
        ("tokyo", "東京タワーの夜景はきれい"),
        ("quote", "it's a \"quoted\" back\\slash"),
    ] {
        h.store
            .remember(&memory(id, text), Default::default(), &Default::default())
            .expect("remember");
    }
    Some(h)
}

fn found(store: &PgStore, terms: &[(Connective, &str)]) -> Vec<String> {
    let mut q = KeywordQuery::default();
    for (c, t) in terms {
        q.push(*c, t);
    }
    let hits = store
        .keyword_search(&q, &RecallFilters::default(), 10)
        .expect("keyword_search");
    let mut ids: Vec<String> = hits.into_iter().map(|h| h.id).collect();
    ids.sort();
    ids
}

#[test]
fn tsquery_operators_in_terms_are_words() {
    let Some(h) = seeded() else { return };
    use Connective::{And, Or};
    assert_eq!(found(&h.store, &[(And, "a & b | !c")]), ["ops"]);
    assert_eq!(found(&h.store, &[(And, "foo:*")]), ["ops"]);
    assert_eq!(found(&h.store, &[(And, "(prod)"), (And, "<->")]), ["ops"]);
    assert_eq!(found(&h.store, &[(And, "it's")]), ["quote"]);
    assert_eq!(found(&h.store, &[(And, "back\\slash")]), ["quote"]);
    assert!(
        found(&h.store, &[(And, "½")]).is_empty(),
        "no lexeme: no match"
    );
    assert_eq!(found(&h.store, &[(And, "½"), (Or, "deploy")]), ["ops"]);
}

#[test]
fn punctuation_splits_words_as_on_sqlite() {
    let Some(h) = seeded() else { return };
    use Connective::And;
    // PostgreSQL's parser alone would index `config.yaml`, the e-mail and the URL as single
    // tokens; the store's tokenizer splits them at the punctuation, as FTS5 does.
    assert_eq!(found(&h.store, &[(And, "config")]), ["cfg"]);
    assert_eq!(found(&h.store, &[(And, "yaml")]), ["cfg"]);
    assert_eq!(found(&h.store, &[(And, "example com")]), ["cfg"]);
    assert_eq!(found(&h.store, &[(And, "config.yaml")]), ["cfg"]);
}

#[test]
fn cjk_terms_match_as_substrings() {
    let Some(h) = seeded() else { return };
    use Connective::{And, Not};
    assert_eq!(found(&h.store, &[(And, "東京")]), ["tokyo"]);
    assert_eq!(found(&h.store, &[(And, "夜景")]), ["tokyo"]);
    assert!(found(&h.store, &[(And, "東京"), (Not, "夜景")]).is_empty());
}

#[test]
fn a_nul_character_is_the_callers_error_not_the_stores() {
    let Some(h) = fresh() else { return };
    let err = h
        .store
        .remember(
            &memory("nul", "before\0after"),
            Default::default(),
            &Default::default(),
        )
        .expect_err("PostgreSQL text cannot hold NUL");
    assert!(
        matches!(err, signet_model::StoreError::Invalid(_)),
        "{err:?}"
    );
    assert!(h.store.live_detail("nul").expect("read").is_none());
}

fn connective() -> impl Strategy<Value = Connective> {
    prop_oneof![
        Just(Connective::And),
        Just(Connective::Or),
        Just(Connective::Not)
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Arbitrary text, joined by arbitrary connectives, never makes the search fail.
    #[test]
    fn arbitrary_queries_never_fail(terms in prop::collection::vec((connective(), any::<String>()), 1..6)) {
        thread_local! {
            static STORE: Option<PgHarness> = seeded();
        }
        STORE.with(|h| {
            let Some(h) = h else { return Ok(()) };
            let mut q = KeywordQuery::default();
            for (c, t) in &terms {
                q.push(*c, t);
            }
            let filters = RecallFilters::default();
            let hits = h.store.keyword_search(&q, &filters, 5);
            prop_assert!(hits.is_ok(), "{terms:?}: {hits:?}");
            for h in hits.into_iter().flatten() {
                prop_assert!(h.bm25 < 0.0);
            }
            Ok(())
        })?;
    }
}
