//! signet-client: a typed HTTP client for the Signet daemon, used by the `signet` CLI and by
//! tests.
//!
//! [`Client`] wraps one `reqwest::Client` (connection pool, 2 s connect timeout, 30 s request
//! timeout) and a base URL. Methods are `async`, one per typed route (in `api`), take typed
//! requests from [`types`] and return the typed responses signet-api defines — the same types
//! the daemon builds; [`Client::request_json`] reaches any other route. Failures are
//! a [`ClientError`] whose message is meant for a person: an unreachable daemon says how to
//! start it, an error status carries the server's `{"error": ...}` text.
//!
//! The client holds no global state and reads the environment only in [`Client::from_env`].

#![forbid(unsafe_code)]

mod api;
mod error;
pub mod types;

use std::fmt;
use std::path::Path;
use std::time::Duration;

pub use api::{ExportStream, TRANSFER_TIMEOUT};
pub use error::ClientError;
pub use reqwest::Method;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
pub use types::{
    ChunkedMemory, Health, RecallRequest, RecallResponse, RecallResult, RememberRequest,
    RememberResponse, Status, StoredMemory,
};

/// Result of a client call.
pub type Result<T, E = ClientError> = std::result::Result<T, E>;

/// How long to wait for the TCP connection.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// How long to wait for a whole request.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Host used when none is configured.
pub const DEFAULT_HOST: &str = "127.0.0.1";
/// Port used when none is configured.
pub const DEFAULT_PORT: u16 = 3850;

/// A connection to one daemon. Cheap to clone (the pool is shared).
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    /// `http://host:port`, without a trailing slash.
    base: String,
    /// Sent as `Authorization: Bearer` when set.
    token: Option<String>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.base)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl Client {
    /// A client for the daemon at `base_url` (e.g. `http://127.0.0.1:3850`; a URL without a
    /// scheme, such as `localhost:3850`, means `http://`). Anything that is not then an
    /// `http(s)://HOST[:PORT][/PATH]` URL is a [`ClientError::InvalidUrl`].
    pub fn new(base_url: impl Into<String>) -> Result<Self> {
        let base = normalize_base_url(&base_url.into())?;
        let http = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT)
            .build()
            .map_err(ClientError::Build)?;
        Ok(Self {
            http,
            base,
            token: None,
        })
    }

    /// A client configured from `SIGNET_URL`, else `SIGNET_HOST` / `SIGNET_PORT`, with the token
    /// from `SIGNET_TOKEN`, else from the file `SIGNET_TOKEN_FILE` names (see
    /// [`read_token_file`]).
    pub fn from_env() -> Result<Self> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// [`Client::from_env`] over any variable lookup (for tests and embedding).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self> {
        let get = |name: &str| {
            get(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let base = match get("SIGNET_URL") {
            Some(url) => url,
            None => {
                let port = match get("SIGNET_PORT") {
                    None => DEFAULT_PORT,
                    Some(raw) => parse_port(&raw)?,
                };
                base_url(get("SIGNET_HOST").as_deref().unwrap_or(DEFAULT_HOST), port)
            }
        };
        let token = match get("SIGNET_TOKEN") {
            Some(token) => Some(token),
            None => get("SIGNET_TOKEN_FILE")
                .map(|path| read_token_file(Path::new(&path)))
                .transpose()?,
        };
        Ok(Self::new(base)?.with_token(token))
    }

    /// Sets (or clears) the bearer token; an empty token counts as none.
    pub fn with_token(mut self, token: Option<String>) -> Self {
        self.token = token.filter(|t| !t.trim().is_empty());
        self
    }

    /// The base URL requests go to.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// Any JSON call, for routes without a typed method. `path` starts with `/`.
    pub async fn request_json(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value> {
        self.send(method, path, body).await
    }

    /// `GET path`, decoded as `T`.
    async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        self.send(Method::GET, path, None::<&Value>).await
    }

    async fn send<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&(impl Serialize + ?Sized)>,
    ) -> Result<T> {
        let raw = self.send_raw(method, path, body).await?;
        self.success(raw)
    }

    /// The decoded body of a success, or the error a non-success status means.
    fn success<T: DeserializeOwned>(&self, raw: RawResponse) -> Result<T> {
        if !raw.status.is_success() {
            let sent = self.token.is_some();
            let status = raw.status.as_u16();
            return Err(ClientError::from_status(
                status,
                &raw.body,
                sent,
                raw.retry_after,
            ));
        }
        decode(raw.url, &raw.body)
    }

    async fn send_raw(
        &self,
        method: Method,
        path: &str,
        body: Option<&(impl Serialize + ?Sized)>,
    ) -> Result<RawResponse> {
        let url = format!("{}{}", self.base, path);
        let mut req = self.http.request(method, &url);
        if let Some(token) = &self.token {
            req = req.bearer_auth(token);
        }
        if let Some(body) = body {
            req = req.json(body);
        }
        let res = req.send().await.map_err(|e| self.transport(&url, e))?;
        let status = res.status();
        let retry_after = res
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse().ok());
        let bytes = res.bytes().await.map_err(|e| self.transport(&url, e))?;
        Ok(RawResponse {
            url,
            status,
            body: bytes.to_vec(),
            retry_after,
        })
    }

    fn transport(&self, url: &str, e: reqwest::Error) -> ClientError {
        if e.is_connect() {
            ClientError::Connect {
                url: self.base.clone(),
            }
        } else if e.is_timeout() {
            ClientError::Timeout {
                url: self.base.clone(),
                secs: REQUEST_TIMEOUT.as_secs(),
            }
        } else {
            ClientError::Transport {
                url: url.to_owned(),
                source: e,
            }
        }
    }
}

