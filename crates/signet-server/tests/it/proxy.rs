//! Hybrid mode behind real reverse proxies (nginx as docs/SELF-HOSTING.md configures it, and
//! Caddy running the shipped `deploy/docker/Caddyfile`): a request through the proxy comes from
//! 127.0.0.1 but carries the public Host, so it needs a token. `scripts/test.sh` installs both
//! proxies; without them these tests say so and skip, except under `SIGNET_REQUIRE_ALL` (set by
//! the test script), where a missing proxy fails them.

use std::path::Path;
use std::process::{Child, Command, Stdio};

use reqwest::StatusCode;

use crate::common::{TestServer, eventually};

struct Proxy {
    child: Child,
    port: u16,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn installed(bin: &str) -> bool {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {bin}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        // scripts/test.sh (and so CI) sets SIGNET_REQUIRE_ALL: no silent skips there.
        assert!(
            std::env::var_os("SIGNET_REQUIRE_ALL").is_none(),
            "{bin} is not installed but SIGNET_REQUIRE_ALL forbids skipping"
        );
        eprintln!("skipping: {bin} is not installed (scripts/test.sh installs it)");
    }
    found
}

async fn ready(port: u16) {
    let up = eventually(|| async move {
        tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
    })
    .await;
    assert!(up, "proxy did not listen on {port}");
}

/// The headers docs/SELF-HOSTING.md (and docs/SECURITY.md) set in nginx's `location` block.
const NGINX_HEADERS: &str = "proxy_set_header Host $host;
         proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
         proxy_set_header X-Forwarded-Proto $scheme;";

/// nginx as docs/SELF-HOSTING.md configures it (`documented`), or a bare `proxy_pass` with no
/// headers set (the pitfall the guide warns about).
async fn nginx(dir: &Path, upstream: &str, documented: bool) -> Proxy {
    let port = free_port();
    let d = dir.display();
    let headers = if documented { NGINX_HEADERS } else { "" };
    let conf = format!(
        "daemon off; worker_processes 1; pid {d}/nginx.pid; error_log {d}/error.log;
         events {{}}
         http {{
           access_log off;
           client_body_temp_path {d}/body; proxy_temp_path {d}/proxy;
           fastcgi_temp_path {d}/fcgi; uwsgi_temp_path {d}/uwsgi; scgi_temp_path {d}/scgi;
           server {{
             listen 127.0.0.1:{port};
             server_name signet.example.com;
             location / {{
               proxy_pass {upstream};
               {headers}
               proxy_buffering off;
             }}
           }}
         }}"
    );
    std::fs::write(dir.join("nginx.conf"), conf).unwrap();
    let mut cmd = Command::new("nginx");
    cmd.args(["-p", &d.to_string(), "-c", &format!("{d}/nginx.conf")]);
    spawn(cmd, "nginx", port).await
}

fn repo_file(path: &str) -> String {
    let full = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(path);
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()))
}

/// docs/SELF-HOSTING.md shows what these tests run: nginx's `location` lines and the shipped
/// Caddyfile verbatim.
#[test]
fn the_operators_guide_shows_the_tested_proxy_configs() {
    let doc = repo_file("docs/SELF-HOSTING.md");
    let doc_lines: Vec<&str> = doc.lines().map(str::trim).collect();
    let location = ["proxy_pass http://127.0.0.1:3850;"]
        .into_iter()
        .chain(NGINX_HEADERS.lines().map(str::trim))
        .chain(["proxy_buffering off;"])
        .collect::<Vec<_>>();
    assert!(
        doc_lines
            .windows(location.len())
            .any(|w| w == location.as_slice()),
        "docs/SELF-HOSTING.md lacks nginx's tested location block:\n{}",
        location.join("\n")
    );
    let caddyfile = repo_file("deploy/docker/Caddyfile");
    let config: String = caddyfile
        .lines()
        .skip_while(|l| l.starts_with('#'))
        .map(|l| format!("{l}\n"))
        .collect();
    assert!(
        doc.contains(&format!("```caddyfile\n{}```", config)),
        "docs/SELF-HOSTING.md does not show deploy/docker/Caddyfile as shipped:\n{config}"
    );
}

