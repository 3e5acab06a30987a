//! The export format: versioned JSON Lines, one JSON object per line.
//!
//! Line 1 is the [`Header`]: `{"format":"signet-export","version":1,"createdAt":...,
//! "source":{...},"embedding":{"provider","model","dimensions"}|null,"options":{...}}`. Then one
//! record per line, told apart by `"kind"`:
//!
//! - `memory`: `{"kind":"memory","row":{...}}`, every column of the `memories` row with its raw
//!   value (scopes, tags, agent, source, content hash, pinned, importance, timestamps, ...);
//! - `history`: `{"kind":"history","row":{...}}`, a `memory_history` row of a memory exported
//!   before it (`row.memory_id` names it);
//! - `vector`: `{"kind":"vector","memoryId","contentHash","model","dimensions","vector"}`, the
//!   memory's current vector as base64 of its little-endian f32s;
//! - `end`: `{"kind":"end","counts":{"memories","history","vectors"}}`, always last, so a
//!   truncated file is detected.
//!
//! Each memory's history and vector lines follow its memory line. A reader refuses a header
//! whose `version` it does not know; within a version, new record kinds may appear (a reader
//! skips them with a warning) and rows may gain keys (ignored where the target has no such
//! column). Changing anything else is a new version.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use signet_model::JsonRow;
use signet_model::export::StoredEmbedding;

use crate::error::{CoreError, Result};

/// The header's `format`.
pub const FORMAT: &str = "signet-export";
/// The version this build writes and the only one it reads.
pub const VERSION: u64 = 1;

/// An embedding model: who made the vectors and how wide they are.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmbeddingInfo {
    pub provider: String,
    pub model: String,
    pub dimensions: usize,
}

/// Line 1 of an export.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Header {
    pub format: String,
    pub version: u64,
    /// When the export started (ISO-8601 UTC).
    pub created_at: String,
    /// What wrote it: `{"software":"signet","version":...}`.
    pub source: Value,
    /// The exporting workspace's embedding model (`null`: keyword-only).
    pub embedding: Option<EmbeddingInfo>,
    /// How it was made: `{"withVectors":bool,"includeDeleted":bool}`.
    pub options: Value,
}

/// The counts of the `end` record.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub memories: u64,
    pub history: u64,
    pub vectors: u64,
}

/// A `vector` record.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VectorRecord {
    pub memory_id: String,
    pub content_hash: String,
    pub model: String,
    pub dimensions: usize,
    /// Base64 (standard, padded) of the little-endian f32s.
    pub vector: String,
}

impl VectorRecord {
    pub fn new(memory_id: &str, v: &StoredEmbedding) -> Self {
        Self {
            memory_id: memory_id.to_owned(),
            content_hash: v.content_hash.clone(),
            model: v.model.clone(),
            dimensions: v.dimensions,
            vector: STANDARD.encode(&v.blob),
        }
    }

    /// The stored form, checked: the bytes are `dimensions` f32s.
    pub fn decode(&self) -> std::result::Result<StoredEmbedding, String> {
        let blob = STANDARD
            .decode(&self.vector)
            .map_err(|e| format!("the vector is not base64: {e}"))?;
        if blob.len() != self.dimensions * 4 || self.dimensions == 0 {
            return Err(format!(
                "the vector has {} bytes; {} dimensions need {}",
                blob.len(),
                self.dimensions,
                self.dimensions * 4
            ));
        }
        Ok(StoredEmbedding {
            model: self.model.clone(),
            dimensions: self.dimensions,
            content_hash: self.content_hash.clone(),
            blob,
        })
    }
}

/// One line after the header.
#[derive(Debug, Clone)]
pub enum Record {
    Memory(JsonRow),
    History(JsonRow),
    Vector(VectorRecord),
    End(Counts),
    /// A kind this version does not know (skipped).
    Unknown(String),
}

impl Record {
    /// The line, without its newline.
    pub fn to_line(&self) -> String {
        let v = match self {
            Self::Memory(row) => json!({"kind": "memory", "row": row}),
            Self::History(row) => json!({"kind": "history", "row": row}),
            Self::Vector(v) => {
                let mut o = serde_json::to_value(v).unwrap_or_default();
                if let Some(m) = o.as_object_mut() {
                    m.insert("kind".into(), "vector".into());
                }
                o
            }
            Self::End(c) => json!({"kind": "end", "counts": c}),
            Self::Unknown(kind) => json!({ "kind": kind }),
        };
        v.to_string()
    }

