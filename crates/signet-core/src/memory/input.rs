//! Lenient readers for JSON request fields, with upstream's accepted spellings and our
//! stricter range checks. Each returns `CoreError::Invalid` with a message naming the field.
//!
//! They are called by the `TryFrom` impls of the memory service's input types (each the one
//! place its body or query string is validated); a query parameter is read as the JSON
//! string of the same name ([`query_object`], [`query_value`]), so both get the same messages.

use serde_json::Value;

use crate::error::{CoreError, Result};

fn invalid<T>(msg: impl Into<String>) -> Result<T> {
    Err(CoreError::Invalid(msg.into()))
}

/// The body as an object, or "Invalid JSON body".
pub fn object(body: &Value) -> Result<&serde_json::Map<String, Value>> {
    body.as_object()
        .ok_or_else(|| CoreError::Invalid("Invalid JSON body".into()))
}

/// An optional string field; `null` counts as absent; other types are an error.
pub fn opt_string(obj: &serde_json::Map<String, Value>, key: &str) -> Result<Option<String>> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => invalid(format!("{key} must be a string")),
    }
}

/// An optional non-empty (after trim) string, trimmed.
pub fn opt_trimmed(obj: &serde_json::Map<String, Value>, key: &str) -> Result<Option<String>> {
    Ok(opt_string(obj, key)?
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty()))
}

/// An optional timestamp filter (`since`, `until`): ISO-8601 (`2026-01-31T12:00:00Z`), SQLite's
/// `2026-01-31 12:00:00`, or a date (`2026-01-31`: its start, or its end when `end_of_day`).
/// Returned in the stored format (UTC, milliseconds) so string comparison with `created_at`
/// is correct. Anything else is an error naming the field and the format, never a filter that
/// silently matches nothing.
pub fn opt_time(
    obj: &serde_json::Map<String, Value>,
    key: &str,
    end_of_day: bool,
) -> Result<Option<String>> {
    let Some(raw) = opt_trimmed(obj, key)? else {
        return Ok(None);
    };
    let parsed = signet_model::time::parse(&raw).or_else(|| {
        let day = chrono::NaiveDate::parse_from_str(&raw, "%Y-%m-%d").ok()?;
        let t = if end_of_day {
            day.and_hms_milli_opt(23, 59, 59, 999)?
        } else {
            day.and_hms_opt(0, 0, 0)?
        };
        Some(t.and_utc())
    });
    match parsed {
        Some(t) => Ok(Some(signet_model::time::format_iso(t))),
        None => invalid(format!(
            "{key} must be an ISO-8601 time such as 2026-01-31T12:00:00Z or a date such as \
             2026-01-31, got {raw:?}"
        )),
    }
}

/// One query parameter as the JSON string the readers above take.
pub fn query_value(v: Option<&str>) -> Option<Value> {
    v.map(|s| Value::String(s.to_owned()))
}

/// A query string's present keys as an object of JSON strings, so that a query parameter is
/// read by the same readers, with the same messages, as the body field of the same name.
pub fn query_object<'k, 'v>(
    pairs: impl IntoIterator<Item = (&'k str, Option<&'v str>)>,
) -> serde_json::Map<String, Value> {
    pairs
        .into_iter()
        .filter_map(|(k, v)| Some((k.to_owned(), Value::String(v?.to_owned()))))
        .collect()
}

/// The keys of `obj` not in `known`, as `warnings` entries for the response: a misspelt
/// field is reported instead of silently doing nothing.
pub fn unknown_fields(obj: &serde_json::Map<String, Value>, known: &[&str]) -> Vec<String> {
    obj.keys()
        .filter(|k| !known.contains(&k.as_str()))
        .map(|k| format!("unknown field {k:?} ignored"))
        .collect()
}

/// `true/false`, `1/0`, `"1"/"0"/"true"/"false"` (any case); `null`/absent → `None`.
pub fn opt_bool(v: Option<&Value>, key: &str) -> Result<Option<bool>> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(Value::Number(n)) if n.as_f64() == Some(1.0) => Ok(Some(true)),
        Some(Value::Number(n)) if n.as_f64() == Some(0.0) => Ok(Some(false)),
        Some(Value::String(s)) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "1" => Ok(Some(true)),
            "false" | "0" => Ok(Some(false)),
            _ => invalid(format!("{key} must be a boolean")),
        },
        Some(_) => invalid(format!("{key} must be a boolean")),
    }
}

/// A number or numeric string: `None` when absent or null, `Some(None)` when present but not a
/// number, `Some(Some(f))` otherwise.
fn number(v: Option<&Value>) -> Option<Option<f64>> {
    match v {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) => Some(n.as_f64()),
        Some(Value::String(s)) => Some(s.trim().parse::<f64>().ok()),
        Some(_) => Some(None),
    }
}

/// A positive integer version guard; numeric strings that are whole numbers are accepted.
pub fn opt_if_version(v: Option<&Value>) -> Result<Option<i64>> {
    let Some(n) = number(v) else {
        return Ok(None);
    };
    match n {
        Some(f) if f.fract() == 0.0 && (1.0..=9.0e15).contains(&f) => Ok(Some(f as i64)),
        _ => invalid("if_version must be a positive integer"),
    }
}

