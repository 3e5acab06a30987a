//! The decision for one extracted fact against its candidate memories (upstream-facts §8.3
//! steps 7 and 9): the prompt, its JSON schema, the parser (proposals naming a memory that is
//! not a candidate are refused), and the syntactic and semantic contradiction checks.

use std::collections::HashSet;

use serde_json::{Value, json};

use super::extraction::{Fact, confidence};
use super::json::recover;

/// A live memory the fact might duplicate, update or contradict.
#[derive(Clone, Debug, PartialEq)]
pub struct Candidate {
    pub id: String,
    /// The memory's `type` column.
    pub memory_type: String,
    pub content: String,
}

/// What to do with the fact.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// Store the fact as a new memory.
    Add,
    /// Replace the candidate `target`'s content with `content` (the model's merged text, or
    /// the fact itself when it gave none).
    Update { target: String, content: String },
    /// The fact makes the candidate `target` obsolete.
    Delete { target: String },
    /// Nothing to do (already known, or not worth keeping).
    None,
}

impl Action {
    /// Upstream's name: `add`, `update`, `delete` or `none`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Add => "add",
            Self::Update { .. } => "update",
            Self::Delete { .. } => "delete",
            Self::None => "none",
        }
    }

    /// The memory the action changes, for update and delete.
    pub fn target(&self) -> Option<&str> {
        match self {
            Self::Update { target, .. } | Self::Delete { target } => Some(target),
            Self::Add | Self::None => None,
        }
    }
}

/// A proposal for one fact.
#[derive(Clone, Debug, PartialEq)]
pub struct Decision {
    pub action: Action,
    /// The model's confidence in the decision, in [0, 1] (0.5 when not given).
    pub confidence: f64,
    pub reason: String,
}

/// A parsed answer: the decision, and warnings (a refused target, for one).
#[derive(Clone, Debug, PartialEq)]
pub struct DecisionParse {
    pub decision: Decision,
    pub warnings: Vec<String>,
}

/// The proposal when there are no candidates (no LLM call): add, at the fact's confidence.
pub fn no_candidates(fact: &Fact) -> Decision {
    Decision {
        action: Action::Add,
        confidence: fact.confidence,
        reason: "No existing memories match this fact".to_owned(),
    }
}

/// The decision prompt: the fact, the candidates as `[i] ID / Type / Content`, the answer shape.
pub fn build_prompt(fact: &Fact, candidates: &[Candidate]) -> String {
    let mut p = String::from(
        "You maintain a memory store. Decide what to do with a NEW FACT given EXISTING memories \
that may overlap with it.\n\nActions:\n\
- add: the fact is new information; store it.\n\
- update: the fact refines or corrects one existing memory; give its targetId and the merged \
content.\n\
- delete: the fact makes one existing memory obsolete or wrong; give its targetId.\n\
- none: the fact is already covered; do nothing.\n\n",
    );
    p.push_str(&format!(
        "NEW FACT ({}, confidence {:.2}):\n{}\n\nEXISTING:\n",
        fact.fact_type, fact.confidence, fact.content
    ));
    for (i, c) in candidates.iter().enumerate() {
        p.push_str(&format!(
            "[{}] ID: {}\n    Type: {}\n    Content: {}\n",
            i + 1,
            c.id,
            c.memory_type,
            c.content
        ));
    }
    p.push_str(
        "\nReturn ONLY a JSON object:\n\
{\"action\": \"add|update|delete|none\", \"targetId\": \"<ID of an existing memory, for update or \
delete>\", \"content\": \"<merged content, for update>\", \"confidence\": 0.0-1.0, \"reason\": \
\"<one sentence>\"}\n",
    );
    p
}

/// The JSON schema of the decision answer.
pub fn schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "action": {"type": "string", "enum": ["add", "update", "delete", "none"]},
            "targetId": {"type": ["string", "null"]},
            "content": {"type": ["string", "null"]},
            "confidence": {"type": "number", "minimum": 0, "maximum": 1},
            "reason": {"type": "string"},
        },
        "required": ["action", "confidence", "reason"],
    })
}

