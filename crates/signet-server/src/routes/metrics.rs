//! `GET /metrics`: Prometheus text exposition format 0.0.4, written directly (the format is a
//! few lines of text; a client library would add a registry this daemon does not need).

use std::fmt::Write as _;

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};

use signet_api::{LlmTotals, PipelineStatus};

use crate::error::ApiError;
use crate::state::AppState;

/// The content type Prometheus expects for the text format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Job statuses always reported, even at zero (upstream's standard five).
const JOB_STATUSES: [&str; 5] = ["pending", "leased", "completed", "failed", "dead"];

/// A text exposition under construction.
#[derive(Default)]
struct Exposition {
    out: String,
}

fn escape(v: &str) -> String {
    v.replace('\\', r"\\")
        .replace('"', "\\\"")
        .replace('\n', r"\n")
}

impl Exposition {
    fn family(&mut self, name: &str, kind: &str, help: &str) {
        let _ = writeln!(self.out, "# HELP {name} {help}\n# TYPE {name} {kind}");
    }

    fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: f64) {
        self.out.push_str(name);
        if !labels.is_empty() {
            let parts: Vec<String> = labels
                .iter()
                .map(|(k, v)| format!("{k}=\"{}\"", escape(v)))
                .collect();
            let _ = write!(self.out, "{{{}}}", parts.join(","));
        }
        let _ = writeln!(self.out, " {value}");
    }
}

/// Resident set size of this process, from `/proc/self/status` (Linux only).
pub fn resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

fn http_series(e: &mut Exposition, s: &AppState) {
    let analytics = s.memories().analytics();
    e.family(
        "signet_http_requests_total",
        "counter",
        "HTTP requests by route pattern, method and status class.",
    );
    for (key, stats) in analytics.endpoints() {
        let (method, route) = key.split_once(' ').unwrap_or(("", key.as_str()));
        for (i, n) in stats.status_classes.iter().enumerate() {
            if *n > 0 {
                let class = format!("{}xx", i + 1);
                let labels = [
                    ("route", route),
                    ("method", method),
                    ("status_class", &class),
                ];
                e.sample("signet_http_requests_total", &labels, *n as f64);
            }
        }
    }
    let name = "signet_http_request_duration_seconds";
    e.family(name, "summary", "Request latency per operation group.");
    for (group, snap) in analytics.latency() {
        if snap.count > 0 {
            for (q, v) in [("0.5", snap.p50), ("0.95", snap.p95), ("0.99", snap.p99)] {
                e.sample(name, &[("group", group), ("quantile", q)], v / 1000.0);
            }
        }
        e.sample(
            &format!("{name}_sum"),
            &[("group", group)],
            snap.sum_seconds,
        );
        e.sample(
            &format!("{name}_count"),
            &[("group", group)],
            snap.count as f64,
        );
    }
    e.family(
        "signet_errors_recorded_total",
        "counter",
        "Errors recorded by the analytics collector since start, by stage (ring of the last 500).",
    );
    for (stage, n) in analytics.errors_by_stage() {
        e.sample(
            "signet_errors_recorded_total",
            &[("stage", stage)],
            n as f64,
        );
    }
}

/// One of the ledger's sums.
type LedgerField = fn(&LlmTotals) -> i64;

