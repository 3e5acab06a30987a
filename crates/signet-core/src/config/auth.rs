//! The `auth` section of `agent.yaml`. Read once at startup upstream; a change needs a restart.

use serde::Serialize;

use super::ConfigError;
use super::section::Section;

/// How requests are authenticated.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthMode {
    /// No tokens, no rate limits (upstream default).
    #[default]
    Local,
    /// Every request needs a bearer token.
    Team,
    /// Requests whose Host header is loopback get full access; others need a token.
    Hybrid,
}

impl AuthMode {
    /// The config value (`local`, `team`, `hybrid`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Local => "local",
            Self::Team => "team",
            Self::Hybrid => "hybrid",
        }
    }
}

/// A limit for one operation: at most `max` requests in any `window_ms` window.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RateLimit {
    /// Window length in milliseconds, in [1000, 86400000].
    pub window_ms: u64,
    /// Requests allowed per window, in [1, 1000000].
    pub max: u64,
}

impl RateLimit {
    const fn new(window_ms: u64, max: u64) -> Self {
        Self { window_ms, max }
    }

    fn parse(s: &Section<'_>, default: Self) -> Result<Self, ConfigError> {
        Ok(Self {
            window_ms: s
                .int("windowMs", 1_000..=86_400_000)?
                .unwrap_or(default.window_ms),
            max: s.int("max", 1..=1_000_000)?.unwrap_or(default.max),
        })
    }
}

/// Per-actor limits on destructive operations (`auth.rateLimits`), applied in team and hybrid
/// modes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RateLimits {
    /// `DELETE /api/memory/:id` (default 30 per minute).
    pub forget: RateLimit,
    /// `PATCH /api/memory/:id` and `POST /api/memory/modify` (default 60 per minute).
    pub modify: RateLimit,
    /// `POST /api/memory/forget` (default 5 per minute).
    pub batch_forget: RateLimit,
    /// Hard deletes (default 3 per minute; unused upstream).
    pub force_delete: RateLimit,
    /// `POST /api/auth/token` (default 10 per minute).
    pub admin: RateLimit,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            forget: RateLimit::new(60_000, 30),
            modify: RateLimit::new(60_000, 60),
            batch_forget: RateLimit::new(60_000, 5),
            force_delete: RateLimit::new(60_000, 3),
            admin: RateLimit::new(60_000, 10),
        }
    }
}

/// The operations under `auth.rateLimits`.
const OPERATIONS: [&str; 5] = ["forget", "modify", "batchForget", "forceDelete", "admin"];

impl RateLimits {
    fn parse(s: &Section<'_>) -> Result<Self, ConfigError> {
        let d = Self::default();
        let limit = |key: &str, default: RateLimit| {
            let child = s.child(key)?;
            let limit = RateLimit::parse(&child, default)?;
            child.finish_strict(&["windowMs", "max"])?;
            Ok::<_, ConfigError>(limit)
        };
        Ok(Self {
            forget: limit("forget", d.forget)?,
            modify: limit("modify", d.modify)?,
            batch_forget: limit("batchForget", d.batch_forget)?,
            force_delete: limit("forceDelete", d.force_delete)?,
            admin: limit("admin", d.admin)?,
        })
    }
}

/// Authentication settings (`auth`).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthSettings {
    /// Authentication mode (`auth.mode`).
    pub mode: AuthMode,
    /// Lifetime of tokens minted without an explicit TTL (`defaultTokenTtlSeconds`, 7 days).
    pub default_token_ttl_seconds: u64,
    /// Lifetime of hook session tokens (`sessionTokenTtlSeconds`, 24 hours).
    pub session_token_ttl_seconds: u64,
    /// Per-operation rate limits (`rateLimits`).
    pub rate_limits: RateLimits,
}

impl Default for AuthSettings {
    fn default() -> Self {
        Self {
            mode: AuthMode::Local,
            default_token_ttl_seconds: 604_800,
            session_token_ttl_seconds: 86_400,
            rate_limits: RateLimits::default(),
        }
    }
}

/// TTLs are limited to ten years.
const TTL_RANGE: std::ops::RangeInclusive<u64> = 1..=315_360_000;

/// The keys of `auth`. Unknown keys there are errors, not warnings: `auth: {mdoe: team}` must
/// not start an open daemon.
pub(crate) const AUTH_KEYS: [&str; 4] = [
    "mode",
    "defaultTokenTtlSeconds",
    "sessionTokenTtlSeconds",
    "rateLimits",
];

impl AuthSettings {
    /// Parses `auth`; any unknown key in it (or under `rateLimits`) is an error.
    pub(crate) fn parse(s: &Section<'_>) -> Result<Self, ConfigError> {
        let d = Self::default();
        let modes = [
            ("local", AuthMode::Local),
            ("team", AuthMode::Team),
            ("hybrid", AuthMode::Hybrid),
        ];
        let limits = s.child("rateLimits")?;
        let rate_limits = RateLimits::parse(&limits)?;
        limits.finish_strict(&OPERATIONS)?;
        Ok(Self {
            mode: s.choice("mode", &modes)?.unwrap_or(d.mode),
            default_token_ttl_seconds: s
                .int("defaultTokenTtlSeconds", TTL_RANGE)?
                .unwrap_or(d.default_token_ttl_seconds),
            session_token_ttl_seconds: s
                .int("sessionTokenTtlSeconds", TTL_RANGE)?
                .unwrap_or(d.session_token_ttl_seconds),
            rate_limits,
        })
    }
}
