//! Timestamps as the stores hold and compare them: ISO-8601 UTC with milliseconds
//! (`...T..:..:..mmmZ`), with SQLite's `YYYY-MM-DD HH:MM:SS` accepted when reading (upstream
//! writes both). Callers pass these strings to the store traits (`now`, `since`, `cutoff`);
//! filters compare them as text, which orders them correctly because the format is fixed.

use chrono::{DateTime, NaiveDateTime, SecondsFormat, Utc};

/// Now, formatted as the database stores it.
pub fn now_iso() -> String {
    format_iso(Utc::now())
}

/// A time formatted as the database stores it.
pub fn format_iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Parses ISO-8601 / RFC 3339 or SQLite's `YYYY-MM-DD HH:MM:SS` (taken as UTC).
pub fn parse(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S",
    ]
    .iter()
    .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
    .map(|n| n.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_formats() {
        let a = parse("2026-11-26T16:22:31.000Z").unwrap();
        let b = parse("2026-11-26 16:22:31").unwrap();
        assert_eq!(a, b);
        assert!(parse("yesterday").is_none());
        assert_eq!(format_iso(a), "2026-11-26T16:22:31.000Z");
    }
}
