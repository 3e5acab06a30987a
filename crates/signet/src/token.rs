//! `signet token create|inspect`: mint a token straight from the workspace's secret file (how
//! the first admin token of a team deployment is made, with no token to ask the API with), and
//! decode one for troubleshooting.

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use serde_json::json;
use signet_core::auth::{self, Claims, MintRequest, Scope, TokenError, TokenSigner};
use signet_core::config::{AuthMode, EnvVars, Settings, resolve_workspace};

use crate::cli::Global;
use crate::exit::Exit;
use crate::output::{outln, print_json};

#[derive(Debug, Args)]
pub struct TokenArgs {
    #[command(subcommand)]
    pub command: TokenCommand,
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Mint a token from `$WORKSPACE/.daemon/auth-secret` (created if missing). Run it on the
    /// daemon's host; prints the token on stdout.
    Create(CreateArgs),
    /// Decode a token's claims and check its times; with the workspace's secret at hand, also
    /// check its signature.
    #[command(
        after_help = "Exit status: 0 the token is valid now; 1 it is not (expired, not yet \
valid, bad signature, or not a signet token);\n3 its times are fine but its signature was not \
checked (no readable secret in this workspace)."
    )]
    Inspect {
        /// The token (or `Bearer <token>`, the scheme word in any case).
        token: String,
    },
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    /// admin, operator, agent or readonly.
    #[arg(long)]
    pub role: String,
    /// Who the token is for (rate limits and audit rows use it). Default: `token:<role>`.
    #[arg(long)]
    pub sub: Option<String>,
    /// Lifetime: seconds, or a number with s, m, h or d. Default: auth.defaultTokenTtlSeconds.
    #[arg(long, value_name = "DURATION")]
    pub ttl: Option<String>,
    /// Restrict the token: project=NAME, agent=NAME or user=NAME (repeatable).
    #[arg(long = "scope", value_name = "FIELD=VALUE")]
    pub scope: Vec<String>,
}

/// Runs `signet token ...`.
pub fn run(g: &Global, args: TokenArgs) -> Result<()> {
    let env = EnvVars::from_process();
    let workspace = resolve_workspace(&env).context("resolving the workspace")?;
    match args.command {
        TokenCommand::Create(c) => create(g, &workspace, &env, c),
        TokenCommand::Inspect { token } => inspect(g, &workspace, &token),
    }
}

fn create(g: &Global, ws: &std::path::Path, env: &EnvVars, c: CreateArgs) -> Result<()> {
    let settings = Settings::load(ws, env)
        .context("loading the configuration")?
        .settings;
    let mut body = json!({"role": c.role});
    if let Some(sub) = c.sub {
        body["sub"] = sub.into();
    }
    if let Some(ttl) = c.ttl.as_deref() {
        body["ttlSeconds"] = parse_ttl(ttl)?.into();
    }
    body["scope"] = scope_json(&c.scope)?;
    let req = MintRequest::try_from(&body).map_err(|e| anyhow::anyhow!("{e}"))?;
    let (secret, created) = auth::load_or_create_secret(ws)?;
    if created {
        eprintln!("created {}", auth::secret_path(ws).display());
    }
    if settings.auth.mode == AuthMode::Local {
        eprintln!(
            "note: auth.mode is local in this workspace; the daemon checks tokens only in team or hybrid mode"
        );
    }
    let now = chrono::Utc::now().timestamp();
    let (token, claims) = auth::mint_with(
        &TokenSigner::new(&secret),
        req,
        now,
        settings.auth.default_token_ttl_seconds,
    );
    if g.json {
        print_json(&claims.minted(token))
    } else {
        outln!("{token}")?;
        Ok(())
    }
}

fn inspect(g: &Global, ws: &std::path::Path, raw: &str) -> Result<()> {
    let token = strip_bearer(raw);
    let claims = auth::decode_claims_unverified(token)
        .map_err(|e| anyhow::anyhow!("not a signet token: {e}"))?;
    let now = chrono::Utc::now().timestamp();
    let secret = auth::read_secret(ws).ok();
    let check = Check::new(secret.as_deref(), token, &claims, now);
    let status = check.status();
    if g.json {
        print_json(&json!({
            "claims": claims, "issuedAt": iso(claims.iat), "expiresAt": iso(claims.exp),
            "expired": check.times == Err(TokenError::Expired),
            "signature": check.signature_word(), "status": status.as_str(),
            "exitCode": status.exit_code(),
        }))?;
    } else {
        outln!("sub:       {}", claims.sub)?;
        outln!("role:      {}", claims.role.as_str())?;
        outln!("scope:     {}", serde_json::to_string(&claims.scope)?)?;
        outln!("issued:    {}", iso(claims.iat))?;
        outln!(
            "expires:   {} ({})",
            iso(claims.exp),
            relative(claims.exp - now)
        )?;
        outln!("signature: {}", check.signature_text())?;
        outln!("status:    {}", check.status_text(&claims, now))?;
    }
    Exit::with_code(status.exit_code())
}

