//! The load benchmark: remember throughput, recall latency, `/health` under load, RSS.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::Args;
use serde_json::json;

use super::corpus::{self, Rng};
use super::daemon::BenchDaemon;
use super::stats::{Samples, cpu_seconds, rss_mib};
use super::storage::{BenchStorage, ServerProcs, StorageArgs};
use crate::output::outln;

#[derive(Debug, Args)]
pub struct LoadArgs {
    /// Memory counts to load, one fresh daemon each.
    #[arg(long, value_delimiter = ',', default_value = "10000,100000")]
    pub sizes: Vec<usize>,
    /// Concurrent clients for the concurrent phases.
    #[arg(long, default_value_t = 8)]
    pub clients: usize,
    /// Remembers timed with one client (the rest load with `clients`).
    #[arg(long, default_value_t = 5000)]
    pub sequential: usize,
    /// Recall queries per measurement.
    #[arg(long, default_value_t = 2000)]
    pub queries: usize,
    /// Extra `agent.yaml` for the workspace (default: keyword-only, `embedding.provider: none`).
    #[arg(long)]
    pub agent_yaml: Option<std::path::PathBuf>,
    /// Run hybrid recall with the deterministic hash embedder of this many dimensions
    /// (`SIGNET_EMBEDDER=hash:<dims>`), to measure the vector index and fusion without a model.
    #[arg(long)]
    pub hash_embedder: Option<usize>,
    #[command(flatten)]
    pub storage: StorageArgs,
}

pub async fn run(args: LoadArgs) -> Result<()> {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()?;
    outln!(
        "signet bench load — {} cores, clients {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        args.clients
    )?;
    for &n in &args.sizes {
        let storage = BenchStorage::prepare(&args.storage, &n.to_string()).await?;
        let result = one_size(&http, &args, n, &storage).await;
        let cleaned = storage.cleanup().await;
        result.with_context(|| format!("size {n}"))?;
        cleaned?;
    }
    Ok(())
}

