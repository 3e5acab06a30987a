//! The typed calls: one method per route whose answer signet-api types, grouped as the
//! daemon's routes are (system, auth, memories, embeddings, diagnostics, analytics, the
//! pipeline, repairs).
//! Request bodies that signet-api does not type yet (a patch, the batch bodies) are JSON
//! objects.

use serde::Serialize;
use serde_json::{Value, json};

use crate::types::*;
use crate::{Client, Method, Result, decode, encode_segment};

/// `path` with `pairs` as its query string (values percent-encoded, `None` left out).
fn with_query(path: &str, pairs: &[(&str, Option<String>)]) -> String {
    let query: Vec<String> = pairs
        .iter()
        .filter_map(|(k, v)| Some(format!("{k}={}", encode_segment(v.as_deref()?))))
        .collect();
    if query.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{}", query.join("&"))
    }
}

/// `/api/memory/<id><rest>`.
fn memory_path(id: &str, rest: &str) -> String {
    format!("/api/memory/{}{rest}", encode_segment(id))
}

/// System: liveness, status, flags, identity, the workspace files.
impl Client {
    /// `GET /health`. A 503 "unhealthy" answer is returned as a value, not an error.
    pub async fn health(&self) -> Result<Health> {
        let raw = self
            .send_raw(Method::GET, "/health", None::<&Value>)
            .await?;
        if raw.status == reqwest::StatusCode::SERVICE_UNAVAILABLE {
            return decode(raw.url, &raw.body);
        }
        self.success(raw)
    }

    /// `GET /api/status`.
    pub async fn status(&self) -> Result<Status> {
        self.get("/api/status").await
    }

    /// `GET /api/features`.
    pub async fn features(&self) -> Result<Features> {
        self.get("/api/features").await
    }

    /// `GET /api/identity`.
    pub async fn identity(&self) -> Result<Identity> {
        self.get("/api/identity").await
    }

    /// `GET /api/config`: the workspace's `*.md` and `*.yaml` files (admin).
    pub async fn config_files(&self) -> Result<ConfigFiles> {
        self.get("/api/config").await
    }

    /// `POST /api/config`: writes one workspace file (admin).
    pub async fn write_config_file(&self, req: &ConfigWrite) -> Result<Written> {
        self.send(Method::POST, "/api/config", Some(req)).await
    }
}

/// Auth: the mode, who the caller is, minting tokens.
impl Client {
    /// `GET /api/auth/status`.
    pub async fn auth_status(&self) -> Result<AuthStatus> {
        self.get("/api/auth/status").await
    }

    /// `GET /api/auth/whoami`.
    pub async fn whoami(&self) -> Result<Whoami> {
        self.get("/api/auth/whoami").await
    }

    /// `POST /api/auth/token` (admin).
    pub async fn mint_token(&self, req: &TokenRequest) -> Result<MintedToken> {
        self.send(Method::POST, "/api/auth/token", Some(req)).await
    }
}

/// Memories: remember, recall, read, change.
impl Client {
    /// `POST /api/memory/remember`.
    pub async fn remember(&self, req: &RememberRequest) -> Result<RememberResponse> {
        self.send(Method::POST, "/api/memory/remember", Some(req))
            .await
    }

    /// `POST /api/memory/recall`.
    pub async fn recall(&self, req: &RecallRequest) -> Result<RecallResponse> {
        self.send(Method::POST, "/api/memory/recall", Some(req))
            .await
    }

    /// `GET /api/memory/search?q=&limit=`: recall by query string.
    pub async fn search(&self, query: &str, limit: Option<usize>) -> Result<RecallResponse> {
        let pairs = [
            ("q", Some(query.to_owned())),
            ("limit", limit.map(|n| n.to_string())),
        ];
        self.get(&with_query("/api/memory/search", &pairs)).await
    }

    /// `GET /api/memories?limit=&offset=`: live memories, newest first.
    pub async fn list_memories(
        &self,
        limit: Option<usize>,
        offset: Option<usize>,
    ) -> Result<MemoryList> {
        let pairs = [
            ("limit", limit.map(|n| n.to_string())),
            ("offset", offset.map(|n| n.to_string())),
        ];
        self.get(&with_query("/api/memories", &pairs)).await
    }

    /// `GET /api/memory/:id` (live memories only).
    pub async fn get_memory(&self, id: &str) -> Result<MemoryDetail> {
        self.get(&memory_path(id, "")).await
    }

    /// `GET /api/memory/:id/history`.
    pub async fn history(&self, id: &str) -> Result<HistoryResponse> {
        self.get(&memory_path(id, "/history")).await
    }

    /// `DELETE /api/memory/:id` (soft delete); `force` is needed for pinned memories.
    pub async fn forget(&self, id: &str, reason: &str, force: bool) -> Result<MutationResponse> {
        let body = json!({ "reason": reason, "force": force });
        self.send(Method::DELETE, &memory_path(id, ""), Some(&body))
            .await
    }