/// The LLM ledger per provider and model, the pipeline's switches, and both job queues.
fn pipeline_series(e: &mut Exposition, status: &PipelineStatus, paused: bool) {
    let per_model: Vec<(&str, &str, &LlmTotals)> = status
        .ledger
        .by_provider
        .iter()
        .map(|(key, t)| {
            let (provider, model) = key.split_once('/').unwrap_or((key.as_str(), ""));
            (provider, model, t)
        })
        .collect();
    let calls: LedgerField = |t| t.calls;
    let errors: LedgerField = |t| t.errors;
    let counters = [
        (
            "signet_llm_calls_total",
            "LLM calls recorded in the ledger (all time).",
            calls,
        ),
        (
            "signet_llm_errors_total",
            "LLM calls that failed (all time).",
            errors,
        ),
    ];
    for (name, help, field) in counters {
        e.family(name, "counter", help);
        for (provider, model, t) in &per_model {
            let labels = [("provider", *provider), ("model", *model)];
            e.sample(name, &labels, field(t) as f64);
        }
    }
    let name = "signet_llm_tokens_total";
    e.family(name, "counter", "LLM tokens by direction (all time).");
    for (provider, model, t) in &per_model {
        for (direction, n) in [("input", t.input_tokens), ("output", t.output_tokens)] {
            let labels = [
                ("provider", *provider),
                ("model", *model),
                ("direction", direction),
            ];
            e.sample(name, &labels, n as f64);
        }
    }
    let flags = [
        (
            "signet_pipeline_paused",
            "1 while an operator has paused the pipeline.",
            paused,
        ),
        (
            "signet_pipeline_budget_exhausted",
            "1 while an LLM budget limit is reached (jobs wait as pending).",
            status.budget.exhausted,
        ),
    ];
    for (name, help, on) in flags {
        e.family(name, "gauge", help);
        e.sample(name, &[], if on { 1.0 } else { 0.0 });
    }
    let name = "signet_pipeline_jobs";
    e.family(name, "gauge", "Jobs by queue (memory, summary) and status.");
    for (queue, q) in &status.queues {
        let standard = [
            ("pending", q.pending),
            ("leased", q.leased),
            ("completed", q.completed),
            ("failed", q.failed),
            ("dead", q.dead),
        ];
        for (st, n) in standard {
            e.sample(name, &[("queue", queue), ("status", st)], n as f64);
        }
    }
}

/// `GET /metrics`.
pub async fn metrics(State(s): State<AppState>) -> Result<Response, ApiError> {
    let counts = s.memories().ops_counts().await?;
    let coverage = s.memories().embedding_coverage().await?;
    let pipeline = s.pipeline();
    let status = pipeline.status().await?;
    let mut e = Exposition::default();
    http_series(&mut e, &s);
    pipeline_series(&mut e, &status, pipeline.is_paused());
    e.family("signet_memories", "gauge", "Memories by state.");
    e.sample("signet_memories", &[("state", "live")], counts.live as f64);
    e.sample(
        "signet_memories",
        &[("state", "deleted")],
        counts.deleted as f64,
    );
    e.family(
        "signet_jobs",
        "gauge",
        "Pipeline jobs by status (queue depth: pending).",
    );
    for st in JOB_STATUSES {
        let n = counts
            .jobs
            .iter()
            .find(|(k, _)| k == st)
            .map_or(0, |(_, n)| *n);
        e.sample("signet_jobs", &[("status", st)], n as f64);
    }
    for (st, n) in counts
        .jobs
        .iter()
        .filter(|(k, _)| !JOB_STATUSES.contains(&k.as_str()))
    {
        e.sample("signet_jobs", &[("status", st)], *n as f64);
    }
    let semantic = s.memories().semantic();
    e.family(
        "signet_embedding_coverage_ratio",
        "gauge",
        "Share of live memories with a vector from the current model.",
    );
    e.sample("signet_embedding_coverage_ratio", &[], coverage);
    e.family(
        "signet_embedding_provider_errors_total",
        "counter",
        "Embedding provider failures since start.",
    );
    e.sample(
        "signet_embedding_provider_errors_total",
        &[],
        semantic.provider_errors() as f64,
    );
    e.family(
        "signet_uptime_seconds",
        "gauge",
        "Seconds since the daemon started.",
    );
    e.sample(
        "signet_uptime_seconds",
        &[],
        s.info().started.elapsed().as_secs_f64(),
    );
    if let Some((at, _)) = s.maintenance().backup().and_then(|m| m.get().last_good) {
        e.family(
            "signet_backup_last_success_timestamp_seconds",
            "gauge",
            "When the last good backup in backup.dir was taken (Unix seconds).",
        );
        e.sample(
            "signet_backup_last_success_timestamp_seconds",
            &[],
            at.timestamp() as f64,
        );
    }
    if let Some(rss) = resident_bytes() {
        e.family(
            "process_resident_memory_bytes",
            "gauge",
            "Resident memory size in bytes.",
        );
        e.sample("process_resident_memory_bytes", &[], rss as f64);
    }
    Ok(([(header::CONTENT_TYPE, CONTENT_TYPE)], e.out).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_escaped() {
        let mut e = Exposition::default();
        e.sample("m", &[("route", "a\"b\\c\nd")], 1.5);
        assert_eq!(e.out, "m{route=\"a\\\"b\\\\c\\nd\"} 1.5\n");
    }
}
