//! The storage conformance suite against PostgreSQL: signet-model's `conformance_tests!`, one
//! test per check, each on a fresh scratch schema. Without a server a check returns early,
//! saying so (and fails instead under `SIGNET_REQUIRE_ALL=1`; see `support::server_url`).

use super::support;

signet_model::conformance_tests!(match support::fresh() {
    Some(harness) => harness,
    None => return,
});
