//! The auth gate: from credentials to a [`Caller`], and from a caller to yes or no.

use std::time::Instant;

use serde_json::{Map, Value};
use signet_api::{Extra, MintedToken, TokenClaims, TokenScope};

use super::{
    Claims, Operation, Permission, RateLimiter, RetryAfter, Role, Scope, TokenError, TokenSigner,
};
use crate::config::{AuthMode, AuthSettings};

/// What a request presents, as the server read it off the wire.
#[derive(Debug, Clone, Copy, Default)]
pub struct Credentials<'a> {
    /// The `Authorization` header, if any (the whole value).
    pub authorization: Option<&'a str>,
    /// Whether the request is really local: a loopback `Host` **and** a loopback TCP peer.
    pub local: bool,
    /// The `x-signet-actor` header (names tokenless local callers for rate limits).
    pub actor_header: Option<&'a str>,
}

/// Who is calling, once authenticated.
#[derive(Debug, Clone, PartialEq)]
pub enum Caller {
    /// Local mode, or a hybrid-mode request from this machine without a token: full access.
    Local { actor: Option<String> },
    /// A verified token.
    Token(Claims),
}

impl Caller {
    /// The claims, for a token caller.
    pub fn claims(&self) -> Option<&Claims> {
        match self {
            Self::Token(c) => Some(c),
            Self::Local { .. } => None,
        }
    }

    /// The scope to enforce: none for local callers and admins (admin bypasses scope).
    pub fn scope(&self) -> Scope {
        match self {
            Self::Token(c) if c.role != Role::Admin => c.scope.clone(),
            _ => Scope::unrestricted(),
        }
    }

    /// The name rate limits and audit rows use: the token's `sub`, else the actor header.
    pub fn actor(&self) -> &str {
        match self {
            Self::Token(c) => &c.sub,
            Self::Local { actor } => actor.as_deref().unwrap_or("anonymous"),
        }
    }
}

/// Why a request is not authenticated (`NoSecret`: the daemon's fault, not the caller's).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AuthFailure {
    #[error("authentication required")]
    Missing,
    #[error("authorization header must be 'Bearer <token>'")]
    BadHeader,
    #[error("{0}")]
    Invalid(TokenError),
    #[error("auth secret not configured")]
    NoSecret,
}

/// Why an authenticated caller may not do something (`Forbidden`), or why a mint request
/// is refused (`Invalid`).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Denied {
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    Invalid(String),
}

/// A request to mint a token (`POST /api/auth/token`, `signet token create`).
#[derive(Debug, Clone, PartialEq)]
pub struct MintRequest {
    pub role: Role,
    pub sub: Option<String>,
    pub scope: Scope,
    pub ttl_seconds: Option<u64>,
}

/// Longest lifetime a minted token may have (ten years, as the config allows).
const MAX_TTL: u64 = 315_360_000;

impl TryFrom<&Value> for MintRequest {
    type Error = Denied;

    /// Reads `{role, sub?, scope?, ttlSeconds?}` (the body of [`signet_api::TokenRequest`]),
    /// refusing unknown fields; each refusal names the field.
    fn try_from(body: &Value) -> Result<Self, Denied> {
        let bad = |m: &str| Denied::Invalid(m.to_owned());
        let obj = body
            .as_object()
            .ok_or_else(|| bad("invalid request body"))?;
        for key in obj.keys() {
            if !["role", "sub", "scope", "ttlSeconds"].contains(&key.as_str()) {
                return Err(Denied::Invalid(format!("unknown field '{key}'")));
            }
        }
        let role = obj
            .get("role")
            .and_then(Value::as_str)
            .and_then(Role::parse)
            .ok_or_else(|| bad("role must be one of: admin, operator, agent, readonly"))?;
        let sub = match obj.get("sub") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(valid_sub(s)?),
            Some(_) => return Err(bad("sub must be a string")),
        };
        let scope = match obj.get("scope") {
            None | Some(Value::Null) => Scope::default(),
            Some(Value::Object(m)) => scope_from(m)?,
            Some(_) => return Err(bad("scope must be an object")),
        };
        let ttl_seconds = match obj.get("ttlSeconds") {
            None | Some(Value::Null) => None,
            Some(v) => Some(
                v.as_u64()
                    .filter(|t| (1..=MAX_TTL).contains(t))
                    .ok_or_else(|| {
                        bad("ttlSeconds must be a whole number of seconds from 1 to 315360000")
                    })?,
            ),
        };
        Ok(Self {
            role,
            sub,
            scope,
            ttl_seconds,
        })
    }
}

impl From<&Scope> for TokenScope {
    fn from(s: &Scope) -> Self {
        Self {
            agent: s.agent.clone(),
            project: s.project.clone(),
            user: s.user.clone(),
            extra: Extra::new(),
        }
    }
}

