//! JSON documents edited in place: objects keep the user's key order (an `IndexMap`, since the
//! workspace's serde_json sorts its maps and its `preserve_order` feature would reach every
//! crate's wire output), and the rendering keeps the file's indent and final newline.

use anyhow::{Result, anyhow};
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

/// A JSON value whose objects remember their key order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Json {
    Null(()),
    Bool(bool),
    Number(serde_json::Number),
    String(String),
    Array(Vec<Json>),
    Object(IndexMap<String, Json>),
}

impl Json {
    /// An empty object.
    pub fn object() -> Self {
        Self::Object(IndexMap::new())
    }

    /// A string value.
    pub fn str(s: impl Into<String>) -> Self {
        Self::String(s.into())
    }

    /// An object with these keys, in this order.
    pub fn obj<const N: usize>(pairs: [(&str, Json); N]) -> Self {
        Self::Object(pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
    }

    pub fn as_object(&self) -> Option<&IndexMap<String, Json>> {
        match self {
            Self::Object(o) => Some(o),
            _ => None,
        }
    }

    pub fn as_object_mut(&mut self) -> Option<&mut IndexMap<String, Json>> {
        match self {
            Self::Object(o) => Some(o),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&Vec<Json>> {
        match self {
            Self::Array(a) => Some(a),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Self::String(s) => Some(s),
            _ => None,
        }
    }

    /// `self[key]` for an object.
    pub fn get(&self, key: &str) -> Option<&Json> {
        self.as_object()?.get(key)
    }
}

/// A parsed file and how it was laid out.
#[derive(Debug, Clone)]
pub struct JsonFile {
    /// The top-level object.
    pub root: IndexMap<String, Json>,
    indent: String,
    newline: bool,
}

impl JsonFile {
    /// Parses `text` (blank means `{}`); the root must be an object.
    pub fn parse(text: &str) -> Result<Self> {
        let root = if text.trim().is_empty() {
            IndexMap::new()
        } else {
            let parsed = serde_json::from_str(text).map_err(|e| {
                anyhow!(
                    "it is not plain JSON ({e}); comments and trailing commas are not supported"
                )
            })?;
            match parsed {
                Json::Object(o) => o,
                _ => return Err(anyhow!("its top level is not a JSON object")),
            }
        };
        Ok(Self {
            root,
            indent: indent_of(text),
            newline: text.is_empty() || text.ends_with('\n'),
        })
    }

    /// The document, pretty-printed with the file's indent.
    pub fn render(&self) -> Result<String> {
        let mut out = Vec::new();
        let fmt = serde_json::ser::PrettyFormatter::with_indent(self.indent.as_bytes());
        let mut ser = serde_json::Serializer::with_formatter(&mut out, fmt);
        self.root.serialize(&mut ser)?;
        let mut text = String::from_utf8(out)?;
        if self.newline {
            text.push('\n');
        }
        Ok(text)
    }
}

/// The leading whitespace of the first indented line (two spaces when none is).
fn indent_of(text: &str) -> String {
    text.lines()
        .skip(1)
        .map(|l| &l[..l.len() - l.trim_start().len()])
        .find(|ws| !ws.is_empty())
        .unwrap_or("  ")
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_order_indent_and_newline_survive_a_round_trip() {
        let text = "{\n    \"z\": 1,\n    \"a\": {\"y\": [true, null, 1.5], \"b\": \"x\"}\n}\n";
        let file = JsonFile::parse(text).unwrap();
        let out = file.render().unwrap();
        assert_eq!(
            out,
            "{\n    \"z\": 1,\n    \"a\": {\n        \"y\": [\n            true,\n            null,\n            1.5\n        ],\n        \"b\": \"x\"\n    }\n}\n"
        );
        assert_eq!(JsonFile::parse(&out).unwrap().root, file.root);
        let keys: Vec<_> = file.root.keys().cloned().collect();
        assert_eq!(keys, ["z", "a"]);
    }

    #[test]
    fn blank_is_an_empty_object_and_other_roots_are_refused() {
        assert!(JsonFile::parse("  \n").unwrap().root.is_empty());
        assert!(JsonFile::parse("[1]").is_err());
        let err = JsonFile::parse("{// c\n}").unwrap_err().to_string();
        assert!(err.contains("comments"), "{err}");
    }
}
