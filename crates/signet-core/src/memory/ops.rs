//! Operational reads for analytics and `/metrics`: counts by state, queue depth, embedding
//! coverage and recent mutation signals.

use signet_api::MutationSignals;
use signet_model::memories::OpsCounts;

use super::Memories;
use crate::error::Result;

/// Days of `memory_history` the mutation signals look back.
pub const SAFETY_WINDOW_DAYS: i64 = 7;

impl Memories {
    /// Memories by state and jobs by status.
    pub async fn ops_counts(&self) -> Result<OpsCounts> {
        let store = self.store.clone();
        crate::blocking::run(move || Ok(store.ops_counts()?)).await
    }

    /// Share of live memories with a current vector (0 when keyword-only or empty).
    pub async fn embedding_coverage(&self) -> Result<f64> {
        if !self.semantic.configured() {
            return Ok(0.0);
        }
        let store = self.store.clone();
        let (model, dims) = (self.semantic.model(), self.semantic.dimensions());
        let s = crate::blocking::run(move || Ok(store.embedding_stats(&model, dims)?)).await?;
        Ok(if s.live > 0 {
            s.current as f64 / s.live as f64
        } else {
            0.0
        })
    }

    /// Deletes and recovers over the last [`SAFETY_WINDOW_DAYS`] days.
    pub async fn mutation_signals(&self) -> Result<MutationSignals> {
        let since = signet_model::time::format_iso(
            chrono::Utc::now() - chrono::Duration::days(SAFETY_WINDOW_DAYS),
        );
        let store = self.store.clone();
        let s = crate::blocking::run(move || Ok(store.mutation_signals(&since)?)).await?;
        Ok(MutationSignals {
            recent_deletes: s.recent_deletes,
            recent_recovers: s.recent_recovers,
            window_days: SAFETY_WINDOW_DAYS,
            extra: Default::default(),
        })
    }
}
