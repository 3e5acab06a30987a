//! Typed access to one mapping of the parsed `agent.yaml` document.
//!
//! A [`Section`] knows its dotted path, so every error names the exact key, and it records
//! which keys were read so that [`Section::finish`] can warn about the ones nobody knows.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::fmt::Display;
use std::ops::RangeInclusive;

use serde_json::{Map, Value};

use super::ConfigError;

static EMPTY: std::sync::LazyLock<Map<String, Value>> = std::sync::LazyLock::new(Map::new);

/// One YAML mapping plus its dotted path; absent sections behave as empty mappings.
pub(crate) struct Section<'a> {
    path: String,
    map: &'a Map<String, Value>,
    seen: RefCell<BTreeSet<String>>,
}

impl<'a> Section<'a> {
    /// The document root. A `null` document (empty file) is an empty mapping.
    pub(crate) fn root(map: &'a Map<String, Value>) -> Self {
        Self::new(String::new(), map)
    }

    fn new(path: String, map: &'a Map<String, Value>) -> Self {
        Self {
            path,
            map,
            seen: RefCell::new(BTreeSet::new()),
        }
    }

    /// The full dotted path of `key` inside this section.
    pub(crate) fn key_path(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_owned()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    /// Builds the error for `key` with `message`.
    pub(crate) fn invalid(&self, key: &str, message: impl Into<String>) -> ConfigError {
        ConfigError::Invalid {
            key: self.key_path(key),
            message: message.into(),
        }
    }

    /// Whether `key` is present with a non-null value (does not mark it as read).
    pub(crate) fn has(&self, key: &str) -> bool {
        self.map.get(key).is_some_and(|v| !v.is_null())
    }

    /// The raw value of `key`, marking it as known. `null` (`key:` with no value) is absent.
    pub(crate) fn raw(&self, key: &str) -> Option<&'a Value> {
        self.seen.borrow_mut().insert(key.to_owned());
        self.map.get(key).filter(|v| !v.is_null())
    }

    /// Marks keys as known without reading them (keys the daemon accepts but ignores).
    pub(crate) fn accept(&self, keys: &[&str]) {
        let mut seen = self.seen.borrow_mut();
        seen.extend(keys.iter().map(|k| (*k).to_owned()));
    }

    /// The nested mapping under `key`; absent or `null` gives an empty section.
    pub(crate) fn child(&self, key: &str) -> Result<Section<'a>, ConfigError> {
        match self.raw(key) {
            None => Ok(Section::new(self.key_path(key), &EMPTY)),
            Some(Value::Object(map)) => Ok(Section::new(self.key_path(key), map)),
            Some(other) => {
                Err(self.invalid(key, format!("expected a mapping, got {}", describe(other))))
            }
        }
    }

    /// Every key of this mapping, in document order.
    pub(crate) fn keys(&self) -> impl Iterator<Item = &'a String> {
        self.map.keys()
    }

    /// The keys that were neither read nor accepted so far, in document order.
    pub(crate) fn unread_keys(&self) -> Vec<&'a String> {
        let seen = self.seen.borrow();
        self.map.keys().filter(|k| !seen.contains(*k)).collect()
    }

    /// Pushes an "unknown key" warning for every key that was neither read nor accepted.
    pub(crate) fn finish(self, warnings: &mut Vec<String>) {
        let seen = self.seen.borrow();
        for key in self.map.keys().filter(|k| !seen.contains(*k)) {
            warnings.push(format!("unknown key {} (ignored)", self.key_path(key)));
        }
    }

    /// Like [`Section::finish`], but an unknown key is an error naming it (with the known key it
    /// most resembles): for sections where a typo would weaken security (`auth`).
    pub(crate) fn finish_strict(self, known: &[&str]) -> Result<(), ConfigError> {
        let seen = self.seen.borrow();
        let Some(key) = self.map.keys().find(|k| !seen.contains(*k)) else {
            return Ok(());
        };
        let hint = closest(key, known)
            .map(|k| format!(" (did you mean {}?)", self.key_path(k)))
            .unwrap_or_default();
        Err(ConfigError::Invalid {
            key: self.key_path(key),
            message: format!(
                "unknown key{hint}; a mistake in {} could weaken authentication, so it stops \
                 start-up instead of being ignored. Known keys: {}",
                if self.path.is_empty() {
                    "this section"
                } else {
                    &self.path
                },
                known.join(", ")
            ),
        })
    }

    /// The value at `key` as `parse` reads it; `None` when absent. A value `parse` refuses is
    /// an error saying what was `expected` and what was found.
    fn read<T>(
        &self,
        key: &str,
        expected: &str,
        parse: impl FnOnce(&Value) -> Option<T>,
    ) -> Result<Option<T>, ConfigError> {
        let Some(value) = self.raw(key) else {
            return Ok(None);
        };
        let found = || format!("expected {expected}, got {}", describe(value));
        parse(value)
            .map(Some)
            .ok_or_else(|| self.invalid(key, found()))
    }

    /// The error of a number outside `range`.
    fn out_of_range<N: Display>(
        &self,
        key: &str,
        range: &RangeInclusive<N>,
        got: impl Display,
    ) -> ConfigError {
        let (min, max) = (range.start(), range.end());
        self.invalid(key, format!("must be between {min} and {max}, got {got}"))
    }

    /// A boolean: YAML `true`/`false` or the strings "true"/"false" in any case.
    pub(crate) fn bool(&self, key: &str) -> Result<Option<bool>, ConfigError> {
        self.read(key, "true or false", |value| match value {
            Value::Bool(b) => Some(*b),
            Value::String(s) if s.trim().eq_ignore_ascii_case("true") => Some(true),
            Value::String(s) if s.trim().eq_ignore_ascii_case("false") => Some(false),
            _ => None,
        })
    }

    /// A non-negative integer (or a numeric string) inside `range`.
    pub(crate) fn int<T: TryFrom<u64>>(
        &self,
        key: &str,
        range: RangeInclusive<u64>,
    ) -> Result<Option<T>, ConfigError> {
        let Some(number) = self.read(key, "an integer", as_integer)? else {
            return Ok(None);
        };
        let out_of_range = || self.out_of_range(key, &range, number);
        let in_range = u64::try_from(number).ok().filter(|n| range.contains(n));
        let n = in_range.ok_or_else(out_of_range)?;
        T::try_from(n).map(Some).map_err(|_| out_of_range())
    }

    /// A finite number (or a numeric string) inside `range`.
    pub(crate) fn float(
        &self,
        key: &str,
        range: RangeInclusive<f64>,
    ) -> Result<Option<f64>, ConfigError> {
        match self.read(key, "a number", as_float)? {
            Some(number) if !range.contains(&number) => Err(self.out_of_range(key, &range, number)),
            number => Ok(number),
        }
    }

    /// A string, trimmed; numbers are accepted and written out as text.
    pub(crate) fn string(&self, key: &str) -> Result<Option<String>, ConfigError> {
        self.read(key, "a string", |value| match value {
            Value::String(s) => Some(s.trim().to_owned()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        })
    }

    /// One of a fixed set of string values, mapped to `T`.
    pub(crate) fn choice<T: Copy>(
        &self,
        key: &str,
        choices: &[(&str, T)],
    ) -> Result<Option<T>, ConfigError> {
        let Some(text) = self.string(key)? else {
            return Ok(None);
        };
        if let Some((_, value)) = choices.iter().find(|(name, _)| *name == text) {
            return Ok(Some(*value));
        }
        let names: Vec<&str> = choices.iter().map(|(name, _)| *name).collect();
        Err(self.invalid(
            key,
            format!("expected one of {}, got {text:?}", names.join(", ")),
        ))
    }
}

