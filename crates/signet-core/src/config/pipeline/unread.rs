//! `memory.pipelineV2` keys that upstream defines but this daemon does not (yet) read.
//!
//! They are validated against upstream's types and ranges, so a bad value fails the same way
//! as for typed keys, and misspelled keys still warn; but no typed field holds them. Promote a
//! row to a typed field in the `pipeline` module when a subsystem starts using it. Deliberately a table.

use crate::config::ConfigError;
use crate::config::section::Section;

/// The expected type of an untyped key.
#[derive(Clone, Copy)]
enum Kind {
    Bool,
    Int(u64, u64),
    Float(f64, f64),
    Str,
    OneOf(&'static [&'static str]),
}

use Kind::{Bool, Float, Int, OneOf, Str};

type Table = &'static [(&'static str, Kind)];

/// Keys directly under `memory.pipelineV2` (including flat aliases of untyped sections).
const PIPELINE_KEYS: Table = &[
    ("semanticContradictionEnabled", Bool),
    ("semanticContradictionTimeoutMs", Int(5_000, 300_000)),
    ("telemetryEnabled", Bool),
    ("autonomousEnabled", Bool),
    ("autonomousFrozen", Bool),
    ("allowUpdateDelete", Bool),
    ("maintenanceIntervalMs", Int(60_000, 86_400_000)),
    ("maintenanceMode", OneOf(&["observe", "execute"])),
];

const ESCALATION: Table = &[
    ("maxNewEntitiesPerChunk", Int(1, 100)),
    ("maxNewAttributesPerEntity", Int(1, 200)),
    ("level2MaxEntities", Int(1, 50)),
];

const SECTIONS: &[(&str, Table)] = &[
    (
        "traversal",
        &[
            ("enabled", Bool),
            ("maxAspectsPerEntity", Int(1, 100)),
            ("maxAttributesPerAspect", Int(1, 200)),
            ("maxDependencyHops", Int(1, 200)),
            ("minDependencyStrength", Float(0.0, 1.0)),
            ("timeoutMs", Int(50, 5_000)),
            ("boostWeight", Float(0.0, 1.0)),
            ("constraintBudgetChars", Int(200, 10_000)),
        ],
    ),
    (
        "autonomous",
        &[
            ("enabled", Bool),
            ("frozen", Bool),
            ("allowUpdateDelete", Bool),
            ("maintenanceIntervalMs", Int(60_000, 86_400_000)),
            ("maintenanceMode", OneOf(&["observe", "execute"])),
        ],
    ),
    (
        "continuity",
        &[
            ("enabled", Bool),
            ("promptInterval", Int(1, 1_000)),
            ("timeIntervalMs", Int(60_000, 3_600_000)),
            ("maxCheckpointsPerSession", Int(1, 500)),
            ("retentionDays", Int(1, 90)),
            ("recoveryBudgetChars", Int(200, 10_000)),
        ],
    ),
    (
        "telemetry",
        &[
            ("posthogHost", Str),
            ("posthogApiKey", Str),
            ("flushIntervalMs", Int(5_000, 600_000)),
            ("flushBatchSize", Int(1, 500)),
            ("retentionDays", Int(1, 365)),
        ],
    ),
    (
        "synthesis",
        &[
            ("enabled", Bool),
            (
                "provider",
                OneOf(&["ollama", "claude-code", "opencode", "anthropic", "none"]),
            ),
            ("model", Str),
            ("endpoint", Str),
            ("base_url", Str),
            ("timeout", Int(5_000, 300_000)),
            ("maxTokens", Int(1_000, 32_000)),
            ("max_tokens", Int(1_000, 32_000)),
            ("idleGapMinutes", Int(1, 1_440)),
        ],
    ),
    (
        "procedural",
        &[
            ("enabled", Bool),
            ("decayRate", Float(0.0, 1.0)),
            ("minImportance", Float(0.0, 1.0)),
            ("importanceOnInstall", Float(0.0, 1.0)),
            ("enrichOnInstall", Bool),
            ("enrichMinDescription", Int(10, 500)),
            ("reconcileIntervalMs", Int(10_000, 600_000)),
        ],
    ),
    (
        "structural",
        &[
            ("enabled", Bool),
            ("classifyBatchSize", Int(1, 20)),
            ("dependencyBatchSize", Int(1, 10)),
            ("pollIntervalMs", Int(2_000, 120_000)),
        ],
    ),
    (
        "feedback",
        &[
            ("enabled", Bool),
            ("ftsWeightDelta", Float(0.0, 1.0)),
            ("maxAspectWeight", Float(0.0, 1.0)),
            ("minAspectWeight", Float(0.0, 1.0)),
            ("decayEnabled", Bool),
            ("decayRate", Float(0.0, 1.0)),
            ("staleDays", Int(1, 365)),
            ("decayIntervalSessions", Int(1, 1_000)),
        ],
    ),
    (
        "significance",
        &[
            ("enabled", Bool),
            ("minTurns", Int(1, 100)),
            ("minEntityOverlap", Int(0, 100)),
            ("noveltyThreshold", Float(0.0, 1.0)),
        ],
    ),
    (
        "predictor",
        &[
            ("enabled", Bool),
            ("trainIntervalSessions", Int(1, 1_000)),
            ("minTrainingSessions", Int(1, 1_000)),
            ("scoreTimeoutMs", Int(10, 10_000)),
            ("trainTimeoutMs", Int(1_000, 120_000)),
            ("crashDisableThreshold", Int(1, 20)),
            ("rrfK", Int(1, 100)),
            ("explorationRate", Float(0.0, 1.0)),
            ("driftResetWindow", Int(1, 100)),
            ("binaryPath", Str),
            ("checkpointPath", Str),
        ],
    ),
    (
        "predictorPipeline",
        &[("agentFeedback", Bool), ("trainingTelemetry", Bool)],
    ),
    (
        "modelRegistry",
        &[
            ("enabled", Bool),
            ("refreshIntervalMs", Int(60_000, 86_400_000)),
        ],
    ),
];

/// Validates the untyped keys of `memory.pipelineV2` and its untyped subsections.
pub(crate) fn check_pipeline(
    p: &Section<'_>,
    warnings: &mut Vec<String>,
) -> Result<(), ConfigError> {
    check_table(p, PIPELINE_KEYS)?;
    for (name, table) in SECTIONS {
        let section = p.child(name)?;
        check_table(&section, table)?;
        section.finish(warnings);
    }
    Ok(())
}

/// Validates `memory.pipelineV2.extraction.escalation`.
pub(crate) fn check_escalation(
    extraction: &Section<'_>,
    warnings: &mut Vec<String>,
) -> Result<(), ConfigError> {
    let section = extraction.child("escalation")?;
    check_table(&section, ESCALATION)?;
    section.finish(warnings);
    Ok(())
}

fn check_table(s: &Section<'_>, table: Table) -> Result<(), ConfigError> {
    for (key, kind) in table {
        match *kind {
            Bool => {
                s.bool(key)?;
            }
            Int(min, max) => {
                s.int::<u64>(key, min..=max)?;
            }
            Float(min, max) => {
                s.float(key, min..=max)?;
            }
            Str => {
                s.string(key)?;
            }
            OneOf(names) => {
                let choices: Vec<(&str, ())> = names.iter().map(|n| (*n, ())).collect();
                s.choice(key, &choices)?;
            }
        }
    }
    Ok(())
}
