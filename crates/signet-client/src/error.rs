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
    /// 401: no token, or the token was refused.
    #[error(
        "{}: {message} — {}",
        if *sent_token { "the daemon refused the token" } else { "the daemon requires a token" },
        if *sent_token {
            "get a new one from an admin (tokens expire; check with `signet token inspect`)"
        } else {
            "pass --token or set SIGNET_TOKEN; an admin mints one with \
             `signet token create --role agent --sub <name>` on the daemon's host"
        }
    )]
    Unauthorized {
        /// The server's reason ("authentication required", "token expired", ...).
        message: String,
        /// Whether this client sent a token.
        sent_token: bool,
    },
    /// 403: the token lacks a permission or its scope excludes the target.
    #[error("not allowed: {message} — ask an admin for a token with that permission or scope")]
    Forbidden {
        /// The server's reason, naming the permission or scope.
        message: String,
    },
    /// 429: a rate limit; `retry_after` seconds until a slot frees.
    #[error("rate limited by the daemon: retry in {retry_after} s")]
    RateLimited {
        /// Seconds from the `Retry-After` header.
        retry_after: u64,
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
    /// The daemon URL (`--url`, `SIGNET_URL`) is not an `http(s)://HOST[:PORT]` URL.
    #[error("invalid daemon URL {url:?}: {reason} (expected http://HOST:PORT)")]
    InvalidUrl {
        /// The value as given.
        url: String,
        /// What is wrong with it.
        reason: String,
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

    /// The error for a non-success answer: auth and rate-limit statuses get their own variants.
    pub(crate) fn from_status(
        status: u16,
        body: &[u8],
        sent_token: bool,
        retry_after: Option<u64>,
    ) -> Self {
        match (status, Self::api(status, body)) {
            (401, Self::Api { message, .. }) => Self::Unauthorized {
                message,
                sent_token,
            },
            (403, Self::Api { message, .. }) => Self::Forbidden { message },
            (429, _) => Self::RateLimited {
                retry_after: retry_after.unwrap_or(1),
            },
            (_, e) => e,
        }
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
    fn auth_errors_say_what_to_do() {
        let body = br#"{"error":"authentication required"}"#;
        let e = ClientError::from_status(401, body, false, None).to_string();
        assert!(
            e.contains("SIGNET_TOKEN") && e.contains("signet token create"),
            "{e}"
        );
        let e = ClientError::from_status(401, br#"{"error":"token expired"}"#, true, None);
        assert!(
            e.to_string().contains("refused the token: token expired"),
            "{e}"
        );
        let e = ClientError::from_status(
            403,
            br#"{"error":"role 'readonly' lacks 'remember' permission"}"#,
            true,
            None,
        );
        assert!(e.to_string().contains("lacks 'remember'"), "{e}");
        let e = ClientError::from_status(429, b"{}", true, Some(12));
        assert_eq!(e.to_string(), "rate limited by the daemon: retry in 12 s");
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
