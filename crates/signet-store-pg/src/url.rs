//! [`DatabaseUrl`]: the connection URL of a PostgreSQL database, as configured. Its password
//! may be a reference to an environment variable (`postgres://signet:$PGPASS@db/signet`),
//! resolved when the store opens. The password is never shown: `Debug`, `Display` and every
//! error message print the URL with `[redacted]` in its place.

use std::fmt;
use std::str::FromStr;

use signet_model::StoreError;

/// What stands in for a password wherever a URL is shown.
pub const REDACTED: &str = "[redacted]";

/// A `postgres://` (or `postgresql://`) URL whose password is kept apart from the rest.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl {
    /// The URL without its password (`postgres://user@host:port/db?params`).
    bare: String,
    /// Where the password comes from, if the URL has one.
    password: Option<Password>,
}

/// A password as written in the URL.
#[derive(Clone, PartialEq, Eq)]
enum Password {
    /// Written in the URL itself (percent-decoding is left to the client's parser).
    Literal(String),
    /// `$NAME`: the value of the environment variable `NAME` at open.
    Env(String),
}

impl DatabaseUrl {
    /// Parses a URL; errors name what is wrong and never echo the password.
    pub fn parse(raw: &str) -> Result<Self, StoreError> {
        let raw = raw.trim();
        let Some((scheme, rest)) = raw.split_once("://") else {
            return Err(invalid("it must start with postgres:// or postgresql://"));
        };
        if scheme != "postgres" && scheme != "postgresql" {
            return Err(invalid(&format!(
                "scheme `{scheme}` is not postgres:// or postgresql://"
            )));
        }
        // The authority ends at the first '/' or '?'; its user information at the last '@'.
        let end = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(end);
        let (userinfo, host) = match authority.rfind('@') {
            Some(at) => (Some(&authority[..at]), &authority[at + 1..]),
            None => (None, authority),
        };
        if host.is_empty() {
            return Err(invalid("it names no host"));
        }
        let (user, password) = match userinfo.map(|u| u.split_once(':')) {
            None => (None, None),
            Some(None) => (userinfo, None),
            Some(Some((user, pass))) => (Some(user), Some(pass)),
        };
        let password = match password {
            None => None,
            Some(p) => Some(password_of(p)?),
        };
        let user = user.map(|u| format!("{u}@")).unwrap_or_default();
        Ok(Self {
            bare: format!("{scheme}://{user}{host}{tail}"),
            password,
        })
    }

    /// The client configuration, with an `$ENV` password resolved now. An unset or empty
    /// variable is an error naming the variable (not its value).
    pub fn config(&self) -> Result<postgres::Config, StoreError> {
        let mut config = postgres::Config::from_str(&self.bare)
            .map_err(|e| invalid(&format!("{e} (in {self})")))?;
        match &self.password {
            None => {}
            Some(Password::Literal(p)) => {
                config.password(percent_decode(p).as_bytes());
            }
            Some(Password::Env(name)) => {
                let value = std::env::var(name).unwrap_or_default();
                if value.is_empty() {
                    return Err(invalid(&format!(
                        "the password refers to the environment variable {name}, which is not set"
                    )));
                }
                config.password(value.as_bytes());
            }
        }
        Ok(config)
    }

    /// Whether the password is an environment reference (for status output).
    pub fn password_from_env(&self) -> Option<&str> {
        match &self.password {
            Some(Password::Env(name)) => Some(name),
            _ => None,
        }
    }
}

fn password_of(p: &str) -> Result<Password, StoreError> {
    let decoded = percent_decode(p);
    let Some(name) = decoded.strip_prefix('$') else {
        return Ok(Password::Literal(p.to_owned()));
    };
    let valid = !name.is_empty()
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !name.starts_with(|c: char| c.is_ascii_digit());
    if !valid {
        return Err(invalid(
            "the password starts with `$` but is no environment variable name ($NAME)",
        ));
    }
    Ok(Password::Env(name.to_owned()))
}

