//! Each provider against a local server speaking its real protocol.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::http::{HeaderMap, StatusCode, Uri};
use serde_json::{Value, json};

use super::*;
use crate::config::{EnvVars, Secret};

/// One scripted answer.
#[derive(Clone)]
struct Reply {
    status: u16,
    body: String,
    delay: Duration,
}

fn reply(status: u16, body: Value) -> Reply {
    Reply {
        status,
        body: body.to_string(),
        delay: Duration::ZERO,
    }
}

/// A request the mock received.
#[derive(Clone, Debug)]
struct Seen {
    path: String,
    headers: HeaderMap,
    body: Value,
}

/// A mock API: answers from a script (the last reply repeats), counting requests.
#[derive(Clone)]
struct Mock {
    base: String,
    hits: Arc<AtomicUsize>,
    seen: Arc<Mutex<Vec<Seen>>>,
    script: Arc<Mutex<VecDeque<Reply>>>,
}

impl Mock {
    async fn start(script: Vec<Reply>) -> Self {
        let mock = Mock {
            base: String::new(),
            hits: Arc::default(),
            seen: Arc::default(),
            script: Arc::new(Mutex::new(script.into())),
        };
        let state = mock.clone();
        let app = Router::new().fallback(move |uri: Uri, headers: HeaderMap, body: String| {
            let state = state.clone();
            async move {
                state.hits.fetch_add(1, Ordering::SeqCst);
                state.seen.lock().unwrap().push(Seen {
                    path: uri.path().to_owned(),
                    headers,
                    body: serde_json::from_str(&body).unwrap_or(Value::Null),
                });
                let r = {
                    let mut script = state.script.lock().unwrap();
                    if script.len() > 1 {
                        script.pop_front().unwrap()
                    } else {
                        script.front().cloned().unwrap()
                    }
                };
                tokio::time::sleep(r.delay).await;
                (StatusCode::from_u16(r.status).unwrap(), r.body)
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Mock {
            base: format!("http://{addr}"),
            ..mock
        }
    }

    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }

    fn last(&self) -> Seen {
        self.seen.lock().unwrap().last().cloned().unwrap()
    }

    fn set(&self, script: Vec<Reply>) {
        *self.script.lock().unwrap() = script.into();
    }
}

fn ollama_ok(content: &str) -> Reply {
    reply(
        200,
        json!({
            "model": "llama3.2:3b",
            "message": {"role": "assistant", "content": content},
            "done": true,
            "prompt_eval_count": 12,
            "eval_count": 5,
        }),
    )
}

fn fast_retry(max_retries: u32) -> RetryPolicy {
    RetryPolicy {
        max_retries,
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(5),
    }
}

fn schema() -> Value {
    json!({"type": "object", "properties": {"facts": {"type": "array"}}, "required": ["facts"]})
}

#[derive(Debug)]
struct ManualClock(Mutex<Instant>);

impl ManualClock {
    fn advance(&self, by: Duration) {
        *self.0.lock().unwrap() += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Instant {
        *self.0.lock().unwrap()
    }
}

#[tokio::test]
async fn ollama_chat_sends_the_schema_and_reads_usage() {
    let mock = Mock::start(vec![ollama_ok(
        "<think>let me see</think>\n{\"facts\": []}",
    )])
    .await;
    let ollama = Ollama::new(&mock.base, "llama3.2:3b");
    let req = LlmRequest::new("extract")
        .with_schema(schema())
        .with_max_tokens(256);
    let res = ollama.complete(&req).await.unwrap();
    assert_eq!(strip_think(&res.text), "{\"facts\": []}");
    assert_eq!(
        res.usage,
        Usage {
            input_tokens: 12,
            output_tokens: 5
        }
    );
    let seen = mock.last();
    assert_eq!(seen.path, "/api/chat");
    assert_eq!(seen.body["stream"], false);
    assert_eq!(seen.body["format"], schema());
    assert_eq!(seen.body["model"], "llama3.2:3b");
    assert_eq!(seen.body["messages"][0]["content"], "extract");
    assert_eq!(seen.body["options"]["num_predict"], 256);
}

#[tokio::test]
async fn ollama_tags_tell_whether_the_model_is_pulled() {
    let mock = Mock::start(vec![reply(
        200,
        json!({"models": [{"name": "llama3.2:3b", "model": "llama3.2:3b"}, {"name": "qwen3:latest"}]}),
    )])
    .await;
    assert!(
        Ollama::new(&mock.base, "llama3.2:3b")
            .model_present()
            .await
            .unwrap()
    );
    assert!(
        Ollama::new(&mock.base, "qwen3")
            .model_present()
            .await
            .unwrap()
    );
    assert!(
        !Ollama::new(&mock.base, "mistral")
            .model_present()
            .await
            .unwrap()
    );
    assert_eq!(mock.last().path, "/api/tags");
}

#[tokio::test]
async fn openai_sends_response_format_and_bearer_key_and_reads_usage() {
    let mock = Mock::start(vec![reply(
        200,
        json!({
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "{\"facts\":[]}"}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 40, "completion_tokens": 7, "total_tokens": 47},
        }),
    )])
    .await;
    let openai = OpenAi::new(
        &format!("{}/v1/", mock.base),
        "gpt-4o-mini",
        Some(Secret::new("sk-test")),
    );
    let req = LlmRequest::new("extract")
        .with_schema(schema())
        .with_max_tokens(100);
    let res = openai.complete(&req).await.unwrap();
    assert_eq!(res.text, "{\"facts\":[]}");
    assert_eq!(res.usage.input_tokens, 40);
    assert_eq!(res.usage.output_tokens, 7);
    let seen = mock.last();
    assert_eq!(seen.path, "/v1/chat/completions");
    assert_eq!(seen.headers["authorization"], "Bearer sk-test");
    assert_eq!(seen.body["response_format"]["type"], "json_schema");
    assert_eq!(
        seen.body["response_format"]["json_schema"]["schema"],
        schema()
    );
    assert_eq!(seen.body["max_tokens"], 100);
}

#[tokio::test]
async fn anthropic_sends_its_headers_joins_text_blocks_and_reads_usage() {
    let mock = Mock::start(vec![reply(
        200,
        json!({
            "id": "msg_1",
            "type": "message",
            "role": "assistant",
            "content": [{"type": "text", "text": "first"}, {"type": "text", "text": "second"}],
            "stop_reason": "end_turn",
            "usage": {"input_tokens": 21, "output_tokens": 9},
        }),
    )])
    .await;
    let anthropic = Anthropic::new(&mock.base, "haiku", Secret::new("sk-ant-test"));
    assert_eq!(anthropic.model(), "claude-haiku-4-5-20251001");
    let res = anthropic.complete(&LlmRequest::new("hi")).await.unwrap();
    assert_eq!(res.text, "first\nsecond");
    assert_eq!(
        res.usage,
        Usage {
            input_tokens: 21,
            output_tokens: 9
        }
    );
    let seen = mock.last();
    assert_eq!(seen.path, "/v1/messages");
    assert_eq!(seen.headers["x-api-key"], "sk-ant-test");
    assert_eq!(seen.headers["anthropic-version"], ANTHROPIC_VERSION);
    assert_eq!(seen.body["max_tokens"], 4096);
    assert_eq!(seen.body["model"], "claude-haiku-4-5-20251001");
}

#[tokio::test]
async fn a_malformed_body_is_not_retried() {
    let mock = Mock::start(vec![Reply {
        status: 200,
        body: "{\"message\": {\"content\": tru".into(),
        delay: Duration::ZERO,
    }])
    .await;
    let p = Resilient::new(
        Ollama::new(&mock.base, "m"),
        fast_retry(2),
        Breaker::default(),
    );
    let err = p.complete(&LlmRequest::new("x")).await.unwrap_err();
    assert!(matches!(err, LlmError::Malformed { .. }), "{err:?}");
    assert!(!err.is_retryable());
    assert_eq!(mock.hits(), 1);
    // A 2xx JSON body without the API's fields is malformed too.
    mock.set(vec![reply(200, json!({"choices": []}))]);
    let openai = OpenAi::new(&mock.base, "m", None);
    let err = openai.complete(&LlmRequest::new("x")).await.unwrap_err();
    assert!(matches!(err, LlmError::Malformed { .. }), "{err:?}");
}

#[tokio::test]
async fn a_429_is_retried_and_then_succeeds() {
    let mock = Mock::start(vec![
        reply(429, json!({"error": "rate limited"})),
        ollama_ok("done"),
    ])
    .await;
    let p = Resilient::new(
        Ollama::new(&mock.base, "m"),
        fast_retry(2),
        Breaker::default(),
    );
    let res = p.complete(&LlmRequest::new("x")).await.unwrap();
    assert_eq!(res.text, "done");
    assert_eq!(mock.hits(), 2);
}

#[tokio::test]
async fn persistent_5xx_fails_after_the_retry_budget() {
    let mock = Mock::start(vec![reply(500, json!({"error": "boom"}))]).await;
    let p = Resilient::new(
        Anthropic::new(&mock.base, "haiku", Secret::new("k")),
        fast_retry(2),
        Breaker::default(),
    );
    let err = p.complete(&LlmRequest::new("x")).await.unwrap_err();
    assert!(
        matches!(err, LlmError::Status { status: 500, .. }),
        "{err:?}"
    );
    assert_eq!(mock.hits(), 3);
}

#[tokio::test]
async fn a_4xx_is_not_retried() {
    let mock = Mock::start(vec![reply(401, json!({"error": "invalid x-api-key"}))]).await;
    let p = Resilient::new(
        Anthropic::new(&mock.base, "haiku", Secret::new("k")),
        fast_retry(2),
        Breaker::default(),
    );
    let err = p.complete(&LlmRequest::new("x")).await.unwrap_err();
    assert!(
        matches!(err, LlmError::Status { status: 401, .. }),
        "{err:?}"
    );
    assert!(!err.is_retryable());
    assert_eq!(mock.hits(), 1);
}

#[tokio::test]
async fn a_slow_response_past_the_timeout_is_a_timeout() {
    let mut slow = ollama_ok("late");
    slow.delay = Duration::from_secs(5);
    let mock = Mock::start(vec![slow]).await;
    let ollama = Ollama::new(&mock.base, "m");
    let req = LlmRequest::new("x").with_timeout(Duration::from_millis(150));
    let started = Instant::now();
    let err = ollama.complete(&req).await.unwrap_err();
    assert_eq!(
        err,
        LlmError::Timeout {
            provider: "ollama".into(),
            ms: 150
        }
    );
    assert!(err.is_retryable());
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn an_unreachable_server_is_a_retryable_connect_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let openai = OpenAi::new(&format!("http://{addr}"), "m", None);
    let err = openai.complete(&LlmRequest::new("x")).await.unwrap_err();
    assert!(matches!(err, LlmError::Connect { .. }), "{err:?}");
    assert!(err.is_retryable());
}

#[tokio::test]
async fn the_breaker_opens_fails_fast_without_requests_and_closes_after_the_cool_down() {
    let mock = Mock::start(vec![reply(503, json!({"error": "overloaded"}))]).await;
    let clock = Arc::new(ManualClock(Mutex::new(Instant::now())));
    let breaker = Breaker {
        failure_threshold: 2,
        cool_down: Duration::from_secs(30),
    };
    let p = Resilient::with_clock(
        Ollama::new(&mock.base, "m"),
        fast_retry(0),
        breaker,
        clock.clone(),
    );
    let req = LlmRequest::new("x");
    for _ in 0..2 {
        let err = p.complete(&req).await.unwrap_err();
        assert!(
            matches!(err, LlmError::Status { status: 503, .. }),
            "{err:?}"
        );
    }
    assert_eq!(mock.hits(), 2);
    assert!(p.is_open());
    for _ in 0..5 {
        let err = p.complete(&req).await.unwrap_err();
        assert!(matches!(err, LlmError::CircuitOpen { .. }), "{err:?}");
        assert!(!err.is_retryable());
    }
    assert_eq!(mock.hits(), 2, "an open circuit sends nothing");

    // Half-open: the probe fails, the circuit opens again for a whole cool-down.
    clock.advance(Duration::from_secs(31));
    assert!(matches!(
        p.complete(&req).await.unwrap_err(),
        LlmError::Status { status: 503, .. }
    ));
    assert_eq!(mock.hits(), 3);
    assert!(matches!(
        p.complete(&req).await.unwrap_err(),
        LlmError::CircuitOpen { .. }
    ));
    assert_eq!(mock.hits(), 3);

    // The provider recovers; after the cool-down the probe succeeds and the circuit closes.
    mock.set(vec![ollama_ok("back")]);
    clock.advance(Duration::from_secs(31));
    assert_eq!(p.complete(&req).await.unwrap().text, "back");
    assert!(!p.is_open());
    assert_eq!(p.complete(&req).await.unwrap().text, "back");
    assert_eq!(mock.hits(), 5);
}

#[tokio::test]
async fn non_retryable_errors_do_not_open_the_breaker() {
    let mock = Mock::start(vec![reply(400, json!({"error": "bad request"}))]).await;
    let breaker = Breaker {
        failure_threshold: 1,
        cool_down: Duration::from_secs(30),
    };
    let p = Resilient::new(Ollama::new(&mock.base, "m"), fast_retry(0), breaker);
    for _ in 0..3 {
        p.complete(&LlmRequest::new("x")).await.unwrap_err();
    }
    assert!(!p.is_open());
    assert_eq!(mock.hits(), 3);
}

#[tokio::test]
async fn none_fails_without_network() {
    let err = NoProvider
        .complete(&LlmRequest::new("x"))
        .await
        .unwrap_err();
    assert_eq!(err, LlmError::Disabled);
    assert!(!err.is_retryable());
}

#[test]
fn keys_never_appear_in_debug() {
    let key = "sk-live-SECRET-123";
    let openai = OpenAi::new(
        openai::DEFAULT_BASE_URL,
        "gpt-4o-mini",
        Some(Secret::new(key)),
    );
    let anthropic = Anthropic::new(anthropic::DEFAULT_BASE_URL, "haiku", Secret::new(key));
    let wrapped = Resilient::new(
        anthropic.clone(),
        RetryPolicy::default(),
        Breaker::default(),
    );
    for debug in [
        format!("{openai:?}"),
        format!("{anthropic:?}"),
        format!("{wrapped:?}"),
        format!("{openai:#?}"),
    ] {
        assert!(!debug.contains(key), "{debug}");
        assert!(!debug.contains("SECRET"), "{debug}");
        assert!(debug.contains("[redacted]"), "{debug}");
    }
}

#[test]
fn think_blocks_are_stripped() {
    assert_eq!(strip_think("<think>a\nb</think>\n{\"x\":1}"), "{\"x\":1}");
    assert_eq!(strip_think("a<think>1</think>b<think>2</think>c"), "abc");
    assert_eq!(strip_think("answer <think>unfinished"), "answer");
    assert_eq!(strip_think("  plain  "), "plain");
}

#[test]
fn retryable_statuses() {
    for s in [408, 429, 500, 502, 503, 504, 529] {
        assert!(is_retryable_status(s), "{s}");
    }
    for s in [200, 400, 401, 403, 404, 422] {
        assert!(!is_retryable_status(s), "{s}");
    }
}

#[test]
fn backoff_doubles_up_to_the_cap() {
    let p = RetryPolicy::default();
    assert_eq!(p.delay(1), Duration::from_secs(1));
    assert_eq!(p.delay(2), Duration::from_secs(2));
    assert_eq!(p.delay(3), Duration::from_secs(4));
    assert_eq!(p.delay(5), Duration::from_secs(8));
    assert_eq!(p.delay(40), Duration::from_secs(8));
}

#[test]
fn keys_resolve_from_config_references_or_the_environment() {
    let env = EnvVars::default()
        .with("ANTHROPIC_API_KEY", "from-default")
        .with("MY_KEY", "from-ref");
    let resolve = |configured: Option<&str>| {
        resolve_key(
            configured.map(Secret::new).as_ref(),
            &env,
            "ANTHROPIC_API_KEY",
        )
        .map(|s| s.expose().to_owned())
    };
    assert_eq!(resolve(Some("literal")).as_deref(), Some("literal"));
    assert_eq!(resolve(Some("$MY_KEY")).as_deref(), Some("from-ref"));
    assert_eq!(resolve(Some("$secret:MY_KEY")).as_deref(), Some("from-ref"));
    assert_eq!(resolve(Some("$secret:MISSING")), None);
    assert_eq!(resolve(Some("")).as_deref(), Some("from-default"));
    assert_eq!(resolve(None).as_deref(), Some("from-default"));
}

#[tokio::test]
async fn a_server_that_dies_mid_request_is_a_retryable_network_error() {
    use tokio::io::AsyncReadExt;
    // Reads each request, then closes the connection without answering.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    tokio::spawn(async move {
        loop {
            let (mut socket, _) = listener.accept().await.unwrap();
            count.fetch_add(1, Ordering::SeqCst);
            let mut buf = [0u8; 4096];
            let _ = socket.read(&mut buf).await;
            drop(socket);
        }
    });
    let p = Resilient::new(
        Ollama::new(&format!("http://{addr}"), "m"),
        fast_retry(2),
        Breaker::default(),
    );
    let err = p.complete(&LlmRequest::new("x")).await.unwrap_err();
    assert!(matches!(err, LlmError::Connect { .. }), "{err:?}");
    assert!(err.is_retryable());
    assert_eq!(accepted.load(Ordering::SeqCst), 3);
}

