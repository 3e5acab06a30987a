//! The repair limiter: per action, a cooldown since the last run and an hourly budget whose
//! window starts at the first run and resets an hour later. Only agent-triggered repairs are
//! limited (operators and the daemon itself are not, as upstream).

use std::collections::HashMap;
use std::time::{Duration, Instant};

const HOUR: Duration = Duration::from_secs(3600);

#[derive(Debug, Clone, Copy)]
struct Window {
    last: Instant,
    start: Instant,
    runs: u32,
}

/// Cooldowns and budgets per action name.
#[derive(Debug, Default)]
pub struct Limiter {
    windows: HashMap<String, Window>,
}

impl Limiter {
    /// Admits a run of `action` at `now` (and counts it), or says why not.
    pub fn admit(
        &mut self,
        action: &str,
        cooldown: Duration,
        budget: u32,
        now: Instant,
    ) -> Result<(), String> {
        if let Some(w) = self.windows.get_mut(action) {
            let since = now.saturating_duration_since(w.last);
            if since < cooldown {
                let left = (cooldown - since).as_millis();
                return Err(format!("cooldown active, {left}ms remaining"));
            }
            if now.saturating_duration_since(w.start) >= HOUR {
                *w = Window {
                    last: now,
                    start: now,
                    runs: 1,
                };
                return Ok(());
            }
            if w.runs >= budget {
                return Err(format!("hourly budget exhausted ({budget} runs/hr)"));
            }
            w.runs += 1;
            w.last = now;
            return Ok(());
        }
        self.windows.insert(
            action.to_owned(),
            Window {
                last: now,
                start: now,
                runs: 1,
            },
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cooldown_then_budget_then_reset() {
        let mut l = Limiter::default();
        let t0 = Instant::now();
        let cd = Duration::from_secs(60);
        assert!(l.admit("a", cd, 2, t0).is_ok());
        let e = l
            .admit("a", cd, 2, t0 + Duration::from_secs(10))
            .unwrap_err();
        assert!(e.starts_with("cooldown active, 50000ms"), "{e}");
        assert!(l.admit("b", cd, 2, t0 + Duration::from_secs(10)).is_ok());
        assert!(l.admit("a", cd, 2, t0 + Duration::from_secs(61)).is_ok());
        let e = l
            .admit("a", cd, 2, t0 + Duration::from_secs(200))
            .unwrap_err();
        assert_eq!(e, "hourly budget exhausted (2 runs/hr)");
        assert!(l.admit("a", cd, 2, t0 + Duration::from_secs(3601)).is_ok());
    }
}
