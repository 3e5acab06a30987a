//! The batch envelopes: `POST /api/memory/modify` (one outcome per patch) and
//! `POST /api/memory/forget` (a preview of the candidates, or the executed forgets).

use serde::{Deserialize, Serialize};

use crate::{Extra, MutationResponse, MutationStatus};

/// Answer of `POST /api/memory/modify`.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BatchModifyResponse {
    /// Patches in the request.
    pub total: usize,
    /// Patches whose status is `updated`.
    pub updated: usize,
    /// One per patch, in request order.
    pub results: Vec<BatchModifyResult>,
    #[serde(flatten)]
    #[schema(ignore)]
    pub extra: Extra,
}

/// One patch's outcome: a mutation outcome, or a patch without a usable id (`"id": null`).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum BatchModifyResult {
    /// The patch named a memory (its outcome, or why it was refused).
    Outcome(MutationResponse),
    /// The patch had no id, or an empty one.
    Unidentified(UnidentifiedPatch),
}

impl BatchModifyResult {
    /// The memory the patch named, if any.
    pub fn id(&self) -> Option<&str> {
        match self {
            Self::Outcome(r) => Some(&r.id),
            Self::Unidentified(u) => u.id.as_deref(),
        }
    }

    pub fn status(&self) -> MutationStatus {
        match self {
            Self::Outcome(r) => r.status,
            Self::Unidentified(u) => u.status,
        }
    }

    /// Whether the patch changed the memory's content.
    pub fn content_changed(&self) -> bool {
        matches!(self, Self::Outcome(r) if r.content_changed == Some(true))
    }
}

/// A malformed patch that named no memory.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct UnidentifiedPatch {
    /// Always `null` when the daemon sends it.
    pub id: Option<String>,
    /// `invalid_request`.
    pub status: MutationStatus,
    pub error: String,
    #[serde(flatten)]
    #[schema(ignore)]
    pub extra: Extra,
}

impl UnidentifiedPatch {
    /// The `invalid_request` answer of a patch without an id.
    pub fn new(error: impl Into<String>) -> Self {
        Self {
            id: None,
            status: MutationStatus::InvalidRequest,
            error: error.into(),
            extra: Extra::new(),
        }
    }
}

/// Answer of `POST /api/memory/forget`, by its `mode`.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "mode", rename_all = "lowercase")]
pub enum BatchForgetResponse {
    /// What execute would forget, and the token it needs for more than the threshold.
    Preview(ForgetPreview),
    /// What was forgotten.
    Execute(ForgetExecuted),
}

/// `mode: preview`.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ForgetPreview {
    pub count: usize,
    /// Whether execute must carry `confirm_token`.
    pub requires_confirm: bool,
    pub confirm_token: String,
    pub candidates: Vec<ForgetCandidateItem>,
    #[serde(flatten)]
    #[schema(ignore)]
    pub extra: Extra,
}

/// One memory a forget would delete.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ForgetCandidateItem {
    pub id: String,
    /// Keyword relevance, rounded to three decimals (0 without a query).
    pub score: f64,
    pub pinned: bool,
    /// The version to guard a single forget with.
    pub version: i64,
    #[serde(flatten)]
    #[schema(ignore)]
    pub extra: Extra,
}

/// `mode: execute`.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ForgetExecuted {
    pub requested: usize,
    pub deleted: usize,
    /// One outcome per candidate.
    pub results: Vec<MutationResponse>,
    #[serde(flatten)]
    #[schema(ignore)]
    pub extra: Extra,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn batch_shapes_round_trip() {
        let modify = json!({"total": 2, "updated": 0, "results": [
            {"id": null, "status": "invalid_request", "error": "each patch needs an id"},
            {"id": "a", "status": "not_found", "error": "Not found"}]});
        let m: BatchModifyResponse = serde_json::from_value(modify.clone()).unwrap();
        assert!(matches!(m.results[0], BatchModifyResult::Unidentified(_)));
        assert_eq!(m.results[1].id(), Some("a"));
        assert_eq!(serde_json::to_value(&m).unwrap(), modify);
        let preview = json!({"mode": "preview", "count": 0, "requiresConfirm": false,
            "confirmToken": "t", "candidates": []});
        let p: BatchForgetResponse = serde_json::from_value(preview.clone()).unwrap();
        let BatchForgetResponse::Preview(inner) = &p else {
            panic!("expected a preview");
        };
        assert!(inner.extra.is_empty());
        assert_eq!(serde_json::to_value(&p).unwrap(), preview);
    }
}