fn opencode_message(text: &str) -> Reply {
    reply(
        200,
        json!({
            "info": {"role": "assistant", "tokens": {"input": 30, "output": 9, "reasoning": 0}},
            "parts": [{"type": "step-start"}, {"type": "text", "text": text}],
        }),
    )
}

#[tokio::test]
async fn opencode_caches_its_session_and_sends_the_split_model() {
    let mock = Mock::start(vec![
        reply(200, json!({"id": "ses_1"})),
        opencode_message("first"),
        opencode_message("second"),
    ])
    .await;
    let p = Opencode::new(&mock.base, "anthropic/claude-haiku-4-5-20251001");
    let r = p.complete(&LlmRequest::new("hello")).await.unwrap();
    assert_eq!(r.text, "first");
    assert_eq!(r.usage.input_tokens, 30);
    assert_eq!(r.usage.output_tokens, 9);
    let sent = mock.last();
    assert_eq!(sent.path, "/session/ses_1/message");
    assert_eq!(
        sent.body["parts"],
        json!([{"type": "text", "text": "hello"}])
    );
    assert_eq!(
        sent.body["model"],
        json!({"providerID": "anthropic", "modelID": "claude-haiku-4-5-20251001"})
    );
    let r = p.complete(&LlmRequest::new("again")).await.unwrap();
    assert_eq!(r.text, "second");
    let paths: Vec<String> = mock
        .seen
        .lock()
        .unwrap()
        .iter()
        .map(|s| s.path.clone())
        .collect();
    assert_eq!(
        paths,
        [
            "/session",
            "/session/ses_1/message",
            "/session/ses_1/message"
        ]
    );
    assert_eq!(
        mock.seen.lock().unwrap()[0].body["title"],
        "signet-extraction"
    );
}