/// `%XX` escapes decoded (bytes that do not form UTF-8 are kept as they were written).
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes.get(i + 1..i + 3).and_then(|h| {
            let h = std::str::from_utf8(h).ok()?;
            u8::from_str_radix(h, 16).ok()
        });
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap_or_else(|_| s.to_owned())
}

fn invalid(why: &str) -> StoreError {
    StoreError::Invalid(format!("storage.url: {why}"))
}

impl FromStr for DatabaseUrl {
    type Err = StoreError;
    fn from_str(s: &str) -> Result<Self, StoreError> {
        Self::parse(s)
    }
}

impl fmt::Display for DatabaseUrl {
    /// The URL with the password replaced by `[redacted]` (an `$ENV` reference is shown: it is
    /// a name, not a secret).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Some(password) = &self.password else {
            return f.write_str(&self.bare);
        };
        let shown = match password {
            Password::Literal(_) => REDACTED.to_owned(),
            Password::Env(name) => format!("${name}"),
        };
        // `bare` is scheme://user@host...: the password goes after the user.
        match self.bare.split_once("://") {
            Some((scheme, rest)) => match rest.split_once('@') {
                Some((user, host)) => write!(f, "{scheme}://{user}:{shown}@{host}"),
                None => write!(f, "{scheme}://:{shown}@{rest}"),
            },
            None => f.write_str(&self.bare),
        }
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_literal_password_is_never_shown() {
        let url =
            DatabaseUrl::parse("postgres://signet:s3cr%40t@db.local:5433/mem?sslmode=disable")
                .expect("parses");
        for shown in [url.to_string(), format!("{url:?}")] {
            assert!(!shown.contains("s3cr"), "{shown}");
            assert!(shown.contains("[redacted]"), "{shown}");
            assert!(shown.contains("db.local:5433/mem"), "{shown}");
        }
        let config = url.config().expect("config");
        assert_eq!(config.get_password(), Some(&b"s3cr@t"[..]));
        assert_eq!(config.get_user(), Some("signet"));
        assert_eq!(config.get_dbname(), Some("mem"));
        assert!(
            !format!("{config:?}").contains("s3cr"),
            "the client redacts too"
        );
    }

    #[test]
    fn an_env_password_is_resolved_at_open_and_named_not_shown() {
        let url =
            DatabaseUrl::parse("postgresql://signet:$SIGNET_PG_TEST_PW_1@db/mem").expect("parses");
        assert_eq!(url.password_from_env(), Some("SIGNET_PG_TEST_PW_1"));
        assert_eq!(
            url.to_string(),
            "postgresql://signet:$SIGNET_PG_TEST_PW_1@db/mem"
        );
        let err = url.config().expect_err("unset variable").to_string();
        assert!(
            err.contains("SIGNET_PG_TEST_PW_1") && err.contains("not set"),
            "{err}"
        );
    }

    #[test]
    fn bad_urls_say_what_is_wrong_without_the_password() {
        for (raw, says) in [
            ("mysql://u:hunter2@h/db", "scheme"),
            ("u:hunter2@h/db", "postgres://"),
            ("postgres://u:hunter2@/db", "no host"),
            ("postgres://u:$1BAD@h/db", "environment variable"),
        ] {
            let err = DatabaseUrl::parse(raw).expect_err(raw).to_string();
            assert!(err.contains(says), "{raw}: {err}");
            assert!(!err.contains("hunter2"), "{raw}: {err}");
            assert!(err.contains("storage.url"), "{raw}: {err}");
        }
    }

    #[test]
    fn a_url_without_a_password_is_shown_as_written() {
        let url =
            DatabaseUrl::parse("postgres://postgres@127.0.0.1:5432/postgres").expect("parses");
        assert_eq!(
            url.to_string(),
            "postgres://postgres@127.0.0.1:5432/postgres"
        );
        assert_eq!(url.config().expect("config").get_password(), None);
    }
}
