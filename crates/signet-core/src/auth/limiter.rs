//! Per-actor rate limits on destructive operations: a true sliding window (a log of the last
//! `max` admissions per actor and operation), unlike upstream's fixed window, which lets a
//! burst of twice the limit through across a window boundary.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::config::{RateLimit, RateLimits};

/// The rate-limited operations and their `auth.rateLimits` keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    /// `DELETE /api/memory/:id`.
    Forget,
    /// `PATCH /api/memory/:id`, `POST /api/memory/modify`.
    Modify,
    /// `POST /api/memory/forget`.
    BatchForget,
    /// Deleting a pinned memory with `force`.
    ForceDelete,
    /// Token minting and repairs.
    Admin,
}

impl Operation {
    /// The config key.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Forget => "forget",
            Self::Modify => "modify",
            Self::BatchForget => "batchForget",
            Self::ForceDelete => "forceDelete",
            Self::Admin => "admin",
        }
    }

    fn limit(self, l: &RateLimits) -> RateLimit {
        match self {
            Self::Forget => l.forget,
            Self::Modify => l.modify,
            Self::BatchForget => l.batch_forget,
            Self::ForceDelete => l.force_delete,
            Self::Admin => l.admin,
        }
    }
}

/// A refusal: how long until one more request would be admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryAfter(pub Duration);

impl RetryAfter {
    /// Whole seconds for the `Retry-After` header (at least 1).
    pub fn seconds(self) -> u64 {
        self.0.as_millis().div_ceil(1000).max(1) as u64
    }
}

/// Above this many tracked keys, idle ones are dropped on the next admission.
const PRUNE_ABOVE: usize = 4096;

/// The limiter; in memory, reset on restart.
pub struct RateLimiter {
    limits: RateLimits,
    log: Mutex<HashMap<(String, Operation), VecDeque<Instant>>>,
}

impl RateLimiter {
    /// A limiter with `limits`.
    pub fn new(limits: RateLimits) -> Self {
        Self {
            limits,
            log: Mutex::new(HashMap::new()),
        }
    }

    /// Admits one `op` by `actor` at `now`, or says how long to wait.
    pub fn admit(&self, actor: &str, op: Operation, now: Instant) -> Result<(), RetryAfter> {
        let RateLimit { window_ms, max } = op.limit(&self.limits);
        let window = Duration::from_millis(window_ms);
        // A panic while holding the lock leaves at most one half-recorded entry: recover the
        // map (as the pool does) rather than failing every later request.
        let mut log = self.log.lock().unwrap_or_else(|p| p.into_inner());
        if log.len() > PRUNE_ABOVE {
            // Each key by its own operation's window: a short window must not evict a long one.
            let limits = self.limits;
            log.retain(|(_, key_op), times| {
                let w = Duration::from_millis(key_op.limit(&limits).window_ms);
                times.back().is_some_and(|t| now.duration_since(*t) < w)
            });
        }
        let times = log.entry((actor.to_owned(), op)).or_default();
        while times
            .front()
            .is_some_and(|t| now.duration_since(*t) >= window)
        {
            times.pop_front();
        }
        if (times.len() as u64) < max {
            times.push_back(now);
            return Ok(());
        }
        let oldest = *times.front().expect("full window is not empty");
        Err(RetryAfter(
            window.saturating_sub(now.duration_since(oldest)),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter(max: u64) -> RateLimiter {
        RateLimiter::new(RateLimits {
            forget: RateLimit {
                window_ms: 60_000,
                max,
            },
            ..RateLimits::default()
        })
    }

    #[test]
    fn admits_max_per_sliding_window_per_actor() {
        let l = limiter(3);
        let t0 = Instant::now();
        for i in 0..3 {
            l.admit("ann", Operation::Forget, t0 + Duration::from_secs(i * 10))
                .unwrap();
        }
        let refused = l
            .admit("ann", Operation::Forget, t0 + Duration::from_secs(30))
            .unwrap_err();
        assert_eq!(refused.seconds(), 30);
        assert!(l.admit("bob", Operation::Forget, t0).is_ok(), "per actor");
        assert!(
            l.admit("ann", Operation::Modify, t0).is_ok(),
            "per operation"
        );
        // 60 s after the first admission one slot frees, not all three (no window reset).
        let t60 = t0 + Duration::from_secs(60);
        assert!(l.admit("ann", Operation::Forget, t60).is_ok());
        assert!(l.admit("ann", Operation::Forget, t60).is_err());
    }

    #[test]
    fn pruning_keeps_keys_still_inside_their_own_window() {
        let l = RateLimiter::new(RateLimits {
            forget: RateLimit {
                window_ms: 1_000,
                max: 1,
            },
            admin: RateLimit {
                window_ms: 3_600_000,
                max: 1,
            },
            ..RateLimits::default()
        });
        let t0 = Instant::now();
        l.admit("ann", Operation::Admin, t0).unwrap();
        for i in 0..(PRUNE_ABOVE + 10) {
            l.admit(&format!("a{i}"), Operation::Forget, t0).unwrap();
        }
        let later = t0 + Duration::from_secs(60);
        l.admit("late", Operation::Forget, later).unwrap();
        assert!(
            l.admit("ann", Operation::Admin, later).is_err(),
            "the hour-long window survived"
        );
    }

    #[test]
    fn idle_actors_are_forgotten() {
        let l = limiter(1);
        let t0 = Instant::now();
        for i in 0..(PRUNE_ABOVE + 10) {
            l.admit(&format!("a{i}"), Operation::Forget, t0).unwrap();
        }
        l.admit("late", Operation::Forget, t0 + Duration::from_secs(120))
            .unwrap();
        assert!(l.log.lock().unwrap().len() < 10);
    }
}
