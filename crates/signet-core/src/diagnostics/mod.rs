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

use crate::semantic::OutcomeCounts;

/// Domains `GET /api/diagnostics/:domain` serves, in report order.
pub const DOMAINS: [&str; 9] = [
    "composite",
    "queue",
    "storage",
    "index",
    "provider",
    "mutation",
    "duplicate",
    "connector",
    "predictor",
];

/// Upstream's base weights (without `update`, whose 0.11 is renormalised away).
const WEIGHTS: [(&str, f64); 7] = [
    ("queue", 0.25),
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

/// The whole report.
pub fn report(snap: &DiagnosticsSnapshot, provider: &ProviderView, now: DateTime<Utc>) -> Value {
    let embeddings_expected = !matches!(provider, ProviderView::NotConfigured { .. });
    let mut domains = Map::new();
    domains.insert("queue".into(), score::queue(&snap.queue, now));
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

/// One domain of a report; `None` for unknown names (and `timestamp`, which is no domain).
pub fn domain<'a>(report: &'a Value, name: &str) -> Option<&'a Value> {
    DOMAINS.contains(&name).then(|| report.get(name)).flatten()
}

pub(crate) fn round(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests;