    /// `PATCH /api/memory/:id` with the fields of `patch` (an object) plus `reason`.
    pub async fn modify(&self, id: &str, patch: Value, reason: &str) -> Result<MutationResponse> {
        let mut body = patch;
        if let Some(obj) = body.as_object_mut() {
            obj.insert("reason".to_owned(), Value::String(reason.to_owned()));
        }
        self.send(Method::PATCH, &memory_path(id, ""), Some(&body))
            .await
    }

    /// `POST /api/memory/:id/recover`: undoes a soft delete within the recovery window.
    pub async fn recover(&self, id: &str, reason: &str) -> Result<MutationResponse> {
        let body = json!({ "reason": reason });
        self.send(Method::POST, &memory_path(id, "/recover"), Some(&body))
            .await
    }

    /// `POST /api/memory/modify`: `{patches: [{id, ...fields}], reason?}`.
    pub async fn batch_modify(&self, body: &Value) -> Result<BatchModifyResponse> {
        self.send(Method::POST, "/api/memory/modify", Some(body))
            .await
    }

    /// `POST /api/memory/forget`: a preview, or with `"mode": "execute"` the deletes.
    pub async fn batch_forget(&self, body: &Value) -> Result<BatchForgetResponse> {
        self.send(Method::POST, "/api/memory/forget", Some(body))
            .await
    }
}

/// Embeddings, diagnostics, analytics and logs.
impl Client {
    /// `GET /api/embeddings/status`.
    pub async fn embeddings_status(&self) -> Result<EmbeddingStatus> {
        self.get("/api/embeddings/status").await
    }

    /// `GET /api/embeddings/health`.
    pub async fn embeddings_health(&self) -> Result<EmbeddingHealth> {
        self.get("/api/embeddings/health").await
    }

    /// `GET /api/diagnostics`: the whole scored report.
    pub async fn diagnostics(&self) -> Result<DiagnosticsReport> {
        self.get("/api/diagnostics").await
    }

    /// `GET /api/diagnostics/:domain` (`composite`, `queue`, ... `predictor`).
    pub async fn diagnostics_domain(&self, domain: &str) -> Result<DiagnosticsDomain> {
        let path = format!("/api/diagnostics/{}", encode_segment(domain));
        self.get(&path).await
    }

    /// `GET /api/analytics/usage`.
    pub async fn analytics_usage(&self) -> Result<UsageReport> {
        self.get("/api/analytics/usage").await
    }

    /// `GET /api/analytics/latency`.
    pub async fn analytics_latency(&self) -> Result<LatencyReport> {
        self.get("/api/analytics/latency").await
    }

    /// `GET /api/analytics/errors?stage=&limit=`.
    pub async fn analytics_errors(
        &self,
        stage: Option<ErrorStage>,
        limit: Option<usize>,
    ) -> Result<ErrorsReport> {
        let pairs = [
            ("stage", stage.map(|s| s.as_str().to_owned())),
            ("limit", limit.map(|n| n.to_string())),
        ];
        self.get(&with_query("/api/analytics/errors", &pairs)).await
    }

    /// `GET /api/analytics/memory-safety`.
    pub async fn memory_safety(&self) -> Result<MemorySafety> {
        self.get("/api/analytics/memory-safety").await
    }

    /// `GET /api/logs?limit=`: the newest log entries, oldest first.
    pub async fn logs(&self, limit: Option<usize>) -> Result<LogList> {
        let pairs = [("limit", limit.map(|n| n.to_string()))];
        self.get(&with_query("/api/logs", &pairs)).await
    }
}

/// The memory pipeline: its status, an operator's pause and resume, one job.
impl Client {
    /// `GET /api/pipeline/status`: mode, workers, queues, provider, LLM ledger, budget.
    pub async fn pipeline_status(&self) -> Result<PipelineStatus> {
        self.get("/api/pipeline/status").await
    }

    /// `POST /api/pipeline/pause` (admin): the workers lease nothing until resumed.
    pub async fn pause_pipeline(&self) -> Result<PipelineControl> {
        self.send(Method::POST, "/api/pipeline/pause", None::<&Value>)
            .await
    }

    /// `POST /api/pipeline/resume` (admin).
    pub async fn resume_pipeline(&self) -> Result<PipelineControl> {
        self.send(Method::POST, "/api/pipeline/resume", None::<&Value>)
            .await
    }

    /// `GET /api/memory/jobs/:id`: one job of the memory queue (a missing one is a 404
    /// `Api` error, "Job not found").
    pub async fn job(&self, id: &str) -> Result<JobStatus> {
        self.get(&memory_path("jobs", &format!("/{}", encode_segment(id))))
            .await
    }
}

/// Repairs (admin).
impl Client {
    /// `POST /api/repair/<action>` (`check-fts`, `re-embed`, `deduplicate`, ...) with `body`.
    pub async fn repair(&self, action: &str, body: &impl Serialize) -> Result<RepairResponse> {
        let path = format!("/api/repair/{}", encode_segment(action));
        self.send(Method::POST, &path, Some(body)).await
    }

