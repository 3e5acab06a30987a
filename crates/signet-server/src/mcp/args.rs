//! The tools' arguments, with upstream's names; their doc comments become the JSON-schema
//! descriptions a model reads.

use std::collections::BTreeMap;

use rmcp::model::JsonObject;
use rmcp::schemars::{self, JsonSchema};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// A tool's arguments decoded as `T`; what does not decode is a 400 naming the field (rmcp's
/// own decoding does not say which).
pub fn parse<T: DeserializeOwned>(args: JsonObject) -> Result<T, ApiError> {
    serde_path_to_error::deserialize(serde_json::Value::Object(args)).map_err(|e| {
        let at = e.path().to_string();
        let inner = e.into_inner();
        match at.as_str() {
            "." => ApiError::bad_request(format!("invalid arguments: {inner}")),
            field => ApiError::bad_request(format!("invalid argument {field}: {inner}")),
        }
    })
}

/// A search: the query, and optionally how many results, of which type, how relevant.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct SearchArgs {
    /// What to look for, in natural language or keywords.
    pub query: String,
    /// Most results to return (default 10).
    pub limit: Option<u32>,
    /// Only memories of this type (fact, preference, decision, rule, learning, issue, ...).
    #[serde(rename = "type")]
    pub memory_type: Option<String>,
    /// Leave out results scoring below this relevance (0 to 1).
    pub min_score: Option<f64>,
}

/// A memory to store, with optional type, importance and tags.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct StoreArgs {
    /// The memory: one self-contained statement. Prefix `critical:` to pin it.
    pub content: String,
    /// Its type (fact, preference, decision, rule, learning, issue, ...); inferred when left out.
    #[serde(rename = "type")]
    pub memory_type: Option<String>,
    /// How important it is, 0 to 1 (default 0.8; critical memories 1).
    pub importance: Option<f64>,
    /// Comma-separated tags, e.g. "ops,keys".
    pub tags: Option<String>,
}

/// The memory to read.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct GetArgs {
    /// The memory's id (from memory_search or memory_list).
    pub id: String,
}

/// One page of the listing, optionally of one type.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct ListArgs {
    /// Most memories to return, newest first (default 100, at most 1000).
    pub limit: Option<u32>,
    /// Memories to skip, for the next page.
    pub offset: Option<u32>,
    /// Only memories of this type.
    #[serde(rename = "type")]
    pub memory_type: Option<String>,
}

/// The memory to change, the fields to change (at least one) and why.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct ModifyArgs {
    /// The memory's id.
    pub id: String,
    /// The new text (replaces the old one).
    pub content: Option<String>,
    /// The new type.
    #[serde(rename = "type")]
    pub memory_type: Option<String>,
    /// The new importance, 0 to 1.
    pub importance: Option<f64>,
    /// The new comma-separated tags (replace the old ones).
    pub tags: Option<String>,
    /// Why it changes (kept in the memory's history).
    pub reason: String,
}

/// The memory to forget and why.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct ForgetArgs {
    /// The memory's id.
    pub id: String,
    /// Why it is forgotten (kept in the memory's history).
    pub reason: String,
    /// Also forget a pinned (critical) memory.
    pub force: Option<bool>,
}

/// Ratings of the memories a session was given.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct FeedbackArgs {
    /// The session whose injected memories are rated.
    pub session_key: String,
    /// Memory id → how useful it was, from -1 (useless or wrong) to 1 (exactly what was needed).
    pub ratings: BTreeMap<String, f64>,
}

/// Whether the hooks skip a session.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct BypassArgs {
    /// The session key the harness uses.
    pub session_key: String,
    /// true: the hooks stop injecting and recording memories for this session; false: resume.
    pub enabled: bool,
}
