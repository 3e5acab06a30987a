//! Documents end to end: text, workspace files and URLs (a loopback server, reachable only
//! with `documents.allowPrivateUrls`) become searchable chunk memories through the worker;
//! dedup, the guards, deletion with history, and an ingest interrupted by a restart.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use signet_core::documents::{DocumentWorker, Tick};
use signet_model::documents::{DOCUMENT_INGEST, IngestWrite, Ingested, LeasePolicy, NewDocument};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::common::{TestServer, eventually};

/// Small chunks, so a few paragraphs make several.
const SMALL_CHUNKS: &str =
    "memory:\n  pipelineV2:\n    documents:\n      chunkSize: 200\n      chunkOverlap: 40\n";

/// Paragraphs of distinct sentences, about 900 characters.
fn long_text(topic: &str) -> String {
    (0..6)
        .map(|p| {
            (0..3)
                .map(|s| {
                    format!("The {topic} paragraph {p} sentence {s} talks about quokkas and keys.")
                })
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// Ticks the worker until the document leaves `queued` (or fifteen seconds pass); its row.
async fn settle(s: &TestServer, id: &str) -> Value {
    let worker = DocumentWorker::new(s.state.documents().clone());
    let done = eventually(|| async {
        worker.tick().await;
        s.get(&format!("/api/documents/{id}")).await.1["status"] != "queued"
    })
    .await;
    assert!(done, "document {id} was not processed");
    s.get(&format!("/api/documents/{id}")).await.1
}

/// Ticks the worker until the document records a failed attempt; the error.
async fn first_error(s: &TestServer, id: &str) -> String {
    let worker = DocumentWorker::new(s.state.documents().clone());
    let failed = eventually(|| async {
        worker.tick().await;
        s.get(&format!("/api/documents/{id}")).await.1["error"].is_string()
    })
    .await;
    assert!(failed, "document {id} never failed");
    let (_, row) = s.get(&format!("/api/documents/{id}")).await;
    assert_eq!(row["status"], "queued", "retried later: {row}");
    row["error"].as_str().unwrap().to_owned()
}

async fn create(s: &TestServer, body: Value) -> (StatusCode, Value) {
    s.post("/api/documents", body).await
}

async fn chunks(s: &TestServer, id: &str) -> Vec<Value> {
    let (st, v) = s.get(&format!("/api/documents/{id}/chunks")).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(
        v["count"].as_u64().unwrap() as usize,
        v["chunks"].as_array().unwrap().len()
    );
    v["chunks"].as_array().unwrap().clone()
}

#[tokio::test]
async fn text_and_file_documents_become_searchable_chunks() {
    let s = TestServer::start_with_yaml(Some(SMALL_CHUNKS)).await;
    let text = long_text("text");
    let (st, v) = create(&s, json!({"text": text, "title": "Field notes"})).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    assert_eq!(v["status"], "queued");
    assert!(v["jobId"].is_string());
    let id = v["id"].as_str().unwrap().to_owned();
    let row = settle(&s, &id).await;
    assert_eq!(row["status"], "done", "{row}");
    let pieces = chunks(&s, &id).await;
    assert!(pieces.len() >= 4, "{} chunks", pieces.len());
    assert_eq!(row["chunk_count"].as_u64(), Some(pieces.len() as u64));
    assert_eq!(row["memory_count"].as_u64(), Some(pieces.len() as u64));
    for (i, c) in pieces.iter().enumerate() {
        assert_eq!(c["type"], "document_chunk");
        assert_eq!(c["chunk_index"].as_u64(), Some(i as u64));
        assert!(c["content"].as_str().unwrap().chars().count() <= 200);
    }
    let first = pieces[0]["id"].as_str().unwrap();
    let (_, detail) = s.get(&format!("/api/memory/{first}")).await;
    assert_eq!(detail["who"], id.as_str());
    assert_eq!(detail["tags"], "document:Field notes");
    assert_eq!(detail["source_type"], "document");
    assert_eq!(detail["importance"], 0.3);

    // The same text again is the same document.
    let (st, again) = create(&s, json!({"source_type": "text", "content": text})).await;
    assert_eq!(st, StatusCode::OK, "{again}");
    assert_eq!(
        (again["id"].as_str(), again["deduplicated"].as_bool()),
        (Some(id.as_str()), Some(true))
    );

    // A workspace file.
    std::fs::create_dir_all(s.workspace.join("notes")).unwrap();
    std::fs::write(
        s.workspace.join("notes/wombats.md"),
        "Wombats dig burrows.\n\nThey have cube-shaped droppings.",
    )
    .unwrap();
    let (st, v) = create(&s, json!({"file": "notes/wombats.md"})).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let file_id = v["id"].as_str().unwrap().to_owned();
    let row = settle(&s, &file_id).await;
    assert_eq!(
        (row["status"].as_str(), row["source_url"].as_str()),
        (Some("done"), Some("notes/wombats.md"))
    );
    let (st, dup) = create(&s, json!({"file": "notes/../notes/wombats.md"})).await;
    assert_eq!(
        (st, dup["deduplicated"].as_bool()),
        (StatusCode::OK, Some(true))
    );
    for bad in [
        "../outside.md",
        "/etc/passwd",
        ".daemon/auth-secret",
        "memory/memories.db",
    ] {
        let (st, v) = create(&s, json!({"file": bad})).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{bad}: {v}");
    }

    // Recall finds the chunks, by keyword and once embedded by vector too.
    let (st, v) = s
        .recall(json!({"query": "quokkas", "mode": "keyword", "limit": 3}))
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let hit = &v["results"][0];
    assert_eq!(hit["type"], "document_chunk", "{v}");
    let (_, v) = s
        .recall(json!({"query": "cube-shaped droppings", "mode": "keyword"}))
        .await;
    assert!(
        v["results"][0]["content"]
            .as_str()
            .unwrap()
            .contains("droppings"),
        "{v}"
    );
    let semantic = s.state.memories().semantic().clone();
    let embedded = eventually(|| async { semantic.indexed() > pieces.len() }).await;
    assert!(embedded, "the embedding worker embedded the chunks");

    // Listing.
    let (_, list) = s.get("/api/documents?status=done&limit=1").await;
    assert_eq!(
        (list["total"].as_i64(), list["limit"].as_u64()),
        (Some(2), Some(1))
    );
    assert_eq!(list["documents"].as_array().unwrap().len(), 1);
    let (st, _) = s.get("/api/documents?limit=0").await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    let (st, v) = s.get("/api/documents/nope").await;
    assert_eq!(
        (st, v["error"].as_str()),
        (StatusCode::NOT_FOUND, Some("Document not found"))
    );
}

#[tokio::test]
async fn deleting_a_document_soft_deletes_its_chunks_with_history() {
    let s = TestServer::start_with_yaml(Some(SMALL_CHUNKS)).await;
    let (_, v) = create(&s, json!({"text": long_text("doomed")})).await;
    let id = v["id"].as_str().unwrap().to_owned();
    settle(&s, &id).await;
    let pieces = chunks(&s, &id).await;
    let chunk = pieces[1]["id"].as_str().unwrap().to_owned();
    let (st, v) = s.delete(&format!("/api/documents/{id}")).await;
    assert_eq!(
        (st, v["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("reason is required"))
    );
    let (st, v) = s
        .delete(&format!("/api/documents/{id}?reason=outdated"))
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v, json!({"deleted": true, "memoriesRemoved": pieces.len()}));
    assert!(chunks(&s, &id).await.is_empty());
    let (_, row) = s.get(&format!("/api/documents/{id}")).await;
    assert_eq!(row["status"], "deleted");
    let (st, _) = s.get(&format!("/api/memory/{chunk}")).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (_, h) = s.get(&format!("/api/memory/{chunk}/history")).await;
    let events = h["history"].as_array().unwrap();
    let last = events.last().unwrap();
    assert_eq!(
        (last["event"].as_str(), last["reason"].as_str()),
        (Some("deleted"), Some("Document deleted: outdated"))
    );
    assert_eq!(events[0]["event"], "created");
    let (_, v) = s
        .recall(json!({"query": "quokkas", "mode": "keyword"}))
        .await;
    assert!(v["results"].as_array().unwrap().is_empty(), "{v}");
    let (st, _) = s.delete("/api/documents/nope?reason=r").await;
    assert_eq!(st, StatusCode::NOT_FOUND);
}

/// A one-connection-at-a-time HTTP server on loopback: `/page` is an HTML page, `/hop`
/// redirects to it, `/big` is larger than the limit.
async fn page_server() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            let mut buf = vec![0u8; 4096];
            let n = sock.read(&mut buf).await.unwrap_or(0);
            let req = String::from_utf8_lossy(&buf[..n]).to_string();
            let path = req.split_whitespace().nth(1).unwrap_or("/").to_owned();
            let page = "<!doctype html><html><head><title>Platypus facts</title>\
                <script>var secret = 'no';</script></head><body><h1>Platypus</h1>\
                <p>The platypus lays eggs &amp; hunts by electroreception.</p></body></html>";
            let res = match path.as_str() {
                "/page" => format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{page}",
                    page.len()
                ),
                "/hop" => "HTTP/1.1 302 Found\r\nlocation: /page\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".to_owned(),
                "/big" => {
                    let body = "x ".repeat(4096);
                    format!("HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}", body.len())
                }
                _ => "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".to_owned(),
            };
            let _ = sock.write_all(res.as_bytes()).await;
            let _ = sock.shutdown().await;
        }
    });
    base
}

