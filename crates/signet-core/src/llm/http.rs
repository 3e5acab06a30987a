//! The one request path every HTTP provider shares: a JSON POST (or GET) with the call's
//! timeout, its failures classified into [`LlmError`].

use std::time::{Duration, Instant};

use serde_json::Value;

use super::LlmError;

/// Bodies quoted in errors are cut to this many characters.
const BODY_EXCERPT: usize = 300;

/// The shared client: a connect timeout, no overall one (each request sets its own).
pub(super) fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(3))
        .build()
        .unwrap_or_default()
}

fn excerpt(body: &str) -> String {
    body.chars().take(BODY_EXCERPT).collect()
}

fn classify(provider: &str, timeout: Duration, e: reqwest::Error) -> LlmError {
    if e.is_timeout() {
        LlmError::Timeout {
            provider: provider.to_owned(),
            ms: timeout.as_millis(),
        }
    } else {
        // Connection refused, reset, or a body cut short: the network, not the request.
        LlmError::Connect {
            provider: provider.to_owned(),
            message: chain(&e.without_url()),
        }
    }
}

/// Sends `req` (already carrying its headers and body) within `timeout`; a 2xx body must be
/// JSON. Returns the parsed body and the request's wall time.
pub(super) async fn send_json(
    provider: &str,
    req: reqwest::RequestBuilder,
    timeout: Duration,
) -> Result<(Value, Duration), LlmError> {
    let started = Instant::now();
    let res = req
        .timeout(timeout)
        .send()
        .await
        .map_err(|e| classify(provider, timeout, e))?;
    let status = res.status().as_u16();
    let body = res
        .text()
        .await
        .map_err(|e| classify(provider, timeout, e))?;
    let duration = started.elapsed();
    if !(200..300).contains(&status) {
        return Err(LlmError::Status {
            provider: provider.to_owned(),
            status,
            body: excerpt(&body),
        });
    }
    let value = serde_json::from_str(&body).map_err(|e| malformed(provider, e))?;
    Ok((value, duration))
}

/// The error and its sources (`error sending request: connection refused`).
fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

pub(super) fn malformed(provider: &str, e: impl std::fmt::Display) -> LlmError {
    LlmError::Malformed {
        provider: provider.to_owned(),
        message: e.to_string(),
    }
}

/// A token count field, 0 when absent.
pub(super) fn tokens(v: &Value) -> u64 {
    v.as_u64().unwrap_or(0)
}
