//! The hooks' request bodies, read by `TryFrom<&Value>` with upstream's 400 messages.

use serde_json::{Map, Value};

use crate::error::{CoreError, Result};
use crate::memory::input;
use crate::sessions::RuntimePath;

type Obj = Map<String, Value>;

/// What every hook body carries: the harness, the session and its runtime path.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HookCall {
    pub harness: String,
    /// `sessionKey` (session end: else `sessionId`).
    pub session_key: Option<String>,
    /// The body's `runtimePath` (`plugin` / `legacy`; anything else is none). The
    /// `x-signet-runtime-path` header, when valid, replaces it ([`HookCall::with_header`]).
    pub runtime_path: Option<RuntimePath>,
    /// `x-signet-no-hooks: 1`: an internal call; the hook answers its empty stub at once.
    pub skip: bool,
}

impl HookCall {
    fn read(obj: &Obj, missing: &str) -> Result<Self> {
        let harness = input::opt_trimmed(obj, "harness")
            .ok()
            .flatten()
            .ok_or_else(|| CoreError::Invalid(missing.to_owned()))?;
        Ok(Self {
            harness,
            session_key: input::opt_trimmed(obj, "sessionKey")?,
            runtime_path: input::opt_trimmed(obj, "runtimePath")?
                .as_deref()
                .and_then(RuntimePath::parse),
            skip: false,
        })
    }

    /// The header's runtime path wins over the body's (an invalid header is ignored).
    pub fn with_header(&mut self, header: Option<&str>) {
        if let Some(p) = header.and_then(RuntimePath::parse) {
            self.runtime_path = Some(p);
        }
    }
}

/// A required text field: missing, empty or not a string gives `missing`.
fn required(obj: &Obj, key: &str, missing: &str) -> Result<String> {
    input::opt_trimmed(obj, key)
        .ok()
        .flatten()
        .ok_or_else(|| CoreError::Invalid(missing.to_owned()))
}

/// The body as an object and its [`HookCall`]: 400 `missing` when the body is not an object
/// (as upstream's destructuring would) or has no harness.
fn open<'a>(body: &'a Value, missing: &str) -> Result<(&'a Obj, HookCall)> {
    let obj = body
        .as_object()
        .ok_or_else(|| CoreError::Invalid(missing.to_owned()))?;
    Ok((obj, HookCall::read(obj, missing)?))
}

/// `POST /api/hooks/session-start`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SessionStartInput {
    pub call: HookCall,
    pub project: Option<String>,
    pub agent_id: Option<String>,
    /// Team mode: a session token was asked for.
    pub session_token: bool,
}

impl TryFrom<&Value> for SessionStartInput {
    type Error = CoreError;

    fn try_from(body: &Value) -> Result<Self> {
        const MISSING: &str = "harness is required";
        let (obj, call) = open(body, MISSING)?;
        Ok(Self {
            call,
            project: input::opt_trimmed(obj, "project")?,
            agent_id: input::opt_trimmed(obj, "agentId")?,
            session_token: input::opt_bool(obj.get("sessionToken"), "sessionToken")?
                .unwrap_or(false),
        })
    }
}

/// `POST /api/hooks/user-prompt-submit`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UserPromptInput {
    pub call: HookCall,
    /// `userMessage`, else `userPrompt`.
    pub prompt: String,
    pub last_assistant: Option<String>,
    pub project: Option<String>,
}

impl TryFrom<&Value> for UserPromptInput {
    type Error = CoreError;

    fn try_from(body: &Value) -> Result<Self> {
        const MISSING: &str = "harness and userMessage or userPrompt are required";
        let (obj, call) = open(body, MISSING)?;
        let text = |k| input::opt_trimmed(obj, k).ok().flatten();
        let prompt = text("userMessage")
            .or_else(|| text("userPrompt"))
            .ok_or_else(|| CoreError::Invalid(MISSING.to_owned()))?;
        Ok(Self {
            call,
            prompt,
            last_assistant: input::opt_trimmed(obj, "lastAssistantMessage")?,
            project: input::opt_trimmed(obj, "project")?,
        })
    }
}

/// `POST /api/hooks/session-end`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SessionEndInput {
    pub call: HookCall,
    pub transcript_path: Option<String>,
    pub cwd: Option<String>,
    pub reason: Option<String>,
}

impl TryFrom<&Value> for SessionEndInput {
    type Error = CoreError;

