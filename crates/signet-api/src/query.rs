//! The query strings of the memory routes, as typed values.
//!
//! Every field is an optional string, and each type deserializes through the map of the query
//! string ([`QueryMap`]), so axum's `Query` extractor never refuses a request itself: an
//! unknown key is ignored and a repeated key keeps its last value, as with the plain map these
//! types replace. The daemon's core validates the fields (`TryFrom` into its parameter types),
//! with the same messages as for the JSON bodies, so a bad value is a 400 naming its key.

use std::collections::HashMap;

use serde::Deserialize;

/// A query string as key → value (the last value of a repeated key).
pub type QueryMap = HashMap<String, String>;

/// Query of `GET /api/memories`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[serde(from = "QueryMap")]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Most memories to return: a positive integer, default 100, at most 1000.
    pub limit: Option<String>,
    /// Memories to skip, newest first: a non-negative integer, default 0.
    pub offset: Option<String>,
}

impl From<QueryMap> for ListQuery {
    fn from(mut m: QueryMap) -> Self {
        Self {
            limit: m.remove("limit"),
            offset: m.remove("offset"),
        }
    }
}

/// Query of `GET /api/memory/{id}/history`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[serde(from = "QueryMap")]
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    /// Most events to return: a positive integer, default 200, at most 1000.
    pub limit: Option<String>,
}

impl From<QueryMap> for HistoryQuery {
    fn from(mut m: QueryMap) -> Self {
        Self {
            limit: m.remove("limit"),
        }
    }
}

/// The filters of the search routes, as query parameters (recall's body fields of the same
/// names).
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[serde(from = "QueryMap")]
#[into_params(parameter_in = Query)]
pub struct FilterQuery {
    /// Only memories of this type.
    #[serde(rename = "type")]
    pub type_: Option<String>,
    /// Comma-separated; every tag must match.
    pub tags: Option<String>,
    /// Only memories written by this agent.
    pub who: Option<String>,
    /// Only memories of this project.
    pub project: Option<String>,
    /// `true` / `1`: only pinned memories (`false` / `0`: no filter).
    pub pinned: Option<String>,
    /// Only memories of at least this importance (a number).
    pub importance_min: Option<String>,
    /// Lower bound on `created_at`: ISO-8601, `YYYY-MM-DD HH:MM:SS` or a date.
    pub since: Option<String>,
    /// Upper bound on `created_at`; a date alone includes that whole day.
    pub until: Option<String>,
}

impl FilterQuery {
    /// Takes the filter keys out of `m`.
    fn take(m: &mut QueryMap) -> Self {
        Self {
            type_: m.remove("type"),
            tags: m.remove("tags"),
            who: m.remove("who"),
            project: m.remove("project"),
            pinned: m.remove("pinned"),
            importance_min: m.remove("importance_min"),
            since: m.remove("since"),
            until: m.remove("until"),
        }
    }

    /// The filters that are present, by key, in the order the core reads them.
    pub fn present(&self) -> impl Iterator<Item = (&'static str, &str)> {
        [
            ("type", &self.type_),
            ("tags", &self.tags),
            ("who", &self.who),
            ("project", &self.project),
            ("pinned", &self.pinned),
            ("importance_min", &self.importance_min),
            ("since", &self.since),
            ("until", &self.until),
        ]
        .into_iter()
        .filter_map(|(k, v)| Some((k, v.as_deref()?)))
    }
}

impl From<QueryMap> for FilterQuery {
    fn from(mut m: QueryMap) -> Self {
        Self::take(&mut m)
    }
}

/// Query of `GET /api/memory/search`, recall by query string (plus the [`FilterQuery`] keys).
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[serde(from = "QueryMap")]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// The search text (required; `query` is accepted too).
    pub q: Option<String>,
    /// The search text when `q` is absent.
    pub query: Option<String>,
    /// Most results: a positive integer, default 10, at most 1000.
    pub limit: Option<String>,
    /// `hybrid` (default), `keyword` or `vector`.
    pub mode: Option<String>,
    #[param(ignore)]
    pub filters: FilterQuery,
}

