//! Facts and entities from a memory's text (upstream-facts §8.3 steps 3–6): the prompt, the
//! JSON schema for constrained output, the tolerant parser with upstream's limits, and the
//! escalation check.

use std::collections::HashSet;
use std::time::Duration;

use serde::Serialize;
use serde_json::{Map, Value, json};

use super::json::recover;
use crate::config::{ExtractionSettings, ExtractionStrength};
use crate::llm::LlmRequest;

/// Upstream's `MEMORY_TYPES`: the valid fact types; anything else becomes `fact`.
pub const MEMORY_TYPES: [&str; 9] = [
    "fact",
    "preference",
    "decision",
    "rationale",
    "daily-log",
    "episodic",
    "procedural",
    "semantic",
    "system",
];

/// The fact types the prompt asks for (a subset of [`MEMORY_TYPES`]).
pub const PROMPT_FACT_TYPES: [&str; 6] = [
    "fact",
    "preference",
    "decision",
    "rationale",
    "procedural",
    "semantic",
];

/// The entity types the prompt asks for; any other given type becomes `unknown`.
pub const ENTITY_TYPES: [&str; 8] = [
    "person", "project", "system", "tool", "concept", "skill", "task", "unknown",
];

/// Inputs shorter than this (after whitespace collapsing) make no LLM call.
pub const MIN_INPUT_CHARS: usize = 20;
/// A fact's content must be at least this long after trimming.
pub const MIN_FACT_CHARS: usize = 20;
/// Confidence when the model gives none (or a non-number).
pub const DEFAULT_CONFIDENCE: f64 = 0.5;
/// The warning of an input under [`MIN_INPUT_CHARS`].
pub const WARN_TOO_SHORT: &str = "Input too short (< 20 chars)";
/// The warning of an answer with no JSON in it (not a job failure).
pub const WARN_UNPARSEABLE: &str = "Failed to parse LLM output as JSON";

/// The limits applied to an extraction (upstream's values by default).
#[derive(Clone, Debug, PartialEq)]
pub struct ExtractionLimits {
    /// Facts kept (20); the rest are dropped with a warning.
    pub max_facts: usize,
    /// Entities kept (15); the rest are dropped with a warning.
    pub max_entities: usize,
    /// Input characters sent (12000); longer input is cut and marked `[truncated]`.
    pub max_input_chars: usize,
    /// A fact's content is cut to this many characters (2000).
    pub max_fact_chars: usize,
    /// Facts below this confidence are dropped with a warning. Upstream keeps them at
    /// extraction and skips them at write time (`extraction.minConfidence`, 0.7); the default
    /// here is 0.0 (keep all) so the write step can count `skippedLowConfidence` as upstream;
    /// a caller that wants them gone early sets it from the config.
    pub min_confidence: f64,
}

impl Default for ExtractionLimits {
    fn default() -> Self {
        Self {
            max_facts: 20,
            max_entities: 15,
            max_input_chars: 12_000,
            max_fact_chars: 2_000,
            min_confidence: 0.0,
        }
    }
}

/// One extracted fact.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Fact {
    /// Trimmed, whitespace-collapsed, at most `max_fact_chars`.
    pub content: String,
    /// One of [`MEMORY_TYPES`].
    #[serde(rename = "type")]
    pub fact_type: String,
    /// In [0, 1].
    pub confidence: f64,
}

/// One extracted relation triple.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Entity {
    pub source: String,
    /// One of [`ENTITY_TYPES`], when given.
    pub source_type: Option<String>,
    pub relationship: String,
    pub target: String,
    /// One of [`ENTITY_TYPES`], when given.
    pub target_type: Option<String>,
    /// In [0, 1].
    pub confidence: f64,
}

/// What one extraction produced; `warnings` say what was dropped or why nothing was.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Extraction {
    pub facts: Vec<Fact>,
    pub entities: Vec<Entity>,
    pub warnings: Vec<String>,
}

impl Extraction {
    fn warning(w: &str) -> Self {
        Self {
            warnings: vec![w.to_owned()],
            ..Self::default()
        }
    }
}

fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The text to send: whitespace collapsed and trimmed, cut to `max_input_chars` and followed
/// by `\n[truncated]` when longer. `Err` is the result to record without any LLM call (input
/// under [`MIN_INPUT_CHARS`]).
pub fn prepare_input(content: &str, limits: &ExtractionLimits) -> Result<String, Extraction> {
    let text = collapse(content);
    if text.chars().count() < MIN_INPUT_CHARS {
        return Err(Extraction::warning(WARN_TOO_SHORT));
    }
    Ok(match text.char_indices().nth(limits.max_input_chars) {
        Some((i, _)) => format!("{}\n[truncated]", &text[..i]),
        None => text,
    })
}

const INSTRUCTIONS: &str = "\
Extract durable knowledge from the text below. Return ONLY a JSON object, no prose:
{\"facts\": [{\"content\": \"...\", \"type\": \"fact|preference|decision|rationale|procedural|semantic\", \"confidence\": 0.0-1.0}],
 \"entities\": [{\"source\": \"...\", \"source_type\": \"person|project|system|tool|concept|skill|task|unknown\", \"relationship\": \"...\", \"target\": \"...\", \"target_type\": \"person|project|system|tool|concept|skill|task|unknown\", \"confidence\": 0.0-1.0}]}

Rules:
- Each fact is atomic (one piece of knowledge) and self-contained: understandable without the \
text, with names instead of pronouns.
- For every decision that has reasons, add a separate fact of type \"rationale\" stating why.
- Skip greetings, filler and anything transient.
- confidence is how certain the text makes the fact (0 to 1).
- Entities are relation triples between named things (people, projects, systems, tools, \
concepts, skills, tasks).";

/// The level-1 extraction prompt for prepared input (see [`prepare_input`]).
pub fn build_prompt(input: &str, limits: &ExtractionLimits) -> String {
    format!(
        "{INSTRUCTIONS}\n- At most {} facts, each under {} characters, and at most {} entities.\n\nText:\n{input}\n",
        limits.max_facts, limits.max_fact_chars, limits.max_entities
    )
}

/// At most this many entities at level 2 (`escalation.level2MaxEntities`).
pub const LEVEL2_MAX_ENTITIES: usize = 5;

/// The stricter level-2 prompt, used when level 1 fails [`escalation_passes`]: only
/// decisions, constraints and persistent facts, and at most [`LEVEL2_MAX_ENTITIES`] entities.
pub fn build_strict_prompt(input: &str, limits: &ExtractionLimits) -> String {
    format!(
        "{INSTRUCTIONS}\n- STRICT MODE: extract only decisions, constraints and persistent facts; \
ignore everything else.\n- At most {} facts, each under {} characters, and at most \
{LEVEL2_MAX_ENTITIES} entities (only the most important).\n\nText:\n{input}\n",
        limits.max_facts, limits.max_fact_chars
    )
}

/// The JSON schema of the answer, for providers that constrain output.
pub fn schema() -> Value {
    let conf = json!({"type": "number", "minimum": 0, "maximum": 1});
    json!({
        "type": "object",
        "properties": {
            "facts": {"type": "array", "items": {
                "type": "object",
                "properties": {
                    "content": {"type": "string"},
                    "type": {"type": "string", "enum": PROMPT_FACT_TYPES},
                    "confidence": conf,
                },
                "required": ["content", "type", "confidence"],
            }},
            "entities": {"type": "array", "items": {
                "type": "object",
                "properties": {
                    "source": {"type": "string"},
                    "source_type": {"type": "string", "enum": ENTITY_TYPES},
                    "relationship": {"type": "string"},
                    "target": {"type": "string"},
                    "target_type": {"type": "string", "enum": ENTITY_TYPES},
                    "confidence": conf,
                },
                "required": ["source", "relationship", "target"],
            }},
        },
        "required": ["facts", "entities"],
    })
}

/// A confidence: a number (or numeric string) clamped to [0, 1]; anything else the default.
pub(crate) fn confidence(v: Option<&Value>) -> f64 {
    let n = match v {
        Some(Value::Number(n)) => n.as_f64(),
        Some(Value::String(s)) => s.trim().parse::<f64>().ok(),
        _ => None,
    };
    match n {
        Some(n) if n.is_finite() => n.clamp(0.0, 1.0),
        _ => DEFAULT_CONFIDENCE,
    }
}

/// A non-empty trimmed, collapsed string field.
fn text_field(obj: &Map<String, Value>, key: &str) -> Option<String> {
    let s = collapse(obj.get(key)?.as_str()?);
    (!s.is_empty()).then_some(s)
}

fn fact_type(v: Option<&Value>) -> String {
    let t = v.and_then(Value::as_str).map(|s| s.trim().to_lowercase());
    match t {
        Some(t) if MEMORY_TYPES.contains(&t.as_str()) => t,
        _ => "fact".to_owned(),
    }
}

fn entity_type(v: Option<&Value>) -> Option<String> {
    let t = v?.as_str()?.trim().to_lowercase();
    if t.is_empty() {
        return None;
    }
    Some(if ENTITY_TYPES.contains(&t.as_str()) {
        t
    } else {
        "unknown".to_owned()
    })
}

fn items<'a>(root: &'a Value, key: &str, warnings: &mut Vec<String>) -> &'a [Value] {
    match root.get(key) {
        Some(Value::Array(a)) => a,
        None | Some(Value::Null) => &[],
        Some(_) => {
            warnings.push(format!("\"{key}\" is not an array; ignored"));
            &[]
        }
    }
}