    /// `GET /api/repair/dedup-stats`.
    pub async fn dedup_stats(&self) -> Result<DedupStats> {
        self.get("/api/repair/dedup-stats").await
    }

    /// `GET /api/repair/embedding-gaps`.
    pub async fn embedding_gaps(&self) -> Result<EmbeddingGaps> {
        self.get("/api/repair/embedding-gaps").await
    }
}

/// How long an export or import may take as a whole (they stream; the default request timeout
/// would cut a large one).
pub const TRANSFER_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(6 * 3600);

/// Export and import (admin).
impl Client {
    /// `POST /api/export`: the export's JSON Lines as they stream ([`ExportStream::chunk`]).
    pub async fn export(&self, req: &ExportRequest) -> Result<ExportStream> {
        let url = format!("{}/api/export", self.base);
        let mut r = self.http.post(&url).timeout(TRANSFER_TIMEOUT).json(req);
        if let Some(token) = &self.token {
            r = r.bearer_auth(token);
        }
        let res = r.send().await.map_err(|e| self.transport(&url, e))?;
        let res = self.streaming(&url, res).await?;
        Ok(ExportStream {
            res,
            client: self.clone(),
            url,
        })
    }

    /// `POST /api/import[?dryRun=true]` with an export's bytes as the body.
    pub async fn import(&self, file: Vec<u8>, dry_run: bool) -> Result<ImportReport> {
        self.import_reader(std::io::Cursor::new(file), dry_run)
            .await
    }

    /// [`Client::import`] with the export read from `reader` (a file, stdin) while it is sent,
    /// so a large file never sits in memory. The reads block (a worker thread of the runtime).
    pub async fn import_reader(
        &self,
        reader: impl std::io::Read + Send + Sync + 'static,
        dry_run: bool,
    ) -> Result<ImportReport> {
        let path = if dry_run {
            "/api/import?dryRun=true"
        } else {
            "/api/import"
        };
        let url = format!("{}{path}", self.base);
        let body = reqwest::Body::wrap(ReaderBody {
            reader: Box::new(reader),
            done: false,
        });
        let mut r = self
            .http
            .post(&url)
            .timeout(TRANSFER_TIMEOUT)
            .header(reqwest::header::CONTENT_TYPE, "application/x-ndjson")
            .body(body);
        if let Some(token) = &self.token {
            r = r.bearer_auth(token);
        }
        let res = r.send().await.map_err(|e| self.transport(&url, e))?;
        let res = self.streaming(&url, res).await?;
        let body = res.bytes().await.map_err(|e| self.transport(&url, e))?;
        crate::decode(url, &body)
    }

    /// `res` when it is a success, else the error its status and body mean.
    async fn streaming(&self, url: &str, res: reqwest::Response) -> Result<reqwest::Response> {
        if res.status().is_success() {
            return Ok(res);
        }
        let status = res.status().as_u16();
        let retry_after = res
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse().ok());
        let body = res.bytes().await.map_err(|e| self.transport(url, e))?;
        Err(crate::ClientError::from_status(
            status,
            &body,
            self.token.is_some(),
            retry_after,
        ))
    }
}

/// A request body read from `reader` in 64 KiB chunks as hyper asks for them.
struct ReaderBody {
    reader: Box<dyn std::io::Read + Send + Sync>,
    done: bool,
}

impl http_body::Body for ReaderBody {
    type Data = bytes::Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<std::io::Result<http_body::Frame<bytes::Bytes>>>> {
        use std::task::Poll;
        let this = self.get_mut();
        if this.done {
            return Poll::Ready(None);
        }
        let mut buf = vec![0u8; 1 << 16];
        loop {
            return match this.reader.read(&mut buf) {
                Ok(0) => {
                    this.done = true;
                    Poll::Ready(None)
                }
                Ok(n) => {
                    buf.truncate(n);
                    Poll::Ready(Some(Ok(http_body::Frame::data(bytes::Bytes::from(buf)))))
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => Poll::Ready(Some(Err(e))),
            };
        }
    }
}

/// An export being received.
pub struct ExportStream {
    res: reqwest::Response,
    client: Client,
    url: String,
}

impl ExportStream {
    /// The next bytes of the export; `None` at its end. A stream the daemon cut short ends
    /// early: the importer notices the missing end record.
    pub async fn chunk(&mut self) -> Result<Option<Vec<u8>>> {
        match self.res.chunk().await {
            Ok(c) => Ok(c.map(|b| b.to_vec())),
            Err(e) => Err(self.client.transport(&self.url, e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_encode_their_values_and_skip_the_absent() {
        let pairs = [("q", Some("a b&c".to_owned())), ("limit", None)];
        assert_eq!(with_query("/x", &pairs), "/x?q=a%20b%26c");
        assert_eq!(with_query("/x", &[("limit", None)]), "/x");
        assert_eq!(memory_path("a/b", "/history"), "/api/memory/a%2Fb/history");
    }
}
