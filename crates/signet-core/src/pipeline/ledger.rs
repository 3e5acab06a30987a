//! Every LLM call the pipeline makes goes through [`Metered`]: the budget is checked before
//! the call, the call is recorded in the ledger after it (provider, model, purpose, tokens,
//! duration, outcome), and the provider's health is kept for the status.

use std::sync::{Arc, Mutex, MutexGuard};

use chrono::{DateTime, Duration, Utc};
use signet_model::PipelineStore;
use signet_model::pipeline::LlmCall;

use crate::config::BudgetSettings;
use crate::error::Result;
use crate::llm::{LlmError, LlmProvider, LlmRequest, LlmResponse};

/// The pipeline's clock (a test steps it to move the budget's windows).
pub type Now = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// The system clock.
pub fn system_now() -> Now {
    Arc::new(Utc::now)
}

/// Why a metered call did not produce an answer.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// The budget is used up: no request was made.
    #[error("{0}")]
    Budget(String),
    /// The provider failed (the call is in the ledger).
    #[error(transparent)]
    Llm(#[from] LlmError),
    /// The ledger could not be read or written.
    #[error("ledger: {0}")]
    Ledger(String),
}

/// The provider as the status shows it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Health {
    pub last_error: Option<String>,
    pub last_success_at: Option<String>,
    /// The last call was refused by the open circuit.
    pub circuit_open: bool,
    /// Whether the last call succeeded (`None`: no call yet).
    pub last_ok: Option<bool>,
}

/// The budget's view of the ledger's windows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Windows {
    pub tokens_last_day: i64,
    pub calls_last_hour: i64,
}

/// A provider whose every call is budgeted and recorded.
#[derive(Clone)]
pub struct Metered {
    provider: Arc<dyn LlmProvider>,
    store: Arc<dyn PipelineStore>,
    now: Now,
    health: Arc<Mutex<Health>>,
}

fn lock(m: &Mutex<Health>) -> MutexGuard<'_, Health> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The ledger's name of a failure.
fn outcome(e: &LlmError) -> &'static str {
    match e {
        LlmError::Timeout { .. } => "timeout",
        LlmError::Connect { .. } => "connect",
        LlmError::Status { .. } => "status",
        LlmError::Malformed { .. } => "malformed",
        LlmError::Process { .. } => "process",
        LlmError::Disabled => "disabled",
        LlmError::CircuitOpen { .. } => "circuit_open",
    }
}

impl Metered {
    pub fn new(provider: Arc<dyn LlmProvider>, store: Arc<dyn PipelineStore>, now: Now) -> Self {
        Self {
            provider,
            store,
            now,
            health: Arc::default(),
        }
    }

    pub fn name(&self) -> &str {
        self.provider.name()
    }

    pub fn model(&self) -> &str {
        self.provider.model()
    }

    /// The clock's time now.
    pub fn now(&self) -> DateTime<Utc> {
        (self.now)()
    }

    pub fn health(&self) -> Health {
        lock(&self.health).clone()
    }

    /// The ledger's sums over the budget's windows (the last 24 h of tokens, the last hour of
    /// calls) at the clock's time.
    pub async fn windows(&self) -> Result<Windows> {
        let now = self.now();
        let day = signet_model::time::format_iso(now - Duration::hours(24));
        let hour = signet_model::time::format_iso(now - Duration::hours(1));
        let store = self.store.clone();
        crate::blocking::run(move || {
            let d = store.llm_totals(Some(&day))?;
            let h = store.llm_totals(Some(&hour))?;
            Ok(Windows {
                tokens_last_day: d.input_tokens + d.output_tokens,
                calls_last_hour: h.calls,
            })
        })
        .await
    }

    /// Why `budget` allows no call given the windows `w`, if it does not.
    pub fn exhausted_by(budget: &BudgetSettings, w: Windows) -> Option<String> {
        if let Some(max) = budget.max_calls_per_hour
            && w.calls_last_hour >= max as i64
        {
            return Some(format!(
                "LLM budget reached: {} calls in the last hour (memory.pipelineV2.budget.maxCallsPerHour = {max}); jobs wait until the window moves on",
                w.calls_last_hour
            ));
        }
        if let Some(max) = budget.max_tokens_per_day
            && w.tokens_last_day >= max as i64
        {
            return Some(format!(
                "LLM budget reached: {} tokens in the last 24 hours (memory.pipelineV2.budget.maxTokensPerDay = {max}); jobs wait until the window moves on",
                w.tokens_last_day
            ));
        }
        None
    }

    /// Why `budget` allows no call now (`None`: calls are allowed).
    pub async fn blocked(
        &self,
        budget: &BudgetSettings,
    ) -> std::result::Result<Option<String>, CallError> {
        if !budget.is_limited() {
            return Ok(None);
        }
        let w = self
            .windows()
            .await
            .map_err(|e| CallError::Ledger(e.to_string()))?;
        Ok(Self::exhausted_by(budget, w))
    }

    /// One call within `budget`, recorded.
    pub async fn call(
        &self,
        req: &LlmRequest,
        purpose: &str,
        job_id: Option<&str>,
        budget: &BudgetSettings,
    ) -> std::result::Result<LlmResponse, CallError> {
        if let Some(reason) = self.blocked(budget).await? {
            return Err(CallError::Budget(reason));
        }
        let started = std::time::Instant::now();
        let res = self.provider.complete(req).await;
        let now = signet_model::time::format_iso(self.now());
        let elapsed = started.elapsed();
        let circuit = matches!(res, Err(LlmError::CircuitOpen { .. }));
        {
            let mut h = lock(&self.health);
            h.circuit_open = circuit;
            match &res {
                Ok(_) => {
                    h.last_ok = Some(true);
                    h.last_success_at = Some(now.clone());
                }
                Err(e) => {
                    h.last_ok = Some(false);
                    h.last_error = Some(e.to_string());
                }
            }
        }
        // A refused call (open circuit, provider none) sent nothing: nothing to record.
        if circuit || matches!(res, Err(LlmError::Disabled)) {
            return res.map_err(CallError::from);
        }
        let call = LlmCall {
            provider: self.provider.name().to_owned(),
            model: self.provider.model().to_owned(),
            purpose: purpose.to_owned(),
            input_tokens: res.as_ref().map_or(0, |r| r.usage.input_tokens as i64),
            output_tokens: res.as_ref().map_or(0, |r| r.usage.output_tokens as i64),
            duration_ms: res
                .as_ref()
                .map_or(elapsed, |r| r.duration)
                .as_millis()
                .min(i64::MAX as u128) as i64,
            outcome: res
                .as_ref()
                .map_or_else(|e| outcome(e), |_| "ok")
                .to_owned(),
            error: res.as_ref().err().map(ToString::to_string),
            job_id: job_id.map(str::to_owned),
            created_at: now,
        };
        let store = self.store.clone();
        if let Err(e) = crate::blocking::run(move || Ok(store.record_llm_call(&call)?)).await {
            // The call happened; losing its row would under-count the budget, so say so.
            tracing::error!(target: "pipeline", error = %e, "could not record an LLM call in the ledger");
        }
        res.map_err(CallError::from)
    }
}
