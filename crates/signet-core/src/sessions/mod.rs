//! The session tracker: which runtime path (`plugin` or `legacy`) owns each harness session,
//! whether the session is bypassed, and when each harness was last seen. In memory, as
//! upstream (a restart forgets every claim).
//!
//! Rules (upstream's `session-tracker`): a claim by the other path that has not expired is a
//! [`Conflict`]; a claim by the same path refreshes it; a claim expires [`CLAIM_TTL`] after
//! its last claim or refresh. Mid-session hooks [`check`](Sessions::check) the owner, session
//! end [`release`](Sessions::release)s it. Only a claimed session can be bypassed. Every
//! method takes the time, so tests drive the clock.
//!
//! Threading: one `std::sync::Mutex` around small maps, held for no more than a map
//! operation; cheap to clone (an `Arc`).

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};

use chrono::{DateTime, Duration, Utc};
use signet_api::{SessionInfo, SessionList};

/// How long a claim lasts after its last claim or refresh.
pub const CLAIM_TTL: Duration = Duration::hours(4);

/// Which integration of a harness drives a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RuntimePath {
    /// A harness plugin (or the MCP server).
    Plugin,
    /// The legacy shell hooks.
    Legacy,
}

impl RuntimePath {
    /// `plugin` or `legacy`; anything else is no runtime path (upstream ignores it).
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim() {
            "plugin" => Some(Self::Plugin),
            "legacy" => Some(Self::Legacy),
            _ => None,
        }
    }

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Plugin => "plugin",
            Self::Legacy => "legacy",
        }
    }
}

/// The session belongs to the other runtime path (the hooks answer 409 with this message).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Conflict {
    /// The path that holds the claim.
    pub owner: RuntimePath,
}

impl fmt::Display for Conflict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "session claimed by {} path", self.owner.as_str())
    }
}

impl std::error::Error for Conflict {}

/// One live claim.
#[derive(Debug, Clone)]
struct Claim {
    path: RuntimePath,
    /// The last claim or refresh: the claim expires [`CLAIM_TTL`] after it.
    claimed_at: DateTime<Utc>,
    bypassed: bool,
}

impl Claim {
    fn live(&self, now: DateTime<Utc>) -> bool {
        now - self.claimed_at < CLAIM_TTL
    }

    fn info(&self, key: &str) -> SessionInfo {
        SessionInfo {
            key: key.to_owned(),
            runtime_path: self.path.as_str().to_owned(),
            claimed_at: signet_model::time::format_iso(self.claimed_at),
            bypassed: self.bypassed,
            extra: Default::default(),
        }
    }
}

#[derive(Debug, Default)]
struct State {
    claims: HashMap<String, Claim>,
    /// Harness name → when it last called a lifecycle hook.
    harnesses: HashMap<String, DateTime<Utc>>,
}

/// With this many claims held, a new claim first drops the expired ones (so the map stays
/// bounded without a sweeper; [`Sessions::sweep`] does the same on demand).
const SWEEP_ABOVE: usize = 1024;

/// Most claims held: past it, a new claim evicts the least recently refreshed live one.
const MAX_CLAIMS: usize = 10_000;

/// Most harness names remembered (names come from requests; the map must stay bounded).
const MAX_HARNESSES: usize = 256;

/// The tracker. Clones share one state.
#[derive(Debug, Clone, Default)]
pub struct Sessions {
    state: Arc<Mutex<State>>,
}

impl Sessions {
    /// An empty tracker.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves the maps consistent (every change is one
        // map operation), so a poisoned lock is still usable.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Claims `key` for `path` (session start): a new or expired claim is taken, the same
    /// path's claim is refreshed (its bypass flag kept), the other path's live claim refuses.
    pub fn claim(&self, key: &str, path: RuntimePath, now: DateTime<Utc>) -> Result<(), Conflict> {
        let mut state = self.lock();
        match state.claims.get_mut(key) {
            Some(c) if c.live(now) && c.path != path => Err(Conflict { owner: c.path }),
            Some(c) if c.live(now) => {
                c.claimed_at = now;
                Ok(())
            }
            _ => {
                if state.claims.len() >= SWEEP_ABOVE {
                    state.claims.retain(|_, c| c.live(now));
                }
                if state.claims.len() >= MAX_CLAIMS {
                    // Full of live claims (a caller inventing session keys): the least
                    // recently refreshed one goes, so memory stays bounded.
                    let oldest = state
                        .claims
                        .iter()
                        .min_by_key(|(_, c)| c.claimed_at)
                        .map(|(k, _)| k.clone());
                    if let Some(k) = oldest {
                        state.claims.remove(&k);
                    }
                }
                let claim = Claim {
                    path,
                    claimed_at: now,
                    bypassed: false,
                };
                state.claims.insert(key.to_owned(), claim);
                Ok(())
            }
        }
    }