/// Importance: a finite number (or numeric string) in [0, 1].
pub fn opt_importance(v: Option<&Value>) -> Result<Option<f64>> {
    let Some(n) = number(v) else {
        return Ok(None);
    };
    match n {
        Some(f) if f.is_finite() && (0.0..=1.0).contains(&f) => Ok(Some(f)),
        _ => invalid("importance must be a number between 0 and 1"),
    }
}

/// Tags as a comma string or an array of strings; returns the cleaned comma form.
/// `Ok(None)` = absent; `Ok(Some(None))` = explicitly cleared (null or nothing left).
pub fn opt_tags(v: Option<&Value>, lowercase: bool) -> Result<Option<Option<String>>> {
    match v {
        None => Ok(None),
        Some(Value::Null) => Ok(Some(None)),
        Some(Value::String(s)) => Ok(Some(crate::text::clean_tags(s.split(','), lowercase))),
        Some(Value::Array(items)) => {
            let mut parts = Vec::with_capacity(items.len());
            for item in items {
                match item.as_str() {
                    Some(s) => parts.push(s),
                    None => return invalid("tags must be a string or an array of strings"),
                }
            }
            Ok(Some(crate::text::clean_tags(parts.into_iter(), lowercase)))
        }
        Some(_) => invalid("tags must be a string or an array of strings"),
    }
}

/// A positive integer limit with a default and an upper clamp.
pub fn limit(v: Option<&Value>, key: &str, default: usize, max: usize) -> Result<usize> {
    let Some(n) = number(v) else {
        return Ok(default);
    };
    match n {
        Some(f) if f.is_finite() && f >= 1.0 => Ok((f as usize).min(max)),
        _ => invalid(format!("{key} must be a positive integer")),
    }
}

/// A non-negative integer `key` (numbers or numeric strings, fractions truncated): `default`
/// when absent or null, clamped to `max`.
pub fn count(v: Option<&Value>, key: &str, default: i64, max: i64) -> Result<i64> {
    let Some(n) = number(v) else {
        return Ok(default);
    };
    match n {
        Some(f) if f.is_finite() && f >= 0.0 => Ok((f as i64).min(max)),
        _ => invalid(format!("{key} must be a non-negative integer")),
    }
}

/// A required string `key`, trimmed: absent, `null` or blank is "`key` is required".
pub fn required_text(obj: &serde_json::Map<String, Value>, key: &str) -> Result<String> {
    match obj.get(key) {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.trim().to_owned()),
        Some(Value::String(_)) | None | Some(Value::Null) => invalid(format!("{key} is required")),
        Some(_) => invalid(format!("{key} must be a string")),
    }
}

/// A query string's positive integer `key` ([`limit`] over the parameter's text).
pub fn query_limit(v: Option<&str>, key: &str, default: usize, max: usize) -> Result<usize> {
    limit(query_value(v).as_ref(), key, default, max)
}

/// A query string's `offset`: a non-negative integer, default 0.
pub fn query_offset<N: std::str::FromStr + Default + PartialOrd>(v: Option<&str>) -> Result<N> {
    match v.map(|s| s.trim().parse::<N>()) {
        None => Ok(N::default()),
        Some(Ok(n)) if n >= N::default() => Ok(n),
        Some(_) => invalid("offset must be a non-negative integer"),
    }
}

/// A required non-empty `reason`.
pub fn reason(v: Option<&Value>) -> Result<String> {
    match v {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.trim().to_owned()),
        _ => invalid("reason is required"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn booleans_accept_upstream_spellings() {
        for (v, want) in [
            (json!(true), true),
            (json!("TRUE"), true),
            (json!(1), true),
            (json!("0"), false),
            (json!(false), false),
        ] {
            assert_eq!(opt_bool(Some(&v), "pinned").unwrap(), Some(want));
        }
        assert!(opt_bool(Some(&json!("yes")), "pinned").is_err());
        assert!(opt_bool(Some(&json!(2)), "pinned").is_err());
    }

    #[test]
    fn versions_must_be_positive_integers() {
        assert_eq!(opt_if_version(Some(&json!(3))).unwrap(), Some(3));
        assert_eq!(opt_if_version(Some(&json!("2.0"))).unwrap(), Some(2));
        for bad in [json!(0), json!(-1), json!(1.5), json!("x"), json!([1])] {
            assert!(opt_if_version(Some(&bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn importance_and_tags() {
        assert_eq!(opt_importance(Some(&json!("0.6"))).unwrap(), Some(0.6));
        assert!(opt_importance(Some(&json!(7))).is_err());
        assert!(opt_importance(Some(&json!(f64::NAN.to_string()))).is_err());
        assert_eq!(
            opt_tags(Some(&json!(["a", " B "])), false).unwrap(),
            Some(Some("a,B".into()))
        );
        assert_eq!(opt_tags(Some(&json!(" , ")), false).unwrap(), Some(None));
        assert!(opt_tags(Some(&json!([1])), false).is_err());
    }
}
