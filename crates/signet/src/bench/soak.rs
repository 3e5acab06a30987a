//! The soak benchmark: a fixed-rate mix of remember / recall / modify / forget against a real
//! daemon for a long time, reporting throughput, latency percentiles per operation, errors and
//! the daemon's RSS over time, with a verdict on whether RSS plateaued.
//!
//! Each client ticks at `rate / clients` per second and issues one operation per tick (a closed
//! loop per client: a slow answer delays that client's next tick, and the report shows the rate
//! achieved). Ids are checked out of a shared pool while a client modifies or forgets them, so
//! no two clients race on one memory and every error is the daemon's.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use clap::Args;
use serde_json::json;

use super::corpus::{self, Rng};
use super::daemon::BenchDaemon;
use super::stats::{Samples, rss_mib};
use crate::output::outln;

#[derive(Debug, Args)]
pub struct SoakArgs {
    /// How long to run, in seconds.
    #[arg(long, default_value_t = 600)]
    pub duration: u64,
    /// Operations per second, all clients together.
    #[arg(long, default_value_t = 200)]
    pub rate: u32,
    /// Concurrent clients.
    #[arg(long, default_value_t = 4)]
    pub clients: usize,
    /// Memories remembered before the clock starts.
    #[arg(long, default_value_t = 1000)]
    pub seed: usize,
    /// Seconds between RSS samples.
    #[arg(long, default_value_t = 5)]
    pub sample_every: u64,
    /// Hybrid recall with the hash embedder of this many dimensions (default keyword-only).
    #[arg(long)]
    pub hash_embedder: Option<usize>,
    /// A constant live set: remember and forget at the same rate (20% remember, 40% recall,
    /// 20% modify, 20% forget) instead of 40/40/10/10, so growth of the data cannot hide a
    /// leak.
    #[arg(long)]
    pub steady: bool,
}

const OPS: [&str; 4] = ["remember", "recall", "modify", "forget"];

#[derive(Default)]
struct Tally {
    lat: [Samples; 4],
    errors: [u64; 4],
    first_errors: Vec<String>,
}

struct Shared {
    http: reqwest::Client,
    base: String,
    ids: Mutex<Vec<String>>,
    next: std::sync::atomic::AtomicUsize,
}

pub async fn run(args: SoakArgs) -> Result<()> {
    if args.clients == 0 || args.rate == 0 {
        bail!("--clients and --rate must be positive");
    }
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()?;
    let dir = tempfile::tempdir()?;
    std::fs::write(
        dir.path().join("agent.yaml"),
        "embedding:\n  provider: none\n",
    )?;
    let embedder = args.hash_embedder.map(|d| format!("hash:{d}"));
    let mut d = BenchDaemon::start_logging(dir.path(), &http, embedder.as_deref(), "info").await?;
    let mix = if args.steady {
        "20% remember, 40% recall, 20% modify, 20% forget: a constant live set"
    } else {
        "40% remember, 40% recall, 10% modify, 10% forget"
    };
    outln!(
        "signet bench soak — {} cores, {} s at {}/s with {} clients ({mix})",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        args.duration,
        args.rate,
        args.clients
    )?;
    let shared = Arc::new(Shared {
        http,
        base: d.base.clone(),
        ids: Mutex::new(Vec::new()),
        next: std::sync::atomic::AtomicUsize::new(0),
    });
    let mut rng = Rng::new(0x50a4);
    for _ in 0..args.seed {
        let (ok, _) = op(&shared, 0, &mut rng).await;
        if let Err(e) = ok {
            bail!("seeding: {e}");
        }
    }
    outln!(
        "seeded {} memories; idle RSS {:.1} MiB",
        args.seed,
        rss_mib(d.pid).unwrap_or(f64::NAN)
    )?;
    let began = Instant::now();
    let until = began + Duration::from_secs(args.duration);
    let tally = Arc::new(Mutex::new(Tally::default()));
    let mut tasks = Vec::new();
    let period = Duration::from_secs_f64(args.clients as f64 / f64::from(args.rate));
    for c in 0..args.clients {
        let (shared, tally) = (shared.clone(), tally.clone());
        tasks.push(tokio::spawn(client(
            shared,
            tally,
            period,
            until,
            c as u64,
            args.steady,
        )));
    }
    let rss = sample_rss(d.pid, began, until, Duration::from_secs(args.sample_every)).await;
    for t in tasks {
        t.await?;
    }
    let elapsed = began.elapsed().as_secs_f64();
    let tally = tally.lock().unwrap_or_else(|p| p.into_inner());
    report(&tally, elapsed, args.rate, &rss)?;
    d.stop();
    Ok(())
}

async fn client(
    shared: Arc<Shared>,
    tally: Arc<Mutex<Tally>>,
    period: Duration,
    until: Instant,
    seed: u64,
    steady: bool,
) {
    let mut rng = Rng::new(0x50a4 + 1 + seed);
    let mut every = tokio::time::interval(period);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut local = Tally::default();
    while Instant::now() < until {
        every.tick().await;
        let which = match (steady, rng.next() % 10) {
            (false, 0..=3) | (true, 0..=1) => 0,
            (false, 4..=7) | (true, 2..=5) => 1,
            (false, 8) | (true, 6..=7) => 2,
            _ => 3,
        };
        let t = Instant::now();
        let (res, which) = op(&shared, which, &mut rng).await;
        match res {
            Ok(()) => local.lat[which].push(t.elapsed()),
            Err(e) => {
                local.errors[which] += 1;
                if local.first_errors.len() < 5 {
                    local.first_errors.push(format!("{}: {e}", OPS[which]));
                }
            }
        }
    }
    let mut all = tally.lock().unwrap_or_else(|p| p.into_inner());
    for i in 0..4 {
        all.lat[i].extend(std::mem::take(&mut local.lat[i]));
        all.errors[i] += local.errors[i];
    }
    all.first_errors.extend(local.first_errors);
}

