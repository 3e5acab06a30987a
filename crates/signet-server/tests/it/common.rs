//! `TestServer`: a real daemon (store, workers, HTTP) on 127.0.0.1:0 over a temp workspace.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use reqwest::{Method, StatusCode};
use serde_json::Value;
use signet_core::config::{EnvVars, Settings};
use signet_core::embedding::Embedder;
use signet_core::semantic::HashEmbedder;
use signet_server::daemon::{Daemon, DaemonConfig};
use signet_server::logs::LogHub;
use tokio::sync::oneshot;

pub struct TestServer {
    pub base: String,
    pub workspace: PathBuf,
    /// The daemon's log hub (tests push entries or install its layer).
    pub logs: LogHub,
    /// The daemon's state (tests reach in-memory services such as the session tracker).
    pub state: signet_server::AppState,
    client: reqwest::Client,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
    _dir: Option<tempfile::TempDir>,
}

impl TestServer {
    /// A daemon over a fresh temp workspace.
    pub async fn start() -> Self {
        Self::start_with_yaml(None).await
    }

    /// A keyword-only daemon (no embedding provider) over a fresh temp workspace.
    pub async fn start_keyword_only() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let ws = dir.path().to_path_buf();
        let mut s = Self::start_full(&ws, false, true).await;
        s._dir = Some(dir);
        s
    }

    /// A daemon whose workspace has this `agent.yaml`.
    pub async fn start_with_yaml(yaml: Option<&str>) -> Self {
        let dir = tempfile::tempdir().unwrap();
        if let Some(y) = yaml {
            std::fs::write(dir.path().join("agent.yaml"), y).unwrap();
        }
        let ws = dir.path().to_path_buf();
        let mut s = Self::start_in(&ws, false).await;
        s._dir = Some(dir);
        s
    }

    /// A daemon over an existing workspace directory (kept by the caller).
    pub async fn start_in(workspace: &Path, watch_config: bool) -> Self {
        Self::start_full(workspace, watch_config, false).await
    }

    /// A daemon with the deterministic test embedder, or keyword-only.
    pub async fn start_full(workspace: &Path, watch_config: bool, keyword_only: bool) -> Self {
        let env = EnvVars::default();
        let loaded = Settings::load(workspace, &env).expect("config");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let embedder: Arc<dyn Embedder> = Arc::new(HashEmbedder { dims: 64 });
        let embedder = if keyword_only { None } else { Some(embedder) };
        let logs = LogHub::default();
        let cfg = DaemonConfig {
            workspace: workspace.to_path_buf(),
            loaded,
            env,
            watch_config,
            embedder,
            log_hub: Some(logs.clone()),
        };
        let daemon = Daemon::start(cfg, &listener).await.expect("daemon starts");
        let state = daemon.state().clone();
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            daemon
                .run(listener, async {
                    let _ = rx.await;
                })
                .await
                .unwrap();
        });
        Self {
            base,
            workspace: workspace.to_path_buf(),
            logs,
            state,
            client: reqwest::Client::new(),
            stop: Some(tx),
            task: Some(task),
            _dir: None,
        }
    }

    /// Sends a request with an optional JSON body; returns status and parsed JSON.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        self.call_with(method, path, body, &[]).await
    }

    pub async fn call_with(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> (StatusCode, Value) {
        let mut req = self
            .client
            .request(method, format!("{}{}", self.base, path));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.expect("request");
        let status = res.status();
        let text = res.text().await.unwrap();
        let json = serde_json::from_str(&text)
            .unwrap_or_else(|_| panic!("non-JSON body ({status}): {text}"));
        (status, json)
    }

    /// Sends raw bytes with a content type.
    pub async fn raw(&self, method: Method, path: &str, body: Vec<u8>) -> (StatusCode, Value) {
        let res = self
            .client
            .request(method, format!("{}{}", self.base, path))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("request");
        let status = res.status();
        let text = res.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text)
                .unwrap_or_else(|_| panic!("non-JSON body ({status}): {text}")),
        )
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.call(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::POST, path, Some(body)).await
    }

    /// `PATCH path` with `body`.
    pub async fn patch(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::PATCH, path, Some(body)).await
    }

    /// `PATCH /api/memory/{id}` with `body`.
    pub async fn patch_memory(&self, id: &str, body: Value) -> (StatusCode, Value) {
        self.patch(&format!("/api/memory/{id}"), body).await
    }

    /// `DELETE path` without a body.
    pub async fn delete(&self, path: &str) -> (StatusCode, Value) {
        self.call(Method::DELETE, path, None).await
    }

    /// `POST /api/memory/recall` with `body`.
    pub async fn recall(&self, body: Value) -> (StatusCode, Value) {
        self.post("/api/memory/recall", body).await
    }

    /// `POST /api/memory/remember` with `body`.
    pub async fn remember_json(&self, body: Value) -> (StatusCode, Value) {
        self.post("/api/memory/remember", body).await
    }

    /// `POST /api/memory/forget` (batch forget) with `body`.
    pub async fn forget_json(&self, body: Value) -> (StatusCode, Value) {
        self.post("/api/memory/forget", body).await
    }

    /// Remembers `content` and returns the new id.
    pub async fn remember(&self, content: &str) -> String {
        let (s, v) = self
            .remember_json(serde_json::json!({ "content": content }))
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        v["id"].as_str().unwrap().to_owned()
    }

    /// Opens a Server-Sent Events stream at `path`.
    pub async fn sse(&self, path: &str) -> SseReader {
        self.sse_as(path, None).await
    }

    /// An SSE stream opened with an optional bearer token.
    pub async fn sse_as(&self, path: &str, token: Option<&str>) -> SseReader {
        let mut req = self.client.get(format!("{}{}", self.base, path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let res = req.send().await.expect("stream request");
        assert_eq!(res.status(), StatusCode::OK);
        let ct = res.headers()["content-type"].to_str().unwrap().to_owned();
        assert!(ct.starts_with("text/event-stream"), "{ct}");
        SseReader {
            res,
            buf: String::new(),
        }
    }

    /// Stops the daemon and waits for its shutdown (workers, checkpoint).
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.task.take() {
            t.await.unwrap();
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}

/// The ids of a recall response's `results`, in order.
pub fn result_ids(v: &Value) -> Vec<String> {
    column(&v["results"], "id")
}

/// The string `field` of every element of the array `rows`, in order.
pub fn column(rows: &Value, field: &str) -> Vec<String> {
    rows.as_array()
        .unwrap_or_else(|| panic!("not an array: {rows}"))
        .iter()
        .map(|r| r[field].as_str().unwrap().to_owned())
        .collect()
}

/// Polls `check` until it returns true or fifteen seconds pass.
pub async fn eventually<F, Fut>(mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(15);
    while tokio::time::Instant::now() < deadline {
        if check().await {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    false
}

/// One SSE frame: its `event:` name (empty when absent) and `data:`.
#[derive(Debug, Clone)]
pub struct Frame {
    pub event: String,
    pub data: String,
}

impl Frame {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.data).unwrap_or_else(|_| panic!("non-JSON data: {}", self.data))
    }
}

/// Reads frames of an open SSE response (comments are skipped).
pub struct SseReader {
    res: reqwest::Response,
    buf: String,
}

impl SseReader {
    /// The next frame, or `None` when the stream ended; panics after ten seconds.
    pub async fn next(&mut self) -> Option<Frame> {
        let deadline = std::time::Duration::from_secs(10);
        tokio::time::timeout(deadline, self.next_inner())
            .await
            .expect("an SSE frame within 10 s")
    }

    /// Frames until one named `event` satisfies `pred` (panics on timeout or end of stream).
    pub async fn until(&mut self, event: &str, pred: impl Fn(&Value) -> bool) -> Value {
        loop {
            let f = self.next().await.expect("stream ended");
            if f.event == event && pred(&f.json()) {
                return f.json();
            }
        }
    }

    async fn next_inner(&mut self) -> Option<Frame> {
        loop {
            if let Some(end) = self.buf.find("\n\n") {
                let block: String = self.buf.drain(..end + 2).collect();
                let (mut event, mut data) = (String::new(), Vec::new());
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("event:") {
                        event = v.trim().to_owned();
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data.push(v.strip_prefix(' ').unwrap_or(v).to_owned());
                    }
                }
                if event.is_empty() && data.is_empty() {
                    continue;
                }
                return Some(Frame {
                    event,
                    data: data.join("\n"),
                });
            }
            let chunk = self.res.chunk().await.ok()??;
            self.buf.push_str(&String::from_utf8_lossy(&chunk));
        }
    }
}
