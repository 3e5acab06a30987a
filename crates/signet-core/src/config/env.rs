//! The process environment as a value, and the `SIGNET_*` network variables read from it.

use std::collections::HashMap;
use std::path::PathBuf;

use serde::Serialize;

use super::ConfigError;

/// Default TCP port of the daemon (upstream's 3850).
pub const DEFAULT_PORT: u16 = 3850;
/// Default host and bind address.
pub const DEFAULT_HOST: &str = "127.0.0.1";

/// A snapshot of environment variables.
///
/// Config logic reads only from this value, never from the process environment, so tests can
/// build any environment they need and the daemon reads `std::env` exactly once.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EnvVars {
    vars: HashMap<String, String>,
}

impl EnvVars {
    /// Snapshots the current process environment (variables that are not valid UTF-8 are skipped).
    pub fn from_process() -> Self {
        Self {
            vars: std::env::vars_os()
                .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
                .collect(),
        }
    }

    /// The value of `name`, if set (possibly empty).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars.get(name).map(String::as_str)
    }

    /// The value of `name` trimmed, or `None` when unset or blank (upstream treats `""` as unset).
    pub fn non_empty(&self, name: &str) -> Option<&str> {
        self.get(name).map(str::trim).filter(|v| !v.is_empty())
    }

    /// Every variable, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.vars.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Sets `name` to `value` (builder style, for tests and for the binary's overrides).
    pub fn with(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.vars.insert(name.into(), value.into());
        self
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for EnvVars {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        Self {
            vars: iter
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        }
    }
}

/// Where the daemon listens and logs. Comes from `SIGNET_*` variables (and later CLI flags),
/// never from `agent.yaml`; changing it needs a restart.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Network {
    /// Host the CLI and local callers use to reach the daemon (`SIGNET_HOST`).
    pub host: String,
    /// Listen address (`SIGNET_BIND`, default = `host`).
    pub bind: String,
    /// Listen port (`SIGNET_PORT`, default 3850).
    pub port: u16,
    /// Explicit daemon log file (`SIGNET_LOG_FILE`).
    pub log_file: Option<PathBuf>,
    /// Explicit daemon log directory (`SIGNET_LOG_DIR`).
    pub log_dir: Option<PathBuf>,
    /// `SIGNET_ALLOW_INSECURE_BIND=1`: the operator really means to serve local mode (no
    /// authentication) on a non-loopback address. Refused without it; logged at every start.
    pub allow_insecure_bind: bool,
}

impl Default for Network {
    fn default() -> Self {
        Self {
            host: DEFAULT_HOST.to_owned(),
            bind: DEFAULT_HOST.to_owned(),
            port: DEFAULT_PORT,
            log_file: None,
            log_dir: None,
            allow_insecure_bind: false,
        }
    }
}

impl Network {
    /// Reads `SIGNET_HOST`, `SIGNET_BIND`, `SIGNET_PORT`, `SIGNET_LOG_FILE` and `SIGNET_LOG_DIR`.
    ///
    /// Unlike upstream, which silently falls back to 3850, an invalid `SIGNET_PORT` is an error.
    pub fn from_env(env: &EnvVars) -> Result<Self, ConfigError> {
        let host = env
            .non_empty("SIGNET_HOST")
            .map_or_else(|| DEFAULT_HOST.to_owned(), normalize_host);
        let bind = env
            .non_empty("SIGNET_BIND")
            .map_or_else(|| host.clone(), normalize_host);
        let port = match env.get("SIGNET_PORT") {
            Some(raw) if !raw.trim().is_empty() => parse_port(raw)?,
            _ => DEFAULT_PORT,
        };
        Ok(Self {
            host,
            bind,
            port,
            log_file: env.non_empty("SIGNET_LOG_FILE").map(PathBuf::from),
            log_dir: env.non_empty("SIGNET_LOG_DIR").map(PathBuf::from),
            allow_insecure_bind: parse_flag(env, "SIGNET_ALLOW_INSECURE_BIND")?,
        })
    }

    /// Whether the listen address only accepts connections from this machine: a loopback IP
    /// or `localhost`. Anything else (a wildcard, a LAN address, a host name) counts as
    /// reachable from the network.
    pub fn bind_is_loopback(&self) -> bool {
        let bind = self.bind.trim_start_matches('[').trim_end_matches(']');
        bind.eq_ignore_ascii_case("localhost")
            || bind
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
    }

    /// The host the daemon uses to call itself: `bind`, or loopback when bound to a wildcard.
    pub fn internal_self_host(&self) -> &str {
        match self.bind.as_str() {
            "0.0.0.0" | "::" => DEFAULT_HOST,
            bind => bind,
        }
    }
}

/// `localhost` and `::1` become `127.0.0.1`, as upstream does.
fn normalize_host(host: &str) -> String {
    match host {
        "localhost" | "::1" => DEFAULT_HOST.to_owned(),
        other => other.to_owned(),
    }
}

/// A yes/no variable: unset, blank, `0`, `false` or `no` is false; `1`, `true` or `yes` is
/// true; anything else is an error (a flag that weakens security must not be guessed at).
fn parse_flag(env: &EnvVars, name: &str) -> Result<bool, ConfigError> {
    let Some(raw) = env.non_empty(name) else {
        return Ok(false);
    };
    match raw.to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" => Ok(true),
        "0" | "false" | "no" => Ok(false),
        _ => Err(ConfigError::Invalid {
            key: name.to_owned(),
            message: format!("expected 1 or 0 (true or false), got {raw:?}"),
        }),
    }
}

fn parse_port(raw: &str) -> Result<u16, ConfigError> {
    raw.trim()
        .parse::<u16>()
        .ok()
        .filter(|p| *p != 0)
        .ok_or_else(|| ConfigError::Invalid {
            key: "SIGNET_PORT".to_owned(),
            message: format!("expected an integer port between 1 and 65535, got {raw:?}"),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> EnvVars {
        pairs.iter().copied().collect()
    }

    #[test]
    fn defaults_without_variables() {
        assert_eq!(
            Network::from_env(&EnvVars::default()).unwrap(),
            Network::default()
        );
    }

    #[test]
    fn host_is_normalized_and_bind_follows_host() {
        let net = Network::from_env(&env(&[("SIGNET_HOST", "localhost")])).unwrap();
        assert_eq!(
            (net.host.as_str(), net.bind.as_str()),
            ("127.0.0.1", "127.0.0.1")
        );
        let net = Network::from_env(&env(&[("SIGNET_HOST", "10.0.0.2"), ("SIGNET_BIND", "::1")]))
            .unwrap();
        assert_eq!(
            (net.host.as_str(), net.bind.as_str()),
            ("10.0.0.2", "127.0.0.1")
        );
        let net = Network::from_env(&env(&[("SIGNET_BIND", "0.0.0.0")])).unwrap();
        assert_eq!(net.internal_self_host(), "127.0.0.1");
    }

    #[test]
    fn port_is_trimmed_and_validated() {
        let net = Network::from_env(&env(&[
            ("SIGNET_PORT", " 4000 "),
            ("SIGNET_LOG_FILE", "/tmp/d.log"),
        ]))
        .unwrap();
        assert_eq!(net.port, 4000);
        assert_eq!(net.log_file, Some(PathBuf::from("/tmp/d.log")));
        for bad in ["0", "65536", "abc", "-1", "80.5"] {
            let err = Network::from_env(&env(&[("SIGNET_PORT", bad)]))
                .unwrap_err()
                .to_string();
            assert!(err.contains("SIGNET_PORT") && err.contains(bad), "{err}");
        }
    }
}
