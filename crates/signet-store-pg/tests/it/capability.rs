//! The pgvector capability on the test server: read from the server's catalogs at open and
//! reported. The path itself, on a server with the extension, is checked in `pgvector.rs`.

use super::support::fresh;

#[test]
fn the_vector_capability_is_what_the_catalogs_say() {
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
    // `auto` (the default) uses pgvector exactly where the server offers it.
    assert_eq!(capability.used, offered.is_some(), "{capability:?}");
    if offered.is_none() {
        assert!(
            capability.reason.contains("in-process index"),
            "{capability:?}"
        );
        // Debian's PostgreSQL 15, the test server: no extension, so none installed either.
        assert_eq!(capability.installed, None);
        assert!(
            capability.reason.contains("does not offer"),
            "{capability:?}"
        );
    }
}
