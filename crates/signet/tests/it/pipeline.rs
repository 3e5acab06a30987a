//! The memory pipeline end to end: the real daemon, its extraction worker and a mock Ollama
//! (`mock_llm`). Remembered memories become jobs, facts, decisions and new memories; shadow
//! mode, the budget, undoing a pipeline delete, an idle pipeline, `kill -9` mid-job, and a
//! finished session's summary.
//! Counts the API does not show are read from the workspace's database, opened read-only.

use std::time::{Duration, Instant};

use rusqlite::{Connection, OpenFlags, OptionalExtension};
use serde_json::{Value, json};

use crate::mock_llm::{DeleteRule, FACT_PREFIX, Kind, Mock, MockOptions, sentences};
use crate::support::{TestEnv, http_json, is_alive, poll, signal};

/// A daemon with the pipeline on against a mock LLM.
struct Rig {
    env: TestEnv,
    mock: Mock,
}

/// `memory.pipelineV2` against `endpoint`; `pipeline` and `worker` are extra keys of those
/// sections (indented to fit).
fn agent_yaml(endpoint: &str, pipeline: &str, worker: &str) -> String {
    format!(
        "embedding:\n  provider: none\nmemory:\n  pipelineV2:\n    enabled: true\n{pipeline}    \
         extraction:\n      provider: ollama\n      model: qwen3:4b\n      endpoint: {endpoint}\n    \
         worker:\n      pollMs: 100\n{worker}"
    )
}

impl Rig {
    fn start(options: MockOptions, pipeline: &str, worker: &str) -> Self {
        let mock = Mock::start(options);
        let mut env = TestEnv::new();
        env.write_config(&agent_yaml(&mock.endpoint(), pipeline, worker));
        env.start_daemon();
        Self { env, mock }
    }

    fn remember(&self, content: &str) -> String {
        remember(&self.env, content)
    }

    fn get(&self, path: &str) -> Value {
        http_json(self.env.port, "GET", path, &[], "")
    }

    fn post(&self, path: &str, body: Value) -> Value {
        http_json(self.env.port, "POST", path, &[], &body.to_string())
    }

    /// Asserts that recalling `query` finds a memory whose `field` is `value`.
    fn recall_finds(&self, query: &str, field: &str, value: &str) {
        let found = self.post("/api/memory/recall", json!({"query": query, "limit": 10}));
        let results = found["results"].as_array().unwrap();
        assert!(results.iter().any(|m| m[field] == value), "{found}");
    }

    fn status(&self) -> Value {
        self.get("/api/pipeline/status")
    }

    /// Waits until `n` extraction jobs are completed.
    fn wait_completed(&self, n: i64) -> Value {
        poll(&format!("{n} completed extraction jobs"), || {
            let s = self.status();
            (extract(&s, "completed") >= n).then_some(s)
        })
    }

    fn db(&self) -> Connection {
        db(&self.env)
    }
}

fn remember(env: &TestEnv, content: &str) -> String {
    let body = json!({ "content": content }).to_string();
    let v = http_json(env.port, "POST", "/api/memory/remember", &[], &body);
    v["id"]
        .as_str()
        .unwrap_or_else(|| panic!("remember answered {v}"))
        .to_owned()
}

/// The `extract` jobs with this status, from a pipeline status answer.
fn extract(status: &Value, state: &str) -> i64 {
    status["queues"]["memory"]["byType"]["extract"][state]
        .as_i64()
        .unwrap_or(0)
}

