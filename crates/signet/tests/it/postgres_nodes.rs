//! Several daemon processes on one PostgreSQL database (issue 16): a memory remembered on one
//! node is found by a vector recall on another without a restart, and that node's `/sse`
//! subscribers hear it; a forget leaves the other node's index; a node whose listening
//! connection was cut catches up; a daemon killed (SIGKILL) in the middle of an extraction job
//! has the job finished by the other, once.
//!
//! The server is the one `SIGNET_TEST_PG_URL` names (scripts/test.sh starts one); each test
//! works in a scratch schema. Without the variable a test fails when `SIGNET_REQUIRE_ALL=1`
//! and is skipped, saying so, otherwise.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::process::Stdio;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use postgres::{Client, NoTls};
use serde_json::{Value, json};

use crate::mock_llm::{FACT_PREFIX, Kind, Mock, MockOptions, sentences};
use crate::support::{
    TestEnv, http_json, is_alive, parse_pid, pg_server_url as server_url, poll, remember, signal,
};

/// A scratch schema on a test server, dropped with everything in it at the end (also used
/// by `pgvector_nodes` and `migrate`).
pub(crate) struct Db {
    pub(crate) url: String,
    pub(crate) schema: String,
}

impl Db {
    /// A scratch schema on the server `SIGNET_TEST_PG_URL` names.
    pub(crate) fn new() -> Option<Self> {
        Some(Self::at(server_url()?))
    }

    /// A scratch schema on the server at `url`.
    pub(crate) fn at(url: String) -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        let schema = format!("n_{}_{nanos}", std::process::id());
        Self { url, schema }
    }

    /// `storage:` of agent.yaml for this schema.
    pub(crate) fn storage_yaml(&self) -> String {
        format!(
            "storage:\n  backend: postgres\n  url: '{}'\n  pool: 4\n  schema: {}\n",
            self.url, self.schema
        )
    }

    /// A client whose search path is the schema (for looking behind the daemons).
    pub(crate) fn client(&self) -> Client {
        let mut config: postgres::Config = self.url.parse().expect("SIGNET_TEST_PG_URL");
        config.options(&format!("-c search_path={}", self.schema));
        config.connect(NoTls).expect("connect to the test server")
    }
}

impl Db {
    /// Drops the schema now (a lost database, for the restore tests).
    pub(crate) fn drop_schema(&self) {
        self.client()
            .batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.schema))
            .expect("drop the schema");
    }
}

impl Drop for Db {
    fn drop(&mut self) {
        if let Ok(mut c) = self
            .url
            .parse::<postgres::Config>()
            .and_then(|c| c.connect(NoTls))
        {
            let _ = c.batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.schema));
        }
    }
}

/// `signet daemon start` on `env` with the hash test embedder; returns its pid (the env
/// kills it on drop).
fn start(env: &TestEnv) -> u32 {
    let out = env.home.path().join(format!("start-{}.out", env.port));
    let status = env
        .command(&["daemon", "start"])
        .env("SIGNET_EMBEDDER", "hash:64")
        .stdout(std::fs::File::create(&out).unwrap())
        .stderr(Stdio::inherit())
        .status()
        .unwrap();
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(status.success(), "daemon start failed: {text}");
    parse_pid(&text)
}

/// A node: a workspace of its own whose agent.yaml names the shared database. Its own
/// embedding worker scans for unembedded memories only once a minute, so the vectors of
/// the other node's memories reach its index through the peer sync alone.
fn node(db: &Db, extra: &str) -> TestEnv {
    let env = TestEnv::new();
    env.write_config(&format!(
        "{}memory:\n  pipelineV2:\n    embeddingTracker:\n      pollMs: 60000\n{extra}",
        db.storage_yaml()
    ));
    env
}

fn vector_ids(port: u16, query: &str) -> Vec<String> {
    let body = json!({"query": query, "mode": "vector", "limit": 5}).to_string();
    let v = http_json(port, "POST", "/api/memory/recall", &[], &body);
    v["results"]
        .as_array()
        .unwrap_or_else(|| panic!("recall answered {v}"))
        .iter()
        .filter_map(|r| r["id"].as_str().map(str::to_owned))
        .collect()
}

/// Vectors in a node's in-memory index.
fn indexed(port: u16) -> i64 {
    let v = http_json(port, "GET", "/api/embeddings/status", &[], "");
    v["index"]["vectors"]
        .as_i64()
        .unwrap_or_else(|| panic!("no index in {v}"))
}

fn status(port: u16) -> Value {
    http_json(port, "GET", "/api/status", &[], "")
}

/// A `GET /sse` subscriber: its frames (`event` name, `data` JSON) arrive on a channel.
struct Sse {
    frames: mpsc::Receiver<(String, Value)>,
}

