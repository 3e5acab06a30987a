//! A mock Ollama server on `127.0.0.1:0` for `signet bench pipeline` and the end-to-end
//! tests (which include this file with `#[path]`, so there is one copy).
//!
//! It speaks what our Ollama provider speaks (`signet_core::llm::ollama`): `POST /api/chat`
//! with `stream: false` answered `{message: {content}, prompt_eval_count, eval_count}`, and
//! `GET /api/tags` listing the model. The answer depends on the prompt (the last message):
//!
//! - extraction (`Extract durable knowledge ...`): one fact per sentence of the text (at
//!   least 20 characters), `"From the conversation: <sentence>"`, type `fact`, confidence
//!   0.9, at most five;
//! - decision (`You maintain a memory store ...`): `add`, or `delete` of the candidate that
//!   [`DeleteRule`] names;
//! - contradiction check: not contradictory;
//! - summary (`You are a session librarian ...`): a short summary and no facts.
//!
//! Tokens are a quarter of the characters, as a rough tokenizer would count. HTTP/1.1 is
//! parsed by hand (requests with a `content-length`, keep-alive), because the binary does
//! not depend on axum; the server and its connections are tasks of one `JoinSet`, aborted
//! when the [`MockLlm`] is dropped.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

/// Largest request head and body the mock reads.
const MAX_HEAD: usize = 64 * 1024;
const MAX_BODY: usize = 16 * 1024 * 1024;
/// Facts per extraction answer, at most.
const MAX_FACTS: usize = 5;
/// What every extracted fact starts with.
pub const FACT_PREFIX: &str = "From the conversation: ";

/// How the mock behaves.
#[derive(Debug, Clone)]
pub struct MockOptions {
    /// The model `/api/tags` lists and answers name.
    pub model: String,
    /// Time taken by each `/api/chat` answer (a slow model, for kill -9 tests).
    pub delay: Duration,
    /// Answer `delete` for one candidate instead of `add`.
    pub delete: Option<DeleteRule>,
}

impl Default for MockOptions {
    fn default() -> Self {
        Self {
            model: "qwen3:4b".into(),
            delay: Duration::ZERO,
            delete: None,
        }
    }
}

/// A decision answered `delete`: when the new fact contains `fact_contains`, the first
/// candidate whose content contains `target_contains` is deleted.
#[derive(Debug, Clone)]
pub struct DeleteRule {
    pub fact_contains: String,
    pub target_contains: String,
}

/// The kinds of prompt the mock tells apart, counted separately.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Extraction,
    Decision,
    Contradiction,
    Summary,
    Other,
}

impl Kind {
    const ALL: [Kind; 5] = [
        Kind::Extraction,
        Kind::Decision,
        Kind::Contradiction,
        Kind::Summary,
        Kind::Other,
    ];

    fn of(prompt: &str) -> Self {
        if prompt.starts_with("You maintain a memory store") {
            Self::Decision
        } else if prompt.starts_with("You are a session librarian") {
            Self::Summary
        } else if prompt.starts_with("Extract durable knowledge") {
            Self::Extraction
        } else if prompt.contains("contradict") {
            Self::Contradiction
        } else {
            Self::Other
        }
    }

    fn index(self) -> usize {
        Self::ALL.iter().position(|k| *k == self).unwrap_or(0)
    }
}

struct State {
    options: MockOptions,
    /// `/api/chat` requests received, by [`Kind`] (counted on arrival, before the delay).
    chats: [AtomicUsize; 5],
}

/// A running mock; stops when dropped.
pub struct MockLlm {
    addr: SocketAddr,
    state: Arc<State>,
    server: JoinHandle<()>,
}

impl MockLlm {
    /// Binds `127.0.0.1:0` and serves in the background of the current runtime.
    pub async fn start(options: MockOptions) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let state = Arc::new(State {
            options,
            chats: Default::default(),
        });
        let server = tokio::spawn(serve(listener, state.clone()));
        Ok(Self {
            addr,
            state,
            server,
        })
    }

    /// The base URL, for `memory.pipelineV2.extraction.endpoint`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `/api/chat` requests received so far.
    pub fn requests(&self) -> usize {
        self.state
            .chats
            .iter()
            .map(|c| c.load(Ordering::SeqCst))
            .sum()
    }

    /// `/api/chat` requests of one kind received so far.
    pub fn count(&self, kind: Kind) -> usize {
        self.state.chats[kind.index()].load(Ordering::SeqCst)
    }
}

