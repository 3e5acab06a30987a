//! The in-memory analytics collector (upstream's, reset on restart): request counts per route
//! pattern, per-actor counts, latency histograms per operation group, and a ring of recent
//! errors. The HTTP layer records every request after its handler ran; services and workers
//! record errors (embedding provider failures, mutation conflicts).
//!
//! Cardinality is bounded: endpoints are keyed by route *pattern* (`GET /api/memory/{id}`),
//! unmatched paths collapse to `"<METHOD> (unmatched)"`, and at most [`MAX_ACTORS`] distinct
//! actors are tracked (the rest count under `"(other)"`). Locks are held for a map update only.

mod errors;
mod latency;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use signet_api::{
    ActorUsage, EndpointUsage, ErrorsReport, Extra, LatencyReport, MemoryOperations, UsageReport,
    UsageTotals,
};

pub use errors::{ERROR_RING, ErrorEntry, ErrorQuery, Stage, codes};
pub use latency::{GROUPS, LatencyHistogram, Snapshot};

/// Distinct actors tracked before the rest are pooled.
pub const MAX_ACTORS: usize = 1000;

/// One finished request, as the HTTP layer saw it.
#[derive(Debug, Clone, Copy)]
pub struct RequestSample<'a> {
    pub method: &'a str,
    /// The matched route pattern, or `None` when no route matched.
    pub route: Option<&'a str>,
    pub status: u16,
    pub latency: Duration,
    /// `x-signet-actor`, when present.
    pub actor: Option<&'a str>,
}

/// Counters of one `"<METHOD> <route>"`.
#[derive(Debug, Clone, Default)]
pub struct EndpointStats {
    pub count: u64,
    /// Responses with status ≥ 400.
    pub errors: u64,
    pub total_latency_ms: f64,
    /// Responses per status class 1xx..5xx (for `/metrics`).
    pub status_classes: [u64; 5],
}

impl From<&EndpointStats> for EndpointUsage {
    fn from(e: &EndpointStats) -> Self {
        Self {
            count: e.count,
            errors: e.errors,
            total_latency_ms: e.total_latency_ms,
            extra: Extra::new(),
        }
    }
}

#[derive(Default)]
struct Counters {
    endpoints: BTreeMap<String, EndpointStats>,
    actors: BTreeMap<String, ActorUsage>,
}

#[derive(Default)]
struct Inner {
    counters: Mutex<Counters>,
    latency: [Mutex<LatencyHistogram>; 6],
    errors: Mutex<errors::ErrorRing>,
}

/// The collector. Cheap to clone; clones share state.
#[derive(Clone, Default)]
pub struct Analytics {
    inner: Arc<Inner>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The latency group of a route: upstream's path rule, plus PATCH / DELETE of
/// `/api/memory/{id}` as mutations (upstream misses those).
pub fn group_of(method: &str, route: &str) -> Option<&'static str> {
    let has = |parts: &[&str]| parts.iter().any(|p| route.contains(p));
    if has(&["/remember", "/save"]) {
        Some("remember")
    } else if has(&["/recall", "/search", "/similar"]) {
        Some("recall")
    } else if has(&["/modify", "/forget", "/recover"])
        || (route == "/api/memory/{id}" && matches!(method, "PATCH" | "DELETE"))
    {
        Some("mutate")
    } else {
        None
    }
}

impl Analytics {
    /// Records one finished request.
    pub fn record_request(&self, r: RequestSample<'_>) {
        let key = match r.route {
            Some(route) => format!("{} {route}", r.method),
            None => format!("{} (unmatched)", r.method),
        };
        let group = r.route.and_then(|route| group_of(r.method, route));
        let ms = r.latency.as_secs_f64() * 1000.0;
        {
            let mut c = lock(&self.inner.counters);
            let e = c.endpoints.entry(key).or_default();
            e.count += 1;
            e.errors += u64::from(r.status >= 400);
            e.total_latency_ms += ms;
            let class = usize::from((r.status / 100).clamp(1, 5)) - 1;
            e.status_classes[class] += 1;
            if let Some(actor) = r.actor {
                let tracked = c.actors.len() < MAX_ACTORS || c.actors.contains_key(actor);
                let name = if tracked { actor } else { "(other)" };
                let a = c.actors.entry(name.to_owned()).or_default();
                a.requests += 1;
                match group {
                    Some("remember") => a.remembers += 1,
                    Some("recall") => a.recalls += 1,
                    Some("mutate") => a.mutations += 1,
                    _ => {}
                }
            }
        }
        if let Some(g) = group {
            self.record_latency(g, r.latency);
        }
    }

    /// Adds a sample to a latency group (one of [`GROUPS`]; others are ignored).
    pub fn record_latency(&self, group: &str, d: Duration) {
        if let Some(i) = GROUPS.iter().position(|g| *g == group) {
            lock(&self.inner.latency[i]).record(d);
        }
    }