impl Sse {
    fn open(port: u16) -> Self {
        let mut sock = TcpStream::connect(("127.0.0.1", port)).expect("connect for /sse");
        write!(sock, "GET /sse HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").unwrap();
        let (tx, frames) = mpsc::channel();
        std::thread::spawn(move || {
            let mut event = String::new();
            for line in BufReader::new(sock).lines() {
                let Ok(line) = line else { return };
                if let Some(name) = line.strip_prefix("event:") {
                    event = name.trim().to_owned();
                } else if let Some(data) = line.strip_prefix("data:") {
                    let data = serde_json::from_str(data.trim()).unwrap_or(Value::Null);
                    if tx.send((std::mem::take(&mut event), data)).is_err() {
                        return;
                    }
                }
            }
        });
        let sse = Self { frames };
        sse.expect("connected", |_| true);
        sse
    }

    /// Waits (bounded) for a frame named `event` whose data passes `test`.
    fn expect(&self, event: &str, test: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.frames.recv_timeout(left) {
                Ok((name, data)) if name == event && test(&data) => return data,
                Ok(_) => {}
                Err(e) => panic!("no `{event}` event on /sse: {e}"),
            }
        }
    }
}

#[test]
fn a_memory_remembered_on_one_node_is_recalled_by_vector_and_streamed_on_another() {
    let Some(db) = Db::new() else { return };
    let a = node(&db, "");
    start(&a);
    let b = node(&db, "");
    start(&b);
    let sse = Sse::open(b.port);
    let (sa, sb) = (status(a.port), status(b.port));
    let (na, nb) = (&sa["storage"]["node"], &sb["storage"]["node"]);
    assert!(na.is_string() && nb.is_string() && na != nb, "{sa} {sb}");
    assert_eq!(sb["storage"]["backend"], "postgres");
    // The listener connects in the background just after start-up.
    poll("b's change listener to connect", || {
        (status(b.port)["storage"]["sync"]["listening"] == true).then_some(())
    });

    let id = remember(
        a.port,
        "The billing database fails over to the Frankfurt replica",
    );
    let created = sse.expect("memory.created", |d| d["id"] == id.as_str());
    assert!(created.get("content").is_none(), "{created}");
    poll("the vector of a's memory in b's index", || {
        (indexed(b.port) == 1).then_some(())
    });
    let found = vector_ids(b.port, "where does billing fail over");
    assert_eq!(found, vec![id.clone()], "a vector recall on b");
    let sb = status(b.port);
    assert!(sb["storage"]["sync"]["applied"].as_u64() >= Some(2), "{sb}");

    // A forget on a leaves b's index (recall hides deleted rows anyway: the index is what
    // shows the sync) and b's subscribers hear it.
    let path = format!("/api/memory/{id}");
    let v = http_json(a.port, "DELETE", &path, &[], r#"{"reason": "obsolete"}"#);
    assert_eq!(v["status"], "deleted", "{v}");
    sse.expect("memory.deleted", |d| d["id"] == id.as_str());
    poll("a's forgotten memory to leave b's index", || {
        (indexed(b.port) == 0).then_some(())
    });
    assert!(vector_ids(b.port, "where does billing fail over").is_empty());

    // And the other way round: b's writes reach a.
    let from_b = remember(b.port, "Grace rotates the on-call schedule every Monday");
    poll("b's memory in a's index", || {
        vector_ids(a.port, "who rotates the on-call schedule")
            .contains(&from_b)
            .then_some(())
    });
}

#[test]
fn a_node_cut_off_from_its_notifications_or_stopped_catches_up() {
    let Some(db) = Db::new() else { return };
    let a = node(&db, "");
    start(&a);
    let mut b = node(&db, "");
    let b_pid = start(&b);
    let b_node = status(b.port)["storage"]["node"]
        .as_str()
        .unwrap()
        .to_owned();

    // Cut b's listening connection: what a writes meanwhile is never notified to b.
    let mut c = db.client();
    let cut = c
        .execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE application_name = $1 AND query LIKE 'LISTEN%'",
            &[&format!("signet/{b_node}")],
        )
        .unwrap();
    assert_eq!(cut, 1, "b's listening connection");
    let missed = remember(a.port, "The staging cluster is rebuilt every Sunday night");
    poll("b to catch up on a's memory", || {
        vector_ids(b.port, "when is staging rebuilt")
            .contains(&missed)
            .then_some(())
    });
    poll("b to listen again", || {
        let s = status(b.port);
        (s["storage"]["sync"]["reconnects"].as_u64() >= Some(1)
            && s["storage"]["sync"]["listening"] == true)
            .then_some(())
    });

    // A stopped node finds the others' writes on its next start.
    assert!(signal(b_pid, "-TERM"));
    poll("b to stop", || (!is_alive(b_pid)).then_some(()));
    let while_down = remember(a.port, "The VPN certificates expire in March");
    poll("a to embed its memory", || {
        (indexed(a.port) == 2).then_some(())
    });
    b.port = crate::support::free_port();
    start(&b);
    poll("a restarted node to load every vector", || {
        vector_ids(b.port, "when do the VPN certificates expire")
            .contains(&while_down)
            .then_some(())
    });
}