/// Caddy with the shipped `deploy/docker/Caddyfile`, its placeholders pointing it at
/// `upstream` on a free port, with the admin endpoint off.
async fn caddy(dir: &Path, upstream: &str) -> Proxy {
    let port = free_port();
    let caddyfile = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/docker/Caddyfile");
    let mut cmd = Command::new("caddy");
    cmd.args(["run", "--adapter", "caddyfile", "--config"])
        .arg(caddyfile)
        .env("SIGNET_DOMAIN", format!(":{port}"))
        .env("SIGNET_UPSTREAM", upstream)
        .env("CADDY_ADMIN", "off")
        .env("HOME", dir)
        .env("XDG_DATA_HOME", dir.join("data"))
        .env("XDG_CONFIG_HOME", dir.join("config"));
    spawn(cmd, "caddy", port).await
}

/// Starts the proxy `cmd` with its output discarded and waits until it listens on `port`.
async fn spawn(mut cmd: Command, name: &str, port: u16) -> Proxy {
    let child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("{name} starts: {e:?}"));
    ready(port).await;
    Proxy { child, port }
}

async fn get(port: u16, host: &str, token: Option<&str>) -> StatusCode {
    let mut req = reqwest::Client::new()
        .get(format!("http://127.0.0.1:{port}/api/memories"))
        .header("host", host);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    req.send().await.unwrap().status()
}

fn reader_token(s: &TestServer) -> String {
    let secret = signet_core::auth::read_secret(&s.workspace).unwrap();
    let req = signet_core::auth::MintRequest {
        role: signet_core::auth::Role::Readonly,
        sub: Some("remote".into()),
        scope: signet_core::auth::Scope::default(),
        ttl_seconds: Some(600),
    };
    let now = chrono::Utc::now().timestamp();
    signet_core::auth::mint_with(&signet_core::auth::TokenSigner::new(&secret), req, now, 600).0
}

/// Through the proxy on `port`, the public Host is refused without a token and served with a
/// reader token.
async fn assert_public_host_needs_a_token(s: &TestServer, port: u16) {
    assert_eq!(
        get(port, "signet.example.com", None).await,
        StatusCode::UNAUTHORIZED
    );
    let token = reader_token(s);
    assert_eq!(
        get(port, "signet.example.com", Some(&token)).await,
        StatusCode::OK
    );
}

/// Through the proxy on `port`, a request without a token is refused for each of `hosts`.
async fn assert_refused_without_a_token(port: u16, hosts: &[&str]) {
    for host in hosts {
        assert_eq!(
            get(port, host, None).await,
            StatusCode::UNAUTHORIZED,
            "{host}"
        );
    }
}

/// A daemon in auth `mode` and a temp dir for the proxy's files, or `None` (the test skips)
/// when the `proxy` binary is not installed.
async fn setup(proxy: &str, mode: &str) -> Option<(TestServer, tempfile::TempDir)> {
    if !installed(proxy) {
        return None;
    }
    let s = TestServer::start_with_yaml(Some(&format!("auth:\n  mode: {mode}\n"))).await;
    Some((s, tempfile::tempdir().unwrap()))
}

#[tokio::test]
async fn nginx_with_the_documented_config_needs_a_token_in_hybrid_mode() {
    let Some((s, dir)) = setup("nginx", "hybrid").await else {
        return;
    };
    let p = nginx(dir.path(), &s.base, true).await;
    assert_public_host_needs_a_token(&s, p.port).await;
    // A remote client claiming a loopback Host is relayed with X-Forwarded-For: not local.
    assert_refused_without_a_token(p.port, &["localhost", "127.0.0.1", "[::1]"]).await;
    drop(p);

    // The pitfall docs/SECURITY.md warns about: a bare proxy_pass sends the upstream address
    // as Host and no forwarding header, so every proxied request looks local.
    let dir = tempfile::tempdir().unwrap();
    let p = nginx(dir.path(), &s.base, false).await;
    assert_eq!(
        get(p.port, "signet.example.com", None).await,
        StatusCode::OK
    );
}

#[tokio::test]
async fn caddy_forwards_the_public_host_so_hybrid_mode_needs_a_token() {
    let Some((s, dir)) = setup("caddy", "hybrid").await else {
        return;
    };
    let upstream = s.base.trim_start_matches("http://").to_owned();
    let p = caddy(dir.path(), &upstream).await;
    assert_public_host_needs_a_token(&s, p.port).await;
    assert_refused_without_a_token(p.port, &["localhost", "127.0.0.1"]).await;
}

#[tokio::test]
async fn team_mode_behind_a_proxy_needs_a_token_whatever_the_host() {
    let Some((s, dir)) = setup("nginx", "team").await else {
        return;
    };
    let p = nginx(dir.path(), &s.base, true).await;
    let hosts = ["signet.example.com", "localhost", "127.0.0.1"];
    assert_refused_without_a_token(p.port, &hosts).await;
}
