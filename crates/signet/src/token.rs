//! `signet token create|inspect`: mint a token straight from the workspace's secret file (how
//! the first admin token of a team deployment is made, with no token to ask the API with), and
//! decode one for troubleshooting.

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use serde_json::json;
use signet_core::auth::{self, MintRequest, Scope, TokenSigner};
use signet_core::config::{AuthMode, EnvVars, Settings, resolve_workspace};

use crate::cli::Global;
use crate::output::print_json;

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
    /// Decode a token's claims; with the workspace's secret at hand, also check its signature.
    Inspect {
        /// The token (or `Bearer <token>`).
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
    let req = MintRequest::from_json(&body).map_err(|e| anyhow::anyhow!("{e}"))?;
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
        print_json(&json!({"token": token, "expiresAt": iso(claims.exp), "claims": claims}))
    } else {
        println!("{token}");
        Ok(())
    }
}

fn inspect(g: &Global, ws: &std::path::Path, raw: &str) -> Result<()> {
    let token = raw.trim().strip_prefix("Bearer ").unwrap_or(raw.trim());
    let claims = auth::decode_claims_unverified(token)
        .map_err(|e| anyhow::anyhow!("not a signet token: {e}"))?;
    let now = chrono::Utc::now().timestamp();
    let signature = match auth::read_secret(ws) {
        Ok(secret) => match TokenSigner::new(&secret).verify(token, now) {
            Ok(_) => "valid".to_owned(),
            Err(e) => format!("invalid: {e}"),
        },
        Err(_) => "not checked (no readable secret in this workspace)".to_owned(),
    };
    let expired = now >= claims.exp;
    if g.json {
        return print_json(&json!({
            "claims": claims, "issuedAt": iso(claims.iat), "expiresAt": iso(claims.exp),
            "expired": expired, "signature": signature,
        }));
    }
    println!("sub:       {}", claims.sub);
    println!("role:      {}", claims.role.as_str());
    println!("scope:     {}", serde_json::to_string(&claims.scope)?);
    println!("issued:    {}", iso(claims.iat));
    let left = claims.exp - now;
    let state = if expired {
        "expired".to_owned()
    } else {
        format!("in {}", crate::output::uptime(left as f64))
    };
    println!("expires:   {} ({state})", iso(claims.exp));
    println!("signature: {signature}");
    Ok(())
}

fn iso(secs: i64) -> String {
    chrono::DateTime::from_timestamp(secs, 0)
        .map(signet_store::time::format_iso)
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
    Ok(n.saturating_mul(mult))
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

    #[test]
    fn ttls_and_scopes_parse() {
        assert_eq!(parse_ttl("3600").unwrap(), 3600);
        assert_eq!(parse_ttl("7d").unwrap(), 604_800);
        assert_eq!(parse_ttl("15m").unwrap(), 900);
        assert!(parse_ttl("1w").is_err() && parse_ttl("h").is_err());
        let v = scope_json(&["project=acme".into(), "agent=bot".into()]).unwrap();
        assert_eq!(v, json!({"project": "acme", "agent": "bot"}));
        assert!(scope_json(&["tenant=x".into()]).is_err());
    }
}
