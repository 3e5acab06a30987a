//! Unit tests of the client against a canned one-shot HTTP server.

use super::*;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// Serves one request with `status` and `body`; yields the raw request text.
async fn canned(status: &str, body: &str) -> (String, oneshot::Receiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let response = format!(
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let (tx, rx) = oneshot::channel();
    tokio::spawn(async move {
        let (mut sock, _) = listener.accept().await.unwrap();
        let request = read_request(&mut sock).await;
        sock.write_all(response.as_bytes()).await.unwrap();
        let _ = tx.send(request);
    });
    (base, rx)
}

async fn read_request(sock: &mut tokio::net::TcpStream) -> String {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = sock.read(&mut chunk).await.unwrap();
        buf.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&buf).to_string();
        if let Some(end) = text.find("\r\n\r\n") {
            let len = text
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().to_owned())
                })
                .and_then(|v| v.parse::<usize>().ok())
                .unwrap_or(0);
            if buf.len() >= end + 4 + len || n == 0 {
                return text;
            }
        }
        if n == 0 {
            return text;
        }
    }
}

#[test]
fn base_url_maps_wildcards_to_loopback_and_brackets_ipv6() {
    assert_eq!(base_url("0.0.0.0", 3850), "http://127.0.0.1:3850");
    assert_eq!(base_url("::", 1), "http://127.0.0.1:1");
    assert_eq!(base_url("", 2), "http://127.0.0.1:2");
    assert_eq!(base_url("::1", 3), "http://[::1]:3");
    assert_eq!(base_url("example.org", 4), "http://example.org:4");
}

#[test]
fn from_lookup_prefers_signet_url_then_host_and_port() {
    let vars = |pairs: &'static [(&'static str, &'static str)]| {
        move |k: &str| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| (*v).to_owned())
        }
    };
    let c = Client::from_lookup(vars(&[])).unwrap();
    assert_eq!(c.base_url(), "http://127.0.0.1:3850");
    let c = Client::from_lookup(vars(&[
        ("SIGNET_HOST", "0.0.0.0"),
        ("SIGNET_PORT", " 4000 "),
    ]))
    .unwrap();
    assert_eq!(c.base_url(), "http://127.0.0.1:4000");
    let c = Client::from_lookup(vars(&[
        ("SIGNET_URL", "http://box:9/"),
        ("SIGNET_PORT", "1"),
    ]))
    .unwrap();
    assert_eq!(c.base_url(), "http://box:9");
    let err = Client::from_lookup(vars(&[("SIGNET_PORT", "nope")])).unwrap_err();
    assert!(err.to_string().contains("SIGNET_PORT"), "{err}");
    let c = Client::from_lookup(vars(&[("SIGNET_TOKEN", "  ")])).unwrap();
    assert!(c.token.is_none());
}

#[test]
fn debug_redacts_the_token() {
    let c = Client::new("http://x:1")
        .unwrap()
        .with_token(Some("secret".into()));
    assert!(!format!("{c:?}").contains("secret"));
}

#[tokio::test]
async fn unreachable_daemon_is_a_connect_error_naming_the_url() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let c = Client::new(base_url("127.0.0.1", port)).unwrap();
    let err = c.health().await.unwrap_err();
    assert!(err.is_not_running(), "{err:?}");
    assert!(
        err.to_string()
            .contains(&format!("http://127.0.0.1:{port}")),
        "{err}"
    );
}

