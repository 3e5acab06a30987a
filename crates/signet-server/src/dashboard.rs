//! The web dashboard: the files of `crates/signet-server/dashboard/`, embedded in the binary
//! (rust-embed; a debug build reads them from the directory, so an edit shows on reload).
//!
//! `GET /` is `index.html` with an import map injected: every `/assets/X` maps to
//! `/assets/X?v=<content hash>`, so the modules import each other by plain absolute paths and
//! the browser still fetches versioned URLs, which are cached for a year (`immutable`); the
//! page itself is `no-cache`. The `/assets/X` references in `index.html`'s own attributes are
//! versioned the same way (an import map does not apply to `<script src>` or `<link href>`).
//! Nothing in a JS or CSS file is rewritten.
//!
//! Every answer carries the security headers: a CSP whose only inline allowance is the import
//! map's sha256, `nosniff`, no referrer, no framing. Text bodies are compressed (`br`, else
//! `gzip`, as `Accept-Encoding` allows) once per content hash, off the async runtime, and kept
//! in memory; each representation's ETag is the content hash (plus the encoding), and a
//! matching `If-None-Match` is a 304.
//!
//! The routes are open (`Permission::Open`): these files hold no data. Everything the page
//! shows comes from the API, through the same guard as any other client.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::io::Write as _;
use std::sync::{Arc, LazyLock, Mutex, OnceLock, PoisonError};

