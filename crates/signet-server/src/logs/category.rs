//! Categories of log entries. An explicit `category` field on the event wins; otherwise the
//! event's target decides:
//!
//! | target | category |
//! |---|---|
//! | a bare word (`target: "daemon"`, `"embedding"`, `"config"`, …) | that word |
//! | `signet_core::semantic`, `signet_core::embedding`, `signet_core::vector` | `embedding` |
//! | `signet_core::memory`, `signet_core::access` | `memory` |
//! | `signet_core::config` | `config` |
//! | `signet_core::analytics`, `signet_core::events` | `analytics` |
//! | `signet_core::pipeline` | `pipeline` |
//! | `signet_core::retention` | `retention` |
//! | `signet_store` | `store` |
//! | `signet_server::permission`, `signet_server::auth` | `auth` |
//! | `signet_server::daemon` | `daemon` |
//! | any other `signet_server` module | `api` |
//! | `signet` (the binary) | `daemon` |
//! | anything else (dependencies) | `system` |

const PREFIXES: [(&str, &str); 15] = [
    ("signet_core::semantic", "embedding"),
    ("signet_core::embedding", "embedding"),
    ("signet_core::vector", "embedding"),
    ("signet_core::memory", "memory"),
    ("signet_core::access", "memory"),
    ("signet_core::config", "config"),
    ("signet_core::analytics", "analytics"),
    ("signet_core::events", "analytics"),
    ("signet_core::pipeline", "pipeline"),
    ("signet_core::retention", "retention"),
    ("signet_store", "store"),
    ("signet_server::permission", "auth"),
    ("signet_server::auth", "auth"),
    ("signet_server::daemon", "daemon"),
    ("signet_server", "api"),
];

fn under(target: &str, prefix: &str) -> bool {
    target == prefix
        || target
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.starts_with("::"))
}

/// The category of an event with this target (see the table above).
pub fn category_of(target: &str) -> &str {
    if let Some((_, c)) = PREFIXES.iter().find(|(p, _)| under(target, p)) {
        return c;
    }
    if under(target, "signet") {
        return "daemon";
    }
    let bare = !target.is_empty()
        && target
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b == b'-' || b == b'_');
    if bare { target } else { "system" }
}
