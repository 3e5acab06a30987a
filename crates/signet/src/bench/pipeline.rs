//! The pipeline benchmark: extraction jobs per second against a mock LLM that answers at
//! once (so the figure is the daemon's own cost: leasing, candidate search, the one
//! transaction per job, the ledger), and remember latency with the pipeline paused vs
//! while it drains the queue.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::Args;
use serde_json::{Value, json};

use super::corpus::{self, Rng};
use super::daemon::BenchDaemon;
use super::mock_llm::{Kind, MockLlm, MockOptions};
use super::stats::Samples;
use crate::output::outln;

#[derive(Debug, Args)]
pub struct PipelineArgs {
    /// Memories remembered with the pipeline paused, then as many again while it runs.
    #[arg(long, default_value_t = 500)]
    pub count: usize,
    /// Give up when the queue has not drained after this many seconds.
    #[arg(long, default_value_t = 1800)]
    pub timeout: u64,
}

pub async fn run(args: PipelineArgs) -> Result<()> {
    let mock = MockLlm::start(MockOptions::default())
        .await
        .context("starting the mock LLM")?;
    let dir = tempfile::tempdir()?;
    std::fs::write(dir.path().join("agent.yaml"), agent_yaml(&mock.endpoint()))?;
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(8)
        .build()?;
    let mut d = BenchDaemon::start(dir.path(), &http, None).await?;
    let n = args.count;
    outln!(
        "signet bench pipeline — {} cores, {n} + {n} memories, mock Ollama answering at once",
        std::thread::available_parallelism().map_or(0, |c| c.get())
    )?;

    let paused = post(&http, &d.base, "/api/pipeline/pause").await?;
    if paused["paused"] != true {
        bail!("pause answered {paused}");
    }
    let mut rng = Rng::new(0x91be);
    let idle = remember(&http, &d.base, &mut rng, 0..n).await?;
    outln!("remember, pipeline paused:  {}", idle.summary())?;
    let queued = extract_jobs(&status(&http, &d.base).await?);
    if queued.pending != n as i64 {
        bail!("{n} remembers queued {} extraction jobs", queued.pending);
    }

    post(&http, &d.base, "/api/pipeline/resume").await?;
    let began = Instant::now();
    let total = 2 * n as i64;
    let (busy, drained) = tokio::join!(
        async {
            // Time the second half once the worker has picked up its first job.
            working(&http, &d.base).await?;
            let lat = remember(&http, &d.base, &mut rng, n..2 * n).await?;
            let left = extract_jobs(&status(&http, &d.base).await?);
            Ok::<_, anyhow::Error>((lat, began.elapsed(), left.pending + left.leased))
        },
        drain(&http, &d.base, total, Duration::from_secs(args.timeout)),
    );
    let (busy, busy_done, left) = busy?;
    let (drain_time, jobs) = drained?;
    outln!(
        "remember, pipeline running: {}  (done at {:.1} s, {left} jobs still queued)",
        busy.summary(),
        busy_done.as_secs_f64()
    )?;
    outln!(
        "extraction: {total} jobs in {:.1} s = {:.1} jobs/s (completed {}, dead {})",
        drain_time.as_secs_f64(),
        total as f64 / drain_time.as_secs_f64(),
        jobs.completed,
        jobs.dead
    )?;
    let s = status(&http, &d.base).await?;
    outln!(
        "LLM calls: {} extraction, {} decision, {} other; ledger {} calls, {} input + {} output tokens; job latency p50 {} ms p95 {} ms",
        mock.count(Kind::Extraction),
        mock.count(Kind::Decision),
        mock.requests() - mock.count(Kind::Extraction) - mock.count(Kind::Decision),
        s["ledger"]["total"]["calls"],
        s["ledger"]["total"]["inputTokens"],
        s["ledger"]["total"]["outputTokens"],
        s["latency"]["p50"],
        s["latency"]["p95"],
    )?;
    d.stop();
    Ok(())
}

/// The pipeline on, against the mock; keyword-only recall (no embedding model).
fn agent_yaml(endpoint: &str) -> String {
    format!(
        "embedding:\n  provider: none\nmemory:\n  pipelineV2:\n    enabled: true\n    \
         extraction:\n      provider: ollama\n      model: qwen3:4b\n      endpoint: {endpoint}\n    \
         worker:\n      pollMs: 100\n"
    )
}

/// Remembers the numbered corpus memories one after the other; their latencies.
async fn remember(
    http: &reqwest::Client,
    base: &str,
    rng: &mut Rng,
    numbers: std::ops::Range<usize>,
) -> Result<Samples> {
    let mut lat = Samples::default();
    for i in numbers {
        let body = json!({"content": corpus::memory(rng, i)});
        let t = Instant::now();
        let res = http
            .post(format!("{base}/api/memory/remember"))
            .json(&body)
            .send()
            .await?;
        if !res.status().is_success() {
            bail!("remember answered {}", res.status());
        }
        res.bytes().await?;
        lat.push(t.elapsed());
    }
    Ok(lat)
}

/// Polls the status until `total` extraction jobs are completed or dead; how long that took.
async fn drain(
    http: &reqwest::Client,
    base: &str,
    total: i64,
    timeout: Duration,
) -> Result<(Duration, Jobs)> {
    let began = Instant::now();
    loop {
        let jobs = extract_jobs(&status(http, base).await?);
        if jobs.completed + jobs.dead >= total {
            return Ok((began.elapsed(), jobs));
        }
        if began.elapsed() > timeout {
            bail!("the queue did not drain in {timeout:?}: {jobs:?}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits until the extraction worker has leased or finished a job.
async fn working(http: &reqwest::Client, base: &str) -> Result<()> {
    let began = Instant::now();
    loop {
        let jobs = extract_jobs(&status(http, base).await?);
        if jobs.leased + jobs.completed > 0 {
            return Ok(());
        }
        if began.elapsed() > Duration::from_secs(60) {
            bail!("the worker leased no job in 60 s: {jobs:?}");
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// The `extract` jobs by status.
#[derive(Debug, Default)]
struct Jobs {
    pending: i64,
    leased: i64,
    completed: i64,
    dead: i64,
}

fn extract_jobs(status: &Value) -> Jobs {
    let t = &status["queues"]["memory"]["byType"]["extract"];
    let n = |k: &str| t[k].as_i64().unwrap_or(0);
    Jobs {
        pending: n("pending"),
        leased: n("leased"),
        completed: n("completed"),
        dead: n("dead"),
    }
}

async fn status(http: &reqwest::Client, base: &str) -> Result<Value> {
    let res = http
        .get(format!("{base}/api/pipeline/status"))
        .send()
        .await?;
    if !res.status().is_success() {
        bail!("/api/pipeline/status answered {}", res.status());
    }
    Ok(res.json().await?)
}

async fn post(http: &reqwest::Client, base: &str, path: &str) -> Result<Value> {
    let res = http.post(format!("{base}{path}")).send().await?;
    if !res.status().is_success() {
        bail!("{path} answered {}", res.status());
    }
    Ok(res.json().await?)
}
