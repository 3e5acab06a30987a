//! The dashboard as HTTP: the page with its import map and CSP, the files with their caching,
//! compression and ETags, and the routes' place outside the API's guard. These tests read
//! whatever files the dashboard has (they never name one besides `index.html`'s contract).

use std::io::Read as _;

use base64::Engine as _;
use reqwest::header::{self, HeaderMap};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use sha2::Digest as _;

use crate::common::TestServer;

async fn fetch(
    s: &TestServer,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
) -> reqwest::Response {
    let mut req = reqwest::Client::new().request(method, format!("{}{path}", s.base));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.send().await.expect("request")
}

fn h<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

/// The page and the import map in it (its exact text and its parsed value).
async fn page(s: &TestServer) -> (HeaderMap, String, String, Value) {
    let res = fetch(s, Method::GET, "/", &[]).await;
    assert_eq!(res.status(), StatusCode::OK);
    let headers = res.headers().clone();
    let html = res.text().await.unwrap();
    let open = "<script type=\"importmap\">";
    let start = html.find(open).expect("an import map") + open.len();
    let len = html[start..].find("</script>").unwrap();
    let map = html[start..start + len].to_owned();
    let parsed = serde_json::from_str(&map).unwrap();
    (headers, html, map, parsed)
}

/// Every file the import map versions, as (plain, versioned) URLs.
fn assets(map: &Value) -> Vec<(String, String)> {
    let imports = map["imports"].as_object().expect("imports");
    assert!(!imports.is_empty(), "the import map lists the files");
    imports
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
        .collect()
}

fn assert_security_headers(headers: &HeaderMap, what: &str) {
    let csp = h(headers, "content-security-policy");
    for part in [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "font-src 'self'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(part), "{what}: CSP {csp:?} lacks {part:?}");
    }
    assert!(!csp.contains("unsafe-inline"), "{what}: {csp}");
    assert_eq!(h(headers, "x-content-type-options"), "nosniff", "{what}");
    assert_eq!(h(headers, "referrer-policy"), "no-referrer", "{what}");
    assert_eq!(h(headers, "x-frame-options"), "DENY", "{what}");
}

#[tokio::test]
async fn the_page_carries_an_import_map_whose_hash_is_the_only_inline_script_allowed() {
    let s = TestServer::start().await;
    let (headers, html, map, parsed) = page(&s).await;
    assert_security_headers(&headers, "/");
    assert!(h(&headers, "content-type").starts_with("text/html"));
    assert_eq!(h(&headers, "cache-control"), "no-cache");
    let hash = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(&map));
    let csp = h(&headers, "content-security-policy");
    assert!(
        csp.contains(&format!("script-src 'self' 'sha256-{hash}'")),
        "{csp}"
    );
    assert_eq!(html.matches("<script type=\"importmap\">").count(), 1);
    // The import map comes before any module script, and the page's own references are versioned.
    let first_module = html.find("type=\"module\"").unwrap_or(html.len());
    assert!(html.find("importmap").unwrap() < first_module);
    let outside_map = html.replace(&map, "");
    for (plain, versioned) in assets(&parsed) {
        assert!(plain.starts_with("/assets/"), "{plain}");
        assert!(versioned.starts_with(&format!("{plain}?v=")), "{versioned}");
        assert!(
            !outside_map.contains(&format!("\"{plain}\"")),
            "{plain} unversioned"
        );
    }
    assert!(
        html.contains("/assets/app.js?v="),
        "index.html loads the versioned shell"
    );
    s.shutdown().await;
}

#[tokio::test]
async fn versioned_files_are_immutable_plain_ones_revalidate_and_unknown_ones_are_json_404s() {
    let s = TestServer::start().await;
    let (_, _, _, map) = page(&s).await;
    for (plain, versioned) in assets(&map) {
        let res = fetch(&s, Method::GET, &versioned, &[]).await;
        assert_eq!(res.status(), StatusCode::OK, "{versioned}");
        let headers = res.headers().clone();
        assert_security_headers(&headers, &versioned);
        assert_eq!(
            h(&headers, "cache-control"),
            "public, max-age=31536000, immutable",
            "{versioned}"
        );
        if plain.ends_with(".js") {
            assert!(
                h(&headers, "content-type").contains("javascript"),
                "{plain}: {}",
                h(&headers, "content-type")
            );
        }
        let bytes = res.bytes().await.unwrap();
        let res = fetch(&s, Method::GET, &plain, &[]).await;
        assert_eq!(h(res.headers(), "cache-control"), "no-cache", "{plain}");
        assert_eq!(res.bytes().await.unwrap(), bytes, "{plain}");
        let stale = format!("{plain}?v=000000000000");
        let res = fetch(&s, Method::GET, &stale, &[]).await;
        assert_eq!(h(res.headers(), "cache-control"), "no-cache", "{stale}");
    }
    for missing in [
        "/assets/nope.js",
        "/assets/..%2FCargo.toml",
        "/assets/.hidden",
        "/assets/index.html",
    ] {
        let res = fetch(&s, Method::GET, missing, &[]).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{missing}");
        assert!(h(res.headers(), "content-type").starts_with("application/json"));
        assert_security_headers(&res.headers().clone(), missing);
        let body: Value = res.json().await.unwrap();
        assert!(body["error"].is_string(), "{missing}: {body}");
    }
    s.shutdown().await;
}

