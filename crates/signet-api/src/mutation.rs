//! The answer of a single-memory mutation (PATCH, DELETE, recover) and of each patch of a
//! batch modify: what happened to the memory and the versions before and after.

use serde::{Deserialize, Serialize};

use crate::Extra;

/// What a mutation did, or why it did nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MutationStatus {
    Updated,
    NoChanges,
    /// Deleted now, or (with `error`) the memory is deleted and cannot be modified.
    Deleted,
    Recovered,
    NotFound,
    AlreadyDeleted,
    NotDeleted,
    VersionConflict,
    DuplicateContentHash,
    PinnedRequiresForce,
    AutonomousForceDenied,
    RetentionExpired,
    /// Batch modify only: the patch itself was malformed.
    InvalidRequest,
    /// Batch modify only: the memory is outside the caller's token scope.
    ScopeDenied,
}

/// One mutation's outcome. Absent fields are omitted, as upstream sends them.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MutationResponse {
    pub id: String,
    pub status: MutationStatus,
    /// The version before the mutation (absent when the memory does not exist).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_version: Option<i64>,
    /// The version after it, when it changed the memory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_version: Option<i64>,
    /// Updates only: whether the content changed (the vector is then recomputed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_changed: Option<bool>,
    /// Recover only: the recovery window, in days.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention_days: Option<u32>,
    /// The live memory whose content this one would duplicate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duplicate_memory_id: Option<String>,
    /// Why nothing happened (absent on success).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Unknown body fields the request carried (omitted when there were none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    #[serde(flatten)]
    #[schema(ignore)]
    pub extra: Extra,
}

impl MutationResponse {
    /// An outcome of memory `id` with `status` and nothing else set yet.
    pub fn new(id: impl Into<String>, status: MutationStatus) -> Self {
        Self {
            id: id.into(),
            status,
            current_version: None,
            new_version: None,
            content_changed: None,
            retention_days: None,
            duplicate_memory_id: None,
            error: None,
            warnings: Vec::new(),
            extra: Extra::new(),
        }
    }

    /// With the version before (and, when `Some`, after) the mutation.
    pub fn versions(mut self, current: i64, new: Option<i64>) -> Self {
        self.current_version = Some(current);
        self.new_version = new;
        self
    }

    /// With the reason nothing happened.
    pub fn error(mut self, message: impl Into<String>) -> Self {
        self.error = Some(message.into());
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn serialises_only_what_is_set() {
        let r = MutationResponse::new("a", MutationStatus::VersionConflict)
            .versions(3, None)
            .error("Version conflict");
        assert_eq!(
            serde_json::to_value(&r).unwrap(),
            json!({"id": "a", "status": "version_conflict", "currentVersion": 3,
                "error": "Version conflict"})
        );
        let back: MutationResponse =
            serde_json::from_value(serde_json::to_value(&r).unwrap()).unwrap();
        assert_eq!(back.status, MutationStatus::VersionConflict);
    }
}