fn db(env: &TestEnv) -> Connection {
    Connection::open_with_flags(
        env.workspace.join("memory/memories.db"),
        OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .expect("open the workspace database read-only")
}

fn count(c: &Connection, sql: &str, params: impl rusqlite::Params) -> i64 {
    c.query_row(sql, params, |r| r.get(0)).unwrap()
}

/// The extraction job of a memory.
fn job_of(c: &Connection, memory_id: &str) -> String {
    c.query_row(
        "SELECT id FROM memory_jobs WHERE job_type = 'extract' AND memory_id = ?1",
        [memory_id],
        |r| r.get(0),
    )
    .optional()
    .unwrap()
    .unwrap_or_else(|| panic!("no extraction job for {memory_id}"))
}

/// Live facts the pipeline derived from `source`.
fn facts_of(c: &Connection, source: &str) -> Vec<String> {
    let mut st = c
        .prepare(
            "SELECT content FROM memories WHERE source_type = 'pipeline-v2' AND source_id = ?1 \
             AND COALESCE(is_deleted, 0) = 0 ORDER BY content",
        )
        .unwrap();
    st.query_map([source], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// The facts the mock extracts from `text`, sorted.
fn expected_facts(text: &str) -> Vec<String> {
    let mut f: Vec<String> = sentences(text)
        .into_iter()
        .map(|s| format!("{FACT_PREFIX}{s}"))
        .collect();
    f.sort();
    f
}

/// A conversation about one project: the shared words give later facts candidates, so
/// decisions are asked for.
const CONVERSATION: [&str; 4] = [
    "The billing service deploys to the Hetzner cluster every night. Its database is Postgres 16.",
    "Alice owns the billing service and reviews every schema migration of its database.",
    "The team prefers squash merges for the billing service repository.",
    "Deploys of the billing service pause during the December freeze. Bob approves exceptions.",
];

#[test]
fn a_remembered_conversation_becomes_jobs_facts_decisions_and_recallable_memories() {
    let rig = Rig::start(MockOptions::default(), "", "");
    let ids: Vec<String> = CONVERSATION.iter().map(|c| rig.remember(c)).collect();
    let status = rig.wait_completed(ids.len() as i64);

    let c = rig.db();
    let mut added = 0;
    for (id, text) in ids.iter().zip(CONVERSATION) {
        let job = rig.get(&format!("/api/memory/jobs/{}", job_of(&c, id)));
        assert_eq!(job["status"], "completed", "{job}");
        assert_eq!(job["memory_id"], id.as_str());
        let result = &job["result"];
        assert_eq!(result["writeMode"], "phase-c", "{job}");
        let facts: Vec<&str> = result["facts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["content"].as_str().unwrap())
            .collect();
        let mut facts: Vec<String> = facts.into_iter().map(str::to_owned).collect();
        facts.sort();
        assert_eq!(facts, expected_facts(text), "{job}");
        assert_eq!(facts_of(&c, id), expected_facts(text), "every fact stored");
        added += facts.len();
    }
    assert_eq!(
        rig.mock.count(Kind::Extraction),
        CONVERSATION.len(),
        "one extraction call per memory"
    );
    assert!(
        rig.mock.count(Kind::Decision) > 0,
        "later facts had candidates"
    );

    let want =
        format!("{FACT_PREFIX}The team prefers squash merges for the billing service repository");
    rig.recall_finds("squash merges", "content", &want);

    assert_eq!(status["mode"], "controlled-write", "{status}");
    assert_eq!(status["paused"], false, "{status}");
    assert_eq!(status["provider"]["health"], "ok", "{status}");
    let total = &status["ledger"]["total"];
    assert_eq!(total["calls"], rig.mock.requests() as i64, "{status}");
    assert!(total["inputTokens"].as_i64().unwrap() > 0, "{status}");
    assert!(total["outputTokens"].as_i64().unwrap() > 0, "{status}");
    assert_eq!(
        status["ledger"]["byProvider"]["ollama/qwen3:4b"]["calls"],
        total["calls"]
    );
    assert_eq!(extract(&status, "dead"), 0);
    assert!(added >= CONVERSATION.len());

    let usage = rig.get("/api/analytics/usage");
    assert_eq!(
        usage["providers"]["ollama/qwen3:4b"]["calls"], total["calls"],
        "{usage}"
    );
    let metrics = http_text(rig.env.port, "/metrics");
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("signet_llm_calls_total{") && l.contains("model=\"qwen3:4b\"")),
        "{metrics}"
    );
}

#[test]
fn shadow_mode_writes_history_rows_only() {
    let rig = Rig::start(MockOptions::default(), "    shadowMode: true\n", "");
    let source = rig.remember(CONVERSATION[0]);
    let status = rig.wait_completed(1);
    assert_eq!(status["mode"], "shadow", "{status}");

    let history = rig.get(&format!("/api/memory/{source}/history"));
    let rows = history_rows(&history);
    let shadow = rows
        .iter()
        .filter(|h| h["changedBy"] == "pipeline-shadow")
        .count();
    assert_eq!(
        shadow,
        expected_facts(CONVERSATION[0]).len(),
        "one shadow row per proposal: {history}"
    );
    let c = rig.db();
    assert_eq!(
        count(
            &c,
            "SELECT COUNT(*) FROM memories WHERE source_type = 'pipeline-v2' OR source_id = ?1",
            [&source]
        ),
        0,
        "no new memory"
    );
    let job = rig.get(&format!("/api/memory/jobs/{}", job_of(&c, &source)));
    assert_eq!(job["result"]["writeMode"], "shadow", "{job}");
}

#[test]
fn the_budget_stops_calls_and_leaves_jobs_pending() {
    let rig = Rig::start(
        MockOptions::default(),
        "    budget:\n      maxCallsPerHour: 2\n",
        "",
    );
    // Sentences under 20 characters give no facts: one call per job, no decisions.
    for i in 0..3 {
        rig.remember(&format!("Short note {i}. Nothing else. Ok then."));
    }
    let status = poll("the budget to run out", || {
        let s = rig.status();
        (s["budget"]["exhausted"] == true && extract(&s, "completed") == 2).then_some(s)
    });
    assert_eq!(rig.mock.requests(), 2, "no call past the ceiling");
    assert_eq!(status["paused"], true, "{status}");
    let reason = status["pausedReason"].as_str().unwrap_or_default();
    assert!(reason.contains("maxCallsPerHour"), "{status}");
    assert_eq!(status["budget"]["callsLastHour"], 2, "{status}");
    assert_eq!(extract(&status, "pending"), 1, "the third job waits");
    assert_eq!(extract(&status, "dead"), 0);
    // The worker keeps ticking (every 100 ms) and keeps leasing nothing.
    std::thread::sleep(Duration::from_millis(600));
    let later = rig.status();
    assert_eq!(rig.mock.requests(), 2, "still no call past the ceiling");
    assert_eq!(
        (extract(&later, "pending"), extract(&later, "dead")),
        (1, 0),
        "{later}"
    );
    // Diagnostics say why the queue waits, and do not count the wait against it.
    let diag = http_json(rig.env.port, "GET", "/api/diagnostics/queue", &[], "");
    let idle = diag["idleReason"].as_str().unwrap_or_default();
    assert!(idle.contains("budget"), "{diag}");
    assert_eq!(diag["processing"], false, "{diag}");
}

#[test]
fn a_pipeline_delete_is_undone_by_recover() {
    let options = MockOptions {
        delete: Some(DeleteRule {
            fact_contains: "was switched off".into(),
            target_contains: format!("{FACT_PREFIX}The staging server"),
        }),
        ..MockOptions::default()
    };
    let rig = Rig::start(options, "", "");
    let first = rig.remember("The staging server runs on the old Hetzner box in Falkenstein.");
    rig.wait_completed(1);
    let c = rig.db();
    let target = c
        .query_row(
            "SELECT id FROM memories WHERE source_id = ?1",
            [&first],
            |r| r.get::<_, String>(0),
        )
        .unwrap();
    let second =
        rig.remember("The old Hetzner box in Falkenstein was switched off for the staging server.");
    rig.wait_completed(2);
    assert!(rig.mock.count(Kind::Decision) >= 1);
    let deleted = |id: &str| {
        count(
            &c,
            "SELECT COALESCE(is_deleted, 0) FROM memories WHERE id = ?1",
            [id],
        ) == 1
    };
    let job = rig.get(&format!("/api/memory/jobs/{}", job_of(&c, &second)));
    assert_eq!(job["result"]["writeStats"]["deleted"], 1, "{job}");
    assert!(deleted(&target), "the pipeline's delete was applied: {job}");
    let history = rig.get(&format!("/api/memory/{target}/history"));
    assert!(
        history_rows(&history)
            .iter()
            .any(|h| h["event"] == "deleted"
                && h["changedBy"] == "pipeline-v2"
                && h["actorType"] == "pipeline"),
        "{history}"
    );

    let recovered = rig.post(
        &format!("/api/memory/{target}/recover"),
        json!({"reason": "undo the pipeline's delete"}),
    );
    assert!(!deleted(&target), "recover brought it back: {recovered}");
    let history = rig.get(&format!("/api/memory/{target}/history"));
    assert!(
        history_rows(&history)
            .iter()
            .any(|h| h["event"] == "recovered"),
        "{history}"
    );
    rig.recall_finds("staging server Hetzner", "id", &target);
}

#[test]
fn an_idle_pipeline_queues_nothing_and_says_why() {
    let mock = Mock::start(MockOptions::default());
    let configs = [
        (
            agent_yaml(&mock.endpoint(), "", "").replace("enabled: true", "enabled: false"),
            "enabled",
        ),
        (
            "embedding:\n  provider: none\nmemory:\n  pipelineV2:\n    enabled: true\n    \
             extraction:\n      provider: none\n"
                .to_owned(),
            "none",
        ),
    ];
    for (yaml, why) in configs {
        let mut env = TestEnv::new();
        env.write_config(&yaml);
        env.start_daemon();
        let id = remember(&env, CONVERSATION[0]);
        let c = db(&env);
        assert_eq!(
            count(
                &c,
                "SELECT COUNT(*) FROM memory_jobs WHERE memory_id = ?1",
                [&id]
            ),
            0,
            "{why}: nothing queued"
        );
        let status = http_json(env.port, "GET", "/api/pipeline/status", &[], "");
        assert_eq!(status["paused"], true, "{why}: {status}");
        let reason = status["pausedReason"].as_str().unwrap_or_default();
        assert!(reason.contains(why), "{why}: {status}");
        let diag = http_json(env.port, "GET", "/api/diagnostics", &[], "");
        assert_eq!(diag["queue"]["status"], "healthy", "{why}: {diag}");
    }
    assert_eq!(mock.requests(), 0);
}

/// A slow model, the daemon killed with SIGKILL five times in the middle of calls and
/// restarted on the same workspace: every job is applied exactly once in the end.
#[test]
fn kill_9_mid_job_loses_nothing_and_applies_every_job_once() {
    let options = MockOptions {
        delay: Duration::from_millis(300),
        ..MockOptions::default()
    };
    // Each restart frees the lease the killed daemon held at once, giving the interrupted
    // attempt back: the same job may be killed every round and still completes.
    let mut rig = Rig::start(options, "", "");
    let texts: Vec<String> = (0..10)
        .map(|i| {
            format!(
                "Service number {i} of the billing platform is written in Rust. \
                 Service number {i} stores its state in SQLite."
            )
        })
        .collect();
    let ids: Vec<String> = texts.iter().map(|t| rig.remember(t)).collect();

    for round in 0..5 {
        let pid = daemon_pid(&rig.env);
        // Kill while the daemon waits for an answer: after 1 to 4 more requests.
        let seen = rig.mock.requests() + 1 + (round * 3) % 4;
        poll("the mock to receive a request", || {
            (rig.mock.requests() >= seen).then_some(())
        });
        assert!(signal(pid, "-KILL"));
        poll("the daemon to die", || (!is_alive(pid)).then_some(()));
        rig.env.start_daemon();
    }

    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let s = rig.status();
        if extract(&s, "completed") == ids.len() as i64 {
            break;
        }
        assert!(Instant::now() < deadline, "the queue did not drain: {s}");
        std::thread::sleep(Duration::from_millis(100));
    }

    let c = rig.db();
    let by_status: Vec<(String, i64)> = c
        .prepare(
            "SELECT status, COUNT(*) FROM memory_jobs WHERE job_type = 'extract' GROUP BY status",
        )
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        by_status,
        vec![("completed".to_owned(), 10)],
        "none lost, none dead"
    );
    // Every kill interrupted a job mid-call, and an interrupted job starts again with its
    // extraction: the model was asked for more extractions than there are jobs.
    assert!(
        rig.mock.count(Kind::Extraction) > ids.len(),
        "a kill interrupted at least one job"
    );
    for (id, text) in ids.iter().zip(&texts) {
        assert_eq!(facts_of(&c, id), expected_facts(text), "facts of {id} once");
        let job = rig.get(&format!("/api/memory/jobs/{}", job_of(&c, id)));
        let proposals = job["result"]["proposals"].as_array().unwrap().len() as i64;
        let audits = count(
            &c,
            "SELECT COUNT(*) FROM memory_history WHERE memory_id = ?1 AND changed_by = 'pipeline-v2'",
            [id],
        );
        assert_eq!(audits, proposals, "audit rows of {id}: {job}");
    }
    let twice = count(
        &c,
        "SELECT COUNT(*) FROM (SELECT content FROM memories WHERE COALESCE(is_deleted, 0) = 0 \
         GROUP BY content HAVING COUNT(*) > 1)",
        [],
    );
    assert_eq!(twice, 0, "no fact is live twice");
}

