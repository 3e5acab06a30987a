//! The report's types are signet-api's (`signet_api::diagnostics`, re-exported here under
//! their short names); this module holds what scoring adds to them: upstream's thresholds,
//! the rounding, and the disabled predictor.

use signet_api::Extra;
use signet_api::diagnostics::{DomainHealth, DomainStatus, PredictorDomain};

/// `healthy` / `degraded` / `unhealthy` for a score (upstream's 0.8 and 0.5 thresholds).
pub fn status_of(score: f64) -> DomainStatus {
    if score >= 0.8 {
        DomainStatus::Healthy
    } else if score >= 0.5 {
        DomainStatus::Degraded
    } else {
        DomainStatus::Unhealthy
    }
}

/// A domain's health: `score` clamped and rounded, then the thresholds (rounded first:
/// `1 - 0.3 - 0.2` is 0.4999… in floating point).
pub fn scored(score: f64) -> DomainHealth {
    let score = super::round(score.clamp(0.0, 1.0));
    DomainHealth {
        score,
        status: status_of(score),
    }
}

/// The predictor domain: always disabled, this daemon has no predictor sidecar.
pub fn predictor_disabled() -> PredictorDomain {
    PredictorDomain {
        status: DomainStatus::Disabled,
        score: 0,
        enabled: false,
        reason: "this daemon has no predictor sidecar".to_owned(),
        extra: Extra::new(),
    }
}