/// Parses a model's answer: `<think>` stripped, the JSON found in fences or prose (trailing
/// commas tolerated), each item validated on its own (a bad item is dropped with a warning,
/// never the whole answer), then the limits applied: type normalisation, confidence clamping,
/// content length, the confidence threshold, dedup of identical facts, and the counts.
pub fn parse(raw: &str, limits: &ExtractionLimits) -> Extraction {
    let Some(root) = recover(raw) else {
        return Extraction::warning(WARN_UNPARSEABLE);
    };
    // A bare array is taken as the facts.
    let root = match root {
        Value::Array(a) => json!({ "facts": a }),
        v @ Value::Object(_) => v,
        _ => return Extraction::warning(WARN_UNPARSEABLE),
    };
    let mut out = Extraction::default();
    let mut seen = HashSet::new();
    let (mut bad, mut short, mut low, mut dup, mut over) = (0, 0, 0, 0, 0);
    for item in items(&root, "facts", &mut out.warnings) {
        let Some(obj) = item.as_object() else {
            bad += 1;
            continue;
        };
        let Some(content) = text_field(obj, "content") else {
            bad += 1;
            continue;
        };
        if content.chars().count() < MIN_FACT_CHARS {
            short += 1;
            continue;
        }
        let content = match content.char_indices().nth(limits.max_fact_chars) {
            Some((i, _)) => content[..i].trim_end().to_owned(),
            None => content,
        };
        let confidence = confidence(obj.get("confidence"));
        if confidence < limits.min_confidence {
            low += 1;
            continue;
        }
        if !seen.insert(content.to_lowercase()) {
            dup += 1;
            continue;
        }
        if out.facts.len() >= limits.max_facts {
            over += 1;
            continue;
        }
        out.facts.push(Fact {
            content,
            fact_type: fact_type(obj.get("type")),
            confidence,
        });
    }
    let warn = |w: &mut Vec<String>, n: usize, what: &str| {
        if n > 0 {
            w.push(format!("{n} {what}"));
        }
    };
    warn(
        &mut out.warnings,
        bad,
        "fact(s) without string content dropped",
    );
    warn(
        &mut out.warnings,
        short,
        &format!("fact(s) shorter than {MIN_FACT_CHARS} chars dropped"),
    );
    warn(
        &mut out.warnings,
        low,
        &format!("fact(s) below confidence {} dropped", limits.min_confidence),
    );
    warn(&mut out.warnings, dup, "duplicate fact(s) dropped");
    warn(
        &mut out.warnings,
        over,
        &format!("fact(s) over the limit of {} dropped", limits.max_facts),
    );

    let (mut bad, mut over) = (0, 0);
    for item in items(&root, "entities", &mut out.warnings) {
        let Some(obj) = item.as_object() else {
            bad += 1;
            continue;
        };
        let (Some(source), Some(relationship), Some(target)) = (
            text_field(obj, "source"),
            text_field(obj, "relationship"),
            text_field(obj, "target"),
        ) else {
            bad += 1;
            continue;
        };
        if out.entities.len() >= limits.max_entities {
            over += 1;
            continue;
        }
        out.entities.push(Entity {
            source,
            source_type: entity_type(obj.get("source_type")),
            relationship,
            target,
            target_type: entity_type(obj.get("target_type")),
            confidence: confidence(obj.get("confidence")),
        });
    }
    warn(
        &mut out.warnings,
        bad,
        "entit(ies) without source, relationship and target dropped",
    );
    warn(
        &mut out.warnings,
        over,
        &format!(
            "entit(ies) over the limit of {} dropped",
            limits.max_entities
        ),
    );
    out
}