use axum::body::{Body, Bytes};
use axum::extract::{Path, RawQuery};
use axum::http::{HeaderMap, HeaderName, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use rust_embed::RustEmbed;
use sha2::{Digest, Sha256};

use crate::error::{ApiError, Kind};

/// The dashboard's files, embedded at build time.
#[derive(RustEmbed)]
#[folder = "dashboard/"]
struct Files;

/// The page's route.
pub const PAGE_ROUTE: &str = "/";
/// The files' route.
pub const ASSETS_ROUTE: &str = "/assets/{*path}";
/// Where the files are served from (the URL prefix the import map versions).
const ASSETS: &str = "/assets/";
/// The page's file.
const INDEX: &str = "index.html";

/// `Cache-Control` of a versioned URL whose version is the file's content.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// `Cache-Control` of the page and of unversioned (or stale-versioned) URLs: revalidate.
const NO_CACHE: &str = "no-cache";
/// Bodies smaller than this are sent as they are (compression would not pay).
const MIN_COMPRESS: usize = 256;
/// Compressed bodies kept before the cache starts over (only a debug build, reading files
/// that are being edited, ever sees more than the files of one build).
const MAX_CACHED: usize = 512;

/// Whether `path` (a route pattern) is one of the dashboard's routes, not the JSON API.
pub fn is_route(path: &str) -> bool {
    path == PAGE_ROUTE || path == ASSETS_ROUTE
}

/// `GET /`: the page.
pub async fn page(headers: HeaderMap) -> Response {
    let Some(page) = Page::build() else {
        return missing(None);
    };
    let csp = policy(Some(&page.import_map_hash));
    let body = cached(page.html.into_bytes().into(), "text/html; charset=utf-8");
    send(&body, &headers, NO_CACHE, &csp).await
}

/// `GET /assets/{*path}`: a file, immutable when asked for by its current version.
pub async fn asset(
    Path(path): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let Some(file) = servable(&path).then(|| Files::get(&path)).flatten() else {
        return missing(Some(&path));
    };
    let hash = file.metadata.sha256_hash();
    let versioned = query
        .as_deref()
        .is_some_and(|q| q.split('&').any(|kv| kv == format!("v={}", version(&hash))));
    let mime = content_type(file.metadata.mimetype());
    let body = cached_with_hash(owned(file.data), hash, &mime);
    let caching = if versioned { IMMUTABLE } else { NO_CACHE };
    send(&body, &headers, caching, &policy(None)).await
}

/// The page as served: `index.html` with versioned references and the import map.
struct Page {
    html: String,
    /// `sha256-<base64>` of the import map's text, for the CSP.
    import_map_hash: String,
}

impl Page {
    fn build() -> Option<Self> {
        let index = Files::get(INDEX)?;
        let mut html = String::from_utf8_lossy(&index.data).into_owned();
        let mut imports = BTreeMap::new();
        for path in Files::iter().filter(|p| p != INDEX && servable(p)) {
            let Some(file) = Files::get(&path) else {
                continue;
            };
            let plain = format!("{ASSETS}{path}");
            let versioned = format!("{plain}?v={}", version(&file.metadata.sha256_hash()));
            for q in ['"', '\''] {
                html = html.replace(&format!("{q}{plain}{q}"), &format!("{q}{versioned}{q}"));
            }
            imports.insert(plain, versioned);
        }
        let map = serde_json::json!({ "imports": imports })
            .to_string()
            .replace('<', "\\u003c");
        let import_map_hash = format!(
            "sha256-{}",
            base64::engine::general_purpose::STANDARD.encode(Sha256::digest(&map))
        );
        let script = format!("<script type=\"importmap\">{map}</script>");
        let at = injection_point(&html);
        html.insert_str(at, &script);
        Some(Self {
            html,
            import_map_hash,
        })
    }
}

/// Where the import map goes: right after `<head ...>` (before any module script), else at
/// the start.
fn injection_point(html: &str) -> usize {
    let lower = html.to_ascii_lowercase();
    let mut from = 0;
    while let Some(i) = lower[from..].find("<head").map(|i| i + from) {
        let next = lower.as_bytes().get(i + 5).copied();
        if matches!(next, Some(b'>' | b' ' | b'\t' | b'\n' | b'\r')) {
            return lower[i..].find('>').map_or(0, |j| i + j + 1);
        }
        from = i + 5;
    }
    0
}

/// Whether a file may be served: no hidden files, no `..`, not the raw page.
fn servable(path: &str) -> bool {
    path != INDEX
        && !path.contains('\\')
        && path
            .split('/')
            .all(|seg| !seg.is_empty() && !seg.starts_with('.'))
}

/// The version of a file in its URL: the first 12 hex digits of its sha256.
fn version(hash: &[u8; 32]) -> String {
    hex::encode(&hash[..6])
}

fn owned(data: Cow<'static, [u8]>) -> Bytes {
    match data {
        Cow::Borrowed(b) => Bytes::from_static(b),
        Cow::Owned(v) => Bytes::from(v),
    }
}

/// The `Content-Type` of a file: its guessed type, text in UTF-8.
fn content_type(mime: &str) -> String {
    let textual =
        mime.starts_with("text/") || mime.ends_with("javascript") || mime.ends_with("json");
    match textual && !mime.contains("charset") {
        true => format!("{mime}; charset=utf-8"),
        false => mime.to_owned(),
    }
}

/// The Content-Security-Policy; the page's allows its import map by hash, nothing else is
/// inline anywhere.
fn policy(import_map_hash: Option<&str>) -> String {
    let script = match import_map_hash {
        Some(h) => format!("script-src 'self' '{h}'"),
        None => "script-src 'self'".to_owned(),
    };
    format!(
        "default-src 'none'; {script}; style-src 'self'; img-src 'self' data:; \
         connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; \
         frame-ancestors 'none'"
    )
}

/// A body as served, with its compressed forms made on first request.
struct Cached {
    bytes: Bytes,
    hash: [u8; 32],
    content_type: String,
    gzip: OnceLock<Bytes>,
    br: OnceLock<Bytes>,
}

/// An encoding the client accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Identity,
    Gzip,
    Brotli,
}

impl Encoding {
    fn token(self) -> &'static str {
        match self {
            Encoding::Identity => "identity",
            Encoding::Gzip => "gzip",
            Encoding::Brotli => "br",
        }
    }
}

/// Bodies by content hash: each is compressed at most once per encoding.
static CACHE: LazyLock<Mutex<HashMap<[u8; 32], Arc<Cached>>>> = LazyLock::new(Default::default);