impl From<&Claims> for TokenClaims {
    fn from(c: &Claims) -> Self {
        Self {
            exp: c.exp,
            iat: c.iat,
            role: c.role.as_str().to_owned(),
            scope: (&c.scope).into(),
            sub: c.sub.clone(),
            extra: Extra::new(),
        }
    }
}

impl Claims {
    /// The answer of a mint of `token` (whose claims these are): the token, the claims and
    /// when it expires (ISO-8601).
    pub fn minted(&self, token: String) -> MintedToken {
        let expires_at = chrono::DateTime::from_timestamp(self.exp, 0)
            .map(signet_model::time::format_iso)
            .unwrap_or_else(|| self.exp.to_string());
        MintedToken {
            claims: self.into(),
            expires_at,
            token,
            extra: Extra::new(),
        }
    }
}

fn valid_sub(s: &str) -> Result<String, Denied> {
    let s = s.trim();
    if s.is_empty() || s.len() > 256 || s.chars().any(char::is_control) {
        return Err(Denied::Invalid(
            "sub must be 1 to 256 printable characters".into(),
        ));
    }
    Ok(s.to_owned())
}

fn scope_from(m: &Map<String, Value>) -> Result<Scope, Denied> {
    let mut scope = Scope::default();
    for (k, v) in m {
        let slot = match k.as_str() {
            "project" => &mut scope.project,
            "agent" => &mut scope.agent,
            "user" => &mut scope.user,
            _ => {
                return Err(Denied::Invalid(format!(
                    "scope.{k} is not a scope field (project, agent, user)"
                )));
            }
        };
        *slot = match v {
            Value::Null => None,
            Value::String(s) if !s.trim().is_empty() && s.len() <= 256 => Some(s.trim().to_owned()),
            _ => {
                return Err(Denied::Invalid(format!(
                    "scope.{k} must be a non-empty string"
                )));
            }
        };
    }
    Ok(scope)
}

/// The daemon's auth policy: mode, signer, limits. Built once at start (auth settings need a
/// restart, as upstream).
pub struct AuthGate {
    mode: AuthMode,
    signer: Option<TokenSigner>,
    limiter: RateLimiter,
    default_ttl: u64,
}

impl AuthGate {
    /// A gate for `settings`, signing with `secret` when there is one.
    pub fn new(settings: &AuthSettings, secret: Option<&[u8]>) -> Self {
        Self {
            mode: settings.mode,
            signer: secret.map(TokenSigner::new),
            limiter: RateLimiter::new(settings.rate_limits),
            default_ttl: settings.default_token_ttl_seconds,
        }
    }

    /// The mode in force.
    pub fn mode(&self) -> AuthMode {
        self.mode
    }

    /// Who the request is, or why it is refused.
    pub fn authenticate(&self, c: Credentials<'_>, now: i64) -> Result<Caller, AuthFailure> {
        let local = || Caller::Local {
            actor: c.actor_header.map(str::to_owned),
        };
        match self.mode {
            AuthMode::Local => return Ok(local()),
            AuthMode::Hybrid if c.local && c.authorization.is_none() => return Ok(local()),
            _ => {}
        }
        let header = c.authorization.ok_or(AuthFailure::Missing)?;
        // The scheme is case-insensitive (RFC 9110 §11.1): `bearer`, `BEARER` work too.
        let token = match header.trim().split_once(' ') {
            Some((scheme, t)) if scheme.eq_ignore_ascii_case("bearer") => t.trim(),
            _ => return Err(AuthFailure::BadHeader),
        };
        if token.is_empty() || token.contains(char::is_whitespace) {
            return Err(AuthFailure::BadHeader);
        }
        let signer = self.signer.as_ref().ok_or(AuthFailure::NoSecret)?;
        signer
            .verify(token, now)
            .map(Caller::Token)
            .map_err(AuthFailure::Invalid)
    }

    /// Whether `caller` holds `p`; the refusal names the role and the permission.
    pub fn authorize(&self, caller: &Caller, p: Permission) -> Result<(), Denied> {
        match caller {
            Caller::Local { .. } => Ok(()),
            Caller::Token(c) if c.role.grants(p) => Ok(()),
            Caller::Token(c) => Err(Denied::Forbidden(format!(
                "role '{}' lacks '{}' permission",
                c.role.as_str(),
                p.as_str()
            ))),
        }
    }

    /// Admits one rate-limited operation (no limits in local mode).
    pub fn admit(&self, caller: &Caller, op: Operation, now: Instant) -> Result<(), RetryAfter> {
        if self.mode == AuthMode::Local {
            return Ok(());
        }
        self.limiter.admit(caller.actor(), op, now)
    }

