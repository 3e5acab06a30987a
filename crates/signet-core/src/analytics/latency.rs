//! Latency histograms: HDR-style (log-linear buckets, 3 significant digits) over microseconds,
//! from 1 µs to one hour, cumulative since start. Recording is O(1) and memory is fixed (184 KiB
//! per group, allocated at the group's first sample, so an idle daemon holds none), unlike a
//! sorted window of samples.

use std::time::Duration;

use hdrhistogram::Histogram;
use signet_api::{Extra, LatencySummary};

/// The operation groups, in upstream's order (`predictor_*` stay empty: no predictor here).
pub const GROUPS: [&str; 6] = [
    "remember",
    "recall",
    "mutate",
    "jobs",
    "predictor_score",
    "predictor_train",
];

const MAX_MICROS: u64 = 3_600_000_000;

/// Percentiles in milliseconds; all zero when empty.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Snapshot {
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
    pub count: u64,
    pub mean: f64,
    /// Sum of all samples in seconds (the Prometheus summary's `_sum`).
    pub sum_seconds: f64,
}

impl From<Snapshot> for LatencySummary {
    fn from(s: Snapshot) -> Self {
        Self {
            count: s.count,
            mean: s.mean,
            p50: s.p50,
            p95: s.p95,
            p99: s.p99,
            extra: Extra::new(),
        }
    }
}

/// One group's histogram plus the exact sum.
#[derive(Default)]
pub struct LatencyHistogram {
    /// `None` until the first sample: six groups of zeroed counts were 1.1 MiB of an idle
    /// daemon's memory, and the `predictor_*` groups never record.
    hist: Option<Histogram<u64>>,
    sum_micros: u128,
}

fn ms(micros: u64) -> f64 {
    (micros as f64 / 10.0).round() / 100.0
}

impl LatencyHistogram {
    /// Adds one sample (clamped to the histogram's range).
    pub fn record(&mut self, d: Duration) {
        let micros = (d.as_micros() as u64).clamp(1, MAX_MICROS);
        self.hist
            .get_or_insert_with(|| {
                Histogram::new_with_bounds(1, MAX_MICROS, 3).expect("valid histogram bounds")
            })
            .saturating_record(micros);
        self.sum_micros += u128::from(micros);
    }

    /// p50 / p95 / p99 / count / mean.
    pub fn snapshot(&self) -> Snapshot {
        let Some(hist) = self.hist.as_ref().filter(|h| !h.is_empty()) else {
            return Snapshot::default();
        };
        Snapshot {
            p50: ms(hist.value_at_quantile(0.50)),
            p95: ms(hist.value_at_quantile(0.95)),
            p99: ms(hist.value_at_quantile(0.99)),
            count: hist.len(),
            mean: (hist.mean() / 10.0).round() / 100.0,
            sum_seconds: self.sum_micros as f64 / 1e6,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_come_from_the_distribution() {
        let mut h = LatencyHistogram::default();
        assert_eq!(h.snapshot(), Snapshot::default());
        for ms in 1..=100u64 {
            h.record(Duration::from_millis(ms));
        }
        let s = h.snapshot();
        assert_eq!(s.count, 100);
        assert!((s.p50 - 50.0).abs() < 0.1, "{s:?}");
        assert!((s.p95 - 95.0).abs() < 0.1, "{s:?}");
        assert!((s.p99 - 99.0).abs() < 0.1, "{s:?}");
        assert!((s.mean - 50.5).abs() < 0.1, "{s:?}");
        assert!((s.sum_seconds - 5.05).abs() < 1e-6, "{s:?}");
    }
}