/// One operation; modify / forget fall back to remember while no id is available.
async fn op(s: &Shared, which: usize, rng: &mut Rng) -> (Result<()>, usize) {
    let checked_out = if which >= 2 {
        let mut ids = s.ids.lock().unwrap_or_else(|p| p.into_inner());
        if ids.is_empty() {
            None
        } else {
            let i = (rng.next() as usize) % ids.len();
            Some(ids.swap_remove(i))
        }
    } else {
        None
    };
    let which = if which >= 2 && checked_out.is_none() {
        0
    } else {
        which
    };
    let res = match (which, checked_out) {
        (0, _) => remember(s, rng).await,
        (1, _) => send(
            s.http
                .post(format!("{}/api/memory/recall", s.base))
                .json(&json!({"query": corpus::query(rng), "limit": 10})),
        )
        .await
        .map(|_| ()),
        (2, Some(id)) => {
            let body = json!({"importance": (rng.next() % 100) as f64 / 100.0, "reason": "soak"});
            let r = send(
                s.http
                    .patch(format!("{}/api/memory/{id}", s.base))
                    .json(&body),
            )
            .await;
            s.ids.lock().unwrap_or_else(|p| p.into_inner()).push(id);
            r.map(|_| ())
        }
        (_, Some(id)) => send(
            s.http
                .delete(format!("{}/api/memory/{id}?reason=soak", s.base)),
        )
        .await
        .map(|_| ()),
        _ => unreachable!("modify and forget always have an id here"),
    };
    (res, which)
}

async fn remember(s: &Shared, rng: &mut Rng) -> Result<()> {
    let i = s.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let body =
        json!({"content": format!("{} (soak {i})", corpus::memory(rng, i)), "importance": 0.5});
    let v = send(
        s.http
            .post(format!("{}/api/memory/remember", s.base))
            .json(&body),
    )
    .await?;
    if let Some(id) = v["id"].as_str() {
        s.ids
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(id.to_owned());
    }
    Ok(())
}

async fn send(req: reqwest::RequestBuilder) -> Result<serde_json::Value> {
    let res = req.send().await?;
    let status = res.status();
    let bytes = res.bytes().await?;
    if !status.is_success() {
        bail!("{status}: {}", String::from_utf8_lossy(&bytes));
    }
    Ok(serde_json::from_slice(&bytes).unwrap_or_default())
}

/// RSS (MiB) every `every` until `until`, as (seconds since start, MiB).
async fn sample_rss(pid: u32, began: Instant, until: Instant, every: Duration) -> Vec<(f64, f64)> {
    let mut out = Vec::new();
    let mut tick = tokio::time::interval(every);
    while Instant::now() < until {
        tick.tick().await;
        if let Some(mib) = rss_mib(pid) {
            out.push((began.elapsed().as_secs_f64(), mib));
        }
    }
    out
}

/// Plateau: the last third's peak is within 10% of the middle third's peak.
fn plateau(rss: &[(f64, f64)]) -> Option<(f64, f64, bool)> {
    if rss.len() < 6 {
        return None;
    }
    let third = rss.len() / 3;
    let peak = |s: &[(f64, f64)]| s.iter().map(|(_, m)| *m).fold(0.0, f64::max);
    let middle = peak(&rss[third..2 * third]);
    let last = peak(&rss[2 * third..]);
    Some((middle, last, last <= middle * 1.10))
}

fn report(t: &Tally, elapsed: f64, target: u32, rss: &[(f64, f64)]) -> Result<()> {
    let done: usize = t.lat.iter().map(Samples::len).sum();
    let errors: u64 = t.errors.iter().sum();
    outln!(
        "\nthroughput: {:.1} ops/s achieved (target {target}/s), {done} ok, {errors} errors in {elapsed:.0} s",
        (done as u64 + errors) as f64 / elapsed
    )?;
    for (i, name) in OPS.iter().enumerate() {
        outln!("{name:>9}: {}  errors {}", t.lat[i].summary(), t.errors[i])?;
    }
    for e in &t.first_errors {
        outln!("  error: {e}")?;
    }
    outln!("\nRSS over time:\n  t (s)   RSS (MiB)")?;
    let step = (rss.len() / 20).max(1);
    for (i, (s, m)) in rss.iter().enumerate() {
        if i % step == 0 || i + 1 == rss.len() {
            outln!("  {s:>6.0}   {m:>8.1}")?;
        }
    }
    match plateau(rss) {
        Some((mid, last, ok)) => outln!(
            "RSS peak: middle third {mid:.1} MiB, last third {last:.1} MiB → {}",
            if ok {
                "plateaued (within 10%)"
            } else {
                "STILL GROWING (more than 10%)"
            }
        )?,
        None => outln!("RSS: too few samples for a plateau verdict")?,
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::plateau;

    #[test]
    fn plateau_compares_the_last_third_with_the_middle_third() {
        let flat: Vec<(f64, f64)> = (0..9)
            .map(|i| (i as f64, if i < 3 { 10.0 } else { 50.0 }))
            .collect();
        assert!(plateau(&flat).unwrap().2);
        let growing: Vec<(f64, f64)> = (0..9).map(|i| (i as f64, 10.0 * (i + 1) as f64)).collect();
        assert!(!plateau(&growing).unwrap().2);
        assert!(plateau(&flat[..3]).is_none());
    }
}