    /// Records an error in the ring.
    pub fn record_error(&self, e: ErrorEntry) {
        lock(&self.inner.errors).push(e);
    }

    /// Snapshot of every latency group, in [`GROUPS`] order.
    pub fn latency(&self) -> Vec<(&'static str, Snapshot)> {
        GROUPS
            .iter()
            .zip(&self.inner.latency)
            .map(|(g, h)| (*g, lock(h).snapshot()))
            .collect()
    }

    /// Every endpoint's counters, keyed `"<METHOD> <route>"`.
    pub fn endpoints(&self) -> BTreeMap<String, EndpointStats> {
        lock(&self.inner.counters).endpoints.clone()
    }

    /// `GET /api/analytics/errors`: errors matching `q` (oldest first) and the per-code
    /// summary of the whole ring.
    pub fn errors(&self, q: &ErrorQuery) -> ErrorsReport {
        let ring = lock(&self.inner.errors);
        ErrorsReport {
            errors: ring.query(q).into_iter().map(Into::into).collect(),
            summary: ring.summary(),
            extra: Extra::new(),
        }
    }

    /// Errors in the ring per stage.
    pub fn errors_by_stage(&self) -> BTreeMap<&'static str, u64> {
        lock(&self.inner.errors).by_stage()
    }

    /// One latency group's snapshot (a name outside [`GROUPS`] reads empty).
    fn snapshot(&self, group: &str) -> Snapshot {
        GROUPS
            .iter()
            .position(|g| *g == group)
            .map(|i| lock(&self.inner.latency[i]).snapshot())
            .unwrap_or_default()
    }

    /// `GET /api/analytics/usage`, with empty `providers` (the LLM ledger's totals, which the
    /// route takes from `Pipeline::usage`).
    pub fn usage(&self) -> UsageReport {
        let count = |group| self.snapshot(group).count;
        let memory_operations = MemoryOperations {
            mutate: count("mutate"),
            recall: count("recall"),
            remember: count("remember"),
            extra: Extra::new(),
        };
        let c = lock(&self.inner.counters);
        let (mut requests, mut errors) = (0, 0);
        for e in c.endpoints.values() {
            requests += e.count;
            errors += e.errors;
        }
        UsageReport {
            actors: c.actors.clone(),
            connectors: Extra::new(),
            endpoints: c
                .endpoints
                .iter()
                .map(|(k, e)| (k.clone(), e.into()))
                .collect(),
            providers: BTreeMap::new(),
            totals: UsageTotals {
                errors,
                memory_operations,
                requests,
                extra: Extra::new(),
            },
            extra: Extra::new(),
        }
    }

    /// `GET /api/analytics/latency`.
    pub fn latency_report(&self) -> LatencyReport {
        let group = |name| self.snapshot(name).into();
        LatencyReport {
            jobs: group("jobs"),
            mutate: group("mutate"),
            predictor_score: group("predictor_score"),
            predictor_train: group("predictor_train"),
            recall: group("recall"),
            remember: group("remember"),
            extra: Extra::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample<'a>(method: &'a str, route: Option<&'a str>, status: u16) -> RequestSample<'a> {
        RequestSample {
            method,
            route,
            status,
            latency: Duration::from_millis(3),
            actor: Some("claude"),
        }
    }

    #[test]
    fn requests_are_counted_by_pattern_group_and_actor() {
        let a = Analytics::default();
        a.record_request(sample("POST", Some("/api/memory/remember"), 200));
        a.record_request(sample("PATCH", Some("/api/memory/{id}"), 409));
        a.record_request(sample("GET", None, 404));
        let u = serde_json::to_value(a.usage()).unwrap();
        assert_eq!(u["endpoints"]["POST /api/memory/remember"]["count"], 1);
        assert_eq!(u["endpoints"]["PATCH /api/memory/{id}"]["errors"], 1);
        assert_eq!(u["endpoints"]["GET (unmatched)"]["count"], 1);
        assert_eq!(u["actors"]["claude"]["requests"], 3);
        assert_eq!(u["actors"]["claude"]["remembers"], 1);
        assert_eq!(u["actors"]["claude"]["mutations"], 1);
        assert_eq!(u["totals"]["memoryOperations"]["mutate"], 1);
        let l = serde_json::to_value(a.latency_report()).unwrap();
        assert_eq!(l["remember"]["count"], 1);
        assert_eq!(l["recall"]["count"], 0);
        assert_eq!(l["predictor_train"]["p99"], 0.0);
        let eps = a.endpoints();
        assert_eq!(eps["PATCH /api/memory/{id}"].status_classes[3], 1);
    }
}