/// A target id as given: a string, or a number (models sometimes drop the quotes).
fn target_id(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Parses a decision answer for `fact`. `Err` (with the warning) means no proposal for this
/// fact, as upstream: no JSON, an unknown action, or an empty reason. An update or delete whose
/// `targetId` is missing or not one of `candidates` becomes `none`, with a warning.
pub fn parse(raw: &str, fact: &Fact, candidates: &[Candidate]) -> Result<DecisionParse, String> {
    let v = recover(raw).ok_or_else(|| "decision: no JSON in the answer".to_owned())?;
    let obj = v
        .as_object()
        .ok_or_else(|| "decision: the answer is not a JSON object".to_owned())?;
    let action = obj
        .get("action")
        .and_then(Value::as_str)
        .map(|s| s.trim().to_lowercase())
        .unwrap_or_default();
    let reason = obj
        .get("reason")
        .and_then(Value::as_str)
        .map(str::trim)
        .unwrap_or_default()
        .to_owned();
    if reason.is_empty() {
        return Err("decision: empty reason".to_owned());
    }
    let confidence = confidence(obj.get("confidence"));
    let mut warnings = Vec::new();
    let target = match action.as_str() {
        "update" | "delete" => match target_id(obj.get("targetId")) {
            Some(t) if candidates.iter().any(|c| c.id == t) => Some(t),
            Some(t) => {
                warnings.push(format!(
                    "decision: {action} target {t} is not a candidate; treated as none"
                ));
                None
            }
            None => {
                warnings.push(format!(
                    "decision: {action} without a targetId; treated as none"
                ));
                None
            }
        },
        "add" | "none" => None,
        other => return Err(format!("decision: unknown action {other:?}")),
    };
    let action = match (action.as_str(), target) {
        ("add", _) => Action::Add,
        ("update", Some(target)) => {
            let content = obj
                .get("content")
                .and_then(Value::as_str)
                .map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "))
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| fact.content.clone());
            Action::Update { target, content }
        }
        ("delete", Some(target)) => Action::Delete { target },
        _ => Action::None,
    };
    Ok(DecisionParse {
        decision: Decision {
            action,
            confidence,
            reason,
        },
        warnings,
    })
}

/// Negation markers of the syntactic check (upstream's list; apostrophes are dropped first, so
/// `can't` is `cant`).
pub const NEGATIONS: [&str; 11] = [
    "not", "no", "never", "cannot", "cant", "doesnt", "dont", "isnt", "wasnt", "wont", "without",
];

/// Antonym pairs of the syntactic check (upstream's list).
pub const ANTONYMS: [(&str, &str); 6] = [
    ("enabled", "disabled"),
    ("allow", "deny"),
    ("accept", "reject"),
    ("always", "never"),
    ("on", "off"),
    ("true", "false"),
];

/// Lowercased word tokens, apostrophes removed (`don't` → `dont`).
fn tokens(text: &str) -> Vec<String> {
    text.to_lowercase()
        .replace(['\'', '\u{2019}'], "")
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

fn is_marker(w: &str) -> bool {
    NEGATIONS.contains(&w) || ANTONYMS.iter().any(|(a, b)| *a == w || *b == w)
}

/// Distinct content tokens (3+ chars, not a negation or antonym marker) the texts share.
/// Upstream's tokeniser is not specified beyond "lexical overlap"; this one is deliberately
/// conservative: short words (`is`, `to`) and the markers themselves never count.
pub fn token_overlap(a: &str, b: &str) -> usize {
    let set = |t: &str| -> HashSet<String> {
        tokens(t)
            .into_iter()
            .filter(|w| w.chars().count() >= 3 && !is_marker(w))
            .collect()
    };
    set(a).intersection(&set(b)).count()
}

/// Upstream's syntactic contradiction: the texts share at least 2 content tokens, and either
/// exactly one of them is negated, or an antonym pair is split between them (one side only in
/// one text, the other side only in the other).
pub fn syntactic_contradiction(a: &str, b: &str) -> bool {
    if token_overlap(a, b) < 2 {
        return false;
    }
    let (ta, tb) = (tokens(a), tokens(b));
    let has = |t: &[String], w: &str| t.iter().any(|x| x == w);
    let negated = |t: &[String]| NEGATIONS.iter().any(|n| has(t, n));
    if negated(&ta) != negated(&tb) {
        return true;
    }
    ANTONYMS.iter().any(|(x, y)| {
        let split = |p: &[String], q: &[String]| has(p, x) && !has(p, y) && has(q, y) && !has(q, x);
        split(&ta, &tb) || split(&tb, &ta)
    })
}

/// Token overlap an update needs before the semantic check runs.
pub const SEMANTIC_MIN_OVERLAP: usize = 3;
/// Confidence at which a detected semantic contradiction blocks the update.
pub const SEMANTIC_BLOCK_CONFIDENCE: f64 = 0.7;

/// Whether an update from `new` over `old` goes to the LLM semantic check: enough overlap,
/// and no syntactic contradiction already found.
pub fn needs_semantic_check(new: &str, old: &str) -> bool {
    token_overlap(new, old) >= SEMANTIC_MIN_OVERLAP && !syntactic_contradiction(new, old)
}

/// The semantic contradiction prompt.
pub fn build_contradiction_prompt(new: &str, old: &str) -> String {
    format!(
        "Do these two statements contradict each other (both cannot be true at once)?\n\n\
EXISTING: {old}\nNEW: {new}\n\nReturn ONLY a JSON object: {{\"detected\": true|false, \
\"confidence\": 0.0-1.0, \"reason\": \"<one sentence>\"}}\n"
    )
}

/// The JSON schema of the semantic contradiction answer.
pub fn contradiction_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "detected": {"type": "boolean"},
            "confidence": {"type": "number", "minimum": 0, "maximum": 1},
            "reason": {"type": "string"},
        },
        "required": ["detected", "confidence"],
    })
}