    fn try_from(body: &Value) -> Result<Self> {
        const MISSING: &str = "harness is required";
        let (obj, mut call) = open(body, MISSING)?;
        if call.session_key.is_none() {
            call.session_key = input::opt_trimmed(obj, "sessionId")?;
        }
        Ok(Self {
            call,
            transcript_path: input::opt_trimmed(obj, "transcriptPath")?,
            cwd: input::opt_trimmed(obj, "cwd")?,
            reason: input::opt_trimmed(obj, "reason")?,
        })
    }
}

/// `POST /api/hooks/remember`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HookRememberInput {
    pub call: HookCall,
    pub content: String,
    pub who: Option<String>,
    pub project: Option<String>,
    pub idempotency_key: Option<String>,
}

impl TryFrom<&Value> for HookRememberInput {
    type Error = CoreError;

    fn try_from(body: &Value) -> Result<Self> {
        const MISSING: &str = "harness and content are required";
        let (obj, call) = open(body, MISSING)?;
        Ok(Self {
            call,
            content: required(obj, "content", MISSING)?,
            who: input::opt_trimmed(obj, "who")?,
            project: input::opt_trimmed(obj, "project")?,
            idempotency_key: input::opt_trimmed(obj, "idempotencyKey")?,
        })
    }
}

/// `POST /api/hooks/recall`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HookRecallInput {
    pub call: HookCall,
    pub query: String,
    pub project: Option<String>,
    pub limit: usize,
}

impl TryFrom<&Value> for HookRecallInput {
    type Error = CoreError;

    fn try_from(body: &Value) -> Result<Self> {
        const MISSING: &str = "harness and query are required";
        let (obj, call) = open(body, MISSING)?;
        Ok(Self {
            call,
            query: required(obj, "query", MISSING)?,
            project: input::opt_trimmed(obj, "project")?,
            limit: input::limit(obj.get("limit"), "limit", 10, 100)?,
        })
    }
}

/// `POST /api/hooks/pre-compaction`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PreCompactionInput {
    pub call: HookCall,
}

impl TryFrom<&Value> for PreCompactionInput {
    type Error = CoreError;

    fn try_from(body: &Value) -> Result<Self> {
        let (_, call) = open(body, "harness is required")?;
        Ok(Self { call })
    }
}

/// `POST /api/hooks/compaction-complete`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CompactionCompleteInput {
    pub call: HookCall,
    pub summary: String,
}

impl TryFrom<&Value> for CompactionCompleteInput {
    type Error = CoreError;

    fn try_from(body: &Value) -> Result<Self> {
        const MISSING: &str = "harness and summary are required";
        let (obj, call) = open(body, MISSING)?;
        Ok(Self {
            call,
            summary: required(obj, "summary", MISSING)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn message<T: for<'a> TryFrom<&'a Value, Error = CoreError> + std::fmt::Debug>(
        body: Value,
    ) -> String {
        T::try_from(&body).unwrap_err().to_string()
    }

    #[test]
    fn missing_fields_give_upstreams_messages() {
        assert_eq!(
            message::<SessionStartInput>(json!({})),
            "harness is required"
        );
        assert_eq!(
            message::<UserPromptInput>(json!({"harness": "x", "userMessage": " "})),
            "harness and userMessage or userPrompt are required"
        );
        assert_eq!(
            message::<HookRememberInput>(json!({"harness": "x"})),
            "harness and content are required"
        );
        assert_eq!(
            message::<CompactionCompleteInput>(json!({"content": "x"})),
            "harness and summary are required"
        );
        assert_eq!(message::<SessionEndInput>(json!([])), "harness is required");
    }

    #[test]
    fn the_header_runtime_path_wins_and_unknown_paths_are_none() {
        let body = json!({"harness": "h", "runtimePath": "plugin", "sessionId": "s"});
        let mut end = SessionEndInput::try_from(&body).unwrap();
        assert_eq!(end.call.session_key.as_deref(), Some("s"));
        end.call.with_header(Some("legacy"));
        assert_eq!(end.call.runtime_path, Some(RuntimePath::Legacy));
        end.call.with_header(Some("other"));
        assert_eq!(end.call.runtime_path, Some(RuntimePath::Legacy));
        let odd = json!({"harness": "h", "runtimePath": "daemon"});
        assert_eq!(
            PreCompactionInput::try_from(&odd)
                .unwrap()
                .call
                .runtime_path,
            None
        );
        let prompt = json!({"harness": "h", "userPrompt": "p", "userMessage": ""});
        assert_eq!(UserPromptInput::try_from(&prompt).unwrap().prompt, "p");
    }
}
