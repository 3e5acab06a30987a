//! The embedding and repair answers are `signet-api` types: each body decodes into its type
//! with nothing left in `extra`, encodes back to the very bytes the server sent, and those
//! bytes are what the daemon sent before it was typed (keys in alphabetical order at every
//! level, floats computed in `f32` written widened to `f64`). Bad queries and bodies are 400s
//! naming the field.

use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use signet_api::{
    ColdStats, DedupStats, EmbeddingGaps, EmbeddingHealth, EmbeddingList, EmbeddingStatus,
    Projection, RepairResponse, SimilarResponse,
};

use crate::common::{TestServer, eventually};

/// Sends a request and returns the status and the raw body.
async fn fetch(
    s: &TestServer,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Vec<u8>) {
    let mut req = reqwest::Client::new().request(method, format!("{}{path}", s.base));
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await.unwrap();
    (res.status(), res.bytes().await.unwrap().to_vec())
}

/// The JSON text's number tokens (outside strings) and the text with each replaced by `#`.
fn split_numbers(text: &str) -> (String, Vec<&str>) {
    let (mut skeleton, mut numbers) = (String::new(), Vec::new());
    let (mut in_string, mut escaped, mut start) = (false, false, None::<usize>);
    for (i, c) in text.char_indices() {
        if let Some(s) = start {
            if c.is_ascii_digit() || "+-.eE".contains(c) {
                continue;
            }
            numbers.push(&text[s..i]);
            skeleton.push('#');
            start = None;
        }
        if in_string {
            in_string = c != '"' || escaped;
            escaped = c == '\\' && !escaped;
        } else if c == '-' || c.is_ascii_digit() {
            start = Some(i);
            continue;
        } else {
            in_string = c == '"';
        }
        skeleton.push(c);
    }
    if let Some(s) = start {
        numbers.push(&text[s..]);
        skeleton.push('#');
    }
    (skeleton, numbers)
}

/// `a` and `b` are the same JSON text, except that numbers may differ in the last bit: serde_json
/// parses floats to within one ulp (its `float_roundtrip` feature is off), so a decoded and
/// re-encoded float can print differently although the server sent the exact value.
fn same_json(a: &str, b: &str, what: &str) {
    let ((sa, na), (sb, nb)) = (split_numbers(a), split_numbers(b));
    assert_eq!(sa, sb, "{what}");
    assert_eq!(na.len(), nb.len(), "{what}");
    for (x, y) in na.iter().zip(&nb) {
        let (fx, fy) = (x.parse::<f64>().unwrap(), y.parse::<f64>().unwrap());
        let close = x == y || (fx - fy).abs() <= fx.abs().max(fy.abs()) * 1e-15;
        assert!(close, "{what}: {x} vs {y}");
    }
}

/// Decodes `raw` as `T` and checks that it encodes back to the same text, that this text is
/// the canonical (sorted-key) encoding the untyped daemon produced, and that `T`'s
/// unmodelled fields (`extra`) are empty.
fn exact<T: DeserializeOwned + Serialize>(raw: &[u8], extra: impl Fn(&T) -> usize) -> T {
    let text = String::from_utf8_lossy(raw);
    let typed: T = serde_json::from_slice(raw).unwrap_or_else(|e| panic!("{e}: {text}"));
    assert_eq!(extra(&typed), 0, "unmodelled fields in {text}");
    let again = serde_json::to_string(&typed).unwrap();
    same_json(&again, &text, "typed re-encoding");
    let canonical = serde_json::to_string(&serde_json::from_slice::<Value>(raw).unwrap()).unwrap();
    same_json(&canonical, &text, "key order");
    typed
}

/// The numbers the raw text holds under `"key":` (a scalar or an array of numbers), read
/// exactly (Rust's parser rounds correctly).
fn floats_under(text: &str, key: &str) -> Vec<f64> {
    let tag = format!("\"{key}\":");
    let mut out = Vec::new();
    for part in text.split(tag.as_str()).skip(1) {
        let (body, stop) = match part.strip_prefix('[') {
            Some(array) => (array, &[']'][..]),
            None => (part, &[',', '}'][..]),
        };
        let body = &body[..body.find(stop).unwrap_or(body.len())];
        if body.starts_with(|c: char| c == '-' || c.is_ascii_digit()) {
            out.extend(body.split(',').map(|t| t.parse::<f64>().unwrap()));
        }
    }
    out
}

/// A float that the daemon computed in `f32` is sent widened to `f64`, as it always was.
fn widened(x: f64) -> bool {
    x == f64::from(x as f32)
}

fn repair_extra(r: &RepairResponse) -> usize {
    r.extra.len()
        + r.progress.as_ref().map_or(0, |p| p.extra.len())
        + r.removed.as_ref().map_or(0, |p| p.extra.len())
}

async fn seeded() -> (TestServer, Vec<String>) {
    let s = TestServer::start().await;
    let mut ids = Vec::new();
    for text in [
        "rust async runtimes like tokio",
        "tokio is an async runtime for rust",
        "banana bread recipe with walnuts",
    ] {
        let (_, v) = s
            .remember_json(json!({"content": text, "tags": "a, b"}))
            .await;
        ids.push(v["id"].as_str().unwrap().to_owned());
    }
    let embedded = eventually(|| async {
        s.get("/api/embeddings/status").await.1["coverage"]["current"] == 3
    })
    .await;
    assert!(embedded, "the worker never embedded the seed");
    (s, ids)
}