    /// Mints a token; the `sub` asked for is kept (upstream forces `token:<role>`).
    pub fn mint(&self, req: MintRequest, now: i64) -> Result<(String, Claims), Denied> {
        let signer = self.signer.as_ref().ok_or_else(|| {
            Denied::Invalid(
                "auth secret not available (local mode with no .daemon/auth-secret yet)".into(),
            )
        })?;
        Ok(mint_with(signer, req, now, self.default_ttl))
    }
}

/// Mints a token with `signer` (also used by `signet token create`, which reads the secret
/// file directly).
pub fn mint_with(
    signer: &TokenSigner,
    req: MintRequest,
    now: i64,
    default_ttl: u64,
) -> (String, Claims) {
    let ttl = req.ttl_seconds.unwrap_or(default_ttl).clamp(1, MAX_TTL) as i64;
    let claims = Claims {
        sub: req
            .sub
            .unwrap_or_else(|| format!("token:{}", req.role.as_str())),
        scope: req.scope,
        role: req.role,
        iat: now,
        exp: now + ttl,
    };
    (signer.sign(&claims), claims)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn gate(mode: AuthMode) -> AuthGate {
        let settings = AuthSettings {
            mode,
            ..AuthSettings::default()
        };
        AuthGate::new(&settings, Some(&[1u8; 32]))
    }

    fn creds(authorization: Option<&str>, local: bool) -> Credentials<'_> {
        Credentials {
            authorization,
            local,
            actor_header: None,
        }
    }

    #[test]
    fn team_mode_needs_a_valid_bearer_token() {
        let g = gate(AuthMode::Team);
        let req = MintRequest::try_from(&json!({"role": "agent", "sub": "ci"})).unwrap();
        let (token, _) = g.mint(req, 100).unwrap();
        assert_eq!(
            g.authenticate(creds(None, true), 100),
            Err(AuthFailure::Missing)
        );
        let header = format!("Bearer {token}");
        let caller = g.authenticate(creds(Some(&header), false), 100).unwrap();
        assert_eq!(caller.actor(), "ci");
        // The scheme is case-insensitive and extra spaces around the token are fine.
        for good in [format!("bearer {token}"), format!("BEARER  {token} ")] {
            let caller = g.authenticate(creds(Some(&good), false), 100).unwrap();
            assert_eq!(caller.actor(), "ci", "{good}");
        }
        for bad in [
            token.as_str(),
            &format!("Basic {token}"),
            "Bearer ",
            &format!("Bearer {token} extra"),
        ] {
            assert_eq!(
                g.authenticate(creds(Some(bad), false), 100),
                Err(AuthFailure::BadHeader)
            );
        }
        assert!(g.authorize(&caller, Permission::Remember).is_ok());
        let e = g.authorize(&caller, Permission::Admin).unwrap_err();
        assert_eq!(e.to_string(), "role 'agent' lacks 'admin' permission");
    }

    #[test]
    fn hybrid_mode_trusts_only_really_local_requests() {
        let g = gate(AuthMode::Hybrid);
        assert!(matches!(
            g.authenticate(creds(None, true), 1),
            Ok(Caller::Local { .. })
        ));
        assert_eq!(
            g.authenticate(creds(None, false), 1),
            Err(AuthFailure::Missing)
        );
        assert!(matches!(
            g.authenticate(creds(Some("Bearer x.y"), true), 1),
            Err(AuthFailure::Invalid(_))
        ));
    }

    #[test]
    fn mint_input_is_validated() {
        for (body, want) in [
            (json!({}), "role must be one of"),
            (json!({"role": "root"}), "role must be one of"),
            (json!({"role": "agent", "ttlSeconds": -1}), "ttlSeconds"),
            (json!({"role": "agent", "ttlSeconds": 1.5}), "ttlSeconds"),
            (
                json!({"role": "agent", "scope": {"tenant": "x"}}),
                "scope.tenant",
            ),
            (
                json!({"role": "agent", "scope": {"project": ""}}),
                "scope.project",
            ),
            (json!({"role": "agent", "sub": ""}), "sub must be"),
            (json!({"role": "agent", "admin": true}), "unknown field"),
            (json!([1]), "invalid request body"),
        ] {
            let e = MintRequest::try_from(&body).unwrap_err().to_string();
            assert!(e.contains(want), "{body}: {e}");
        }
        let r = MintRequest::try_from(&json!({"role": "readonly"})).unwrap();
        let (_, c) = gate(AuthMode::Team).mint(r, 10).unwrap();
        assert_eq!((c.sub.as_str(), c.exp), ("token:readonly", 10 + 604_800));
    }
}
