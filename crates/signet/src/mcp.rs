//! `signet mcp`: the MCP server over stdio, for clients that spawn a process. It is a bridge,
//! not a second server: each newline-delimited JSON-RPC frame read on stdin is POSTed to the
//! daemon's `/mcp` (so stdio clients get the same tools, permissions and scopes as HTTP ones)
//! and each JSON answer is written to stdout as one line; a 202 (a notification) writes
//! nothing.
//!
//! The daemon is `SIGNET_DAEMON_URL`, else the address the client commands use (`--url`,
//! `--host`/`--port`, the workspace's running daemon, the default); `SIGNET_TOKEN` (or
//! `--token`, else the file `SIGNET_TOKEN_FILE` names) is sent as the bearer; `SIGNET_HARNESS`, `SIGNET_WORKSPACE` and `SIGNET_CHANNEL`
//! as upstream's context headers. When no daemon answers, one is started in this process on
//! `127.0.0.1` (an ephemeral port) over the same workspace, and stopped when stdin closes.
//!
//! stdout carries protocol frames only: logs go to stderr (`RUST_LOG`, default `warn`).

use std::time::Duration;

use anyhow::{Context, Result};
use reqwest::StatusCode;
use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderMap, HeaderValue};
use serde_json::{Value, json};
use signet_core::config::{EnvVars, Settings, resolve_workspace};
use signet_server::daemon::{Daemon, DaemonConfig};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::cli::Global;

/// How long the start-up probe waits for a daemon to answer `/health`.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);
/// Longest a single frame may take (a recall on a cold model, a large batch).
const CALL_TIMEOUT: Duration = Duration::from_secs(120);
/// JSON-RPC error code of a frame the daemon did not answer with JSON-RPC.
const TRANSPORT_ERROR: i64 = -32000;

/// Runs the bridge until stdin closes.
pub async fn run(g: &Global) -> Result<()> {
    init_logging();
    let env = EnvVars::from_process();
    let url = match env.non_empty("SIGNET_DAEMON_URL") {
        Some(u) => u.trim_end_matches('/').to_owned(),
        None => crate::connect::url(g)?,
    };
    let http = reqwest::Client::builder()
        .timeout(CALL_TIMEOUT)
        .build()
        .context("building the HTTP client")?;
    let bridge = Bridge::new(http, g.bearer()?, &env)?;
    if bridge.answers(&url).await {
        tracing::info!(target: "mcp", %url, "bridging stdio to the running daemon");
        return bridge.serve(&format!("{url}/mcp")).await;
    }
    tracing::info!(target: "mcp", %url, "no daemon answers; starting one in this process");
    let (url, stop, task) = start_in_process(env).await?;
    let served = bridge.serve(&format!("{url}/mcp")).await;
    let _ = stop.send(());
    task.await.context("the in-process daemon")??;
    served
}

/// Logs to stderr only: stdout belongs to the protocol.
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .try_init();
}

/// A daemon on `127.0.0.1:0` over the environment's workspace: its URL, the channel that stops
/// it, and the task serving it.
async fn start_in_process(
    env: EnvVars,
) -> Result<(
    String,
    oneshot::Sender<()>,
    tokio::task::JoinHandle<Result<()>>,
)> {
    let workspace = resolve_workspace(&env).context("resolving the workspace")?;
    let workspace = std::path::absolute(&workspace)?;
    let loaded = Settings::load(&workspace, &env).context("loading the configuration")?;
    for warning in &loaded.warnings {
        tracing::warn!(target: "config", "{warning}");
    }
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .context("binding 127.0.0.1")?;
    let url = format!("http://{}", listener.local_addr()?);
    let cfg = DaemonConfig {
        embedder: crate::daemon::bench_embedder(&env)?,
        workspace,
        loaded,
        env,
        watch_config: false,
        log_hub: None,
    };
    let daemon = Daemon::start(cfg, &listener)
        .await
        .context("starting the daemon")?;
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let shutdown = async {
            let _ = stopped.await;
        };
        daemon.run(listener, shutdown).await.context("serving")
    });
    Ok((url, stop, task))
}

/// The HTTP side of the bridge: the client, the headers every frame carries, and the protocol
/// version the client negotiated (sent as `MCP-Protocol-Version` once known).
struct Bridge {
    http: reqwest::Client,
    headers: HeaderMap,
}