#[tokio::test]
async fn embedding_reads_are_their_wire_types_byte_for_byte() {
    let (s, ids) = seeded().await;
    let (st, raw) = fetch(
        &s,
        Method::GET,
        "/api/embeddings?vectors=true&limit=2",
        None,
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    let list: EmbeddingList = exact(&raw, |l: &EmbeddingList| {
        l.extra.len() + l.embeddings.iter().map(|e| e.extra.len()).sum::<usize>()
    });
    assert_eq!((list.count, list.total, list.has_more), (2, 3, true));
    assert_eq!(list.embeddings[0].vector.as_ref().unwrap().len(), 64);
    let floats = floats_under(&String::from_utf8_lossy(&raw), "vector");
    assert_eq!(floats.len(), 128);
    assert!(floats.iter().all(|x| widened(*x)), "{floats:?}");
    assert_eq!(list.embeddings[0].tags, ["a", "b"]);
    let (_, raw) = fetch(&s, Method::GET, "/api/embeddings", None).await;
    let list: EmbeddingList = exact(&raw, |l: &EmbeddingList| l.extra.len());
    assert!(list.embeddings.iter().all(|e| e.vector.is_none()));

    let (_, raw) = fetch(&s, Method::GET, "/api/embeddings/status", None).await;
    let status: EmbeddingStatus = exact(&raw, |st: &EmbeddingStatus| {
        st.extra.len() + st.reembed.extra.len() + st.coverage.as_ref().map_or(1, |c| c.extra.len())
    });
    assert_eq!(status.coverage.unwrap().current, 3);

    let (_, raw) = fetch(&s, Method::GET, "/api/embeddings/health", None).await;
    let health: EmbeddingHealth = exact(&raw, |h: &EmbeddingHealth| {
        h.extra.len() + h.config.extra.len() + h.checks.iter().map(|c| c.extra.len()).sum::<usize>()
    });
    assert_eq!(health.status, "healthy");
    assert_eq!(health.checks[0].message, "provider \"test-hash\" answers");

    for _ in 0..2 {
        let (_, raw) = fetch(&s, Method::GET, "/api/embeddings/projection", None).await;
        let p: Projection = exact(&raw, |p: &Projection| {
            p.extra.len() + p.nodes.iter().map(|n| n.extra.len()).sum::<usize>()
        });
        assert_eq!(p.count, 3);
        let text = String::from_utf8_lossy(&raw);
        let xy = [floats_under(&text, "x"), floats_under(&text, "y")].concat();
        assert_eq!(xy.len(), 6);
        assert!(xy.iter().all(|x| widened(*x)), "{xy:?}");
    }

    let path = format!("/memory/similar?id={}&k=2", ids[0]);
    let (_, raw) = fetch(&s, Method::GET, &path, None).await;
    let similar: SimilarResponse = exact(&raw, |r: &SimilarResponse| {
        r.extra.len() + r.results.iter().map(|m| m.extra.len()).sum::<usize>()
    });
    assert_eq!(similar.results[0].id, ids[1]);
}

#[tokio::test]
async fn repair_answers_are_their_wire_types_byte_for_byte() {
    let (s, _) = seeded().await;
    let (_, raw) = fetch(&s, Method::GET, "/api/repair/embedding-gaps", None).await;
    let gaps: EmbeddingGaps = exact(&raw, |g: &EmbeddingGaps| g.extra.len());
    assert_eq!((gaps.unembedded, gaps.coverage.as_str()), (0, "100.0%"));
    let (_, raw) = fetch(&s, Method::GET, "/api/repair/dedup-stats", None).await;
    let stats: DedupStats = exact(&raw, |d: &DedupStats| d.extra.len());
    assert_eq!(stats.total_active, 3);

    let post = [
        ("/api/repair/requeue-dead", None, 200, "requeueDeadJobs"),
        (
            "/api/repair/requeue-dead-jobs",
            None,
            200,
            "requeueDeadJobs",
        ),
        (
            "/api/repair/release-leases",
            None,
            200,
            "releaseStaleLeases",
        ),
        (
            "/api/repair/check-fts",
            Some(json!({"repair": true})),
            200,
            "checkFtsConsistency",
        ),
        (
            "/api/repair/retention-sweep",
            None,
            200,
            "triggerRetentionSweep",
        ),
        (
            "/api/repair/deduplicate",
            Some(json!({"dryRun": true})),
            200,
            "deduplicateMemories",
        ),
        (
            "/api/repair/deduplicate",
            Some(json!({"semanticEnabled": "1", "semanticThreshold": 0.5, "dryRun": 1})),
            200,
            "deduplicateMemories",
        ),
        ("/api/repair/deduplicate", None, 200, "deduplicateMemories"),
        (
            "/api/repair/re-embed",
            Some(json!({"dryRun": true})),
            200,
            "re-embed",
        ),
        ("/api/repair/re-embed", Some(json!({})), 200, "re-embed"),
        ("/api/repair/clean-orphans", None, 200, "clean-orphans"),
        ("/api/repair/resync-vec", None, 501, "resync-vec"),
        (
            "/api/repair/reclassify-entities",
            None,
            501,
            "reclassify-entities",
        ),
        (
            "/api/repair/structural-backfill",
            None,
            501,
            "structural-backfill",
        ),
        (
            "/api/repair/prune-chunk-groups",
            Some(json!({"dryRun": true})),
            200,
            "pruneChunkGroupEntities",
        ),
        (
            "/api/repair/prune-chunk-groups",
            None,
            200,
            "pruneChunkGroupEntities",
        ),
        (
            "/api/repair/prune-singleton-entities",
            Some(json!({"maxMentions": 0, "batchSize": "10"})),
            200,
            "pruneSingletonExtractedEntities",
        ),
        (
            "/api/repair/backfill-skipped",
            Some(json!({"limit": 5, "dryRun": "true"})),
            200,
            "backfillSkippedSessions",
        ),
        (
            "/api/repair/backfill-skipped",
            None,
            200,
            "backfillSkippedSessions",
        ),
    ];
    for (path, body, code, action) in post {
        let (st, raw) = fetch(&s, Method::POST, path, body).await;
        assert_eq!(
            st.as_u16(),
            code,
            "{path}: {}",
            String::from_utf8_lossy(&raw)
        );
        let r: RepairResponse = exact(&raw, repair_extra);
        assert_eq!(r.action, action);
        assert_eq!(r.success, code == 200, "{path}");
        assert_eq!(r.error.is_some(), code == 501, "{path}");
    }
    let (st, raw) = fetch(&s, Method::GET, "/api/repair/cold-stats", None).await;
    assert_eq!(st.as_u16(), 200);
    let cold: ColdStats = exact(&raw, |c: &ColdStats| c.extra.len());
    assert_eq!(
        cold.count as usize,
        cold.by_reason.values().sum::<i64>() as usize
    );

    let (_, raw) = fetch(&s, Method::POST, "/api/repair/retention-sweep", None).await;
    let sweep: RepairResponse = exact(&raw, repair_extra);
    assert_eq!(sweep.removed.unwrap().tombstones, 0);
    let (_, raw) = fetch(
        &s,
        Method::POST,
        "/api/repair/deduplicate",
        Some(json!({"dryRun": true})),
    )
    .await;
    let dry: RepairResponse = exact(&raw, repair_extra);
    assert_eq!((dry.clusters, dry.dry_run), (Some(0), Some(true)));
}

#[tokio::test]
async fn bad_queries_and_bodies_are_400s_naming_the_field() {
    let s = TestServer::start().await;
    let id = s.remember("a memory to look around").await;
    let cases = [
        (
            Method::GET,
            "/api/embeddings?offset=-1".to_owned(),
            None,
            "offset must be a non-negative integer",
        ),
        (
            Method::GET,
            "/api/embeddings?limit=abc".into(),
            None,
            "limit must be a positive integer",
        ),
        (
            Method::GET,
            "/api/embeddings/projection?dimensions=3".into(),
            None,
            "dimensions must be 2",
        ),
        (
            Method::GET,
            "/api/embeddings/projection?limit=0".into(),
            None,
            "limit must be a positive integer",
        ),
        (
            Method::GET,
            format!("/memory/similar?id={id}&k=x"),
            None,
            "k must be a positive integer",
        ),
        (
            Method::POST,
            "/api/repair/check-fts".into(),
            Some(json!({"repair": "sure"})),
            "repair must be a boolean",
        ),
        (
            Method::POST,
            "/api/repair/check-fts".into(),
            Some(json!([1])),
            "Invalid JSON body",
        ),
        (
            Method::POST,
            "/api/repair/re-embed".into(),
            Some(json!({"dryRun": "x"})),
            "dryRun must be a boolean",
        ),
        (
            Method::POST,
            "/api/repair/deduplicate".into(),
            Some(json!({"batchSize": "many"})),
            "batchSize must be a positive integer",
        ),
        (
            Method::POST,
            "/api/repair/deduplicate".into(),
            Some(json!({"semanticThreshold": 2})),
            "semanticThreshold must be a number from 0 to 1",
        ),
        (
            Method::POST,
            "/api/repair/deduplicate".into(),
            Some(json!({"semanticEnabled": []})),
            "semanticEnabled must be a boolean",
        ),
    ];
    for (method, path, body, error) in cases {
        let (st, v) = s.call(method, &path, body).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{path}: {v}");
        assert_eq!(v, json!({ "error": error }), "{path}");
    }
    let (st, v) = s.get("/memory/similar?k=2").await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert_eq!(v, json!({"error": "id is required", "results": []}));
    // Unknown keys are ignored and a repeated key keeps its last value, as before.
    let (st, v) = s.get("/api/embeddings?limit=abc&limit=1&colour=red").await;
    assert_eq!((st, v["limit"].clone()), (StatusCode::OK, json!(1)), "{v}");
}