    /// Parses one line after the header; the error says what is wrong with it.
    pub fn parse(line: &str) -> std::result::Result<Self, String> {
        let v: Value = serde_json::from_str(line).map_err(|e| {
            // serde's own position says "line 1" (of the one line); the column is what helps.
            let what = e.to_string();
            let what = what
                .split(" at line ")
                .next()
                .unwrap_or_default()
                .to_owned();
            format!("not valid JSON ({what} at column {})", e.column())
        })?;
        let Value::Object(mut o) = v else {
            return Err("not a JSON object".into());
        };
        let kind = match o.get("kind") {
            Some(Value::String(k)) => k.clone(),
            _ => return Err("the record has no \"kind\"".into()),
        };
        let row = |o: &mut serde_json::Map<String, Value>| match o.remove("row") {
            Some(Value::Object(row)) => Ok(row),
            _ => Err(format!("a {kind} record needs a \"row\" object")),
        };
        Ok(match kind.as_str() {
            "memory" => Self::Memory(row(&mut o)?),
            "history" => Self::History(row(&mut o)?),
            "vector" => Self::Vector(
                serde_json::from_value(Value::Object(o))
                    .map_err(|e| format!("a vector record is malformed ({e})"))?,
            ),
            "end" => Self::End(
                serde_json::from_value(o.remove("counts").unwrap_or_default())
                    .map_err(|e| format!("the end record's counts are malformed ({e})"))?,
            ),
            _ => Self::Unknown(kind),
        })
    }
}

impl Header {
    pub fn to_line(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Parses line 1: a signet export of a version this build reads.
    pub fn parse(line: &str) -> Result<Self> {
        let invalid = |m: String| CoreError::Invalid(format!("line 1: {m}"));
        let v: Value = serde_json::from_str(line).map_err(|e| {
            invalid(format!(
                "not a signet export (the header is not valid JSON: {e})"
            ))
        })?;
        if v.get("format").and_then(Value::as_str) != Some(FORMAT) {
            return Err(invalid(format!(
                "not a signet export (the header has no \"format\":\"{FORMAT}\")"
            )));
        }
        let version = v
            .get("version")
            .and_then(Value::as_u64)
            .ok_or_else(|| invalid("the header has no numeric \"version\"".into()))?;
        if version != VERSION {
            return Err(invalid(format!(
                "this file is export format version {version}; this signet reads version \
                 {VERSION} only (import it with the signet that wrote it, or a newer one)"
            )));
        }
        serde_json::from_value(v).map_err(|e| invalid(format!("the header is malformed ({e})")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip() {
        let mut row = JsonRow::new();
        row.insert("id".into(), "m1".into());
        row.insert("importance".into(), json!(0.1 + 0.2));
        let v = StoredEmbedding {
            model: "m".into(),
            dimensions: 2,
            content_hash: "h".into(),
            blob: [1.5f32, -2.0]
                .iter()
                .flat_map(|f| f.to_le_bytes())
                .collect(),
        };
        for r in [
            Record::Memory(row.clone()),
            Record::History(row.clone()),
            Record::Vector(VectorRecord::new("m1", &v)),
            Record::End(Counts {
                memories: 1,
                history: 2,
                vectors: 3,
            }),
        ] {
            let line = r.to_line();
            let back = Record::parse(&line).map(|b| b.to_line());
            assert_eq!(back.as_deref(), Ok(line.as_str()));
        }
        let back = Record::parse(&Record::Vector(VectorRecord::new("m1", &v)).to_line());
        let Ok(Record::Vector(rec)) = back else {
            panic!("not a vector: {back:?}");
        };
        assert_eq!(rec.decode(), Ok(v));
    }

    #[test]
    fn a_future_version_is_refused_by_name() {
        let line = r#"{"format":"signet-export","version":2,"createdAt":"x","source":{},"embedding":null,"options":{}}"#;
        let err = Header::parse(line)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("version 2"), "{err}");
        assert!(Header::parse(r#"{"hello":1}"#).is_err());
    }
}