impl Drop for MockLlm {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn serve(listener: TcpListener, state: Arc<State>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                if let Ok((sock, _)) = accepted {
                    connections.spawn(connection(sock, state.clone()));
                }
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

/// One HTTP request: method, path and body.
struct Request {
    method: String,
    path: String,
    body: Vec<u8>,
}

/// Answers requests on one connection until the peer closes it.
async fn connection(mut sock: TcpStream, state: Arc<State>) {
    let _ = sock.set_nodelay(true);
    let mut buf = Vec::new();
    while let Some(req) = read_request(&mut sock, &mut buf).await {
        let (status, body) = state.answer(&req).await;
        // One write: a head and a body sent apart would wait on the client's delayed ACK.
        let answer = format!(
            "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        );
        if sock.write_all(answer.as_bytes()).await.is_err() {
            return;
        }
    }
}

/// Reads one request (a head, then `content-length` bytes); `None` at EOF or on garbage.
async fn read_request(sock: &mut TcpStream, buf: &mut Vec<u8>) -> Option<Request> {
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        if buf.len() > MAX_HEAD || !fill(sock, buf).await {
            return None;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split_whitespace();
    let (method, path) = (first.next()?.to_owned(), first.next()?.to_owned());
    let len = lines
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("content-length"))
        .map_or(Some(0), |(_, v)| v.trim().parse::<usize>().ok())?;
    if len > MAX_BODY {
        return None;
    }
    while buf.len() < head_end + len {
        if !fill(sock, buf).await {
            return None;
        }
    }
    let body = buf[head_end..head_end + len].to_vec();
    buf.drain(..head_end + len);
    Some(Request { method, path, body })
}

/// Appends what the socket has; false at EOF or on an error.
async fn fill(sock: &mut TcpStream, buf: &mut Vec<u8>) -> bool {
    let mut chunk = [0u8; 8192];
    match sock.read(&mut chunk).await {
        Ok(0) | Err(_) => false,
        Ok(n) => {
            buf.extend_from_slice(&chunk[..n]);
            true
        }
    }
}

impl State {
    async fn answer(&self, req: &Request) -> (&'static str, String) {
        let path = req.path.split('?').next().unwrap_or_default();
        match (req.method.as_str(), path) {
            ("GET", "/api/tags") => {
                let m = &self.options.model;
                let tags = json!({"models": [{"name": m, "model": m}]});
                ("200 OK", tags.to_string())
            }
            ("POST", "/api/chat") => self.chat(&req.body).await,
            _ => ("404 Not Found", json!({"error": "not found"}).to_string()),
        }
    }

    async fn chat(&self, body: &[u8]) -> (&'static str, String) {
        let Ok(v) = serde_json::from_slice::<Value>(body) else {
            return ("400 Bad Request", json!({"error": "not JSON"}).to_string());
        };
        let prompt = v["messages"]
            .as_array()
            .and_then(|m| m.last())
            .and_then(|m| m["content"].as_str())
            .unwrap_or_default();
        let kind = Kind::of(prompt);
        self.chats[kind.index()].fetch_add(1, Ordering::SeqCst);
        if !self.options.delay.is_zero() {
            tokio::time::sleep(self.options.delay).await;
        }
        let text = match kind {
            Kind::Extraction => extraction(prompt),
            Kind::Decision => self.decision(prompt),
            Kind::Contradiction => json!({"detected": false, "confidence": 0.1,
                "reasoning": "the statements are compatible"})
            .to_string(),
            Kind::Summary => summary(prompt),
            Kind::Other => "{}".to_owned(),
        };
        let reply = json!({
            "model": self.options.model,
            "message": {"role": "assistant", "content": text},
            "done": true,
            "prompt_eval_count": tokens(prompt),
            "eval_count": tokens(&text),
        });
        ("200 OK", reply.to_string())
    }

    fn decision(&self, prompt: &str) -> String {
        let (fact, candidates) = decision_parts(prompt);
        let target = self.options.delete.as_ref().and_then(|rule| {
            if !fact.contains(&rule.fact_contains) {
                return None;
            }
            candidates
                .iter()
                .find(|(_, content)| content.contains(&rule.target_contains))
        });
        match target {
            Some((id, _)) => json!({"action": "delete", "targetId": id, "confidence": 0.95,
                "reason": "the new fact makes this memory obsolete"}),
            None => json!({"action": "add", "targetId": null, "confidence": 0.9,
                "reason": "new information"}),
        }
        .to_string()
    }
}

/// Input tokens as a rough tokenizer counts them (at least one).
fn tokens(text: &str) -> usize {
    (text.chars().count() / 4).max(1)
}

/// The facts of the text after the prompt's `Text:` line, one per sentence.
fn extraction(prompt: &str) -> String {
    let text = prompt
        .rsplit_once("\nText:\n")
        .map_or("", |(_, t)| t)
        .trim_end()
        .trim_end_matches("[truncated]");
    let facts: Vec<Value> = sentences(text)
        .into_iter()
        .take(MAX_FACTS)
        .map(|s| json!({"content": format!("{FACT_PREFIX}{s}"), "type": "fact", "confidence": 0.9}))
        .collect();
    json!({"facts": facts, "entities": []}).to_string()
}

/// The sentences of `text` (ending at `.`, `!` or `?` before whitespace, or at the end) of
/// 20 characters or more, without their final punctuation.
pub fn sentences(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        cur.push(c);
        if matches!(c, '.' | '!' | '?') && chars.peek().is_none_or(|n| n.is_whitespace()) {
            out.push(std::mem::take(&mut cur));
        }
    }
    out.push(cur);
    out.into_iter()
        .map(|s| s.trim().trim_end_matches(['.', '!', '?']).to_owned())
        .filter(|s| s.chars().count() >= 20)
        .collect()
}

/// The new fact and the candidates `(id, content)` of a decision prompt.
fn decision_parts(prompt: &str) -> (String, Vec<(String, String)>) {
    let mut lines = prompt.lines();
    let fact = lines
        .by_ref()
        .find(|l| l.starts_with("NEW FACT"))
        .and_then(|_| lines.next())
        .unwrap_or_default()
        .to_owned();
    let mut candidates = Vec::new();
    let mut id = None;
    for line in lines {
        let line = line.trim_start();
        if let Some((_, rest)) = line.split_once("] ID: ") {
            id = Some(rest.trim().to_owned());
        } else if let Some(content) = line.strip_prefix("Content: ")
            && let Some(i) = id.take()
        {
            candidates.push((i, content.to_owned()));
        }
    }
    (fact, candidates)
}

/// A short summary of a session transcript.
fn summary(prompt: &str) -> String {
    let gist: String = prompt
        .lines()
        .last()
        .unwrap_or_default()
        .chars()
        .take(120)
        .collect();
    json!({"summary": format!("# Session Notes\n\n{gist}"), "facts": []}).to_string()
}
