//! A ring buffer of the last embedding-provider outcomes, scored by diagnostics as the
//! provider's availability. Both the embedding worker and recall's query embedding record
//! into it, so the figure reflects what callers actually saw.

use std::collections::VecDeque;
use std::sync::Mutex;

use signet_api::diagnostics::ProviderOutcomes;

/// How many outcomes are kept.
pub const CAPACITY: usize = 100;

/// One provider call's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Success,
    Failure,
    Timeout,
}

/// The last [`CAPACITY`] outcomes.
#[derive(Debug, Default)]
pub struct OutcomeRing {
    recent: Mutex<VecDeque<Outcome>>,
}

impl OutcomeRing {
    /// Records one outcome, dropping the oldest past capacity.
    pub fn record(&self, o: Outcome) {
        let mut q = self.recent.lock().unwrap_or_else(|p| p.into_inner());
        if q.len() == CAPACITY {
            q.pop_front();
        }
        q.push_back(o);
    }

    /// Counts over what is buffered now (the diagnostics `provider` domain's).
    pub fn counts(&self) -> ProviderOutcomes {
        let q = self.recent.lock().unwrap_or_else(|p| p.into_inner());
        let n = |k: Outcome| q.iter().filter(|o| **o == k).count();
        ProviderOutcomes {
            recent_total: q.len(),
            recent_successes: n(Outcome::Success),
            recent_failures: n(Outcome::Failure),
            recent_timeouts: n(Outcome::Timeout),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_last_hundred_and_scores_availability() {
        let r = OutcomeRing::default();
        assert_eq!(r.counts().availability(), 1.0);
        for _ in 0..150 {
            r.record(Outcome::Failure);
        }
        for _ in 0..50 {
            r.record(Outcome::Success);
        }
        r.record(Outcome::Timeout);
        let c = r.counts();
        assert_eq!(c.recent_total, CAPACITY);
        assert_eq!(
            (c.recent_successes, c.recent_failures, c.recent_timeouts),
            (50, 49, 1)
        );
        assert!((c.availability() - 0.5).abs() < 1e-9);
    }
}
