//! Opening: URLs with `$ENV` passwords, and errors that say what went wrong without the
//! password.

use signet_model::MemoryStore;
use signet_store_pg::{DatabaseUrl, PgConfig, PgStore};

use super::support::{Scratch, server_url};

/// The test server's URL with a password written into it.
fn with_password(password: &str) -> Option<String> {
    let url = server_url()?.to_string();
    let (scheme, rest) = url.split_once("://").expect("a URL");
    let (user, host) = rest.split_once('@').expect("the test URL names its user");
    Some(format!("{scheme}://{user}:{password}@{host}"))
}

#[test]
fn an_env_password_is_resolved_at_open() {
    let Some(scratch) = Scratch::new() else {
        return;
    };
    let Some(unset) = with_password("$SIGNET_PG_IT_UNSET_PASSWORD") else {
        return;
    };
    let config = PgConfig {
        url: DatabaseUrl::parse(&unset).expect("parses"),
        ..scratch.config(1)
    };
    let err = PgStore::open(&config).expect_err("the variable is not set");
    assert!(
        err.to_string().contains("SIGNET_PG_IT_UNSET_PASSWORD"),
        "{err}"
    );
    // The test server trusts loopback, so any password opens it: what is checked is that a
    // set variable (PATH is always set; the tests cannot set one, unsafe code being
    // forbidden) resolves and the store works.
    let Some(set) = with_password("$PATH") else {
        return;
    };
    let config = PgConfig {
        url: DatabaseUrl::parse(&set).expect("parses"),
        ..scratch.config(1)
    };
    let store = PgStore::open(&config).expect("open with the resolved password");
    store.ping().expect("ping");
    assert!(
        !format!("{:?}", config.url).contains("/usr/"),
        "the value is never shown"
    );
}

#[test]
fn a_failed_connection_names_the_server_but_never_the_password() {
    let Some(raw) = with_password("hunter2-secret") else {
        return;
    };
    // Port 1 on loopback: nothing listens there.
    let raw = raw.replacen(
        &raw[raw.rfind(':').expect("a port")..raw.rfind('/').expect("a database")],
        ":1",
        1,
    );
    let url = DatabaseUrl::parse(&raw).expect("parses");
    let err = PgStore::open(&PgConfig::new(url)).expect_err("nothing listens on port 1");
    for shown in [err.to_string(), format!("{err:?}")] {
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("127.0.0.1:1"), "{shown}");
        assert!(shown.contains("[redacted]"), "{shown}");
    }
}

#[test]
fn a_bad_schema_name_is_refused_naming_the_key() {
    let Some(scratch) = Scratch::new() else {
        return;
    };
    let config = PgConfig {
        schema: Some("Robert'); DROP TABLE memories;--".into()),
        ..scratch.config(1)
    };
    let err = PgStore::open(&config).expect_err("not an identifier");
    assert!(err.to_string().contains("storage.schema"), "{err}");
}