/// Whether the semantic answer blocks the update: `detected` true with confidence ≥ 0.7. An
/// answer that cannot be read blocks nothing (the check is advisory; upstream's "no result").
pub fn contradiction_blocks(raw: &str) -> bool {
    let Some(v) = recover(raw) else {
        return false;
    };
    v.get("detected").and_then(Value::as_bool) == Some(true)
        && confidence(v.get("confidence")) >= SEMANTIC_BLOCK_CONFIDENCE
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fact() -> Fact {
        Fact {
            content: "The API server listens on port 8080".into(),
            fact_type: "fact".into(),
            confidence: 0.8,
        }
    }

    fn cands() -> Vec<Candidate> {
        vec![
            Candidate {
                id: "m-1".into(),
                memory_type: "fact".into(),
                content: "The API server listens on port 3000".into(),
            },
            Candidate {
                id: "m-2".into(),
                memory_type: "preference".into(),
                content: "Prefers tabs".into(),
            },
        ]
    }

    fn ok(raw: &str) -> DecisionParse {
        parse(raw, &fact(), &cands()).unwrap()
    }

    #[test]
    fn prompt_lists_fact_and_candidates() {
        let p = build_prompt(&fact(), &cands());
        assert!(p.contains("The API server listens on port 8080"));
        assert!(p.contains(
            "[1] ID: m-1\n    Type: fact\n    Content: The API server listens on port 3000"
        ));
        assert!(p.contains("[2] ID: m-2"));
        assert!(p.contains("add|update|delete|none"));
        assert_eq!(schema()["properties"]["action"]["enum"][3], "none");
    }

    #[test]
    fn no_candidates_is_add() {
        let d = no_candidates(&fact());
        assert_eq!(d.action, Action::Add);
        assert_eq!(d.confidence, 0.8);
    }

    #[test]
    fn each_action_parses() {
        let d = ok(r#"{"action":"add","confidence":0.9,"reason":"new"}"#);
        assert_eq!(d.decision.action, Action::Add);
        assert!(d.warnings.is_empty());

        let d = ok(r#"{"action":"none","targetId":null,"confidence":0.9,"reason":"known"}"#);
        assert_eq!(d.decision.action, Action::None);

        let d = ok(
            r#"{"action":"update","targetId":"m-1","content":"The API  server listens on 8080","confidence":0.7,"reason":"port changed"}"#,
        );
        assert_eq!(
            d.decision.action,
            Action::Update {
                target: "m-1".into(),
                content: "The API server listens on 8080".into()
            }
        );
        assert_eq!(d.decision.action.target(), Some("m-1"));

        let d = ok(r#"{"action":"UPDATE","targetId":"m-1","confidence":2,"reason":"x"}"#);
        assert_eq!(
            d.decision.action,
            Action::Update {
                target: "m-1".into(),
                content: fact().content
            }
        );
        assert_eq!(d.decision.confidence, 1.0);

        let d = ok(r#"{"action":"delete","targetId":"m-2","reason":"obsolete"}"#);
        assert_eq!(
            d.decision.action,
            Action::Delete {
                target: "m-2".into()
            }
        );
        assert_eq!(d.decision.confidence, 0.5);
        assert_eq!(d.decision.action.name(), "delete");
    }

    #[test]
    fn fenced_and_think_answers_parse() {
        let d = ok(
            "<think>m-9?</think>\n```json\n{\"action\":\"delete\",\"targetId\":\"m-1\",\"reason\":\"r\",}\n```",
        );
        assert_eq!(
            d.decision.action,
            Action::Delete {
                target: "m-1".into()
            }
        );
        let d = ok("My answer: {\"action\":\"none\",\"reason\":\"dup\"} — done");
        assert_eq!(d.decision.action, Action::None);
    }

    #[test]
    fn non_candidate_targets_become_none() {
        for raw in [
            r#"{"action":"update","targetId":"m-9","reason":"r"}"#,
            r#"{"action":"delete","targetId":7,"reason":"r"}"#,
            r#"{"action":"delete","reason":"r"}"#,
        ] {
            let d = ok(raw);
            assert_eq!(d.decision.action, Action::None, "{raw}");
            assert_eq!(d.warnings.len(), 1, "{raw}");
        }
        assert!(
            ok(r#"{"action":"update","targetId":"m-9","reason":"r"}"#).warnings[0]
                .contains("m-9 is not a candidate")
        );
    }

    #[test]
    fn invalid_answers_drop_the_proposal() {
        for raw in [
            "no idea",
            "[1,2]",
            r#"{"action":"merge","targetId":"m-1","reason":"r"}"#,
            r#"{"action":"add","reason":"  "}"#,
            r#"{"action":"add"}"#,
            r#"{"reason":"r"}"#,
        ] {
            assert!(parse(raw, &fact(), &cands()).is_err(), "{raw}");
        }
    }

    #[test]
    fn syntactic_contradictions() {
        // Negation differs.
        assert!(syntactic_contradiction(
            "Alice uses dark mode in the editor",
            "Alice doesn't use dark mode in the editor"
        ));
        assert!(syntactic_contradiction(
            "Telemetry is never sent to the server",
            "Telemetry is sent to the server daily"
        ));
        // Antonym split.
        assert!(syntactic_contradiction(
            "Dark mode is enabled in the settings",
            "Dark mode is disabled in the settings"
        ));
        assert!(syntactic_contradiction(
            "The flag debug logging is on",
            "The flag debug logging is off"
        ));
        // Same polarity, same side: no contradiction.
        assert!(!syntactic_contradiction(
            "Alice does not use tabs in Python code",
            "Alice never uses tabs in Python code"
        ));
        assert!(!syntactic_contradiction(
            "Dark mode is enabled in the settings",
            "Dark mode is enabled in the editor settings"
        ));
        // Too little overlap: unrelated statements are not contradictions.
        assert!(!syntactic_contradiction(
            "Bob likes tea",
            "Carol does not like coffee"
        ));
        // Both sides of a pair in one text: not a split.
        assert!(!syntactic_contradiction(
            "Feature flags can be enabled or disabled per project",
            "Feature flags are disabled per project"
        ));
    }

    #[test]
    fn semantic_check_gate_and_answer() {
        assert!(needs_semantic_check(
            "The API server listens on port 8080",
            "The API server listens on port 3000"
        ));
        assert!(!needs_semantic_check(
            "Our server is fast",
            "Our server is slow"
        ));
        assert!(!needs_semantic_check(
            "The API server listens on port 8080",
            "The API server never listens on port 8080"
        ));
        assert!(build_contradiction_prompt("new", "old").contains("EXISTING: old\nNEW: new"));
        assert_eq!(contradiction_schema()["required"][0], "detected");
        assert!(contradiction_blocks(
            r#"{"detected":true,"confidence":0.7}"#
        ));
        assert!(contradiction_blocks(
            "<think>x</think>```json\n{\"detected\":true,\"confidence\":0.9,\"reason\":\"r\"}\n```"
        ));
        assert!(!contradiction_blocks(
            r#"{"detected":true,"confidence":0.6}"#
        ));
        assert!(!contradiction_blocks(
            r#"{"detected":false,"confidence":0.99}"#
        ));
        assert!(!contradiction_blocks("garbage"));
    }
}
