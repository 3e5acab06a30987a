//! Team mode as an attacker would probe it: tokens, roles, scopes, hybrid Host tricks, rate
//! limits. Every refusal is checked to leave the database unchanged.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use signet_core::auth::{self, MintRequest, Role, Scope, TokenSigner};

use crate::common::TestServer;

pub(crate) const TEAM: &str = "auth:\n  mode: team\n";

pub(crate) fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Mints a token straight from the workspace's secret (as `signet token create` does).
pub(crate) fn token(s: &TestServer, role: Role, sub: &str, scope: Scope) -> String {
    let secret = auth::read_secret(&s.workspace).unwrap();
    let req = MintRequest {
        role,
        sub: Some(sub.into()),
        scope,
        ttl_seconds: Some(3600),
    };
    auth::mint_with(&TokenSigner::new(&secret), req, now(), 3600).0
}

pub(crate) fn project(p: &str) -> Scope {
    Scope {
        project: Some(p.into()),
        ..Scope::default()
    }
}

pub(crate) async fn as_bearer(
    s: &TestServer,
    method: Method,
    path: &str,
    body: Option<Value>,
    tok: &str,
) -> (StatusCode, Value) {
    let h = format!("Bearer {tok}");
    s.call_with(method, path, body, &[("authorization", h.as_str())])
        .await
}

/// [`as_bearer`] for a `GET`.
pub(crate) async fn get_as(s: &TestServer, path: &str, tok: &str) -> (StatusCode, Value) {
    as_bearer(s, Method::GET, path, None, tok).await
}

/// [`as_bearer`] for a `POST` of `body`.
pub(crate) async fn post_as(
    s: &TestServer,
    path: &str,
    body: Value,
    tok: &str,
) -> (StatusCode, Value) {
    as_bearer(s, Method::POST, path, Some(body), tok).await
}

/// [`as_bearer`] for a `DELETE` with `body`.
pub(crate) async fn delete_as(
    s: &TestServer,
    path: &str,
    body: Value,
    tok: &str,
) -> (StatusCode, Value) {
    as_bearer(s, Method::DELETE, path, Some(body), tok).await
}

/// Every live memory's id, content and version, via an admin token.
pub(crate) async fn snapshot(s: &TestServer, admin: &str) -> Vec<(String, String, i64)> {
    let (st, v) = get_as(s, "/api/memories?limit=1000", admin).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let mut out = Vec::new();
    for m in v["memories"].as_array().unwrap() {
        let id = m["id"].as_str().unwrap().to_owned();
        let (_, d) = get_as(s, &format!("/api/memory/{id}"), admin).await;
        out.push((
            id,
            d["content"].to_string(),
            d["version"].as_i64().unwrap_or(0),
        ));
    }
    out.sort();
    out
}

#[tokio::test]
async fn team_mode_creates_a_private_secret_and_demands_tokens() {
    let s = TestServer::start_with_yaml(Some(TEAM)).await;
    let path = auth::secret_path(&s.workspace);
    let meta = std::fs::metadata(&path).unwrap();
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    assert_eq!(meta.len(), 32);

    let (st, _) = s.get("/health").await;
    assert_eq!(st, StatusCode::OK, "health is open in every mode");
    let (st, v) = s.get("/api/auth/status").await;
    assert_eq!((st, v), (StatusCode::OK, json!({"mode": "team"})));

    let res = reqwest::get(format!("{}/api/memories", s.base))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(res.headers()["www-authenticate"], "Bearer");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], "authentication required");
    assert!(
        body["hint"]
            .as_str()
            .unwrap()
            .contains("signet token create")
    );

    let agent = token(&s, Role::Agent, "claude-code", Scope::default());
    let (st, v) = get_as(&s, "/api/auth/whoami", &agent).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(v["authenticated"], true);
    assert_eq!(v["claims"]["sub"], "claude-code");
    assert_eq!(v["mode"], "team");
}