/// The known key `key` most resembles (case-insensitive edit distance at most 2), if any.
pub(crate) fn closest<'k>(key: &str, known: &[&'k str]) -> Option<&'k str> {
    let key = key.to_ascii_lowercase();
    known
        .iter()
        .map(|k| {
            (
                strsim::damerau_levenshtein(&key, &k.to_ascii_lowercase()),
                *k,
            )
        })
        .filter(|(d, _)| *d <= 2)
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

fn as_integer(value: &Value) -> Option<i128> {
    match value {
        Value::Number(n) => n
            .as_u64()
            .map(i128::from)
            .or_else(|| n.as_i64().map(i128::from))
            .or_else(|| {
                n.as_f64()
                    .filter(|f| f.fract() == 0.0 && f.abs() < 1e18)
                    .map(|f| f as i128)
            }),
        Value::String(s) => s.trim().parse::<i128>().ok(),
        _ => None,
    }
}

fn as_float(value: &Value) -> Option<f64> {
    let number = match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    };
    number.filter(|f| f.is_finite())
}

/// A short description of a value for error messages.
pub(crate) fn describe(value: &Value) -> String {
    match value {
        Value::Null => "nothing".to_owned(),
        Value::Bool(b) => format!("the boolean {b}"),
        Value::Number(n) => format!("the number {n}"),
        Value::String(s) => format!("the string {s:?}"),
        Value::Array(_) => "a list".to_owned(),
        Value::Object(_) => "a mapping".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn coerces_strings_to_bools_and_numbers() {
        let m = map(json!({"a": "TRUE", "b": " 42 ", "c": "0.5", "d": 7.0}));
        let s = Section::root(&m);
        assert_eq!(s.bool("a").unwrap(), Some(true));
        assert_eq!(s.int::<u64>("b", 0..=100).unwrap(), Some(42));
        assert_eq!(s.float("c", 0.0..=1.0).unwrap(), Some(0.5));
        assert_eq!(s.int::<u64>("d", 0..=100).unwrap(), Some(7));
    }

    #[test]
    fn range_errors_name_key_and_bounds() {
        let m = map(json!({"x": {"n": -3}}));
        let root = Section::root(&m);
        let err = root
            .child("x")
            .unwrap()
            .int::<u64>("n", 1..=10)
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid config value for x.n: must be between 1 and 10, got -3"
        );
    }

    #[test]
    fn finish_warns_about_unread_keys_only() {
        let m = map(json!({"read": 1, "accepted": 2, "typo": 3}));
        let s = Section::root(&m);
        s.raw("read");
        s.accept(&["accepted"]);
        let mut warnings = Vec::new();
        s.finish(&mut warnings);
        assert_eq!(warnings, ["unknown key typo (ignored)"]);
    }
}