    /// Mid-session check: refuses when another path holds a live claim on `key`. An
    /// unclaimed (or expired) session passes, as upstream.
    pub fn check(&self, key: &str, path: RuntimePath, now: DateTime<Utc>) -> Result<(), Conflict> {
        match self.lock().claims.get(key) {
            Some(c) if c.live(now) && c.path != path => Err(Conflict { owner: c.path }),
            _ => Ok(()),
        }
    }

    /// Ends the session's claim (session end); whether there was one.
    pub fn release(&self, key: &str) -> bool {
        self.lock().claims.remove(key).is_some()
    }

    /// Whether the hooks should answer `key` with stubs.
    pub fn is_bypassed(&self, key: &str, now: DateTime<Utc>) -> bool {
        self.lock()
            .claims
            .get(key)
            .is_some_and(|c| c.live(now) && c.bypassed)
    }

    /// Sets the bypass flag of a claimed session; `None` when `key` is not claimed.
    pub fn set_bypass(&self, key: &str, enabled: bool, now: DateTime<Utc>) -> Option<SessionInfo> {
        let mut state = self.lock();
        let claim = state.claims.get_mut(key).filter(|c| c.live(now))?;
        claim.bypassed = enabled;
        Some(claim.info(key))
    }

    /// One claimed session.
    pub fn get(&self, key: &str, now: DateTime<Utc>) -> Option<SessionInfo> {
        let state = self.lock();
        state
            .claims
            .get(key)
            .filter(|c| c.live(now))
            .map(|c| c.info(key))
    }

    /// Every live claim, oldest claim first (then by key).
    pub fn list(&self, now: DateTime<Utc>) -> SessionList {
        let state = self.lock();
        let mut live: Vec<(&String, &Claim)> =
            state.claims.iter().filter(|(_, c)| c.live(now)).collect();
        live.sort_by(|a, b| a.1.claimed_at.cmp(&b.1.claimed_at).then(a.0.cmp(b.0)));
        let sessions: Vec<SessionInfo> = live.into_iter().map(|(k, c)| c.info(k)).collect();
        SessionList {
            count: sessions.len(),
            sessions,
            extra: Default::default(),
        }
    }

    /// Live claims and how many of them are bypassed (for `/api/status`).
    pub fn counts(&self, now: DateTime<Utc>) -> (usize, usize) {
        let state = self.lock();
        let live = state.claims.values().filter(|c| c.live(now));
        live.fold((0, 0), |(n, b), c| (n + 1, b + usize::from(c.bypassed)))
    }

    /// Drops expired claims (upstream sweeps every 15 minutes); how many went.
    pub fn sweep(&self, now: DateTime<Utc>) -> usize {
        let mut state = self.lock();
        let before = state.claims.len();
        state.claims.retain(|_, c| c.live(now));
        before - state.claims.len()
    }

    /// Records that `harness` called a lifecycle hook at `now`.
    pub fn seen(&self, harness: &str, now: DateTime<Utc>) {
        let mut state = self.lock();
        if !state.harnesses.contains_key(harness) && state.harnesses.len() >= MAX_HARNESSES {
            let oldest = state
                .harnesses
                .iter()
                .min_by_key(|(_, t)| **t)
                .map(|(h, _)| h.clone());
            if let Some(h) = oldest {
                state.harnesses.remove(&h);
            }
        }
        state.harnesses.insert(harness.to_owned(), now);
    }

