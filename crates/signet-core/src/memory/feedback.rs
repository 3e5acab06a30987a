//! Agent feedback on the memories a session was given (`POST /api/memory/feedback`, the MCP
//! tool `memory_feedback`): ratings from -1 to 1, kept as a running mean per session memory.

use serde_json::Value;
use signet_api::FeedbackResponse;

use super::{Memories, input};
use crate::auth::Scope;
use crate::error::{CoreError, Result};

/// The answer to a body whose `feedback` is not a map of ids to numbers.
const BAD_FORMAT: &str = "Invalid feedback format — expected map of ID to number (-1 to 1)";

/// A validated feedback body: `{sessionKey, feedback: {memoryId: number}}`.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedbackInput {
    pub session_key: String,
    /// Memory id and rating, clamped to [-1, 1]; entries that are not numbers are dropped.
    pub ratings: Vec<(String, f64)>,
}

impl TryFrom<&Value> for FeedbackInput {
    type Error = CoreError;

    fn try_from(body: &Value) -> Result<Self> {
        let obj = input::object(body)?;
        let session_key = input::opt_trimmed(obj, "sessionKey")
            .ok()
            .flatten()
            .filter(|_| obj.get("feedback").is_some_and(|f| !f.is_null()));
        let Some(session_key) = session_key else {
            return Err(CoreError::Invalid(
                "sessionKey and feedback required".into(),
            ));
        };
        let map = obj
            .get("feedback")
            .and_then(Value::as_object)
            .ok_or_else(|| CoreError::Invalid(BAD_FORMAT.into()))?;
        let ratings: Vec<(String, f64)> = map
            .iter()
            .filter_map(|(id, v)| {
                let v = v.as_f64().filter(|f| f.is_finite())?;
                Some((id.trim().to_owned(), v.clamp(-1.0, 1.0)))
            })
            .filter(|(id, _)| !id.is_empty())
            .collect();
        if ratings.is_empty() {
            return Err(CoreError::Invalid(BAD_FORMAT.into()));
        }
        Ok(Self {
            session_key,
            ratings,
        })
    }
}

impl Memories {
    /// Records the ratings on the session's memory rows; memories outside `scope` are left
    /// out (a scoped caller cannot rate what it cannot see).
    pub async fn feedback(&self, req: FeedbackInput, scope: &Scope) -> Result<FeedbackResponse> {
        let (store, scope) = (self.store.clone(), scope.clone());
        let recorded = crate::blocking::run(move || {
            let mut ratings = req.ratings;
            if !scope.is_empty() {
                let mut admitted = Vec::with_capacity(ratings.len());
                for (id, v) in ratings {
                    let inside = store.memory_scope(&id)?.is_some_and(|m| {
                        let (p, w, u) = (m.project, m.who, m.scope_user);
                        scope
                            .admits(p.as_deref(), w.as_deref(), u.as_deref())
                            .is_ok()
                    });
                    if inside {
                        admitted.push((id, v));
                    }
                }
                ratings = admitted;
            }
            Ok(store.record_feedback(&req.session_key, &ratings)?)
        })
        .await?;
        Ok(FeedbackResponse {
            ok: true,
            recorded,
            extra: Default::default(),
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn parse(body: Value) -> Result<FeedbackInput> {
        FeedbackInput::try_from(&body)
    }

    #[test]
    fn ratings_are_clamped_and_non_numbers_dropped() {
        let got = parse(json!({"sessionKey": " s1 ", "feedback": {"a": 3, "b": -0.25, "c": "x"}}))
            .unwrap();
        assert_eq!(got.session_key, "s1");
        let mut ratings = got.ratings;
        ratings.sort_by(|x, y| x.0.cmp(&y.0));
        assert_eq!(ratings, [("a".into(), 1.0), ("b".into(), -0.25)]);
    }

    #[test]
    fn missing_fields_and_bad_maps_are_upstreams_400s() {
        for body in [
            json!({"feedback": {"a": 1}}),
            json!({"sessionKey": "s"}),
            json!({"sessionKey": "", "feedback": {"a": 1}}),
        ] {
            let e = parse(body).unwrap_err().to_string();
            assert_eq!(e, "sessionKey and feedback required");
        }
        for body in [
            json!({"sessionKey": "s", "feedback": [1]}),
            json!({"sessionKey": "s", "feedback": {"a": "x"}}),
            json!({"sessionKey": "s", "feedback": {}}),
        ] {
            assert_eq!(parse(body).unwrap_err().to_string(), BAD_FORMAT);
        }
    }
}
