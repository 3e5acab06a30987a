//! The `search` section of `agent.yaml`: how recall weighs, cuts and fuses its results.

use serde::Serialize;

use super::ConfigError;
use super::section::Section;

/// Hybrid recall tuning (`search`).
///
/// Upstream only reads `top_k` and `min_score` when `alpha` is also present (and then defaults
/// `min_score` to 0.3). We deliberately do not reproduce that gate: each key is read whenever
/// it is present, and the defaults are always 20 and 0.1.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchSettings {
    /// Weight of the vector score against the keyword score, in [0,1].
    pub alpha: f64,
    /// Candidates kept per recall, in [1,1000].
    pub top_k: usize,
    /// Results scoring below this are dropped, in [0,1].
    pub min_score: f64,
    /// Whether recently recalled memories get a rehearsal boost.
    pub rehearsal_enabled: bool,
    /// Weight of the rehearsal boost, in [0,1].
    pub rehearsal_weight: f64,
    /// Half-life of the rehearsal boost in days, in [1,36500].
    pub rehearsal_half_life_days: f64,
    /// How keyword and vector scores combine: `minmax` (ours, the default: each leg min-max
    /// normalised over its candidates, then weighted by `vector_weight`), `blend` (upstream's
    /// alpha blend of the raw scores) or `rrf` (reciprocal-rank fusion, ours).
    pub fusion: FusionKind,
    /// Weight of the vector leg in `minmax` fusion, in [0,1] (ours). `alpha` keeps its
    /// upstream meaning for `blend`: upstream writes `alpha: 0.7` into new configs, a weight
    /// tuned for raw cosines, which would over-weight the vector leg once both are calibrated.
    pub vector_weight: f64,
}

/// `search.fusion`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FusionKind {
    #[default]
    Minmax,
    Blend,
    Rrf,
}

impl Default for SearchSettings {
    fn default() -> Self {
        Self {
            alpha: 0.7,
            top_k: 20,
            min_score: 0.1,
            rehearsal_enabled: true,
            rehearsal_weight: 0.1,
            rehearsal_half_life_days: 30.0,
            fusion: FusionKind::Minmax,
            vector_weight: 0.4,
        }
    }
}

impl SearchSettings {
    pub(crate) fn parse(s: &Section<'_>) -> Result<Self, ConfigError> {
        let d = Self::default();
        Ok(Self {
            alpha: s.float("alpha", 0.0..=1.0)?.unwrap_or(d.alpha),
            top_k: s.int("top_k", 1..=1000)?.unwrap_or(d.top_k),
            min_score: s.float("min_score", 0.0..=1.0)?.unwrap_or(d.min_score),
            rehearsal_enabled: s.bool("rehearsal_enabled")?.unwrap_or(d.rehearsal_enabled),
            rehearsal_weight: s
                .float("rehearsal_weight", 0.0..=1.0)?
                .unwrap_or(d.rehearsal_weight),
            rehearsal_half_life_days: s
                .float("rehearsal_half_life_days", 1.0..=36_500.0)?
                .unwrap_or(d.rehearsal_half_life_days),
            fusion: s
                .choice(
                    "fusion",
                    &[
                        ("minmax", FusionKind::Minmax),
                        ("blend", FusionKind::Blend),
                        ("rrf", FusionKind::Rrf),
                    ],
                )?
                .unwrap_or(d.fusion),
            vector_weight: s
                .float("vector_weight", 0.0..=1.0)?
                .unwrap_or(d.vector_weight),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{EnvVars, Settings};
    use crate::memory::Fusion;

    fn load(yaml: &str) -> Result<SearchSettings, ConfigError> {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("agent.yaml"), yaml).unwrap();
        Settings::load(dir.path(), &EnvVars::default()).map(|l| l.settings.search)
    }

    #[test]
    fn minmax_is_the_default_and_upstreams_alpha_still_drives_blend() {
        let d = load("search:\n  alpha: 0.7\n").unwrap();
        assert_eq!(
            Fusion::from_settings(&d),
            Fusion::MinMax { vector_weight: 0.4 }
        );
        let blend = load("search:\n  fusion: blend\n  alpha: 0.3\n").unwrap();
        assert_eq!(Fusion::from_settings(&blend), Fusion::Blend { alpha: 0.3 });
        let rrf = load("search:\n  fusion: rrf\n").unwrap();
        assert_eq!(Fusion::from_settings(&rrf), Fusion::Rrf { k: 60.0 });
        let w = load("search:\n  vector_weight: 0.6\n").unwrap();
        assert_eq!(
            Fusion::from_settings(&w),
            Fusion::MinMax { vector_weight: 0.6 }
        );
    }

    #[test]
    fn bad_fusion_values_name_the_key() {
        let e = load("search:\n  fusion: magic\n").unwrap_err().to_string();
        assert!(e.contains("search.fusion") && e.contains("minmax"), "{e}");
        let e = load("search:\n  vector_weight: 2\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("search.vector_weight"), "{e}");
    }
}
