//! `/api/auth/*`: the mode, who the caller is, and minting tokens. Fields are declared in
//! the order the daemon sends them (alphabetical).

use serde::{Deserialize, Serialize};

use crate::Extra;

/// Answer of `GET /api/auth/status` (open in every mode).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AuthStatus {
    /// `local`, `team` or `hybrid`.
    pub mode: String,
    #[serde(flatten)]
    #[schema(ignore)]
    pub extra: Extra,
}

/// Answer of `GET /api/auth/whoami`.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Whoami {
    /// Whether the caller presented a valid token.
    pub authenticated: bool,
    /// The token's claims (null for a tokenless local caller).
    pub claims: Option<TokenClaims>,
    /// Whether the caller is trusted as local (local mode, or a really-local hybrid request).
    pub local: bool,
    /// `local`, `team` or `hybrid`.
    pub mode: String,
    #[serde(flatten)]
    #[schema(ignore)]
    pub extra: Extra,
}

/// What a token grants: its subject, role and scope, and when it was issued and expires
/// (seconds since the epoch).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TokenClaims {
    pub exp: i64,
    pub iat: i64,
    /// `admin`, `operator`, `agent` or `readonly`.
    pub role: String,
    pub scope: TokenScope,
    /// Who the token names (rate limits and audit rows use it).
    pub sub: String,
    #[serde(flatten)]
    #[schema(ignore)]
    pub extra: Extra,
}

/// The memories a token may touch; an absent field does not restrict.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TokenScope {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(flatten)]
    #[schema(ignore)]
    pub extra: Extra,
}

/// Body of `POST /api/auth/token` (the daemon validates it field by field and refuses
/// unknown fields).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TokenRequest {
    /// `admin`, `operator`, `agent` or `readonly`.
    pub role: String,
    /// The subject (default `token:<role>`), 1 to 256 printable characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    /// Restricts the token to these memories.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<TokenScope>,
    /// Lifetime in seconds, 1 to 315360000 (default: `auth.defaultTokenTtlSeconds`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl_seconds: Option<u64>,
}

/// Answer of `POST /api/auth/token` (and `signet token create --json`).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MintedToken {
    pub claims: TokenClaims,
    /// `claims.exp` as ISO-8601 UTC.
    pub expires_at: String,
    /// The bearer token.
    pub token: String,
    #[serde(flatten)]
    #[schema(ignore)]
    pub extra: Extra,
}