/// The token without a `Bearer ` prefix (the scheme word in any case).
fn strip_bearer(raw: &str) -> &str {
    let raw = raw.trim();
    match raw.split_once(char::is_whitespace) {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") => rest.trim(),
        _ => raw,
    }
}

/// `in 3h 0m` or `3h 0m ago`.
fn relative(secs: i64) -> String {
    let span = crate::output::uptime(secs.unsigned_abs() as f64);
    if secs > 0 {
        format!("in {span}")
    } else {
        format!("{span} ago")
    }
}

/// What `inspect` learnt about a token: its signature and its times are separate facts.
#[derive(Debug, PartialEq, Eq)]
struct Check {
    /// The MAC and payload checked against the workspace's secret; `None` without a secret.
    signature: Option<Result<(), TokenError>>,
    /// The daemon's time rules at `now`: `Expired`, `NotYetValid` or fine.
    times: Result<(), TokenError>,
}

impl Check {
    fn new(secret: Option<&[u8]>, token: &str, claims: &Claims, now: i64) -> Self {
        // Verified at the token's own issue time, where no time rule can fail, the answer is
        // about the signature (and payload shape) alone.
        let signature = secret.map(|s| TokenSigner::new(s).verify(token, claims.iat).map(drop));
        // The same claims signed with a throwaway key and verified at `now`: exactly the
        // daemon's time rules (clock skew included), whoever signed the token.
        let probe = TokenSigner::new(b"time rules only");
        let times = probe.verify(&probe.sign(claims), now).map(drop);
        Self { signature, times }
    }

    /// `valid`, `invalid` or `not checked`, for `--json`.
    fn signature_word(&self) -> &'static str {
        match &self.signature {
            Some(Ok(())) => "valid",
            Some(Err(_)) => "invalid",
            None => "not checked",
        }
    }

    fn signature_text(&self) -> String {
        match &self.signature {
            Some(Ok(())) => "valid".to_owned(),
            Some(Err(TokenError::InvalidSignature)) => {
                "invalid (not signed with this workspace's secret)".to_owned()
            }
            Some(Err(e)) => format!("invalid ({e})"),
            None => "not checked (no readable secret in this workspace)".to_owned(),
        }
    }

    fn status(&self) -> Status {
        match (&self.signature, &self.times) {
            (Some(Err(_)), _) => Status::BadSignature,
            (_, Err(TokenError::Expired)) => Status::Expired,
            (_, Err(_)) => Status::NotYetValid,
            (None, Ok(())) => Status::Unverified,
            (Some(Ok(())), Ok(())) => Status::Valid,
        }
    }

    fn status_text(&self, claims: &Claims, now: i64) -> String {
        match self.status() {
            Status::Valid => "valid".to_owned(),
            Status::Expired => {
                format!(
                    "expired {} ({})",
                    iso(claims.exp),
                    relative(claims.exp - now)
                )
            }
            Status::NotYetValid => format!(
                "not yet valid: issued {} ({}), later than this clock allows",
                iso(claims.iat),
                relative(claims.iat - now)
            ),
            Status::BadSignature => "not valid: the daemon would refuse it".to_owned(),
            Status::Unverified => {
                "unverified: its times are fine, but the signature was not checked".to_owned()
            }
        }
    }
}

/// Whether the daemon would accept the token now, as far as `inspect` can tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Valid,
    Expired,
    NotYetValid,
    BadSignature,
    /// Times fine, no secret to check the signature with.
    Unverified,
}

impl Status {
    fn as_str(self) -> &'static str {
        match self {
            Self::Valid => "valid",
            Self::Expired => "expired",
            Self::NotYetValid => "not yet valid",
            Self::BadSignature => "invalid signature",
            Self::Unverified => "unverified",
        }
    }

    /// 0 valid now; 1 not valid now; 3 signature not checked (see the `--help` text).
    fn exit_code(self) -> u8 {
        match self {
            Self::Valid => 0,
            Self::Unverified => 3,
            Self::Expired | Self::NotYetValid | Self::BadSignature => 1,
        }
    }
}

fn iso(secs: i64) -> String {
    chrono::DateTime::from_timestamp(secs, 0)
        .map(signet_model::time::format_iso)
        .unwrap_or_else(|| secs.to_string())
}