#[tokio::test]
async fn url_documents_are_fetched_only_where_the_guard_allows() {
    let base = page_server().await;
    let yaml = "memory:\n  pipelineV2:\n    documents:\n      allowPrivateUrls: true\n      maxContentBytes: 4096\n";
    let open = TestServer::start_with_yaml(Some(yaml)).await;
    let (st, v) = create(&open, json!({"url": format!("{base}/hop")})).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let id = v["id"].as_str().unwrap().to_owned();
    let row = settle(&open, &id).await;
    assert_eq!(row["status"], "done", "{row}");
    assert_eq!(row["title"], "Platypus facts");
    assert_eq!(row["content_type"], "text/html");
    let pieces = chunks(&open, &id).await;
    let text = pieces[0]["content"].as_str().unwrap();
    assert!(
        text.contains("The platypus lays eggs & hunts by electroreception."),
        "{text}"
    );
    assert!(!text.contains("secret") && !text.contains('<'), "{text}");
    let (st, dup) = create(
        &open,
        json!({"source_type": "url", "url": format!("{base}/hop")}),
    )
    .await;
    assert_eq!(
        (st, dup["deduplicated"].as_bool()),
        (StatusCode::OK, Some(true))
    );
    let (_, v) = create(&open, json!({"url": format!("{base}/big")})).await;
    let error = first_error(&open, v["id"].as_str().unwrap()).await;
    assert!(error.contains("larger than 4096 bytes"), "{error}");

    // The default guard: a literal loopback address is refused at once, a name that
    // resolves to one when the worker fetches it.
    let guarded = TestServer::start().await;
    let (st, v) = create(&guarded, json!({"url": format!("{base}/page")})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    assert!(v["error"].as_str().unwrap().contains("loopback"), "{v}");
    let port = base.rsplit(':').next().unwrap();
    let (st, v) = create(
        &guarded,
        json!({"url": format!("http://localhost:{port}/page")}),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let id = v["id"].as_str().unwrap().to_owned();
    let error = first_error(&guarded, &id).await;
    assert!(
        error.contains("refused") && error.contains("loopback"),
        "{error}"
    );
    assert!(chunks(&guarded, &id).await.is_empty());
    for bad in [
        "ftp://example.com/x",
        "http://169.254.169.254/latest",
        "http://[::1]/",
        "http://10.0.0.1/",
    ] {
        let (st, v) = create(&guarded, json!({"url": bad})).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{bad}: {v}");
    }
}

#[tokio::test]
async fn an_ingest_interrupted_by_a_restart_is_done_once() {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path();
    std::fs::write(ws.join("agent.yaml"), SMALL_CHUNKS).unwrap();
    let first = TestServer::start_in(ws, false).await;
    // A document queued and its job leased by a worker that then dies with the daemon:
    // written through the store, so the running worker is not woken.
    let store = first.state.documents().store().clone();
    let now = signet_model::time::now_iso();
    let doc = NewDocument {
        id: "interrupted".into(),
        source_type: "text".into(),
        source_url: None,
        content_type: None,
        content_hash: Some("h".into()),
        title: Some("Interrupted".into()),
        raw_content: Some(long_text("interrupted")),
        connector_id: None,
        metadata_json: None,
        job_id: "job-interrupted".into(),
        created_at: now.clone(),
    };
    store.create_document(&doc).unwrap();
    let policy = LeasePolicy::default();
    let leased = store
        .lease_job(DOCUMENT_INGEST, &now, &policy)
        .unwrap()
        .unwrap();
    assert_eq!(leased.id, "job-interrupted");
    first.shutdown().await;

    // The restart recovers the lease; the new worker ingests the document once.
    let second = TestServer::start_in(ws, false).await;
    let row = settle(&second, "interrupted").await;
    assert_eq!(row["status"], "done", "{row}");
    let pieces = chunks(&second, "interrupted").await;
    assert_eq!(row["chunk_count"].as_u64(), Some(pieces.len() as u64));
    // The dead worker's write arriving late changes nothing.
    let store = second.state.documents().store().clone();
    let late = IngestWrite {
        document_id: "interrupted".into(),
        job_id: leased.id.clone(),
        chunks: Vec::new(),
        content_hash: None,
        content_type: None,
        title: None,
        actor: signet_model::memories::Actor {
            changed_by: "dead-worker".into(),
            actor_type: None,
            session_id: None,
            request_id: None,
        },
        now: signet_model::time::now_iso(),
    };
    assert_eq!(store.write_ingest(&late).unwrap(), Ingested::AlreadySettled);
    let worker = DocumentWorker::new(second.state.documents().clone());
    assert_eq!(worker.tick().await, Tick::Idle);
    assert_eq!(chunks(&second, "interrupted").await.len(), pieces.len());
    let (_, list) = second
        .call(Method::GET, "/api/memories?limit=1000", None)
        .await;
    let from_doc = list["memories"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["source_type"] == "document")
        .count();
    assert_eq!(from_doc, pieces.len(), "no duplicate chunks");
}

#[tokio::test]
async fn team_mode_guards_documents_by_role_and_refuses_scoped_tokens() {
    use signet_core::auth::{Role, Scope};

    use crate::auth::{TEAM, as_bearer, project, token};
    let s = TestServer::start_with_yaml(Some(TEAM)).await;
    let agent = token(&s, Role::Agent, "claude-code", Scope::default());
    let readonly = token(&s, Role::Readonly, "dash", Scope::default());
    let scoped = token(&s, Role::Agent, "claude-code:acme", project("acme"));
    let body = json!({"text": "a team document"});
    let (st, _) = s.post("/api/documents", body.clone()).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    let (st, v) = as_bearer(
        &s,
        Method::POST,
        "/api/documents",
        Some(body.clone()),
        &readonly,
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{v}");
    assert!(v["error"].as_str().unwrap().contains("documents"), "{v}");
    let (st, v) = as_bearer(&s, Method::GET, "/api/documents", None, &scoped).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{v}");
    let (st, v) = as_bearer(&s, Method::POST, "/api/documents", Some(body), &agent).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let id = v["id"].as_str().unwrap().to_owned();
    settle_as(&s, &id, &agent).await;
    let path = format!("/api/documents/{id}?reason=done");
    let (st, _) = as_bearer(&s, Method::DELETE, &path, None, &scoped).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, v) = as_bearer(&s, Method::DELETE, &path, None, &agent).await;
    assert_eq!(
        (st, v["memoriesRemoved"].as_u64()),
        (StatusCode::OK, Some(1))
    );
    let left = s.state.documents().store().document_chunks(&id).unwrap();
    assert_eq!(left.map(|c| c.len()), Some(0));
}

/// [`settle`] for a daemon that needs a token.
async fn settle_as(s: &TestServer, id: &str, tok: &str) {
    let worker = DocumentWorker::new(s.state.documents().clone());
    let path = format!("/api/documents/{id}");
    let done = eventually(|| async {
        worker.tick().await;
        as_bearer_status(s, &path, tok).await == "done"
    })
    .await;
    assert!(done, "document {id} was not processed");
}

async fn as_bearer_status(s: &TestServer, path: &str, tok: &str) -> String {
    let (_, v) = crate::auth::as_bearer(s, Method::GET, path, None, tok).await;
    v["status"].as_str().unwrap_or_default().to_owned()
}