/// Strength settings (§8.3 step 2): max tokens 1024 / 2048 / 4096 for low / medium / high,
/// and the timeout `timeout_ms` × 1 / 1.5 / 2.5, capped at `max(lease_timeout_ms / 2, 30000)`
/// ms so a call never outlives its job's lease.
pub fn strength_budget(
    strength: ExtractionStrength,
    timeout_ms: u64,
    lease_timeout_ms: u64,
) -> (u32, Duration) {
    let (tokens, factor) = match strength {
        ExtractionStrength::Low => (1024, 1.0),
        ExtractionStrength::Medium => (2048, 1.5),
        ExtractionStrength::High => (4096, 2.5),
    };
    let cap = (lease_timeout_ms / 2).max(30_000);
    let ms = ((timeout_ms as f64 * factor) as u64).min(cap);
    (tokens, Duration::from_millis(ms))
}

impl ExtractionLimits {
    /// Upstream's limits with the confidence threshold of `extraction.minConfidence`.
    pub fn with_min_confidence(min_confidence: f64) -> Self {
        Self {
            min_confidence: min_confidence.clamp(0.0, 1.0),
            ..Self::default()
        }
    }
}

/// The extraction request for a prompt: the schema, and the strength's token and time budget.
pub fn request(prompt: String, settings: &ExtractionSettings, lease_timeout_ms: u64) -> LlmRequest {
    let (tokens, timeout) =
        strength_budget(settings.strength, settings.timeout_ms, lease_timeout_ms);
    LlmRequest::new(prompt)
        .with_schema(schema())
        .with_max_tokens(tokens)
        .with_timeout(timeout)
}

/// `escalation.maxNewEntitiesPerChunk` default.
pub const MAX_NEW_ENTITIES_PER_CHUNK: usize = 10;
/// `escalation.maxNewAttributesPerEntity` default.
pub const MAX_NEW_ATTRIBUTES_PER_ENTITY: usize = 20;