/// An answer as it came: the URL asked, status, body and `Retry-After` seconds.
struct RawResponse {
    url: String,
    status: reqwest::StatusCode,
    body: Vec<u8>,
    retry_after: Option<u64>,
}

fn decode<T: DeserializeOwned>(url: String, bytes: &[u8]) -> Result<T> {
    serde_json::from_slice(bytes).map_err(|source| ClientError::Decode { url, source })
}

/// The bearer token stored in `path` (surrounding whitespace trimmed), for configurations that
/// name a token file instead of holding the token (`SIGNET_TOKEN_FILE`, what `signet connect`
/// writes in team mode). On Unix the file must belong to the current user and be readable by
/// no one else (mode 0600 or stricter): anything else is refused, naming the fix.
pub fn read_token_file(path: &Path) -> Result<String> {
    let refuse = |message: String| ClientError::Config { message };
    let shown = path.display();
    let meta = std::fs::metadata(path)
        .map_err(|e| refuse(format!("cannot read the token file {shown}: {e}")))?;
    if !meta.is_file() {
        return Err(refuse(format!(
            "the token file {shown} is not a regular file"
        )));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let uid = rustix::process::getuid().as_raw();
        if meta.uid() != uid {
            return Err(refuse(format!(
                "the token file {shown} belongs to uid {}, not to you (uid {uid})",
                meta.uid()
            )));
        }
        let mode = meta.mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(refuse(format!(
                "the token file {shown} is readable by others (mode {mode:03o}): run `chmod 600 {shown}`"
            )));
        }
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| refuse(format!("cannot read the token file {shown}: {e}")))?;
    let token = text.trim();
    if token.is_empty() {
        return Err(refuse(format!("the token file {shown} is empty")));
    }
    Ok(token.to_owned())
}

/// `http://host:port` for a host as configured: wildcard binds (`0.0.0.0`, `::`) and an empty
/// host mean loopback; IPv6 literals get brackets.
pub fn base_url(host: &str, port: u16) -> String {
    let host = host.trim();
    let host = match host.trim_start_matches('[').trim_end_matches(']') {
        "" | "0.0.0.0" | "::" => DEFAULT_HOST.to_owned(),
        h if h.contains(':') => format!("[{h}]"),
        h => h.to_owned(),
    };
    format!("http://{host}:{port}")
}

/// `raw` trimmed, with `http://` prepended when it names no scheme and without trailing
/// slashes, once it parses as an http(s) URL with a host and no query or fragment (request
/// paths are appended to it).
fn normalize_base_url(raw: &str) -> Result<String> {
    let invalid = |reason: &str| ClientError::InvalidUrl {
        url: raw.to_owned(),
        reason: reason.to_owned(),
    };
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err(invalid("it is empty"));
    }
    let with_scheme = if trimmed.contains("://") {
        trimmed.to_owned()
    } else {
        format!("http://{trimmed}")
    };
    let url = reqwest::Url::parse(&with_scheme).map_err(|e| invalid(&e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid(&format!(
            "the scheme must be http or https, not {}",
            url.scheme()
        )));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(invalid("it names no host"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid("it must not have a query or fragment"));
    }
    Ok(with_scheme.trim_end_matches('/').to_owned())
}

fn parse_port(raw: &str) -> Result<u16> {
    raw.parse::<u16>()
        .ok()
        .filter(|p| *p != 0)
        .ok_or_else(|| ClientError::Config {
            message: format!("SIGNET_PORT must be an integer between 1 and 65535, got {raw:?}"),
        })
}

/// Percent-encodes a path segment (ids are UUIDs in practice; this keeps odd input harmless).
fn encode_segment(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests;