#[tokio::test]
async fn head_answers_the_headers_without_a_body() {
    let s = TestServer::start().await;
    let (_, _, _, map) = page(&s).await;
    let (_, versioned) = assets(&map).remove(0);
    let get = fetch(&s, Method::GET, &versioned, &[]).await;
    let len = get.bytes().await.unwrap().len();
    for path in ["/", versioned.as_str()] {
        let res = fetch(&s, Method::HEAD, path, &[]).await;
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        assert_security_headers(&res.headers().clone(), path);
        assert!(res.headers().contains_key(header::ETAG), "{path}");
        if path != "/" {
            assert_eq!(h(res.headers(), "content-length"), len.to_string());
        }
        assert!(res.bytes().await.unwrap().is_empty(), "{path}");
    }
    let res = fetch(&s, Method::HEAD, "/assets/nope.js", &[]).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    s.shutdown().await;
}

#[tokio::test]
async fn a_matching_etag_is_a_304_for_each_encoding() {
    let s = TestServer::start().await;
    let (_, _, _, map) = page(&s).await;
    let mut paths = vec!["/".to_owned()];
    paths.extend(assets(&map).into_iter().map(|(_, v)| v));
    for path in &paths {
        for accept in ["identity", "gzip", "br"] {
            let ae = [("accept-encoding", accept)];
            let res = fetch(&s, Method::GET, path, &ae).await;
            let etag = h(res.headers(), "etag").to_owned();
            assert!(
                etag.starts_with('"') && etag.ends_with('"'),
                "{path}: {etag}"
            );
            let cache = h(res.headers(), "cache-control").to_owned();
            let again = [
                ("accept-encoding", accept),
                ("if-none-match", etag.as_str()),
            ];
            let res = fetch(&s, Method::GET, path, &again).await;
            assert_eq!(res.status(), StatusCode::NOT_MODIFIED, "{path} {accept}");
            assert_eq!(h(res.headers(), "etag"), etag);
            assert_eq!(h(res.headers(), "cache-control"), cache);
            assert_security_headers(&res.headers().clone(), path);
            assert!(res.bytes().await.unwrap().is_empty());
            let other = [
                ("accept-encoding", accept),
                ("if-none-match", "\"something-else\""),
            ];
            let res = fetch(&s, Method::GET, path, &other).await;
            assert_eq!(res.status(), StatusCode::OK, "{path} {accept}");
        }
    }
    s.shutdown().await;
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .unwrap();
    out
}

fn unbrotli(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    brotli::Decompressor::new(bytes, 4096)
        .read_to_end(&mut out)
        .unwrap();
    out
}

#[tokio::test]
async fn gzip_and_brotli_decode_to_the_same_bytes() {
    let s = TestServer::start().await;
    let (_, _, _, map) = page(&s).await;
    let mut paths = vec!["/".to_owned()];
    paths.extend(assets(&map).into_iter().map(|(_, v)| v));
    let mut compressed = 0;
    for path in &paths {
        let plain = fetch(&s, Method::GET, path, &[]).await;
        assert_eq!(h(plain.headers(), "content-encoding"), "", "{path}");
        assert_eq!(h(plain.headers(), "vary"), "Accept-Encoding", "{path}");
        let plain_tag = h(plain.headers(), "etag").to_owned();
        let plain = plain.bytes().await.unwrap().to_vec();
        for (accept, token) in [
            ("gzip", "gzip"),
            ("br", "br"),
            ("gzip, deflate, br, zstd", "br"),
            ("br;q=0, gzip", "gzip"),
        ] {
            // Twice: the second answer is the cached compression, identical.
            let mut seen = Vec::new();
            for _ in 0..2 {
                let res = fetch(&s, Method::GET, path, &[("accept-encoding", accept)]).await;
                let enc = h(res.headers(), "content-encoding").to_owned();
                let tag = h(res.headers(), "etag").to_owned();
                let body = res.bytes().await.unwrap().to_vec();
                let decoded = match enc.as_str() {
                    "" => body.clone(),
                    "gzip" => gunzip(&body),
                    "br" => unbrotli(&body),
                    other => panic!("{path}: unexpected encoding {other}"),
                };
                assert_eq!(decoded, plain, "{path} {accept}");
                if !enc.is_empty() {
                    assert_eq!(enc, token, "{path} {accept}");
                    assert_ne!(tag, plain_tag, "each representation has its own ETag");
                    assert!(body.len() < plain.len(), "{path}: {accept} is smaller");
                    compressed += 1;
                }
                seen.push(body);
            }
            assert_eq!(seen[0], seen[1], "{path} {accept}");
        }
    }
    assert!(compressed > 0, "the page and its scripts are compressed");
    s.shutdown().await;
}

#[tokio::test]
async fn in_team_mode_the_page_is_open_while_the_api_demands_a_token() {
    let s = TestServer::start_with_yaml(Some(crate::auth::TEAM)).await;
    let (headers, _, _, map) = page(&s).await;
    assert_security_headers(&headers, "/ (team)");
    let (_, versioned) = assets(&map).remove(0);
    let res = fetch(&s, Method::GET, &versioned, &[]).await;
    assert_eq!(res.status(), StatusCode::OK, "{versioned}");
    for api in ["/api/status", "/api/memories", "/api/auth/whoami"] {
        let res = fetch(&s, Method::GET, api, &[]).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{api}");
    }
    let res = fetch(&s, Method::POST, "/", &[]).await;
    assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert!(h(res.headers(), "content-type").starts_with("application/json"));
    s.shutdown().await;
}