#[tokio::test]
async fn roles_grant_exactly_their_permissions() {
    let s = TestServer::start_with_yaml(Some(TEAM)).await;
    let admin = token(&s, Role::Admin, "root", Scope::default());
    let reader = token(&s, Role::Readonly, "dash", Scope::default());
    let agent = token(&s, Role::Agent, "bot", Scope::default());
    let operator = token(&s, Role::Operator, "ops", Scope::default());

    let body = json!({"content": "the build uses cargo nextest"});
    let (st, v) = post_as(&s, "/api/memory/remember", body.clone(), &reader).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    assert_eq!(v["error"], "role 'readonly' lacks 'remember' permission");
    let (st, v) = post_as(&s, "/api/memory/remember", body, &agent).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (st, _) = post_as(
        &s,
        "/api/memory/recall",
        json!({"query": "nextest"}),
        &reader,
    )
    .await;
    assert_eq!(st, StatusCode::OK);

    for tok in [&agent, &operator] {
        let (st, v) = post_as(&s, "/api/auth/token", json!({"role": "admin"}), tok).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{v}");
        assert!(
            v["error"]
                .as_str()
                .unwrap()
                .contains("lacks 'admin' permission")
        );
    }
    let (st, v) = get_as(&s, "/api/config", &agent).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{v}");
    let h = format!("Bearer {agent}");
    let spoof = [
        ("authorization", h.as_str()),
        ("x-signet-actor", "someone-else"),
    ];
    let (st, _) = s
        .call_with(
            Method::POST,
            "/api/memory/recall",
            Some(json!({"query": "x"})),
            &spoof,
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    let (_, usage) = get_as(&s, "/api/analytics/usage", &admin).await;
    assert!(
        usage["actors"]["bot"].is_object(),
        "analytics names the token's sub: {usage}"
    );
    assert!(usage["actors"]["someone-else"].is_null(), "{usage}");

    let mint = json!({"role": "agent", "sub": "ci-runner", "scope": {"project": "acme"}, "ttlSeconds": 600});
    let (st, v) = post_as(&s, "/api/auth/token", mint, &admin).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert!(v["expiresAt"].as_str().unwrap().ends_with('Z'));
    let minted = v["token"].as_str().unwrap();
    let (_, who) = get_as(&s, "/api/auth/whoami", minted).await;
    assert_eq!(
        who["claims"]["sub"], "ci-runner",
        "the sub asked for is kept"
    );
    assert_eq!(who["claims"]["scope"], json!({"project": "acme"}));

    let (st, v) = post_as(&s, "/api/auth/token", json!({"role": "god"}), &admin).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
}

#[tokio::test]
async fn forged_and_broken_tokens_are_refused_and_change_nothing() {
    let s = TestServer::start_with_yaml(Some(TEAM)).await;
    let admin = token(&s, Role::Admin, "root", Scope::default());
    let (st, _) = post_as(
        &s,
        "/api/memory/remember",
        json!({"content": "original fact"}),
        &admin,
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    let before = snapshot(&s, &admin).await;

    let reader = token(&s, Role::Readonly, "dash", Scope::default());
    let (payload, sig) = reader.split_once('.').unwrap();
    let mut claims: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    claims["role"] = json!("admin");
    let escalated = format!("{}.{sig}", URL_SAFE_NO_PAD.encode(claims.to_string()));
    let other = TokenSigner::new(&[9u8; 32]);
    let foreign = auth::mint_with(
        &other,
        MintRequest {
            role: Role::Admin,
            sub: None,
            scope: Scope::default(),
            ttl_seconds: None,
        },
        now(),
        3600,
    )
    .0;
    let secret = auth::read_secret(&s.workspace).unwrap();
    let signer = TokenSigner::new(&secret);
    let timed = |iat: i64, exp: i64| {
        signer.sign(&auth::Claims {
            sub: "x".into(),
            scope: Scope::default(),
            role: Role::Admin,
            iat,
            exp,
        })
    };
    let expired = timed(now() - 7200, now() - 1);
    let future = timed(now() + 86_400, now() + 90_000);
    let jwt_style = format!("eyJhbGciOiJub25lIn0.{payload}.{sig}");
    let cases: Vec<(&str, String)> = vec![
        ("role escalation", format!("Bearer {escalated}")),
        ("other secret", format!("Bearer {foreign}")),
        ("truncated", format!("Bearer {}", &admin[..admin.len() - 5])),
        ("padded", format!("Bearer {admin}==")),
        ("three segments", format!("Bearer {jwt_style}")),
        ("signature only", format!("Bearer .{sig}")),
        ("expired", format!("Bearer {expired}")),
        ("future iat", format!("Bearer {future}")),
        ("basic scheme", "Basic YWRtaW46YWRtaW4=".into()),
        ("no scheme", admin.clone()),
        ("garbage", "Bearer !!!".into()),
    ];
    for (name, header) in &cases {
        for (method, path, body) in [
            (
                Method::POST,
                "/api/memory/forget",
                Some(json!({"mode": "execute", "query": "original", "reason": "x"})),
            ),
            (
                Method::PATCH,
                &format!("/api/memory/{}", before[0].0)[..],
                Some(json!({"content": "pwned", "reason": "x"})),
            ),
            (
                Method::POST,
                "/api/auth/token",
                Some(json!({"role": "admin"})),
            ),
        ] {
            let (st, v) = s
                .call_with(method, path, body, &[("authorization", header.as_str())])
                .await;
            assert_eq!(st, StatusCode::UNAUTHORIZED, "{name} on {path}: {v}");
        }
    }
    let huge = format!("Bearer {}", "a".repeat(64 * 1024));
    let res = reqwest::Client::new()
        .post(format!("{}/api/memory/remember", s.base))
        .header("authorization", huge)
        .json(&json!({"content": "via huge header"}))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_client_error(), "{}", res.status());
    let big = json!({"content": "x".repeat(3 * 1024 * 1024)});
    for auth in [None, Some(admin.as_str())] {
        let mut req = reqwest::Client::new()
            .post(format!("{}/api/memory/remember", s.base))
            .json(&big);
        if let Some(t) = auth {
            req = req.bearer_auth(t);
        }
        let st = req.send().await.unwrap().status();
        let want = if auth.is_some() {
            StatusCode::PAYLOAD_TOO_LARGE
        } else {
            StatusCode::UNAUTHORIZED
        };
        assert_eq!(st, want, "oversized body");
    }
    assert_eq!(snapshot(&s, &admin).await, before, "nothing changed");
}

#[tokio::test]
async fn hybrid_mode_trusts_loopback_host_and_peer_only() {
    let s = TestServer::start_with_yaml(Some("auth:\n  mode: hybrid\n")).await;
    let (st, v) = s.get("/api/memories").await;
    assert_eq!(st, StatusCode::OK, "local tools work without a token: {v}");
    for host in ["signet.example.com", "localhost.evil.com", "10.0.0.1:3850"] {
        let (st, v) = s
            .call_with(Method::GET, "/api/memories", None, &[("host", host)])
            .await;
        assert_eq!(st, StatusCode::UNAUTHORIZED, "{host}: {v}");
    }
    for relayed in ["x-forwarded-for", "forwarded", "x-real-ip"] {
        let (st, _) = s
            .call_with(
                Method::GET,
                "/api/memories",
                None,
                &[(relayed, "203.0.113.9")],
            )
            .await;
        assert_eq!(
            st,
            StatusCode::UNAUTHORIZED,
            "a relayed request is not local ({relayed})"
        );
    }
    let reader = token(&s, Role::Readonly, "remote", Scope::default());
    let h = format!("Bearer {reader}");
    let (st, _) = s
        .call_with(
            Method::GET,
            "/api/memories",
            None,
            &[("host", "signet.example.com"), ("authorization", &h)],
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    let (st, _) = s
        .call_with(
            Method::GET,
            "/api/auth/whoami",
            None,
            &[("authorization", "Bearer forged.token")],
        )
        .await;
    assert_eq!(
        st,
        StatusCode::UNAUTHORIZED,
        "a bad token is refused even from localhost"
    );
}

#[tokio::test]
async fn destructive_operations_are_rate_limited_per_actor() {
    let yaml =
        "auth:\n  mode: team\n  rateLimits:\n    forget:\n      windowMs: 60000\n      max: 2\n";
    let s = TestServer::start_with_yaml(Some(yaml)).await;
    let ann = token(&s, Role::Agent, "ann", Scope::default());
    let bob = token(&s, Role::Agent, "bob", Scope::default());
    let mut ids = Vec::new();
    for i in 0..4 {
        let (_, v) = post_as(
            &s,
            "/api/memory/remember",
            json!({"content": format!("note number {i}")}),
            &ann,
        )
        .await;
        ids.push(v["id"].as_str().unwrap().to_owned());
    }
    for id in &ids[..2] {
        let (st, _) = delete_as(
            &s,
            &format!("/api/memory/{id}"),
            json!({"reason": "x"}),
            &ann,
        )
        .await;
        assert_eq!(st, StatusCode::OK);
    }
    let res = reqwest::Client::new()
        .delete(format!("{}/api/memory/{}", s.base, ids[2]))
        .bearer_auth(&ann)
        .json(&json!({"reason": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait));
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], "rate limit exceeded");
    let (st, _) = get_as(&s, &format!("/api/memory/{}", ids[2]), &ann).await;
    assert_eq!(st, StatusCode::OK, "the refused delete did nothing");
    let (st, _) = delete_as(
        &s,
        &format!("/api/memory/{}", ids[3]),
        json!({"reason": "x"}),
        &bob,
    )
    .await;
    assert_eq!(st, StatusCode::OK, "limits are per actor");
}

#[tokio::test]
async fn lost_admin_tokens_are_recovered_through_local_mode() {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path();
    std::fs::write(ws.join("agent.yaml"), TEAM).unwrap();
    let s = TestServer::start_in(ws, false).await;
    let (st, _) = s.get("/api/memories").await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    s.shutdown().await;

    std::fs::write(ws.join("agent.yaml"), "auth:\n  mode: local\n").unwrap();
    let s = TestServer::start_in(ws, false).await;
    let (st, v) = s
        .post(
            "/api/auth/token",
            json!({"role": "admin", "sub": "recovered"}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let admin = v["token"].as_str().unwrap().to_owned();
    s.shutdown().await;

    std::fs::write(ws.join("agent.yaml"), TEAM).unwrap();
    let s = TestServer::start_in(ws, false).await;
    let (st, v) = get_as(&s, "/api/auth/whoami", &admin).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(v["claims"]["role"], "admin");
    s.shutdown().await;
}

#[tokio::test]
async fn a_readable_secret_stops_start_up_with_a_fix() {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path();
    auth::load_or_create_secret(ws).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(
        auth::secret_path(ws),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    std::fs::write(ws.join("agent.yaml"), TEAM).unwrap();
    let env = signet_core::config::EnvVars::default();
    let loaded = signet_core::config::Settings::load(ws, &env).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let cfg = signet_server::daemon::DaemonConfig {
        workspace: ws.to_path_buf(),
        loaded,
        env,
        watch_config: false,
        embedder: None,
        log_hub: None,
    };
    let err = match signet_server::daemon::Daemon::start(cfg, &listener).await {
        Ok(_) => panic!("started with a world-readable secret"),
        Err(e) => e.to_string(),
    };
    assert!(err.contains("chmod 600"), "{err}");
}

#[tokio::test]
async fn config_writes_stay_inside_the_workspace_for_admins_too() {
    let s = TestServer::start_with_yaml(Some(TEAM)).await;
    let admin = token(&s, Role::Admin, "root", Scope::default());
    for name in [
        "../evil.yaml",
        "/etc/passwd",
        "..\\x.md",
        ".daemon/auth-secret",
    ] {
        let (st, v) = post_as(
            &s,
            "/api/config",
            json!({"file": name, "content": "x"}),
            &admin,
        )
        .await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{name}: {v}");
    }
    assert_eq!(
        std::fs::metadata(auth::secret_path(&s.workspace))
            .unwrap()
            .len(),
        32
    );
}
