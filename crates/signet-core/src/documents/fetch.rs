//! The fetcher of `url` documents, behind the SSRF guard: `http`/`https` only, no
//! credentials in the URL, no proxy from the environment, at most `max_bytes` read, a
//! timeout, and redirects followed by hand (each hop checked again). The client's DNS
//! resolver is [`GuardedResolver`]: it refuses a host when any address it resolves to is not
//! public, and the client connects to exactly the addresses it checked, so a second DNS
//! answer (rebinding) never reaches a socket. A literal IP in the URL is checked directly.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use reqwest::Url;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use super::guard::refused_ip;

/// Redirects followed at most.
pub const MAX_REDIRECTS: usize = 5;
/// The whole fetch (each hop) times out after this.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(30);

/// What a URL answered.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// The body as text (invalid UTF-8 replaced).
    pub body: String,
    /// The answer's `Content-Type`, if any.
    pub content_type: Option<String>,
    /// The URL that answered (after redirects).
    pub url: String,
}

/// Fetches documents. Built per job from the settings in force.
pub struct Fetcher {
    client: reqwest::Client,
    allow_private: bool,
    max_bytes: u64,
}

impl Fetcher {
    /// A fetcher refusing non-public addresses unless `allow_private`.
    pub fn new(allow_private: bool, max_bytes: u64, timeout: Duration) -> Result<Self, String> {
        let client = reqwest::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(timeout)
            .dns_resolver(GuardedResolver { allow_private })
            .user_agent(concat!("signet/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        Ok(Self {
            client,
            allow_private,
            max_bytes,
        })
    }

    /// Fetches `url`, following redirects, checking every hop.
    pub async fn fetch(&self, url: &str) -> Result<Fetched, String> {
        let mut url = check_url(url, self.allow_private)?;
        for _ in 0..=MAX_REDIRECTS {
            let res = self
                .client
                .get(url.clone())
                .send()
                .await
                .map_err(|e| format!("fetching {url}: {}", chain(&e)))?;
            if res.status().is_redirection() {
                let location = res
                    .headers()
                    .get(reqwest::header::LOCATION)
                    .and_then(|v| v.to_str().ok())
                    .ok_or_else(|| format!("{url} redirected without a Location"))?;
                let next = url
                    .join(location)
                    .map_err(|e| format!("{url} redirected to an invalid URL: {e}"))?;
                url = check_url(next.as_str(), self.allow_private)?;
                continue;
            }
            if !res.status().is_success() {
                return Err(format!("{url} answered {}", res.status()));
            }
            return self.read(url, res).await;
        }
        Err(format!("more than {MAX_REDIRECTS} redirects"))
    }

    /// Reads the body, refusing it past `max_bytes`.
    async fn read(&self, url: Url, mut res: reqwest::Response) -> Result<Fetched, String> {
        let too_large = || format!("{url} is larger than {} bytes", self.max_bytes);
        if res.content_length().is_some_and(|n| n > self.max_bytes) {
            return Err(too_large());
        }
        let content_type = res
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let mut body = Vec::new();
        while let Some(piece) = res
            .chunk()
            .await
            .map_err(|e| format!("reading {url}: {}", chain(&e)))?
        {
            if (body.len() + piece.len()) as u64 > self.max_bytes {
                return Err(too_large());
            }
            body.extend_from_slice(&piece);
        }
        Ok(Fetched {
            body: String::from_utf8_lossy(&body).into_owned(),
            content_type,
            url: url.to_string(),
        })
    }
}

/// The URL, if the guard lets it through: `http`/`https`, a host, no credentials, and a
/// literal IP host only when public (or `allow_private`).
pub fn check_url(raw: &str, allow_private: bool) -> Result<Url, String> {
    let url = Url::parse(raw.trim()).map_err(|e| format!("invalid URL {raw:?}: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "only http and https URLs are fetched, not {}:",
            url.scheme()
        ));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("URLs with credentials are not fetched".into());
    }
    let Some(host) = url.host_str().filter(|h| !h.is_empty()) else {
        return Err(format!("{raw:?} has no host"));
    };
    let ip: Option<IpAddr> = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse()
        .ok();
    if let (Some(ip), false) = (ip, allow_private)
        && let Some(why) = refused_ip(ip)
    {
        return Err(refusal(&ip.to_string(), ip, why));
    }
    Ok(url)
}

fn refusal(host: &str, ip: IpAddr, why: &str) -> String {
    format!(
        "refused: {host} is {ip}, a {why} address (documents.allowPrivateUrls allows private \
         addresses)"
    )
}

/// The DNS resolver of the fetcher's client: the system's answer, refused whole when any
/// address in it is not public.
struct GuardedResolver {
    allow_private: bool,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        let allow = self.allow_private;
        Box::pin(async move {
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if addrs.is_empty() {
                return Err(format!("{host} has no addresses").into());
            }
            if !allow {
                for a in &addrs {
                    if let Some(why) = refused_ip(a.ip()) {
                        return Err(refusal(&host, a.ip(), why).into());
                    }
                }
            }
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// An error and its sources, joined (reqwest's own message hides the cause).
fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_http_urls_pass_the_check() {
        assert!(check_url("https://93.184.216.34/x", false).is_ok());
        assert!(check_url("http://example.com/", false).is_ok());
        for bad in [
            "http://127.0.0.1:8080/",
            "http://[::1]/",
            "http://[::ffff:10.0.0.1]/",
            "http://169.254.169.254/latest/meta-data",
            "http://0.0.0.0/",
            "file:///etc/passwd",
            "ftp://example.com/",
            "http://user:pw@example.com/",
            "not a url",
        ] {
            assert!(check_url(bad, false).is_err(), "{bad} must be refused");
        }
        assert!(check_url("http://127.0.0.1:8080/", true).is_ok());
    }

    #[tokio::test]
    async fn a_name_resolving_to_loopback_is_refused() {
        let fetcher = Fetcher::new(false, 1024, Duration::from_secs(5)).unwrap();
        let err = fetcher.fetch("http://localhost:9/").await.unwrap_err();
        assert!(err.contains("refused") && err.contains("loopback"), "{err}");
    }
}