    /// Each harness seen and when it was last seen (ISO-8601), by name.
    pub fn harnesses(&self) -> Vec<(String, String)> {
        let state = self.lock();
        let mut seen: Vec<(String, String)> = state
            .harnesses
            .iter()
            .map(|(h, t)| (h.clone(), signet_model::time::format_iso(*t)))
            .collect();
        seen.sort();
        seen
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use RuntimePath::{Legacy, Plugin};

    fn t0() -> DateTime<Utc> {
        signet_model::time::parse("2026-01-01T00:00:00Z").unwrap()
    }

    fn at(minutes: i64) -> DateTime<Utc> {
        t0() + Duration::minutes(minutes)
    }

    #[test]
    fn the_other_path_conflicts_until_the_claim_expires() {
        let s = Sessions::new();
        s.claim("k", Plugin, at(0)).unwrap();
        let e = s.claim("k", Legacy, at(10)).unwrap_err();
        assert_eq!(e.to_string(), "session claimed by plugin path");
        assert_eq!(
            s.check("k", Legacy, at(10)),
            Err(Conflict { owner: Plugin })
        );
        assert!(s.check("k", Plugin, at(10)).is_ok());
        // 4 h after the claim it has expired: the other path may take it.
        assert!(s.check("k", Legacy, at(240)).is_ok());
        s.claim("k", Legacy, at(240)).unwrap();
        assert_eq!(s.get("k", at(241)).unwrap().runtime_path, "legacy");
    }

    #[test]
    fn a_refresh_by_the_same_path_extends_the_claim() {
        let s = Sessions::new();
        s.claim("k", Plugin, at(0)).unwrap();
        s.claim("k", Plugin, at(200)).unwrap();
        assert!(s.claim("k", Legacy, at(300)).is_err(), "refreshed at 200");
        assert!(
            s.claim("k", Legacy, at(440)).is_ok(),
            "expired at 200 + 240"
        );
    }

    #[test]
    fn unclaimed_sessions_pass_the_check_and_cannot_be_bypassed() {
        let s = Sessions::new();
        assert!(s.check("nobody", Legacy, at(0)).is_ok());
        assert!(s.set_bypass("nobody", true, at(0)).is_none());
        assert!(!s.is_bypassed("nobody", at(0)));
        assert!(s.get("nobody", at(0)).is_none());
    }

    #[test]
    fn bypass_follows_the_claim_and_survives_a_refresh() {
        let s = Sessions::new();
        s.claim("k", Plugin, at(0)).unwrap();
        let info = s.set_bypass("k", true, at(1)).unwrap();
        assert!(info.bypassed);
        assert!(s.is_bypassed("k", at(2)));
        s.claim("k", Plugin, at(3)).unwrap();
        assert!(s.is_bypassed("k", at(4)), "a refresh keeps the flag");
        assert_eq!(s.counts(at(4)), (1, 1));
        assert!(!s.is_bypassed("k", at(3 + 240)), "expired with its claim");
        assert!(s.set_bypass("k", false, at(3 + 240)).is_none());
    }

    #[test]
    fn release_forgets_the_claim_and_its_bypass() {
        let s = Sessions::new();
        s.claim("k", Legacy, at(0)).unwrap();
        s.set_bypass("k", true, at(0)).unwrap();
        assert!(s.release("k"));
        assert!(!s.release("k"));
        assert!(!s.is_bypassed("k", at(1)));
        s.claim("k", Plugin, at(1)).unwrap();
        assert!(!s.is_bypassed("k", at(1)), "a new claim starts unbypassed");
    }

    #[test]
    fn the_listing_shows_live_claims_oldest_first_and_sweep_drops_the_rest() {
        let s = Sessions::new();
        s.claim("b", Plugin, at(0)).unwrap();
        s.claim("a", Legacy, at(5)).unwrap();
        s.claim("c", Plugin, at(100)).unwrap();
        let list = s.list(at(241));
        let keys: Vec<_> = list.sessions.iter().map(|i| i.key.as_str()).collect();
        assert_eq!(keys, ["a", "c"], "b expired at 240");
        assert_eq!(list.count, 2);
        assert_eq!(list.sessions[0].claimed_at, "2026-01-01T00:05:00.000Z");
        assert_eq!(s.sweep(at(241)), 1);
        assert_eq!(s.sweep(at(241)), 0);
    }

    #[test]
    fn many_claims_drop_the_expired_ones() {
        let s = Sessions::new();
        for i in 0..SWEEP_ABOVE {
            s.claim(&format!("old{i}"), Plugin, at(0)).unwrap();
        }
        s.claim("late", Plugin, at(300)).unwrap();
        assert_eq!(s.lock().claims.len(), 1, "the expired claims went");
        assert_eq!(s.list(at(300)).count, 1);
    }

    #[test]
    fn harnesses_remember_their_last_call() {
        let s = Sessions::new();
        s.seen("codex", at(0));
        s.seen("claude-code", at(1));
        s.seen("codex", at(2));
        let seen = s.harnesses();
        assert_eq!(seen.len(), 2);
        assert_eq!(seen[1], ("codex".into(), "2026-01-01T00:02:00.000Z".into()));
        for i in 0..2 * MAX_HARNESSES {
            s.seen(&format!("h{i}"), at(10 + i as i64));
        }
        assert_eq!(s.harnesses().len(), MAX_HARNESSES);
    }

    #[test]
    fn runtime_paths_parse_as_upstream() {
        assert_eq!(RuntimePath::parse("plugin"), Some(Plugin));
        assert_eq!(RuntimePath::parse(" legacy "), Some(Legacy));
        assert_eq!(RuntimePath::parse("mcp"), None);
    }

    #[test]
    fn live_claims_are_bounded_by_evicting_the_oldest() {
        let s = Sessions::new();
        let t0 = Utc::now();
        for i in 0..MAX_CLAIMS + 5 {
            let at = t0 + Duration::milliseconds(i as i64);
            s.claim(&format!("k{i}"), RuntimePath::Plugin, at).unwrap();
        }
        let state = s.lock();
        assert_eq!(state.claims.len(), MAX_CLAIMS);
        assert!(
            !state.claims.contains_key("k0"),
            "the oldest claim was evicted"
        );
        assert!(state.claims.contains_key(&format!("k{}", MAX_CLAIMS + 4)));
    }
}
