//! The error ring: the last [`ERROR_RING`] pipeline / provider / mutation errors, with
//! upstream's stages and codes.

use std::collections::{BTreeMap, VecDeque};

use signet_api::{ErrorRecord, Extra};

/// Where an error happened (upstream's stages; the wire enum).
pub use signet_api::ErrorStage as Stage;

/// Errors kept in memory.
pub const ERROR_RING: usize = 500;

/// Codes recorded today (upstream's full set also has extraction, decision, connector and
/// predictor codes, recorded by workers this daemon does not run yet).
pub mod codes {
    pub const EMBEDDING_PROVIDER_DOWN: &str = "EMBEDDING_PROVIDER_DOWN";
    pub const EMBEDDING_TIMEOUT: &str = "EMBEDDING_TIMEOUT";
    pub const MUTATION_CONFLICT: &str = "MUTATION_CONFLICT";
    pub const MUTATION_SCOPE_DENIED: &str = "MUTATION_SCOPE_DENIED";
}

/// One recorded error (served as a [`signet_api::ErrorRecord`]).
#[derive(Debug, Clone, PartialEq)]
pub struct ErrorEntry {
    pub timestamp: String,
    pub stage: Stage,
    pub code: String,
    pub message: String,
    pub request_id: Option<String>,
    pub memory_id: Option<String>,
    pub actor: Option<String>,
}

impl From<ErrorEntry> for ErrorRecord {
    fn from(e: ErrorEntry) -> Self {
        Self {
            actor: e.actor,
            code: e.code,
            memory_id: e.memory_id,
            message: e.message,
            request_id: e.request_id,
            stage: e.stage,
            timestamp: e.timestamp,
            extra: Extra::new(),
        }
    }
}

impl ErrorEntry {
    /// An entry stamped now.
    pub fn now(stage: Stage, code: &str, message: impl Into<String>) -> Self {
        Self {
            timestamp: signet_model::time::now_iso(),
            stage,
            code: code.to_owned(),
            message: message.into(),
            request_id: None,
            memory_id: None,
            actor: None,
        }
    }
}

impl ErrorEntry {
    /// An embedding provider failure: `EMBEDDING_TIMEOUT` when it timed out, else
    /// `EMBEDDING_PROVIDER_DOWN`.
    pub fn provider(e: &crate::embedding::EmbedError) -> Self {
        let msg = e.to_string();
        let code = if e.is_timeout() {
            codes::EMBEDDING_TIMEOUT
        } else {
            codes::EMBEDDING_PROVIDER_DOWN
        };
        Self::now(Stage::Embedding, code, msg)
    }
}

/// What `/api/analytics/errors` filters on.
#[derive(Debug, Clone, Default)]
pub struct ErrorQuery {
    pub stage: Option<Stage>,
    /// ISO timestamp; entries at or after it.
    pub since: Option<String>,
    pub limit: usize,
}

impl TryFrom<&signet_api::ErrorsQuery> for ErrorQuery {
    type Error = crate::CoreError;

    /// Blank values count as absent; `limit` defaults to 50.
    fn try_from(q: &signet_api::ErrorsQuery) -> Result<Self, Self::Error> {
        let bad = |m: String| crate::CoreError::Invalid(m);
        let get = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        let stage = match get(&q.stage) {
            None => None,
            Some(s) => Some(Stage::parse(&s).ok_or_else(|| {
                let names: Vec<&str> = Stage::ALL.iter().map(|s| s.as_str()).collect();
                bad(format!("stage must be one of {}", names.join(", ")))
            })?),
        };
        let since = get(&q.since);
        if since
            .as_deref()
            .is_some_and(|t| signet_model::time::parse(t).is_none())
        {
            return Err(bad("since must be an ISO-8601 timestamp".into()));
        }
        let limit = match get(&q.limit) {
            None => 50,
            Some(l) => l
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=ERROR_RING).contains(n))
                .ok_or_else(|| bad(format!("limit must be an integer from 1 to {ERROR_RING}")))?,
        };
        Ok(Self {
            stage,
            since,
            limit,
        })
    }
}

/// The bounded ring.
#[derive(Default)]
pub struct ErrorRing {
    entries: VecDeque<ErrorEntry>,
}

impl ErrorRing {
    pub fn push(&mut self, e: ErrorEntry) {
        if self.entries.len() == ERROR_RING {
            self.entries.pop_front();
        }
        self.entries.push_back(e);
    }

    /// The newest `limit` entries matching `q`, oldest first.
    pub fn query(&self, q: &ErrorQuery) -> Vec<ErrorEntry> {
        let since = q.since.as_deref().and_then(signet_model::time::parse);
        let mut out: Vec<ErrorEntry> = self
            .entries
            .iter()
            .rev()
            .filter(|e| q.stage.is_none_or(|s| e.stage == s))
            .filter(|e| {
                since
                    .is_none_or(|t| signet_model::time::parse(&e.timestamp).is_some_and(|x| x >= t))
            })
            .take(q.limit)
            .cloned()
            .collect();
        out.reverse();
        out
    }

    /// Count per code over the whole ring.
    pub fn summary(&self) -> BTreeMap<String, u64> {
        let mut m = BTreeMap::new();
        for e in &self.entries {
            *m.entry(e.code.clone()).or_insert(0) += 1;
        }
        m
    }

    /// Count per stage over the whole ring.
    pub fn by_stage(&self) -> BTreeMap<&'static str, u64> {
        let mut m = BTreeMap::new();
        for e in &self.entries {
            *m.entry(e.stage.as_str()).or_insert(0) += 1;
        }
        m
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ring_is_bounded_and_filters_by_stage_and_limit() {
        let mut r = ErrorRing::default();
        for i in 0..ERROR_RING + 10 {
            let (stage, code) = if i % 2 == 0 {
                (Stage::Embedding, codes::EMBEDDING_PROVIDER_DOWN)
            } else {
                (Stage::Mutation, codes::MUTATION_CONFLICT)
            };
            r.push(ErrorEntry::now(stage, code, format!("e{i}")));
        }
        assert_eq!(r.summary().values().sum::<u64>(), ERROR_RING as u64);
        let q = ErrorQuery {
            stage: Some(Stage::Mutation),
            since: None,
            limit: 3,
        };
        let got = r.query(&q);
        assert_eq!(got.len(), 3);
        assert!(got.iter().all(|e| e.stage == Stage::Mutation));
        assert_eq!(got[2].message, format!("e{}", ERROR_RING + 9));
        let future = ErrorQuery {
            stage: None,
            since: Some("2999-01-01T00:00:00Z".into()),
            limit: 50,
        };
        assert!(r.query(&future).is_empty());
    }
}
