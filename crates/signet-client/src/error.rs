//! What can go wrong talking to the daemon, phrased for the person at the terminal.

/// Why a call to the daemon failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// Nothing accepted the connection: the daemon is not running at `url`.
    #[error(
        "signet daemon is not running at {url} — start it with `signet daemon start` \
         (or `signet daemon run` in the foreground)"
    )]
    Connect {
        /// Base URL that was tried.
        url: String,
    },
    /// The connection was made but no answer came within the request timeout.
    #[error("signet daemon at {url} did not answer within {secs} s")]
    Timeout {
        /// Base URL that was tried.
        url: String,
        /// The timeout that expired.
        secs: u64,
    },
    /// The daemon answered with a non-success status; `message` is its `{"error": ...}` text.
    #[error("signet daemon answered {status}: {message}")]
    Api {
        /// HTTP status code.
        status: u16,
        /// The server's error text (or the raw body when it is not the usual JSON shape).
        message: String,
    },
    /// The daemon answered 2xx but the body was not the expected JSON.
    #[error("unexpected response from {url}")]
    Decode {
        /// Full URL of the request.
        url: String,
        /// What did not parse.
        #[source]
        source: serde_json::Error,
    },
    /// Any other transport failure (reset connection, invalid URL, ...).
    #[error("request to {url} failed")]
    Transport {
        /// Full URL of the request.
        url: String,
        /// The underlying error.
        #[source]
        source: reqwest::Error,
    },
    /// The client's configuration (e.g. `SIGNET_PORT`) is invalid.
    #[error("invalid client configuration: {message}")]
    Config {
        /// What is wrong.
        message: String,
    },
    /// The HTTP client itself could not be built (TLS backend initialisation).
    #[error("cannot initialise the HTTP client")]
    Build(#[source] reqwest::Error),
}

impl ClientError {
    /// True when the daemon could not be reached at all.
    pub fn is_not_running(&self) -> bool {
        matches!(self, Self::Connect { .. })
    }

    /// Builds an [`ClientError::Api`] from a status and a response body.
    pub(crate) fn api(status: u16, body: &[u8]) -> Self {
        let message = serde_json::from_slice::<serde_json::Value>(body)
            .ok()
            .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_owned))
            .unwrap_or_else(|| {
                let text = String::from_utf8_lossy(body).trim().to_owned();
                if text.is_empty() {
                    "(empty response body)".to_owned()
                } else {
                    text
                }
            });
        Self::Api { status, message }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_error_takes_the_error_field_or_the_raw_body() {
        let e = ClientError::api(400, br#"{"error":"content is required"}"#);
        assert_eq!(
            e.to_string(),
            "signet daemon answered 400: content is required"
        );
        let e = ClientError::api(502, b"Bad Gateway");
        assert_eq!(e.to_string(), "signet daemon answered 502: Bad Gateway");
        let e = ClientError::api(500, b"");
        assert!(e.to_string().contains("empty response body"));
    }

    #[test]
    fn connect_error_tells_how_to_start_the_daemon() {
        let e = ClientError::Connect {
            url: "http://127.0.0.1:3850".into(),
        };
        let msg = e.to_string();
        assert!(
            msg.contains("not running at http://127.0.0.1:3850"),
            "{msg}"
        );
        assert!(msg.contains("`signet daemon start`"), "{msg}");
        assert!(e.is_not_running());
    }
}