#[tokio::test]
async fn error_status_carries_the_server_message_and_token_is_sent() {
    let (base, req) = canned("400 Bad Request", r#"{"error":"content is required"}"#).await;
    let c = Client::new(base).unwrap().with_token(Some("tok".into()));
    let err = c
        .remember(&RememberRequest {
            content: " ".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    match err {
        ClientError::Api { status, message } => {
            assert_eq!((status, message.as_str()), (400, "content is required"))
        }
        other => panic!("unexpected {other:?}"),
    }
    let req = req.await.unwrap();
    assert!(req.starts_with("POST /api/memory/remember "), "{req}");
    assert!(
        req.to_ascii_lowercase()
            .contains("authorization: bearer tok"),
        "{req}"
    );
    assert!(req.ends_with(r#"{"content":" "}"#), "{req}");
}

#[tokio::test]
async fn unhealthy_health_is_a_value_and_bad_json_is_a_decode_error() {
    let (base, _req) = canned(
        "503 Service Unavailable",
        r#"{"status":"unhealthy","pid":7,"db":false}"#,
    )
    .await;
    let h = Client::new(base).unwrap().health().await.unwrap();
    assert_eq!((h.status.as_str(), h.pid, h.db), ("unhealthy", 7, false));
    let (base, _req) = canned("200 OK", "not json").await;
    let err = Client::new(base).unwrap().status().await.unwrap_err();
    assert!(matches!(err, ClientError::Decode { .. }), "{err:?}");
}

#[tokio::test]
async fn modify_adds_the_reason_and_ids_are_encoded() {
    let (base, req) = canned("200 OK", r#"{"id":"a b/c","status":"updated"}"#).await;
    let c = Client::new(base).unwrap();
    let answer = c
        .modify("a b/c", json!({"content": "new"}), "typo")
        .await
        .unwrap();
    let v = serde_json::to_value(answer).unwrap();
    assert_eq!(v["status"], "updated");
    let req = req.await.unwrap();
    assert!(req.starts_with("PATCH /api/memory/a%20b%2Fc "), "{req}");
    assert!(req.contains(r#""reason":"typo""#), "{req}");
}

#[tokio::test]
async fn pipeline_calls_reach_their_routes_and_a_missing_job_is_a_404() {
    let (base, req) = canned("200 OK", r#"{"paused":true,"mode":"controlled-write"}"#).await;
    let control = Client::new(base).unwrap().pause_pipeline().await.unwrap();
    assert_eq!(
        (control.paused, control.mode.as_str()),
        (true, "controlled-write")
    );
    assert!(req.await.unwrap().starts_with("POST /api/pipeline/pause "));
    let (base, req) = canned("200 OK", r#"{"paused":false,"mode":"shadow"}"#).await;
    let control = Client::new(base).unwrap().resume_pipeline().await.unwrap();
    assert!(!control.paused);
    assert!(req.await.unwrap().starts_with("POST /api/pipeline/resume "));
    let (base, req) = canned("404 Not Found", r#"{"error":"Job not found"}"#).await;
    let err = Client::new(base).unwrap().job("j 1").await.unwrap_err();
    match err {
        ClientError::Api { status, message } => {
            assert_eq!((status, message.as_str()), (404, "Job not found"))
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(
        req.await
            .unwrap()
            .starts_with("GET /api/memory/jobs/j%201 ")
    );
}

#[test]
fn a_url_without_a_scheme_means_http() {
    for (given, base) in [
        ("localhost:3850", "http://localhost:3850"),
        (" 127.0.0.1:4000/ ", "http://127.0.0.1:4000"),
        ("[::1]:5", "http://[::1]:5"),
        (
            "https://mem.example.org/signet/",
            "https://mem.example.org/signet",
        ),
        ("HTTP://box:9", "HTTP://box:9"),
    ] {
        let c = Client::new(given).unwrap_or_else(|e| panic!("{given:?}: {e}"));
        assert_eq!(c.base_url(), base, "{given:?}");
    }
    let vars = |k: &str| (k == "SIGNET_URL").then(|| "localhost:3850".to_owned());
    let c = Client::from_lookup(vars).unwrap();
    assert_eq!(c.base_url(), "http://localhost:3850");
}

#[test]
fn a_url_that_is_not_http_names_the_value_and_the_expected_shape() {
    for bad in [
        "ftp://box:21",
        "http://",
        "localhost:99999",
        "http://box:port",
        "",
        "http://box:1/?q=1",
    ] {
        let err = Client::new(bad).unwrap_err();
        let msg = err.to_string();
        assert!(
            matches!(err, ClientError::InvalidUrl { .. }),
            "{bad:?}: {err:?}"
        );
        assert!(msg.contains(&format!("{bad:?}")), "{msg}");
        assert!(msg.contains("expected http://HOST:PORT"), "{msg}");
    }
}

#[cfg(unix)]
#[test]
fn token_files_must_be_private_and_non_empty() {
    use std::os::unix::fs::PermissionsExt;
    let dir = std::env::temp_dir().join(format!("signet-token-file-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("agent");
    std::fs::write(&path, " tok-123\n").unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let err = crate::read_token_file(&path).unwrap_err().to_string();
    assert!(
        err.contains("readable by others") && err.contains("chmod 600"),
        "{err}"
    );
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    assert_eq!(crate::read_token_file(&path).unwrap(), "tok-123");
    let lookup = |k: &str| (k == "SIGNET_TOKEN_FILE").then(|| path.display().to_string());
    let c = Client::from_lookup(lookup).unwrap();
    assert_eq!(c.token.as_deref(), Some("tok-123"));
    std::fs::write(&path, "\n").unwrap();
    let err = crate::read_token_file(&path).unwrap_err().to_string();
    assert!(err.contains("is empty"), "{err}");
    let err = crate::read_token_file(&dir.join("missing"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("cannot read the token file"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}
