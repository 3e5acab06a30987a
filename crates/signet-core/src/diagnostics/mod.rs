//! Diagnostics: scores the store's counts ([`DiagnosticsSnapshot`]) into upstream's report
//! shape (`{timestamp, composite, queue, storage, index, provider, mutation, duplicate,
//! connector, predictor}`), with the same metric names, penalties and thresholds, plus our
//! own signals (integrity, real FTS consistency, lease counts, ...). Pure functions: the
//! daemon feeds them a snapshot taken on its read pool, `signet doctor` one taken on a
//! read-only connection.
//!
//! Domains that do not apply to this daemon are honest about it: `predictor` reports
//! `disabled` and leaves the composite (as upstream does when disabled); `update` (we have no
//! auto-updater) is omitted and the composite's base weights are renormalised over the
//! domains present. The provider domain leaves the composite when no provider is configured
//! or when it was not measured (offline).

mod advice;
mod score;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};
use signet_store::maintenance::DiagnosticsSnapshot;

pub use advice::{Advice, advice};
pub use score::OVERDUE_GRACE_MS;

use crate::memory::Extraction;
use crate::semantic::OutcomeCounts;

/// Domains `GET /api/diagnostics/:domain` serves, in report order.
pub const DOMAINS: [&str; 10] = [
    "composite",
    "queue",
    "memory",
    "storage",
    "index",
    "provider",
    "mutation",
    "duplicate",
    "connector",
    "predictor",
];

/// Upstream's base weights (without `update`, whose 0.11 is renormalised away), plus our
/// `memory` domain (retention health, which the guide's monitoring commands read).
const WEIGHTS: [(&str, f64); 8] = [
    ("queue", 0.25),
    ("memory", 0.10),
    ("storage", 0.10),
    ("index", 0.15),
    ("provider", 0.22),
    ("mutation", 0.08),
    ("duplicate", 0.04),
    ("connector", 0.05),
];

/// What is known about the embedding provider.
#[derive(Debug, Clone)]
pub enum ProviderView {
    /// Recent outcomes recorded by this process.
    Measured {
        provider: String,
        model: String,
        available: bool,
        counts: OutcomeCounts,
    },
    /// No provider is configured (keyword-only recall).
    NotConfigured { reason: String },
    /// `signet doctor` reads the database only; nothing measured the provider.
    Offline { configured: Option<String> },
}

/// `healthy` / `degraded` / `unhealthy` by upstream's thresholds.
pub fn status(score: f64) -> &'static str {
    if score >= 0.8 {
        "healthy"
    } else if score >= 0.5 {
        "degraded"
    } else {
        "unhealthy"
    }
}

/// What the report is scored against besides the snapshot.
#[derive(Debug, Clone)]
pub struct ReportInputs {
    /// The embedding provider's view.
    pub provider: ProviderView,
    /// Whether extraction jobs are processed (a queue nobody drains is not "backing up").
    pub extraction: Extraction,
}

/// The whole report: `score` (the composite's, at the top level as the guide's monitoring
/// commands read it), `composite`, then one object per domain.
pub fn report(snap: &DiagnosticsSnapshot, inputs: &ReportInputs, now: DateTime<Utc>) -> Value {
    let provider = &inputs.provider;
    let embeddings_expected = !matches!(provider, ProviderView::NotConfigured { .. });
    let mut domains = Map::new();
    domains.insert(
        "queue".into(),
        score::queue(&snap.queue, &inputs.extraction, now),
    );
    domains.insert("memory".into(), score::memory(&snap.retention, now));
    domains.insert("storage".into(), score::storage(&snap.storage));
    domains.insert(
        "index".into(),
        score::index(&snap.index, embeddings_expected),
    );
    domains.insert("provider".into(), score::provider(provider));
    domains.insert("mutation".into(), score::mutation(&snap.mutation));
    domains.insert("duplicate".into(), score::duplicate(&snap.duplicate));
    domains.insert("connector".into(), score::connector(&snap.connector, now));
    domains.insert(
        "predictor".into(),
        json!({"status": "disabled", "score": 0, "enabled": false,
            "reason": "this daemon has no predictor sidecar"}),
    );
    let composite = round(composite(&domains));
    let mut out = Map::new();
    out.insert(
        "timestamp".into(),
        signet_store::time::format_iso(now).into(),
    );
    out.insert("score".into(), composite.into());
    out.insert("status".into(), status(composite).into());
    out.insert(
        "composite".into(),
        json!({"score": composite, "status": status(composite)}),
    );
    out.extend(domains);
    Value::Object(out)
}

/// Weighted mean of the scored domains present (a domain without a numeric score, or with
/// status `disabled`, is left out and the weights renormalised).
fn composite(domains: &Map<String, Value>) -> f64 {
    let (mut sum, mut weight) = (0.0, 0.0);
    for (name, w) in WEIGHTS {
        let d = &domains[name];
        if d["status"] == "disabled" {
            continue;
        }
        if let Some(s) = d["score"].as_f64() {
            sum += w * s;
            weight += w;
        }
    }
    if weight == 0.0 {
        1.0
    } else {
        (sum / weight).clamp(0.0, 1.0)
    }
}

/// One domain of a report; `None` for unknown names (and `timestamp`, `score`, `status`,
/// which are no domains).
pub fn domain<'a>(report: &'a Value, name: &str) -> Option<&'a Value> {
    DOMAINS.contains(&name).then(|| report.get(name)).flatten()
}

pub(crate) fn round(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests;