impl Bridge {
    fn new(http: reqwest::Client, token: Option<String>, env: &EnvVars) -> Result<Self> {
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        let accept = "application/json, text/event-stream";
        headers.insert(ACCEPT, HeaderValue::from_static(accept));
        if let Some(t) = token.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
            let bearer = HeaderValue::from_str(&format!("Bearer {t}"))
                .context("SIGNET_TOKEN is not a valid header value")?;
            headers.insert(reqwest::header::AUTHORIZATION, bearer);
        }
        for (var, header) in [
            ("SIGNET_HARNESS", "x-signet-harness"),
            ("SIGNET_WORKSPACE", "x-signet-workspace"),
            ("SIGNET_CHANNEL", "x-signet-channel"),
        ] {
            if let Some(v) = env
                .non_empty(var)
                .and_then(|v| HeaderValue::from_str(v).ok())
            {
                headers.insert(header, v);
            }
        }
        Ok(Self { http, headers })
    }

    /// Whether a daemon answers `/health` at `url` (any status: it is there).
    async fn answers(&self, url: &str) -> bool {
        let probe = self
            .http
            .get(format!("{url}/health"))
            .timeout(PROBE_TIMEOUT);
        probe.send().await.is_ok()
    }

    /// Reads frames from stdin until it closes, forwarding each to `endpoint` in order.
    async fn serve(mut self, endpoint: &str) -> Result<()> {
        let mut lines = BufReader::new(tokio::io::stdin()).lines();
        let mut out = tokio::io::stdout();
        while let Some(line) = lines.next_line().await.context("reading stdin")? {
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            let answers = match serde_json::from_str::<Value>(line) {
                Ok(frame) => self.forward(endpoint, &frame).await,
                Err(e) => vec![json!({"jsonrpc": "2.0", "id": null,
                    "error": {"code": -32700, "message": format!("Parse error: {e}")}})],
            };
            for answer in answers {
                self.note_protocol(&answer);
                let mut text = serde_json::to_string(&answer)?;
                text.push('\n');
                out.write_all(text.as_bytes())
                    .await
                    .context("writing stdout")?;
            }
            out.flush().await.context("writing stdout")?;
        }
        Ok(())
    }

    /// Remembers the protocol version an `initialize` answer negotiated.
    fn note_protocol(&mut self, answer: &Value) {
        let version = answer["result"]["protocolVersion"].as_str();
        let has_server = answer["result"]["serverInfo"].is_object();
        if let Some(v) = version.filter(|_| has_server)
            && let Ok(v) = HeaderValue::from_str(v)
        {
            self.headers.insert("mcp-protocol-version", v);
        }
    }

    /// The daemon's answers to one frame: none for a 202, the JSON body, each event of an SSE
    /// body, or a JSON-RPC error per request when the daemon refused the frame.
    async fn forward(&self, endpoint: &str, frame: &Value) -> Vec<Value> {
        let sent = self
            .http
            .post(endpoint)
            .headers(self.headers.clone())
            .body(frame.to_string())
            .send()
            .await;
        let res = match sent {
            Ok(r) => r,
            Err(e) => return errors_for(frame, &format!("daemon unreachable: {e}")),
        };
        let status = res.status();
        let sse = res
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/event-stream"));
        let body = res.text().await.unwrap_or_default();
        if status == StatusCode::ACCEPTED {
            return Vec::new();
        }
        if !status.is_success() {
            tracing::warn!(target: "mcp", %status, %body, "the daemon refused a frame");
            return errors_for(frame, &format!("daemon answered {status}: {}", body.trim()));
        }
        if sse {
            return sse_events(&body);
        }
        match serde_json::from_str::<Value>(&body) {
            Ok(v) => vec![v],
            Err(_) => errors_for(frame, "the daemon's answer is not JSON"),
        }
    }
}

/// A JSON-RPC error answer for each request in `frame` (notifications get none).
fn errors_for(frame: &Value, message: &str) -> Vec<Value> {
    let requests: Vec<&Value> = match frame {
        Value::Array(items) => items.iter().collect(),
        one => vec![one],
    };
    requests
        .into_iter()
        .filter_map(|r| r.get("id").filter(|_| r.get("method").is_some()))
        .map(|id| {
            json!({"jsonrpc": "2.0", "id": id,
                "error": {"code": TRANSPORT_ERROR, "message": message}})
        })
        .collect()
}

/// The JSON messages of an SSE body (events without data, such as priming events, skipped).
fn sse_events(body: &str) -> Vec<Value> {
    let mut events = Vec::new();
    let mut data = String::new();
    for line in body.lines().chain(std::iter::once("")) {
        if let Some(d) = line.strip_prefix("data:") {
            if !data.is_empty() {
                data.push('\n');
            }
            data.push_str(d.strip_prefix(' ').unwrap_or(d));
        } else if line.is_empty() && !data.is_empty() {
            if let Ok(v) = serde_json::from_str(&data) {
                events.push(v);
            }
            data.clear();
        }
    }
    events
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sse_bodies_yield_each_json_event() {
        let body = "id: 0\nretry: 3000\ndata:\n\ndata: {\"a\":1}\n\nevent: message\ndata: {\"b\":\n data: 2}\n";
        assert_eq!(sse_events(body), vec![json!({"a": 1})]);
        let body = "data: {\"a\":1}\n\ndata: {\"b\":2}";
        assert_eq!(sse_events(body), vec![json!({"a": 1}), json!({"b": 2})]);
    }

    #[test]
    fn refusals_answer_each_request_and_no_notification() {
        let frame = json!([{"jsonrpc": "2.0", "id": 1, "method": "a"},
            {"jsonrpc": "2.0", "method": "notifications/x"}]);
        let errors = errors_for(&frame, "no");
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0]["id"], 1);
        assert_eq!(errors[0]["error"]["message"], "no");
        assert!(errors_for(&json!({"jsonrpc": "2.0", "method": "n"}), "no").is_empty());
    }
}