/// `memory.pipelineV2` with extraction by the mock at `endpoint`.
fn pipeline_yaml(endpoint: &str) -> String {
    format!(
        "    enabled: true\n    extraction:\n      provider: ollama\n      model: qwen3:4b\n      \
         endpoint: {endpoint}\n    worker:\n      pollMs: 100\n"
    )
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

#[test]
fn a_node_killed_mid_job_leaves_the_job_to_another_which_finishes_it_once() {
    let Some(db) = Db::new() else { return };
    // a's model never answers within the test: a is killed while it waits, lease in hand.
    let hanging = Mock::start(MockOptions {
        delay: Duration::from_secs(3600),
        ..MockOptions::default()
    });
    let answering = Mock::start(MockOptions::default());
    let a = node(&db, &pipeline_yaml(&hanging.endpoint()));
    let a_pid = start(&a);
    let text = "The payments service retries webhooks for three days. \
                Its dead letters go to the ops channel.";
    let memory = remember(a.port, text);
    poll("a to call its model", || {
        (hanging.count(Kind::Extraction) == 1).then_some(())
    });
    let a_node = status(a.port)["storage"]["node"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut c = db.client();
    let job = |c: &mut Client| {
        c.query_one(
            "SELECT id, status, attempts, leased_by FROM memory_jobs \
             WHERE job_type = 'extract' AND memory_id = $1",
            &[&memory],
        )
        .unwrap()
    };
    let row = job(&mut c);
    let job_id: String = row.get(0);
    assert_eq!(row.get::<_, String>(1), "leased");
    assert_eq!(row.get::<_, Option<String>>(3), Some(a_node.clone()));

    // b starts while a holds the lease: a live peer's lease is not b's to take.
    let b = node(&db, &pipeline_yaml(&answering.endpoint()));
    start(&b);
    let row = job(&mut c);
    assert_eq!(
        row.get::<_, String>(1),
        "leased",
        "b took a live node's job"
    );
    assert_eq!(row.get::<_, Option<String>>(3), Some(a_node));

    assert!(signal(a_pid, "-KILL"));
    poll("a to die", || (!is_alive(a_pid)).then_some(()));
    let row = poll("b to finish a's job", || {
        let row = job(&mut c);
        (row.get::<_, String>(1) == "completed").then_some(row)
    });
    assert_eq!(row.get::<_, String>(0), job_id);
    // a's interrupted attempt counts, unless b's start-up found a already gone and gave it
    // back (a kill is not the job's failure); b's attempt is the last either way.
    let attempts = row.get::<_, i64>(2);
    assert!((1..=2).contains(&attempts), "attempts: {attempts}");
    assert_eq!(answering.count(Kind::Extraction), 1, "b extracted once");
    assert_eq!(hanging.count(Kind::Extraction), 1, "a never asked again");

    let facts: Vec<String> = c
        .query(
            "SELECT content FROM memories WHERE source_type = 'pipeline-v2' AND source_id = $1 \
             AND NOT COALESCE(is_deleted, false) ORDER BY content",
            &[&memory],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(facts, expected_facts(text), "every fact stored once");
    let twice: i64 = c
        .query_one(
            "SELECT count(*) FROM (SELECT content FROM memories WHERE NOT COALESCE(is_deleted, false) \
             GROUP BY content HAVING count(*) > 1) d",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(twice, 0, "no memory is live twice");
    let jobs: i64 = c
        .query_one(
            "SELECT count(*) FROM memory_jobs WHERE job_type = 'extract' AND memory_id = $1",
            &[&memory],
        )
        .unwrap()
        .get(0);
    assert_eq!(jobs, 1, "one job for the memory");
}

#[test]
fn doctor_reads_a_postgres_workspace_read_only_and_names_its_nodes() {
    let Some(db) = Db::new() else { return };
    let a = node(&db, "");
    // Nothing migrated yet: doctor says so, and creates nothing.
    let out = a.run(&["doctor"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(
        out.stderr.contains("holds no Signet tables"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("password"), "{}", out.stderr);
    let schemas = db
        .client()
        .query(
            "SELECT 1 FROM information_schema.schemata WHERE schema_name = $1",
            &[&db.schema],
        )
        .unwrap();
    assert!(schemas.is_empty(), "doctor created the schema");

    start(&a);
    let b = node(&db, "");
    start(&b);
    remember(a.port, "The staging cluster runs in Oslo");
    // 0 or 1 (the embedding provider is not reachable offline), never an error.
    let out = a.run(&["doctor"]);
    assert!(matches!(out.status.code(), Some(0 | 1)), "{out:?}");
    assert!(out.stdout.contains("(read-only)"), "{}", out.stdout);
    // Every schema's daemons on this database (other tests' too): at least these two.
    assert!(
        out.stdout.contains("daemons connected to this database"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains(&db.schema), "{}", out.stdout);
    let out = a.run(&["doctor", "--json"]);
    let v: Value = serde_json::from_str(&out.stdout).unwrap();
    let nodes: Vec<&str> = v["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let (sa, sb) = (status(a.port), status(b.port));
    for s in [&sa, &sb] {
        let node = s["storage"]["node"].as_str().unwrap();
        assert!(nodes.contains(&node), "{nodes:?} lacks {node}");
    }
    assert_eq!(v["report"]["memory"]["status"], "healthy", "{v}");
}