/// `3600`, `90s`, `15m`, `24h`, `7d` → seconds.
fn parse_ttl(s: &str) -> Result<u64> {
    let s = s.trim();
    let (digits, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u64 = digits
        .parse()
        .with_context(|| format!("invalid --ttl {s:?}: expected e.g. 3600, 90m, 24h or 7d"))?;
    let mult = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => bail!("invalid --ttl {s:?}: the unit must be s, m, h or d"),
    };
    // The daemon's own bounds: a zero TTL would mint a token that is never valid.
    match n.saturating_mul(mult) {
        secs @ 1..=315_360_000 => Ok(secs),
        _ => bail!("invalid --ttl {s:?}: must be between 1 second and 3650 days"),
    }
}

fn scope_json(items: &[String]) -> Result<serde_json::Value> {
    let mut scope = Scope::default();
    for item in items {
        let Some((k, v)) = item.split_once('=') else {
            bail!("invalid --scope {item:?}: expected FIELD=VALUE, e.g. project=acme");
        };
        let slot = match k.trim() {
            "project" => &mut scope.project,
            "agent" => &mut scope.agent,
            "user" => &mut scope.user,
            other => bail!("invalid --scope field {other:?}: use project, agent or user"),
        };
        *slot = Some(v.trim().to_owned());
    }
    Ok(serde_json::to_value(scope)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_780_000_000;
    const SECRET: &[u8] = &[7u8; 32];

    fn claims(iat: i64, exp: i64) -> Claims {
        Claims {
            sub: "ci".into(),
            scope: Scope::default(),
            role: auth::Role::Agent,
            iat: NOW + iat,
            exp: NOW + exp,
        }
    }

    fn check(signed_with: &[u8], secret: Option<&[u8]>, c: &Claims) -> Check {
        Check::new(secret, &TokenSigner::new(signed_with).sign(c), c, NOW)
    }

    #[test]
    fn signature_and_times_are_separate_facts() {
        let current = claims(-60, 3600);
        let expired = claims(-7200, -3600);
        let early = claims(3600, 7200);
        let forged: &[u8] = &[9u8; 32];
        let cases = [
            (
                check(SECRET, Some(SECRET), &current),
                Status::Valid,
                Some(true),
            ),
            (
                check(SECRET, Some(SECRET), &expired),
                Status::Expired,
                Some(true),
            ),
            (
                check(SECRET, Some(SECRET), &early),
                Status::NotYetValid,
                Some(true),
            ),
            (
                check(forged, Some(SECRET), &current),
                Status::BadSignature,
                Some(false),
            ),
            (
                check(forged, Some(SECRET), &expired),
                Status::BadSignature,
                Some(false),
            ),
            (check(SECRET, None, &current), Status::Unverified, None),
            (check(SECRET, None, &expired), Status::Expired, None),
        ];
        for (got, status, signature_ok) in cases {
            assert_eq!(got.status(), status, "{got:?}");
            assert_eq!(
                got.signature.as_ref().map(Result::is_ok),
                signature_ok,
                "{got:?}"
            );
        }
        let codes = [
            Status::Valid,
            Status::Expired,
            Status::NotYetValid,
            Status::BadSignature,
        ]
        .map(Status::exit_code);
        assert_eq!(codes, [0, 1, 1, 1]);
        assert_eq!(Status::Unverified.exit_code(), 3);
    }

    #[test]
    fn expired_reads_as_expired_with_a_valid_signature() {
        let c = claims(-5 * 3600, -3 * 3600);
        let got = check(SECRET, Some(SECRET), &c);
        assert_eq!(got.signature_text(), "valid");
        let text = got.status_text(&c, NOW);
        assert!(
            text.starts_with("expired 2026-") && text.ends_with("(3h 0m ago)"),
            "{text}"
        );
    }

    #[test]
    fn bearer_prefix_is_stripped_in_any_case() {
        for raw in [
            "a.b",
            " Bearer a.b ",
            "bearer a.b",
            "BEARER\ta.b",
            "BeArEr   a.b",
        ] {
            assert_eq!(strip_bearer(raw), "a.b", "{raw:?}");
        }
        assert_eq!(strip_bearer("Bearera.b"), "Bearera.b");
    }

    #[test]
    fn ttls_and_scopes_parse() {
        assert_eq!(parse_ttl("3600").unwrap(), 3600);
        assert_eq!(parse_ttl("7d").unwrap(), 604_800);
        assert_eq!(parse_ttl("15m").unwrap(), 900);
        assert!(parse_ttl("1w").is_err() && parse_ttl("h").is_err());
        assert!(parse_ttl("0").is_err() && parse_ttl("0d").is_err());
        assert!(parse_ttl("4000d").is_err() && parse_ttl("99999999999999999999").is_err());
        assert_eq!(parse_ttl("3650d").unwrap(), 315_360_000);
        let v = scope_json(&["project=acme".into(), "agent=bot".into()]).unwrap();
        assert_eq!(v, json!({"project": "acme", "agent": "bot"}));
        assert!(scope_json(&["tenant=x".into()]).is_err());
    }
}