impl From<QueryMap> for SearchQuery {
    fn from(mut m: QueryMap) -> Self {
        Self {
            q: m.remove("q"),
            query: m.remove("query"),
            limit: m.remove("limit"),
            mode: m.remove("mode"),
            filters: FilterQuery::take(&mut m),
        }
    }
}

/// Query of the legacy `GET /memory/search`: keywords, filters alone (the [`FilterQuery`]
/// keys), or `distinct=who`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[serde(from = "QueryMap")]
#[into_params(parameter_in = Query)]
pub struct LegacySearchQuery {
    /// Keywords; without them the filters alone select (best first by decayed importance).
    pub q: Option<String>,
    /// `who`: list every agent that wrote a live memory instead (other keys are ignored).
    pub distinct: Option<String>,
    /// Most results: a positive integer, default 20 with keywords and 50 without, at most
    /// 1000; read only when a search runs.
    pub limit: Option<String>,
    #[param(ignore)]
    pub filters: FilterQuery,
}

impl From<QueryMap> for LegacySearchQuery {
    fn from(mut m: QueryMap) -> Self {
        Self {
            q: m.remove("q"),
            distinct: m.remove("distinct"),
            limit: m.remove("limit"),
            filters: FilterQuery::take(&mut m),
        }
    }
}

/// Query of `DELETE /api/memory/{id}` and `POST /api/memory/{id}/recover`: each key is read
/// when the JSON body leaves the field out (the body wins).
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[serde(from = "QueryMap")]
#[into_params(parameter_in = Query)]
pub struct GuardQuery {
    /// Why (required, here or in the body).
    pub reason: Option<String>,
    /// `true` / `1`: delete a pinned memory too (DELETE only).
    pub force: Option<String>,
    /// The version the caller read; a different current version is a conflict.
    pub if_version: Option<String>,
}

impl From<QueryMap> for GuardQuery {
    fn from(mut m: QueryMap) -> Self {
        Self {
            reason: m.remove("reason"),
            force: m.remove("force"),
            if_version: m.remove("if_version"),
        }
    }
}

/// Query of `GET /api/pipeline/jobs`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[serde(from = "QueryMap")]
#[into_params(parameter_in = Query)]
pub struct JobListQuery {
    /// Only jobs of this status: `pending`, `leased`, `completed` or `dead`.
    pub status: Option<String>,
    /// Only jobs of this `job_type`: `extract`, `document_ingest`, `structural_classify` or
    /// `structural_dependency`.
    #[serde(rename = "type")]
    pub type_: Option<String>,
    /// Most jobs to return: 1 to 500 (clamped), default 50.
    pub limit: Option<String>,
    /// Jobs to skip, newest first: a non-negative integer, default 0.
    pub offset: Option<String>,
}

impl From<QueryMap> for JobListQuery {
    fn from(mut m: QueryMap) -> Self {
        Self {
            status: m.remove("status"),
            type_: m.remove("type"),
            limit: m.remove("limit"),
            offset: m.remove("offset"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn unknown_keys_are_ignored_and_filters_split_out() {
        let q: SearchQuery =
            serde_json::from_value(json!({"q": "vim", "type": "fact", "bogus": "1"})).unwrap();
        assert_eq!(q.q.as_deref(), Some("vim"));
        assert_eq!(q.filters.type_.as_deref(), Some("fact"));
        assert_eq!(q.filters.present().collect::<Vec<_>>(), [("type", "fact")]);
        let l: LegacySearchQuery = serde_json::from_value(json!({"distinct": "who"})).unwrap();
        assert_eq!(l.distinct.as_deref(), Some("who"));
        assert!(l.filters.present().next().is_none());
    }
}