async fn one_size(
    http: &reqwest::Client,
    args: &LoadArgs,
    n: usize,
    storage: &BenchStorage,
) -> Result<()> {
    let mut dir = tempfile::tempdir()?;
    if std::env::var_os("SIGNET_BENCH_KEEP").is_some() {
        // Keep the workspace (database, daemon logs) for a look after the run.
        dir.disable_cleanup(true);
        outln!("workspace kept: {}", dir.path().display())?;
    }
    let yaml = match &args.agent_yaml {
        Some(p) => std::fs::read_to_string(p)?,
        None => "embedding:\n  provider: none\n".into(),
    };
    std::fs::write(
        dir.path().join("agent.yaml"),
        format!("{yaml}\n{}", storage.yaml()),
    )?;
    let embedder = args.hash_embedder.map(|d| format!("hash:{d}"));
    let mut d = BenchDaemon::start(dir.path(), http, embedder.as_deref()).await?;
    let server = storage.server();
    outln!("\n== {n} memories, storage {} ==", storage.describe())?;
    outln!(
        "cold start to healthy /health: {:.1} ms",
        d.cold_start.as_secs_f64() * 1000.0
    )?;
    // Idle: after the daemon's last trim of what start-up alone needed (`daemon::trim`), and
    // once every idle worker has ticked and faulted its code back in.
    let idle = crate::daemon::trim::AFTER[1] + Duration::from_secs(5);
    tokio::time::sleep(idle.saturating_sub(d.cold_start)).await;
    outln!(
        "idle RSS ({} s after start): {:.1} MiB",
        idle.as_secs(),
        rss_mib(d.pid).unwrap_or(f64::NAN)
    )?;
    let seq = args.sequential.min(n);
    let cpu = CpuMeter::start(d.pid, server);
    let (rate, _) = remember_phase(http, &d.base, 0, seq, 1).await?;
    outln!(
        "remember, 1 client: {rate:.0}/s ({seq} memories)  daemon CPU {}",
        cpu.per_op(seq)
    )?;
    if n > seq {
        let cpu = CpuMeter::start(d.pid, server);
        let (rate, lat) = remember_phase(http, &d.base, seq, n - seq, args.clients).await?;
        outln!(
            "remember, {} clients: {rate:.0}/s ({} memories)  latency {}  daemon CPU {}",
            args.clients,
            n - seq,
            lat.summary(),
            cpu.per_op(n - seq)
        )?;
    }
    if args.hash_embedder.is_some() {
        wait_embedded(http, &d.base, n).await?;
        wait_index(http, &d.base).await?;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let cpu = CpuMeter::start(d.pid, server);
    let one = recall_phase(http, &d.base, args.queries, 1).await?;
    settle_access_counts().await;
    outln!(
        "recall, 1 client: {}  daemon CPU {}",
        one.0.summary(),
        cpu.per_op(one.0.len())
    )?;
    let cpu = CpuMeter::start(d.pid, server);
    let many = recall_phase(http, &d.base, args.queries, args.clients).await?;
    settle_access_counts().await;
    outln!(
        "recall, {} clients: {:.0}/s  {}  daemon CPU {}",
        args.clients,
        many.1,
        many.0.summary(),
        cpu.per_op(many.0.len())
    )?;
    let health = health_under_load(http, &d.base, args).await?;
    outln!("/health during recall load: {}", health.summary())?;
    outln!("loaded RSS: {:.1} MiB", rss_mib(d.pid).unwrap_or(f64::NAN))?;
    d.stop();
    outln!(
        "database size: {:.1} MiB",
        storage.size_bytes(dir.path()).await? as f64 / (1024.0 * 1024.0)
    )?;
    if let Some(dims) = args.hash_embedder {
        restart_with_vectors(http, dir.path(), embedder.as_deref()).await?;
        // Off the runtime: the PostgreSQL client blocks on a runtime of its own.
        let (storage, workspace) = (storage.clone(), dir.path().to_owned());
        let queries = args.queries.min(500);
        tokio::task::spawn_blocking(move || {
            ann_recall(storage.open(&workspace)?.as_ref(), dims, queries)
        })
        .await??;
    }
    Ok(())
}

/// Waits until the vector index has no merge running, then reports its shape.
async fn wait_index(http: &reqwest::Client, base: &str) -> Result<()> {
    let began = Instant::now();
    let mut idle_polls = 0;
    loop {
        let s: serde_json::Value = http
            .get(format!("{base}/api/embeddings/status"))
            .send()
            .await?
            .json()
            .await?;
        let ix = &s["index"];
        idle_polls = if ix["merging"] == false && ix["state"] == "ready" {
            idle_polls + 1
        } else {
            0
        };
        if idle_polls >= 3 {
            let vectors = ix["vectors"].as_u64().unwrap_or(0).max(1);
            outln!(
                "vector index: {} vectors ({} not yet merged), {}, {:.0} bytes/vector; merges done {:.1} s after embedding",
                ix["vectors"],
                ix["pending"],
                if ix["approximate"] == true {
                    "HNSW graph"
                } else {
                    "exact scan"
                },
                ix["memoryBytes"].as_u64().unwrap_or(0) as f64 / vectors as f64,
                began.elapsed().as_secs_f64()
            )?;
            return Ok(());
        }
        if began.elapsed() > Duration::from_secs(3600) {
            bail!("the vector index merge did not finish: {s}");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Restarts a daemon on the loaded workspace: time to a healthy `/health`, then until the
/// vector index is loaded.
async fn restart_with_vectors(
    http: &reqwest::Client,
    dir: &std::path::Path,
    embedder: Option<&str>,
) -> Result<()> {
    let mut d = BenchDaemon::start(dir, http, embedder).await?;
    let began = Instant::now();
    loop {
        let s: serde_json::Value = http
            .get(format!("{}/api/embeddings/status", d.base))
            .send()
            .await?
            .json()
            .await?;
        if s["index"]["state"] == "ready" {
            outln!(
                "restart with vectors: healthy /health in {:.1} ms, vector index ready {:.0} ms later ({} vectors)",
                d.cold_start.as_secs_f64() * 1000.0,
                began.elapsed().as_secs_f64() * 1000.0,
                s["index"]["vectors"]
            )?;
            break;
        }
        if began.elapsed() > Duration::from_secs(600) {
            bail!("the vector index did not load: {s}");
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    d.stop();
    Ok(())
}

/// Rebuilds the daemon's vector index offline from the workspace's stored vectors (same code,
/// same configuration) and measures its recall@10 against the exact scan on the bench queries.
fn ann_recall(store: &dyn signet_model::MemoryStore, dims: usize, queries: usize) -> Result<()> {
    use signet_core::semantic::HashEmbedder;
    use signet_core::vector::{VectorIndex, from_le_bytes};
    let rows = store.load_vectors("test-hash", dims)?;
    let started = Instant::now();
    let mut index = VectorIndex::with_config(dims, signet_core::semantic::index_config());
    index.reserve(rows.len());
    for row in &rows {
        if let Some(v) = from_le_bytes(&row.blob) {
            let _ = index.upsert(&row.memory_id, &v);
        }
    }
    drop(rows);
    index.merge_now();
    let built = started.elapsed();
    let embedder = HashEmbedder { dims };
    let mut rng = Rng::new(0xfeed);
    let (mut hits, mut wanted) = (0usize, 0usize);
    let (mut ann, mut exact) = (Samples::default(), Samples::default());
    for _ in 0..queries {
        let q = embedder.vector(&corpus::query(&mut rng));
        let t = Instant::now();
        let want = index.search_exact(&q, 10, |_| true)?;
        exact.push(t.elapsed());
        let t = Instant::now();
        let got = index.search(&q, 10, |_| true)?;
        ann.push(t.elapsed());
        // Ties at the 10th score make "which ten" arbitrary: a hit is any result scoring at
        // least the exact 10th.
        let floor = want.last().map_or(f32::MIN, |w| w.1);
        hits += got
            .iter()
            .filter(|g| g.1 >= floor - 1e-6)
            .count()
            .min(want.len());
        wanted += want.len();
    }
    outln!(
        "vector index offline ({} vectors, {}, built in {:.1} s, {:.0} bytes/vector): recall@10 vs exact {:.4}; search {}; exact scan {}",
        index.len(),
        match index.search_ef() {
            Some(ef) => format!("HNSW graph, ef {ef}"),
            None => "exact scan".to_owned(),
        },
        built.as_secs_f64(),
        index.memory_bytes() as f64 / index.len().max(1) as f64,
        hits as f64 / wanted.max(1) as f64,
        ann.summary(),
        exact.summary()
    )?;
    Ok(())
}

/// The daemon's CPU time over a phase (user + system, from `/proc`), per operation, and the
/// PostgreSQL server's when the daemon runs on one on this machine.
struct CpuMeter {
    pid: u32,
    at: Option<f64>,
    server: Option<(ServerProcs, Option<f64>)>,
}

impl CpuMeter {
    fn start(pid: u32, server: Option<ServerProcs>) -> Self {
        Self {
            pid,
            at: cpu_seconds(pid),
            server: server.map(|s| (s, s.cpu_seconds())),
        }
    }

    fn per_op(&self, ops: usize) -> String {
        let fmt = |a: Option<f64>, b: Option<f64>| match (a, b) {
            (Some(a), Some(b)) if ops > 0 => format!(
                "{:.3} ms/op ({:.2} s total)",
                (b - a) * 1000.0 / ops as f64,
                b - a
            ),
            _ => "n/a".into(),
        };
        let daemon = fmt(self.at, cpu_seconds(self.pid));
        match &self.server {
            None => daemon,
            Some((s, at)) => format!("{daemon}  postgres CPU {}", fmt(*at, s.cpu_seconds())),
        }
    }
}

/// Waits until the access counts of the recalls just made are written (the daemon writes them
/// up to [`signet_core::access::FLUSH_EVERY`] later), so that a recall phase's daemon CPU
/// includes that write.
async fn settle_access_counts() {
    tokio::time::sleep(signet_core::access::FLUSH_EVERY + Duration::from_millis(500)).await;
}

/// Remembers `count` memories (numbered from `start`) with `clients` clients; returns the rate.
async fn remember_phase(
    http: &reqwest::Client,
    base: &str,
    start: usize,
    count: usize,
    clients: usize,
) -> Result<(f64, Samples)> {
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(start));
    let end = start + count;
    let began = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..clients {
        let (http, base, next) = (http.clone(), base.to_owned(), next.clone());
        tasks.push(tokio::spawn(async move {
            let mut rng = Rng::new(0x5eed + c as u64);
            let mut lat = Samples::default();
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= end {
                    return Ok::<_, anyhow::Error>(lat);
                }
                let body = json!({"content": corpus::memory(&mut rng, i), "importance": 0.5});
                lat.push(timed_post(&http, &base, "remember", &body).await?);
            }
        }));
    }
    let mut all = Samples::default();
    for t in tasks {
        all.extend(t.await??);
    }
    Ok((count as f64 / began.elapsed().as_secs_f64(), all))
}

/// Posts `body` to `/api/memory/{route}` and reads the whole answer; returns how long that
/// took. A non-success status is an error.
async fn timed_post(
    http: &reqwest::Client,
    base: &str,
    route: &str,
    body: &serde_json::Value,
) -> Result<Duration> {
    let t = Instant::now();
    let res = http
        .post(format!("{base}/api/memory/{route}"))
        .json(body)
        .send()
        .await?;
    if !res.status().is_success() {
        let status = res.status();
        let body = res.text().await.unwrap_or_default();
        bail!(
            "{route} answered {status}: {}",
            body.chars().take(500).collect::<String>()
        );
    }
    res.bytes().await?;
    Ok(t.elapsed())
}

/// Runs `queries` recalls split over `clients`; returns latencies and the rate.
async fn recall_phase(
    http: &reqwest::Client,
    base: &str,
    queries: usize,
    clients: usize,
) -> Result<(Samples, f64)> {
    let began = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..clients {
        let (http, base) = (http.clone(), base.to_owned());
        let per = queries / clients;
        tasks.push(tokio::spawn(async move {
            let mut rng = Rng::new(0xfeed + c as u64);
            let mut lat = Samples::default();
            for _ in 0..per {
                let body = json!({"query": corpus::query(&mut rng), "limit": 10});
                lat.push(timed_post(&http, &base, "recall", &body).await?);
            }
            Ok::<_, anyhow::Error>(lat)
        }));
    }
    let mut all = Samples::default();
    for t in tasks {
        all.extend(t.await??);
    }
    let rate = all.len() as f64 / began.elapsed().as_secs_f64();
    Ok((all, rate))
}

/// Probes `/health` every 5 ms while `clients` clients run recalls.
async fn health_under_load(http: &reqwest::Client, base: &str, args: &LoadArgs) -> Result<Samples> {
    let load = {
        let (http, base, q, c) = (http.clone(), base.to_owned(), args.queries, args.clients);
        tokio::spawn(async move { recall_phase(&http, &base, q, c).await })
    };
    let mut lat = Samples::default();
    while !load.is_finished() {
        let t = Instant::now();
        http.get(format!("{base}/health"))
            .send()
            .await?
            .bytes()
            .await?;
        lat.push(t.elapsed());
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    load.await??;
    Ok(lat)
}

/// Waits until the embedding worker has embedded all `n` memories.
async fn wait_embedded(http: &reqwest::Client, base: &str, n: usize) -> Result<()> {
    let began = Instant::now();
    loop {
        let s: serde_json::Value = http
            .get(format!("{base}/api/embeddings/status"))
            .send()
            .await?
            .json()
            .await?;
        if s["coverage"]["current"].as_u64().unwrap_or(0) as usize >= n {
            outln!(
                "embedded {n} memories in {:.1} s (index {} vectors)",
                began.elapsed().as_secs_f64(),
                s["indexed"]
            )?;
            return Ok(());
        }
        if began.elapsed() > Duration::from_secs(900) {
            bail!("embedding did not finish: {s}");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