#[tokio::test]
async fn opencode_opens_a_new_session_when_the_old_one_is_gone() {
    let mock = Mock::start(vec![
        reply(200, json!({"id": "ses_1"})),
        reply(404, json!({"error": "session not found"})),
        reply(200, json!({"id": "ses_2"})),
        opencode_message("fresh"),
    ])
    .await;
    let p = Opencode::new(&mock.base, "anthropic/claude-haiku-4-5-20251001");
    let r = p.complete(&LlmRequest::new("hello")).await.unwrap();
    assert_eq!(r.text, "fresh");
    let paths: Vec<String> = mock
        .seen
        .lock()
        .unwrap()
        .iter()
        .map(|s| s.path.clone())
        .collect();
    assert_eq!(
        paths,
        [
            "/session",
            "/session/ses_1/message",
            "/session",
            "/session/ses_2/message"
        ]
    );
}

#[tokio::test]
async fn opencode_reads_the_session_when_the_reply_has_no_answer_yet() {
    let mock = Mock::start(vec![
        reply(200, json!({"id": "ses_1"})),
        reply(200, json!({"info": {"role": "assistant"}, "parts": []})),
        reply(
            200,
            json!([{"info": {"role": "user"}, "parts": [{"type": "text", "text": "hello"}]}]),
        ),
        reply(
            200,
            json!([
                {"info": {"role": "user"}, "parts": [{"type": "text", "text": "hello"}]},
                {"info": {"role": "assistant", "tokens": {"input": 4, "output": 2}},
                 "parts": [{"type": "text", "text": "late answer"}]},
            ]),
        ),
    ])
    .await;
    let p = Opencode::new(&mock.base, "anthropic/claude-haiku-4-5-20251001");
    let r = p.complete(&LlmRequest::new("hello")).await.unwrap();
    assert_eq!(r.text, "late answer");
    assert_eq!(r.usage.output_tokens, 2);
    assert_eq!(mock.hits(), 4);
    assert_eq!(mock.last().path, "/session/ses_1/message");
}