fn cached(bytes: Bytes, content_type: &str) -> Arc<Cached> {
    let hash: [u8; 32] = Sha256::digest(&bytes).into();
    cached_with_hash(bytes, hash, content_type)
}

fn cached_with_hash(bytes: Bytes, hash: [u8; 32], content_type: &str) -> Arc<Cached> {
    let mut cache = CACHE.lock().unwrap_or_else(PoisonError::into_inner);
    if cache.len() >= MAX_CACHED && !cache.contains_key(&hash) {
        cache.clear();
    }
    cache
        .entry(hash)
        .or_insert_with(|| {
            Arc::new(Cached {
                bytes,
                hash,
                content_type: content_type.to_owned(),
                gzip: OnceLock::new(),
                br: OnceLock::new(),
            })
        })
        .clone()
}

impl Cached {
    fn compressible(&self) -> bool {
        let t = &self.content_type;
        self.bytes.len() >= MIN_COMPRESS
            && (t.starts_with("text/")
                || t.contains("javascript")
                || t.contains("json")
                || t.contains("svg"))
    }

    fn etag(&self, encoding: Encoding) -> String {
        let tag = hex::encode(&self.hash[..16]);
        match encoding {
            Encoding::Identity => format!("\"{tag}\""),
            other => format!("\"{tag}-{}\"", other.token()),
        }
    }

    /// The body in `encoding`, compressing it (off the runtime) the first time.
    async fn encoded(self: &Arc<Self>, encoding: Encoding) -> Option<Bytes> {
        let cell = match encoding {
            Encoding::Identity => return Some(self.bytes.clone()),
            Encoding::Gzip => &self.gzip,
            Encoding::Brotli => &self.br,
        };
        if let Some(done) = cell.get() {
            return Some(done.clone());
        }
        let me = self.clone();
        let made = tokio::task::spawn_blocking(move || compress(encoding, &me.bytes))
            .await
            .ok()??;
        Some(cell.get_or_init(|| made).clone())
    }
}

fn compress(encoding: Encoding, bytes: &[u8]) -> Option<Bytes> {
    let out = match encoding {
        Encoding::Identity => return Some(Bytes::copy_from_slice(bytes)),
        Encoding::Gzip => {
            let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
            enc.write_all(bytes).ok()?;
            enc.finish().ok()?
        }
        Encoding::Brotli => {
            let mut out = Vec::new();
            let params = brotli::enc::BrotliEncoderParams {
                quality: 11,
                lgwin: 22,
                ..Default::default()
            };
            brotli::BrotliCompress(&mut &bytes[..], &mut out, &params).ok()?;
            out
        }
    };
    Some(out.into())
}

/// The best encoding `Accept-Encoding` allows: `br`, then `gzip` (q-values respected).
fn negotiate(headers: &HeaderMap) -> Encoding {
    let accept = headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect::<Vec<_>>()
        .join(",");
    let (mut br, mut gzip, mut any) = (None, None, None);
    for item in accept.split(',') {
        let mut parts = item.split(';');
        let name = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let q = parts
            .find_map(|p| p.trim().strip_prefix("q=").map(str::to_owned))
            .map_or(1.0, |q| q.trim().parse::<f32>().unwrap_or(0.0));
        match name.as_str() {
            "br" => br = Some(q),
            "gzip" | "x-gzip" => gzip = Some(q),
            "*" => any = Some(q),
            _ => {}
        }
    }
    let (br, gzip) = (br.or(any).unwrap_or(0.0), gzip.or(any).unwrap_or(0.0));
    if br > 0.0 && br >= gzip {
        Encoding::Brotli
    } else if gzip > 0.0 {
        Encoding::Gzip
    } else {
        Encoding::Identity
    }
}

/// Whether `If-None-Match` names `etag` (or `*`); weak tags compare by their opaque part.
fn not_modified(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim())
        .any(|t| t == "*" || t.strip_prefix("W/").unwrap_or(t) == etag)
}

