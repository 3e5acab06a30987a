//! [`Resilient`]: retries with backoff on retryable errors, then a circuit breaker, so a dead
//! provider costs one fast failure per call while it is down and no requests at all.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::{BoxFuture, LlmError, LlmProvider, LlmRequest, LlmResponse};

/// The time source of the breaker (injected so tests can step it).
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// Now.
    fn now(&self) -> Instant;
}

/// The real clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }
}

/// How often and how patiently a call is retried.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt (upstream's Anthropic client: 2).
    pub max_retries: u32,
    /// Delay before the first retry; doubled each time.
    pub base_delay: Duration,
    /// Cap on one delay.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    /// Upstream's `min(1000×2^(n−1), 8000)` ms, 2 retries.
    fn default() -> Self {
        Self {
            max_retries: 2,
            base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(8),
        }
    }
}

impl RetryPolicy {
    /// The delay before retry `n` (1-based).
    pub fn delay(&self, n: u32) -> Duration {
        let factor = 1u32.checked_shl(n.saturating_sub(1)).unwrap_or(u32::MAX);
        self.base_delay.saturating_mul(factor).min(self.max_delay)
    }
}

/// When the breaker opens and for how long.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Breaker {
    /// Consecutive failed calls (after their retries) that open the circuit.
    pub failure_threshold: u32,
    /// How long it stays open before one probe call is let through.
    pub cool_down: Duration,
}

impl Default for Breaker {
    fn default() -> Self {
        Self {
            failure_threshold: 5,
            cool_down: Duration::from_secs(60),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Closed {
        failures: u32,
    },
    Open {
        until: Instant,
    },
    /// One probe call is in flight; others fail fast until it settles, or until `until` (a
    /// probe whose future was dropped never settles, so another is then let through).
    HalfOpen {
        until: Instant,
    },
}

/// A provider wrapped with retries and a circuit breaker.
#[derive(Debug)]
pub struct Resilient<P> {
    inner: P,
    retry: RetryPolicy,
    breaker: Breaker,
    clock: Arc<dyn Clock>,
    state: Mutex<State>,
}

impl<P: LlmProvider> Resilient<P> {
    /// Wraps `inner` with the real clock.
    pub fn new(inner: P, retry: RetryPolicy, breaker: Breaker) -> Self {
        Self::with_clock(inner, retry, breaker, Arc::new(SystemClock))
    }

    /// Wraps `inner` with `clock` as the breaker's time source.
    pub fn with_clock(
        inner: P,
        retry: RetryPolicy,
        breaker: Breaker,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            inner,
            retry,
            breaker,
            clock,
            state: Mutex::new(State::Closed { failures: 0 }),
        }
    }

    /// The wrapped provider.
    pub fn inner(&self) -> &P {
        &self.inner
    }

    /// Whether calls are currently refused without a request (open, or a probe in flight).
    pub fn is_open(&self) -> bool {
        !matches!(*self.lock(), State::Closed { .. })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Admits a call, or refuses it while the circuit is open.
    fn admit(&self) -> Result<(), LlmError> {
        let now = self.clock.now();
        let mut state = self.lock();
        match *state {
            State::Closed { .. } => Ok(()),
            State::Open { until } | State::HalfOpen { until } if now >= until => {
                *state = State::HalfOpen {
                    until: now + self.breaker.cool_down,
                };
                Ok(())
            }
            State::Open { until } | State::HalfOpen { until } => Err(self.open_error(until - now)),
        }
    }

    fn open_error(&self, retry_in: Duration) -> LlmError {
        LlmError::CircuitOpen {
            provider: self.inner.name().to_owned(),
            retry_in,
        }
    }

    /// Records a call's outcome. Any answer from the provider (success or a non-retryable
    /// error) shows it is up; a retryable failure counts towards opening.
    fn settle(&self, result: &Result<LlmResponse, LlmError>) {
        let provider_down = matches!(result, Err(e) if e.is_retryable());
        let mut state = self.lock();
        *state = match (*state, provider_down) {
            (_, false) => State::Closed { failures: 0 },
            (State::Closed { failures }, true) if failures + 1 < self.breaker.failure_threshold => {
                State::Closed {
                    failures: failures + 1,
                }
            }
            (_, true) => {
                tracing::warn!(
                    provider = self.inner.name(),
                    cool_down_ms = self.breaker.cool_down.as_millis() as u64,
                    "LLM provider failing; circuit open"
                );
                State::Open {
                    until: self.clock.now() + self.breaker.cool_down,
                }
            }
        };
    }

    async fn call(&self, req: &LlmRequest) -> Result<LlmResponse, LlmError> {
        self.admit()?;
        let mut attempt = 0;
        let result = loop {
            let result = self.inner.complete(req).await;
            match &result {
                Err(e) if e.is_retryable() && attempt < self.retry.max_retries => {
                    attempt += 1;
                    tracing::debug!(provider = self.inner.name(), attempt, error = %e, "retrying LLM call");
                    tokio::time::sleep(self.retry.delay(attempt)).await;
                }
                _ => break result,
            }
        };
        self.settle(&result);
        result
    }
}

impl<P: LlmProvider> LlmProvider for Resilient<P> {
    fn name(&self) -> &str {
        self.inner.name()
    }
    fn model(&self) -> &str {
        self.inner.model()
    }
    fn complete<'a>(&'a self, req: &'a LlmRequest) -> BoxFuture<'a, Result<LlmResponse, LlmError>> {
        Box::pin(self.call(req))
    }
}
