//! The validated inputs of the document routes: the body of `POST /api/documents` and the
//! query strings of the listing and the delete. Each `TryFrom` is the one place its fields
//! are checked; a wrong type or a missing field is `Invalid` naming it.

use serde_json::{Map, Value};
use signet_api::{DocumentDeleteQuery, DocumentListQuery};

use crate::error::{CoreError, Result};
use crate::memory::input::{object, opt_string, opt_trimmed, query_limit, query_offset};

/// Where a document's text comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// The text itself.
    Text(String),
    /// An `http`/`https` URL the worker fetches.
    Url(String),
    /// A path inside the workspace the worker reads.
    File(String),
}

impl Source {
    /// `text`, `url` or `file` (the `source_type` column).
    pub fn kind(&self) -> &'static str {
        match self {
            Source::Text(_) => "text",
            Source::Url(_) => "url",
            Source::File(_) => "file",
        }
    }
}

/// The validated body of `POST /api/documents`.
#[derive(Debug, Clone, PartialEq)]
pub struct DocumentInput {
    pub source: Source,
    pub title: Option<String>,
    pub content_type: Option<String>,
    pub connector_id: Option<String>,
    /// An object, kept as JSON text.
    pub metadata: Option<Value>,
}

const SHORTHANDS: [&str; 3] = ["text", "url", "file"];

impl TryFrom<&Value> for DocumentInput {
    type Error = CoreError;

    /// Upstream's `{source_type, content?, url?, ...}`, or exactly one shorthand `text`,
    /// `url` or `file` (with `source_type` absent or naming the same kind).
    fn try_from(body: &Value) -> Result<Self> {
        let obj = object(body)?;
        let source = source(obj)?;
        let metadata = match obj.get("metadata") {
            None | Some(Value::Null) => None,
            Some(v @ Value::Object(_)) => Some(v.clone()),
            Some(_) => return invalid("metadata must be an object"),
        };
        Ok(Self {
            source,
            title: opt_trimmed(obj, "title")?,
            content_type: opt_trimmed(obj, "content_type")?,
            connector_id: opt_trimmed(obj, "connector_id")?,
            metadata,
        })
    }
}

fn invalid<T>(m: &str) -> Result<T> {
    Err(CoreError::Invalid(m.to_owned()))
}

/// The source the body names: `source_type` with its field, or one shorthand.
fn source(obj: &Map<String, Value>) -> Result<Source> {
    let kind = opt_trimmed(obj, "source_type")?;
    let mut given = Vec::new();
    for key in SHORTHANDS {
        if let Some(v) = opt_string(obj, key)? {
            given.push((key, v));
        }
    }
    let kind = match (kind.as_deref(), given.as_slice()) {
        (Some(k @ ("text" | "url" | "file")), _) => k,
        (Some(_), _) => return invalid("source_type must be text, url or file"),
        (None, [(k, _)]) => k,
        (None, []) if obj.contains_key("content") => "text",
        (None, []) => {
            return invalid(
                "source_type (text, url or file) is required, or one of text, url, file",
            );
        }
        (None, _) => return invalid("send only one of text, url and file"),
    };
    let field = |keys: &[&str]| -> Result<String> {
        for key in keys {
            if let Some(v) = opt_string(obj, key)?.filter(|v| !v.trim().is_empty()) {
                return Ok(v);
            }
        }
        Err(CoreError::Invalid(format!("{} is required", keys[0])))
    };
    Ok(match kind {
        "text" => Source::Text(field(&["content", "text"])?),
        "url" => Source::Url(field(&["url", "content"])?.trim().to_owned()),
        _ => Source::File(field(&["file", "content"])?.trim().to_owned()),
    })
}

/// The validated query of `GET /api/documents`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentListParams {
    pub status: Option<String>,
    /// 1 to 500 (clamped), default 50.
    pub limit: usize,
    pub offset: usize,
}

impl TryFrom<&DocumentListQuery> for DocumentListParams {
    type Error = CoreError;

    fn try_from(q: &DocumentListQuery) -> Result<Self> {
        Ok(Self {
            status: q
                .status
                .as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned),
            limit: query_limit(q.limit.as_deref(), "limit", 50, 500)?,
            offset: query_offset(q.offset.as_deref())?,
        })
    }
}

/// The required `reason` of `DELETE /api/documents/{id}`.
pub fn delete_reason(q: &DocumentDeleteQuery) -> Result<String> {
    q.reason
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .ok_or_else(|| CoreError::Invalid("reason is required".into()))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn source_of(v: Value) -> Result<Source> {
        DocumentInput::try_from(&v).map(|d| d.source)
    }

    #[test]
    fn upstream_fields_and_shorthands_name_the_source() {
        let text = Source::Text("hello".into());
        assert_eq!(
            source_of(json!({"source_type": "text", "content": "hello"})).unwrap(),
            text
        );
        assert_eq!(source_of(json!({"text": "hello"})).unwrap(), text);
        assert_eq!(source_of(json!({"content": "hello"})).unwrap(), text);
        let url = Source::Url("https://example.com".into());
        assert_eq!(
            source_of(json!({"source_type": "url", "url": "https://example.com"})).unwrap(),
            url
        );
        assert_eq!(
            source_of(json!({"url": " https://example.com "})).unwrap(),
            url
        );
        assert_eq!(
            source_of(json!({"file": "notes/a.md"})).unwrap(),
            Source::File("notes/a.md".into())
        );
    }

    #[test]
    fn bad_bodies_say_what_is_wrong() {
        for (body, msg) in [
            (json!({}), "source_type (text, url or file) is required"),
            (
                json!({"source_type": "pdf", "content": "x"}),
                "source_type must be",
            ),
            (json!({"source_type": "url"}), "url is required"),
            (json!({"text": "a", "url": "b"}), "only one of"),
            (json!({"text": 5}), "text must be a string"),
            (
                json!({"text": "a", "metadata": [1]}),
                "metadata must be an object",
            ),
            (json!({"text": "a", "title": 1}), "title must be a string"),
            (json!([1]), "Invalid JSON body"),
        ] {
            let err = DocumentInput::try_from(&body).unwrap_err().to_string();
            assert!(err.contains(msg), "{body}: {err}");
        }
    }

    #[test]
    fn list_limits_are_clamped_and_checked() {
        let q = |limit: Option<&str>| DocumentListQuery {
            status: Some(" done ".into()),
            limit: limit.map(str::to_owned),
            offset: None,
        };
        let p = DocumentListParams::try_from(&q(None)).unwrap();
        assert_eq!(
            (p.status.as_deref(), p.limit, p.offset),
            (Some("done"), 50, 0)
        );
        assert_eq!(
            DocumentListParams::try_from(&q(Some("9999")))
                .unwrap()
                .limit,
            500
        );
        assert!(DocumentListParams::try_from(&q(Some("0"))).is_err());
    }
}
