//! Timestamps as the database holds them (ISO-8601 UTC with milliseconds; SQLite's
//! `YYYY-MM-DD HH:MM:SS` accepted when reading): backend-neutral, defined in
//! `signet_model::time` and re-exported here at their old path.

pub use signet_model::time::{format_iso, now_iso, parse};
