//! The pgvector capability: read from the server's catalogs at open, reported, never used
//! (the in-process index serves vectors on every server; see `capability.rs`).

use super::support::fresh;

#[test]
fn the_vector_capability_is_what_the_catalogs_say_and_pgvector_stays_unused() {
    let Some(h) = fresh() else { return };
    let capability = h.store.vector_capability().expect("reads the catalogs");
    let mut c = h.scratch.client();
    let offered: Option<String> = c
        .query_opt(
            "SELECT default_version FROM pg_available_extensions WHERE name = 'vector'",
            &[],
        )
        .expect("pg_available_extensions")
        .map(|r| r.get(0));
    assert_eq!(capability.available, offered);
    assert!(!capability.used, "{capability:?}");
    assert!(
        capability.reason.contains("in-process index"),
        "{capability:?}"
    );
    if offered.is_none() {
        // Debian's PostgreSQL 15, the test server: no extension, so none installed either.
        assert_eq!(capability.installed, None);
        assert!(
            capability.reason.contains("does not offer"),
            "{capability:?}"
        );
    }
}