/// The pid of the daemon now running on `env`'s workspace.
fn daemon_pid(env: &TestEnv) -> u32 {
    std::fs::read_to_string(env.pid_file())
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

/// The rows of a history answer.
fn history_rows(v: &Value) -> Vec<Value> {
    v["history"]
        .as_array()
        .cloned()
        .unwrap_or_else(|| panic!("no history rows in {v}"))
}

/// `GET path` over HTTP/1.0; the body as text.
fn http_text(port: u16, path: &str) -> String {
    use std::io::{Read, Write};
    let mut sock = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(sock, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").unwrap();
    let mut text = String::new();
    sock.read_to_string(&mut text).unwrap();
    text.split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default()
}

#[test]
fn a_finished_session_is_summarised_into_a_session_summary() {
    let rig = Rig::start(MockOptions::default(), "", "");
    let transcript = rig.env.home.path().join("session.txt");
    let lines: Vec<String> = (0..20)
        .map(|i| format!("User: step {i} of moving the billing deploys to 4am\nAssistant: done, step {i} is in place"))
        .collect();
    std::fs::write(&transcript, lines.join("\n")).unwrap();
    let body = json!({
        "harness": "claude-code",
        "transcriptPath": transcript.to_str().unwrap(),
        "sessionKey": "sess-e2e",
    });
    let queued = rig.post("/api/hooks/session-end", body);
    assert_eq!(queued["queued"], true, "{queued}");
    poll("the summary job to complete", || {
        let s = rig.status();
        (s["queues"]["summary"]["completed"] == 1).then_some(())
    });
    assert!(rig.mock.count(Kind::Summary) >= 1);
    let c = rig.db();
    assert_eq!(
        count(
            &c,
            "SELECT COUNT(*) FROM memories WHERE type = 'session_summary' AND COALESCE(is_deleted, 0) = 0",
            [],
        ),
        1
    );
}