/// The level-1 escalation check: at most `max_entities` entities, and no entity name
/// (source or target, case-insensitive) mentioned by more than `max_attributes` facts.
/// `false` means re-extract with [`build_strict_prompt`].
pub fn escalation_passes(x: &Extraction, max_entities: usize, max_attributes: usize) -> bool {
    if x.entities.len() > max_entities {
        return false;
    }
    let facts: Vec<String> = x.facts.iter().map(|f| f.content.to_lowercase()).collect();
    let names: HashSet<String> = x
        .entities
        .iter()
        .flat_map(|e| [e.source.to_lowercase(), e.target.to_lowercase()])
        .collect();
    names
        .iter()
        .all(|n| facts.iter().filter(|f| f.contains(n.as_str())).count() <= max_attributes)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LONG: &str = "Alice prefers dark mode in every editor she uses";

    fn lim() -> ExtractionLimits {
        ExtractionLimits::default()
    }

    #[test]
    fn short_input_makes_no_call() {
        let r = prepare_input("  too \n short  ", &lim());
        assert_eq!(r, Err(Extraction::warning(WARN_TOO_SHORT)));
    }

    #[test]
    fn input_is_collapsed_and_truncated() {
        let l = ExtractionLimits {
            max_input_chars: 25,
            ..lim()
        };
        assert_eq!(
            prepare_input("  a   b\n\n c  d e f g h i j k l m n o p ", &l).unwrap(),
            "a b c d e f g h i j k l m\n[truncated]"
        );
        assert_eq!(prepare_input(LONG, &lim()).unwrap(), LONG);
    }

    #[test]
    fn prompt_carries_contract_limits_and_content() {
        let p = build_prompt(LONG, &lim());
        assert!(p.contains("atomic"));
        assert!(p.contains("rationale"));
        assert!(p.contains("At most 20 facts"));
        assert!(p.contains("at most 15 entities"));
        assert!(p.ends_with(&format!("Text:\n{LONG}\n")));
        let s = build_strict_prompt(LONG, &lim());
        assert!(s.contains("decisions, constraints and persistent facts"));
        assert!(s.contains("at most 5 entities"));
    }

    #[test]
    fn schema_lists_types() {
        let s = schema();
        assert_eq!(
            s["properties"]["facts"]["items"]["properties"]["type"]["enum"][0],
            "fact"
        );
        assert_eq!(s["required"], json!(["facts", "entities"]));
    }

    fn answer(facts: Value, entities: Value) -> String {
        json!({"facts": facts, "entities": entities}).to_string()
    }

    #[test]
    fn clean_answer_parses() {
        let raw = answer(
            json!([{"content": LONG, "type": "preference", "confidence": 0.9}]),
            json!([{"source": "Alice", "source_type": "person", "relationship": "uses",
                    "target": "VS Code", "target_type": "tool", "confidence": 0.8}]),
        );
        let x = parse(&raw, &lim());
        assert_eq!(
            x.facts,
            vec![Fact {
                content: LONG.into(),
                fact_type: "preference".into(),
                confidence: 0.9
            }]
        );
        assert_eq!(x.entities[0].target_type.as_deref(), Some("tool"));
        assert!(x.warnings.is_empty(), "{:?}", x.warnings);
    }

    #[test]
    fn fenced_prose_and_think_answers_parse() {
        let body = answer(
            json!([{"content": LONG, "type": "fact", "confidence": 0.9}]),
            json!([]),
        );
        for raw in [
            format!("```json\n{body}\n```"),
            format!("Here are the facts:\n{body}\nLet me know!"),
            format!("<think>maybe {{\"facts\": []}}</think>\n{body}"),
            format!("<think>hmm</think>Sure.\n```\n{body}\n```\nDone."),
            body.replace("}]", "},]"),
        ] {
            let x = parse(&raw, &lim());
            assert_eq!(x.facts.len(), 1, "{raw}");
            assert!(x.warnings.is_empty(), "{raw}: {:?}", x.warnings);
        }
    }

    #[test]
    fn unparseable_answer_is_a_warning_not_an_error() {
        for raw in [
            "I could not find any facts.",
            "",
            "42",
            "<think>{\"facts\":",
        ] {
            assert_eq!(
                parse(raw, &lim()),
                Extraction::warning(WARN_UNPARSEABLE),
                "{raw}"
            );
        }
    }

    #[test]
    fn malformed_items_are_dropped_one_by_one() {
        let raw = answer(
            json!([
                {"content": LONG, "type": "decision", "confidence": 0.9},
                {"content": 42, "type": "fact"},
                "just a string",
                {"type": "fact"},
                {"content": "too short", "confidence": 0.9},
                {"content": "Bob maintains the billing service repo", "type": "nonsense", "confidence": "0.8"},
                {"content": "Carol deploys the website every Friday", "confidence": 7},
                {"content": "Dave writes all the release notes now", "confidence": "high"}
            ]),
            json!([
                {"source": "Alice", "relationship": "uses", "target": "Vim", "source_type": "Wizard"},
                {"source": "", "relationship": "uses", "target": "Vim"},
                {"source": "Alice", "target": "Vim"},
                7
            ]),
        );
        let x = parse(&raw, &lim());
        let got: Vec<(&str, f64)> = x
            .facts
            .iter()
            .map(|f| (f.fact_type.as_str(), f.confidence))
            .collect();
        assert_eq!(
            got,
            vec![
                ("decision", 0.9),
                ("fact", 0.8),
                ("fact", 1.0),
                ("fact", 0.5)
            ]
        );
        assert_eq!(x.entities.len(), 1);
        assert_eq!(x.entities[0].source_type.as_deref(), Some("unknown"));
        assert_eq!(x.entities[0].target_type, None);
        assert_eq!(x.entities[0].confidence, 0.5);
        assert_eq!(
            x.warnings,
            vec![
                "3 fact(s) without string content dropped",
                "1 fact(s) shorter than 20 chars dropped",
                "3 entit(ies) without source, relationship and target dropped",
            ]
        );
    }

    #[test]
    fn wrong_typed_top_level_arrays_are_ignored() {
        let x = parse(r#"{"facts": "none", "entities": null}"#, &lim());
        assert!(x.facts.is_empty() && x.entities.is_empty());
        assert_eq!(x.warnings, vec!["\"facts\" is not an array; ignored"]);
        let x = parse(&json!([{"content": LONG}]).to_string(), &lim());
        assert_eq!(x.facts.len(), 1);
    }

    #[test]
    fn limits_counts_length_threshold_and_dedup() {
        let l = ExtractionLimits {
            max_facts: 2,
            max_entities: 1,
            max_fact_chars: 30,
            min_confidence: 0.7,
            ..lim()
        };
        let raw = answer(
            json!([
                {"content": format!("{LONG} and also in the terminal"), "confidence": 0.9},
                {"content": format!("  {}  ", LONG.to_uppercase()), "confidence": 0.9},
                {"content": "Low confidence fact that is long enough", "confidence": 0.2},
                {"content": "Second kept fact, long enough here", "confidence": 0.7},
                {"content": "Third fact is over the count limit", "confidence": 0.9}
            ]),
            json!([
                {"source": "A", "relationship": "r", "target": "B"},
                {"source": "C", "relationship": "r", "target": "D"}
            ]),
        );
        let x = parse(&raw, &l);
        let contents: Vec<&str> = x.facts.iter().map(|f| f.content.as_str()).collect();
        assert_eq!(
            contents,
            vec![
                "Alice prefers dark mode in eve",
                "Second kept fact, long enough"
            ]
        );
        assert_eq!(x.entities.len(), 1);
        assert_eq!(
            x.warnings,
            vec![
                "1 fact(s) below confidence 0.7 dropped",
                "1 duplicate fact(s) dropped",
                "1 fact(s) over the limit of 2 dropped",
                "1 entit(ies) over the limit of 1 dropped",
            ]
        );
    }

    #[test]
    fn strength_budget_and_request() {
        use ExtractionStrength::*;
        assert_eq!(
            strength_budget(Low, 90_000, 300_000),
            (1024, Duration::from_secs(90))
        );
        assert_eq!(
            strength_budget(Medium, 90_000, 300_000),
            (2048, Duration::from_secs(135))
        );
        // 225 s capped at half the lease (150 s).
        assert_eq!(
            strength_budget(High, 90_000, 300_000),
            (4096, Duration::from_secs(150))
        );
        // The cap is never below 30 s.
        assert_eq!(
            strength_budget(Low, 90_000, 10_000).1,
            Duration::from_secs(30)
        );
        let r = request("p".into(), &ExtractionSettings::default(), 300_000);
        assert_eq!(r.max_tokens, Some(1024));
        assert_eq!(r.timeout, Duration::from_secs(90));
        assert_eq!(r.schema, Some(schema()));
        assert_eq!(
            ExtractionLimits::with_min_confidence(0.7).min_confidence,
            0.7
        );
    }

    #[test]
    fn escalation_check() {
        let e = |s: &str, t: &str| Entity {
            source: s.into(),
            source_type: None,
            relationship: "r".into(),
            target: t.into(),
            target_type: None,
            confidence: 0.5,
        };
        let f = |c: &str| Fact {
            content: c.into(),
            fact_type: "fact".into(),
            confidence: 0.5,
        };
        let ok = Extraction {
            facts: vec![f("Alice likes tea"), f("Alice likes cake")],
            entities: vec![e("Alice", "Tea")],
            warnings: vec![],
        };
        assert!(escalation_passes(&ok, 10, 20));
        assert!(!escalation_passes(&ok, 10, 1), "alice is in two facts");
        assert!(!escalation_passes(&ok, 0, 20), "too many entities");
    }
}