/// The answer for `body`: 304 when the client has this representation, else the body in the
/// best accepted encoding.
async fn send(body: &Arc<Cached>, headers: &HeaderMap, caching: &str, csp: &str) -> Response {
    let wanted = match body.compressible() {
        true => negotiate(headers),
        false => Encoding::Identity,
    };
    if not_modified(headers, &body.etag(wanted)) {
        let mut res = Response::new(Body::empty());
        *res.status_mut() = Kind::NotModified.status();
        decorate(&mut res, csp);
        set(&mut res, header::ETAG, &body.etag(wanted));
        set(&mut res, header::CACHE_CONTROL, caching);
        set(&mut res, header::VARY, "Accept-Encoding");
        return res;
    }
    let (encoding, bytes) = match body.encoded(wanted).await {
        Some(b) => (wanted, b),
        None => (Encoding::Identity, body.bytes.clone()),
    };
    let len = bytes.len();
    let mut res = Response::new(Body::from(bytes));
    *res.status_mut() = Kind::Done.status();
    decorate(&mut res, csp);
    set(&mut res, header::CONTENT_TYPE, &body.content_type);
    set(&mut res, header::CONTENT_LENGTH, &len.to_string());
    set(&mut res, header::ETAG, &body.etag(encoding));
    set(&mut res, header::CACHE_CONTROL, caching);
    set(&mut res, header::VARY, "Accept-Encoding");
    if encoding != Encoding::Identity {
        set(&mut res, header::CONTENT_ENCODING, encoding.token());
    }
    res
}

/// The JSON 404 of the API, with the dashboard's headers.
fn missing(path: Option<&str>) -> Response {
    let message = match path {
        Some(p) => format!("no dashboard file {p:?}"),
        None => "the dashboard is not in this build".to_owned(),
    };
    let mut res = ApiError::not_found(message).into_response();
    decorate(&mut res, &policy(None));
    res
}

/// The security headers every dashboard answer carries.
fn decorate(res: &mut Response, csp: &str) {
    set(res, header::CONTENT_SECURITY_POLICY, csp);
    set(res, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(res, header::REFERRER_POLICY, "no-referrer");
    set(res, header::X_FRAME_OPTIONS, "DENY");
}

fn set(res: &mut Response, name: HeaderName, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        res.headers_mut().insert(name, v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(v: &str) -> Encoding {
        let mut h = HeaderMap::new();
        h.insert(header::ACCEPT_ENCODING, HeaderValue::from_str(v).unwrap());
        negotiate(&h)
    }

    #[test]
    fn negotiation_prefers_brotli_and_respects_q_values() {
        assert_eq!(accept("gzip, deflate, br, zstd"), Encoding::Brotli);
        assert_eq!(accept("gzip"), Encoding::Gzip);
        assert_eq!(accept("br;q=0, gzip"), Encoding::Gzip);
        assert_eq!(accept("br;q=0.5, gzip;q=0.8"), Encoding::Gzip);
        assert_eq!(accept("*"), Encoding::Brotli);
        assert_eq!(accept("*;q=0"), Encoding::Identity);
        assert_eq!(accept("identity"), Encoding::Identity);
        assert_eq!(negotiate(&HeaderMap::new()), Encoding::Identity);
    }

    #[test]
    fn the_import_map_goes_first_in_the_head() {
        assert_eq!(injection_point("<html><head><title>x"), 12);
        assert_eq!(injection_point("<head lang=en><script"), 14);
        assert_eq!(injection_point("<header>no head</header>"), 0);
    }

    #[test]
    fn hidden_and_climbing_paths_are_not_served() {
        for p in ["app.js", "views/map.js"] {
            assert!(servable(p), "{p}");
        }
        for p in [
            "index.html",
            ".env",
            "views/.swp",
            "../Cargo.toml",
            "a//b",
            "a\\b",
        ] {
            assert!(!servable(p), "{p}");
        }
    }
}
