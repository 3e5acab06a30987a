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
mod report;
mod score;

use chrono::{DateTime, Utc};
use signet_model::maintenance::DiagnosticsSnapshot;

pub use advice::{Advice, advice};
pub use report::{predictor_disabled, scored, status_of};
pub use score::OVERDUE_GRACE_MS;
pub use signet_api::diagnostics::{
    BackupDomain, ConnectorDomain, DiagnosticsDomain as Domain, DiagnosticsReport as Report,
    DomainAdvice, DomainHealth as Health, DomainStatus as Status, DuplicateDomain, IndexDomain,
    MemoryDomain, MutationDomain, PredictorDomain, ProviderDomain, ProviderOutcomes, QueueDomain,
    StorageDomain,
};

use crate::memory::Extraction;

/// Domains `GET /api/diagnostics/:domain` serves, in report order.
pub const DOMAINS: [&str; 11] = [
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
    "backup",
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
        counts: ProviderOutcomes,
    },
    /// No provider is configured (keyword-only recall).
    NotConfigured { reason: String },
    /// `signet doctor` reads the database only; nothing measured the provider.
    Offline { configured: Option<String> },
}

/// `healthy` / `degraded` / `unhealthy` by upstream's thresholds.
pub fn status(score: f64) -> &'static str {
    status_of(score).as_str()
}

/// What the report is scored against besides the snapshot.
#[derive(Debug, Clone)]
pub struct ReportInputs {
    /// The embedding provider's view.
    pub provider: ProviderView,
    /// Whether extraction jobs are processed (a queue nobody drains is not "backing up").
    pub extraction: Extraction,
    /// The scheduled backups' domain (`crate::backup::domain`), scored by the caller.
    pub backup: BackupDomain,
}

/// The whole report: `score` (the composite's, at the top level as the guide's monitoring
/// commands read it), `composite`, one typed value per domain, then the [`advice`] for the
/// domains that need attention.
pub fn report(snap: &DiagnosticsSnapshot, inputs: &ReportInputs, now: DateTime<Utc>) -> Report {
    let embeddings_expected = !matches!(inputs.provider, ProviderView::NotConfigured { .. });
    let mut r = Report {
        timestamp: signet_model::time::format_iso(now),
        score: 1.0,
        status: Status::Healthy,
        composite: scored(1.0),
        queue: score::queue(&snap.queue, &inputs.extraction, now),
        memory: score::memory(&snap.retention, now),
        storage: score::storage(&snap.storage),
        index: score::index(&snap.index, embeddings_expected),
        provider: score::provider(&inputs.provider),
        mutation: score::mutation(&snap.mutation),
        duplicate: score::duplicate(&snap.duplicate),
        connector: score::connector(&snap.connector, now),
        predictor: predictor_disabled(),
        backup: inputs.backup.clone(),
        advice: Vec::new(),
        extra: signet_api::Extra::new(),
    };
    r.composite = scored(composite(&r));
    (r.score, r.status) = (r.composite.score, r.composite.status);
    // The same texts `signet doctor` prints, read off the scored report.
    r.advice = advice(&r).into_iter().map(Into::into).collect();
    r
}

/// Weighted mean of the scored domains present (a domain without a score, or with status
/// `disabled`, is left out and the weights renormalised).
fn composite(r: &Report) -> f64 {
    let (mut sum, mut weight) = (0.0, 0.0);
    for (name, status, score) in r.domains() {
        let Some(w) = WEIGHTS.iter().find(|(n, _)| *n == name).map(|(_, w)| *w) else {
            continue;
        };
        if let (Some(s), false) = (score, status == Status::Disabled) {
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
pub fn domain(report: &Report, name: &str) -> Option<Domain> {
    report.domain(name)
}

pub(crate) fn round(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests;
