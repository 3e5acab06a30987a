//! The memory API: remember and recall.

use serde::{Deserialize, Serialize};

use crate::Extra;

/// Body of `POST /api/memory/remember`. `None` fields are omitted so the daemon's defaults
/// (and its `critical:` / `[tags]:` prefix parsing) apply.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RememberRequest {
    pub content: String,
    /// Comma-separated tags.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub importance: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pinned: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub who: Option<String>,
    /// Memory type; inferred from the content when omitted.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_id: Option<String>,
}

/// Answer of remember: one stored (or deduplicated) memory, or the chunks of a long text.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum RememberResponse {
    /// Content longer than the daemon's limit was split into chunks.
    Chunked(ChunkedMemory),
    /// One memory was stored, or an identical one already existed (`deduped`).
    Stored(StoredMemory),
}

impl RememberResponse {
    /// Records the request's unknown body fields on whichever shape this is.
    pub fn set_warnings(&mut self, warnings: Vec<String>) {
        match self {
            Self::Chunked(c) => c.warnings = warnings,
            Self::Stored(m) => m.warnings = warnings,
        }
    }
}

/// A single remembered memory.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StoredMemory {
    pub id: String,
    #[serde(rename = "type")]
    pub type_: String,
    pub tags: Option<String>,
    pub pinned: bool,
    pub importance: f64,
    pub content: String,
    #[serde(default)]
    pub embedded: bool,
    /// True when the content was already stored and `id` names the existing memory.
    #[serde(default)]
    pub deduped: bool,
    /// Unknown body fields the request carried (omitted when there were none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    #[serde(flatten)]
    #[schema(ignore)]
    pub extra: Extra,
}

/// The chunked shape of remember.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ChunkedMemory {
    pub chunked: bool,
    /// Chunks inserted (chunks whose content already existed are skipped).
    pub chunk_count: usize,
    pub ids: Vec<String>,
    pub group_id: String,
    /// Unknown body fields the request carried (omitted when there were none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    #[serde(flatten)]
    #[schema(ignore)]
    pub extra: Extra,
}

/// Body of `POST /api/memory/recall`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RecallRequest {
    pub query: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<usize>,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_: Option<String>,
    /// Comma-separated; every tag must match.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub who: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    /// Only pinned memories when `Some(true)`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pinned: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub importance_min: Option<f64>,
    /// Lower bound on `created_at`: ISO-8601 or a date (the daemon refuses anything else).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub since: Option<String>,
    /// Upper bound on `created_at`; a date alone includes that whole day.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
    /// `true`: each result carries `explain`, the parts of its score.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explain: Option<bool>,
}

/// Why a result scored what it did (recall with `explain: true`), in the order the parts are
/// applied: `final = fused * rehearsal + graph`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RecallExplain {
    /// The keyword leg's normalised BM25 score, in [0, 1] (0: the keyword leg did not find it).
    pub keyword: f64,
    /// The vector leg's cosine similarity, in [0, 1] (0: the vector leg did not find it).
    pub vector: f64,
    /// The two legs fused (`search.fusion`), before any boost, in [0, 1].
    pub fused: f64,
    /// The rehearsal factor the fused score was multiplied by (1: no boost).
    pub rehearsal: f64,
    /// What the graph boost added after rehearsal (0: none).
    pub graph: f64,
    /// The final score, unrounded (`score` is this rounded to two places).
    #[serde(rename = "final")]
    pub final_: f64,
}

/// Which legs of recall produced the results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum RecallMethod {
    /// Keyword and vector legs, fused.
    Hybrid,
    /// Keyword only (no provider, provider down, or `mode: keyword`).
    Keyword,
    /// Vector only (`mode: vector`).
    Vector,
}

/// Answer of recall.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RecallResponse {
    pub results: Vec<RecallResult>,
    pub query: String,
    pub method: RecallMethod,
    /// Unknown body fields the request carried (omitted when there were none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    #[serde(flatten)]
    #[schema(ignore)]
    pub extra: Extra,
}

/// One recalled memory.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RecallResult {
    pub id: String,
    /// Possibly truncated, then suffixed with `" [truncated]"`.
    pub content: String,
    /// Length of the untruncated content, in characters.
    #[serde(default)]
    pub content_length: usize,
    #[serde(default)]
    pub truncated: bool,
    pub score: f64,
    /// `hybrid`, `vector`, `keyword`, `ka_traversal` or `graph`.
    #[serde(default)]
    pub source: String,
    #[serde(rename = "type")]
    pub type_: String,
    pub tags: Option<String>,
    #[serde(default)]
    pub pinned: bool,
    pub importance: Option<f64>,
    pub who: Option<String>,
    pub project: Option<String>,
    pub created_at: String,
    /// The parts of `score`, when the request asked for `explain`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explain: Option<RecallExplain>,
    #[serde(flatten)]
    #[schema(ignore)]
    pub extra: Extra,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn remember_request_omits_unset_fields_and_renames() {
        let req = RememberRequest {
            content: "x".into(),
            type_: Some("fact".into()),
            source_type: Some("cli".into()),
            ..Default::default()
        };
        let v = serde_json::to_value(&req).unwrap();
        assert_eq!(
            v,
            json!({"content": "x", "type": "fact", "sourceType": "cli"})
        );
    }

    #[test]
    fn remember_response_parses_both_shapes() {
        let stored = json!({"id": "a", "type": "fact", "tags": null, "pinned": false,
            "importance": 0.8, "content": "x", "embedded": false, "deduped": true});
        let RememberResponse::Stored(m) = serde_json::from_value(stored).unwrap() else {
            panic!("expected stored");
        };
        assert!(m.deduped && m.id == "a" && m.type_ == "fact");
        let chunked =
            json!({"chunked": true, "chunk_count": 2, "ids": ["a", "b"], "group_id": "g"});
        let RememberResponse::Chunked(c) = serde_json::from_value(chunked).unwrap() else {
            panic!("expected chunked");
        };
        assert_eq!((c.chunk_count, c.group_id.as_str()), (2, "g"));
    }

    #[test]
    fn recall_response_round_trips_unknown_fields() {
        let raw = json!({"results": [{"id": "a", "content": "c", "content_length": 1,
            "truncated": false, "score": 0.5, "source": "graph", "type": "rationale",
            "tags": null, "pinned": false, "importance": 0.8, "who": "daemon", "project": null,
            "created_at": "2026-01-01T00:00:00.000Z", "supplementary": true}],
            "query": "q", "method": "keyword"});
        let parsed: RecallResponse = serde_json::from_value(raw.clone()).unwrap();
        assert_eq!(parsed.results[0].extra["supplementary"], json!(true));
        assert_eq!(serde_json::to_value(&parsed).unwrap(), raw);
    }
}
