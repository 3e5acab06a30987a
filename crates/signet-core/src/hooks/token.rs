//! Session tokens: what a hook call authenticated with a token may ask for at session start
//! (team and hybrid mode). The guide promises "session tokens (issued by hook endpoints)";
//! upstream parses `auth.sessionTokenTtlSeconds` and never issues one.

use crate::auth::{AuthGate, Caller, Claims, MintRequest, Role};
use crate::error::{CoreError, Result};

/// A session token for `caller`, or `None` for a caller without a token (local mode, or a
/// local hybrid-mode call: it needs none).
///
/// Never more than the caller holds: the role is the caller's, capped at `agent` (the hooks
/// need no more); the scope is the caller's, with `project` pinned to the session's project
/// when the caller's scope leaves it open; the expiry is `ttl_seconds` from `now`, and never
/// after the caller's own token expires. The `sub` is the caller's, so rate limits and audit
/// rows stay with the agent.
pub fn session_token(
    gate: &AuthGate,
    caller: &Caller,
    project: Option<&str>,
    ttl_seconds: u64,
    now: i64,
) -> Result<Option<(String, Claims)>> {
    let Caller::Token(c) = caller else {
        return Ok(None);
    };
    let role = match c.role {
        Role::Admin | Role::Operator => Role::Agent,
        r => r,
    };
    let mut scope = c.scope.clone();
    if scope.project.is_none() {
        scope.project = project.map(str::to_owned);
    }
    let left = u64::try_from(c.exp - now).unwrap_or(0);
    if left == 0 {
        return Err(CoreError::Forbidden(
            "the caller's token has expired".into(),
        ));
    }
    let req = MintRequest {
        role,
        sub: Some(c.sub.clone()),
        scope,
        ttl_seconds: Some(ttl_seconds.min(left)),
    };
    gate.mint(req, now)
        .map(Some)
        .map_err(|e| CoreError::Internal(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Scope;
    use crate::config::{AuthMode, AuthSettings};

    fn gate() -> AuthGate {
        let settings = AuthSettings {
            mode: AuthMode::Team,
            ..AuthSettings::default()
        };
        AuthGate::new(&settings, Some(b"0123456789abcdef0123456789abcdef"))
    }

    fn caller(role: Role, project: Option<&str>, exp: i64) -> Caller {
        Caller::Token(Claims {
            sub: "claude-code:acme".into(),
            scope: Scope {
                project: project.map(str::to_owned),
                ..Scope::default()
            },
            role,
            iat: 0,
            exp,
        })
    }

    #[test]
    fn a_session_token_is_never_wider_longer_or_stronger_than_its_caller() {
        let g = gate();
        let (_, c) = session_token(
            &g,
            &caller(Role::Admin, None, 1_000_000),
            Some("/p"),
            86_400,
            100,
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            (c.role, c.scope.project.as_deref()),
            (Role::Agent, Some("/p"))
        );
        assert_eq!((c.sub.as_str(), c.exp), ("claude-code:acme", 100 + 86_400));
        let scoped = caller(Role::Readonly, Some("acme"), 1_000);
        let (_, c) = session_token(&g, &scoped, Some("/other"), 86_400, 100)
            .unwrap()
            .unwrap();
        assert_eq!(
            (c.role, c.scope.project.as_deref()),
            (Role::Readonly, Some("acme"))
        );
        assert_eq!(c.exp, 1_000, "not after the caller's own expiry");
        let local = Caller::Local { actor: None };
        assert_eq!(session_token(&g, &local, None, 60, 0).unwrap(), None);
        assert!(session_token(&g, &caller(Role::Agent, None, 50), None, 60, 100).is_err());
    }
}