#[tokio::test]
async fn opencode_without_assistant_text_is_malformed() {
    let mock = Mock::start(vec![
        reply(200, json!({"id": "ses_1"})),
        reply(200, json!({"info": {}, "parts": [{"type": "step-start"}]})),
        reply(200, json!([])),
    ])
    .await;
    let p = Opencode::new(&mock.base, "anthropic/claude-haiku-4-5-20251001");
    let req = LlmRequest::new("hello").with_timeout(Duration::from_millis(800));
    let e = p.complete(&req).await.unwrap_err();
    assert!(matches!(e, LlmError::Malformed { .. }), "{e:?}");
    assert!(!e.is_retryable());
}

#[tokio::test]
async fn anthropic_calls_hold_a_permit_of_the_shared_semaphore() {
    let mut ok = reply(
        200,
        json!({"content": [{"type": "text", "text": "ok"}], "usage": {}}),
    );
    ok.delay = Duration::from_millis(150);
    let mock = Mock::start(vec![ok]).await;
    let permits = Arc::new(tokio::sync::Semaphore::new(1));
    let p = Arc::new(
        Anthropic::new(&mock.base, "haiku", Secret::new("k")).with_semaphore(permits.clone()),
    );
    let started = Instant::now();
    let calls: Vec<_> = (0..2)
        .map(|_| {
            let p = p.clone();
            tokio::spawn(async move { p.complete(&LlmRequest::new("hi")).await })
        })
        .collect();
    for call in calls {
        assert_eq!(call.await.unwrap().unwrap().text, "ok");
    }
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(permits.available_permits(), 1);
}
