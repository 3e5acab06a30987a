//! The `storage` section of `agent.yaml`: which backend holds the workspace's memories.
//!
//! ```yaml
//! storage:
//!   backend: postgres          # sqlite (the default) | postgres
//!   url: postgres://signet:$PGPASSWORD@db.internal:5432/signet
//!   pool: 8                    # connections this node keeps open (1 to 256)
//!   schema: signet             # optional: the schema holding the tables (default: public)
//!   pgvector: auto             # auto (the default) | on | off: vector search in the database
//! ```
//!
//! `pgvector`: `auto` uses the server's `vector` extension where it is installed or can be
//! created, else the daemon's in-process index; `on` stops start-up where it cannot be used;
//! `off` keeps the in-process index. `on` with the SQLite backend is an error.
//!
//! `SIGNET_DATABASE_URL`, when set, is the URL and selects `postgres` (the environment wins over
//! the file, as everywhere). The URL's password may be a `$NAME` reference, resolved by the
//! backend when it opens; the URL is held as a [`DatabaseUrlText`], whose `Debug` and
//! `Serialize` redact the password, and no error here repeats it.
//!
//! Fails closed: a misspelt backend or key stops start-up naming it (a daemon that silently
//! fell back to a local SQLite file would split one team's memories in two), as does a URL
//! that is not `postgres://` or a URL given to the SQLite backend. Read by
//! [`Settings::load`](super::Settings::load) (which has the environment) into
//! `Settings::storage`; the daemon opens the backend it names, and a change needs a restart.

use std::fmt;

use serde::{Serialize, Serializer};
use serde_json::{Map, Value};

use super::section::{Section, closest};
use super::{ConfigError, EnvVars};

/// The keys of `storage`; any other is an error.
pub const STORAGE_KEYS: [&str; 5] = ["backend", "url", "pool", "schema", "pgvector"];
/// The environment variable that names a PostgreSQL database.
pub const DATABASE_URL_VAR: &str = "SIGNET_DATABASE_URL";
/// Connections per node when `storage.pool` is not set.
pub const DEFAULT_POOL: u32 = 8;

/// Which backend holds the memories.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StorageBackend {
    /// The workspace's `memory/memories.db` (the default).
    #[default]
    Sqlite,
    /// A PostgreSQL database that several daemons may share.
    Postgres,
}

/// `storage.pgvector`: whether vector search runs in the database (pgvector).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PgvectorSetting {
    /// Where the extension is installed or can be created (the default).
    #[default]
    Auto,
    /// Required: start-up stops where it cannot be used.
    On,
    /// Never: the in-process index.
    Off,
}

/// A PostgreSQL URL as configured (password possibly a `$NAME` reference).
///
/// `Debug`, `Display` and `Serialize` show it with the password replaced by `[redacted]`;
/// [`DatabaseUrlText::expose`] gives the text for the backend to parse.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrlText(String);

impl DatabaseUrlText {
    /// The URL as written; callers must not log it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The URL with its password (if any) replaced by `[redacted]`.
    pub fn redacted(&self) -> String {
        redact(&self.0)
    }
}

/// `scheme://user:password@host...` with the password replaced.
fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return "[redacted]".to_owned();
    };
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    match authority.rfind('@') {
        Some(at) => {
            let (userinfo, host) = authority.split_at(at);
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{scheme}://{user}:[redacted]{host}{tail}"),
                None => url.to_owned(),
            }
        }
        None => url.to_owned(),
    }
}

impl fmt::Debug for DatabaseUrlText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl fmt::Display for DatabaseUrlText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl Serialize for DatabaseUrlText {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.redacted())
    }
}

/// The storage settings (`storage`, `SIGNET_DATABASE_URL`).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StorageSettings {
    /// `storage.backend`.
    pub backend: StorageBackend,
    /// `storage.url` or `SIGNET_DATABASE_URL`; set exactly when the backend is `postgres`.
    pub url: Option<DatabaseUrlText>,
    /// `storage.pool`: connections this node keeps open.
    pub pool: u32,
    /// `storage.schema`: the PostgreSQL schema holding the tables (`None`: the server's search
    /// path, normally `public`); several workspaces can share one database this way.
    pub schema: Option<String>,
    /// `storage.pgvector`: whether vector search runs in the database (PostgreSQL only).
    pub pgvector: PgvectorSetting,
}

impl Default for StorageSettings {
    fn default() -> Self {
        Self {
            backend: StorageBackend::Sqlite,
            url: None,
            pool: DEFAULT_POOL,
            schema: None,
            pgvector: PgvectorSetting::Auto,
        }
    }
}

impl StorageSettings {
    /// Reads `storage` from a parsed `agent.yaml` document and `SIGNET_DATABASE_URL` from
    /// `env`. No section and no variable: SQLite.
    pub fn from_document(
        document: &Map<String, Value>,
        env: &EnvVars,
    ) -> Result<Self, ConfigError> {
        let root = Section::root(document);
        // Unknown keys first: a misspelt `url` must be named as such, not as a missing URL.
        let section = root.child("storage")?;
        section.accept(&STORAGE_KEYS);
        if let Some(key) = section.unread_keys().first() {
            let hint = closest(key, &STORAGE_KEYS)
                .map(|k| format!(" (did you mean storage.{k}?)"))
                .unwrap_or_default();
            return Err(section.invalid(
                key,
                format!(
                    "unknown key{hint}; a mistake in storage could put this node's memories in another database, so it stops start-up. Known keys: {}",
                    STORAGE_KEYS.join(", ")
                ),
            ));
        }
        Self::parse(&section, env)
    }

    pub(crate) fn parse(s: &Section<'_>, env: &EnvVars) -> Result<Self, ConfigError> {
        let choices = [
            ("sqlite", StorageBackend::Sqlite),
            ("postgres", StorageBackend::Postgres),
            ("postgresql", StorageBackend::Postgres),
        ];
        let backend = s.choice("backend", &choices)?;
        let pool = s.int::<u32>("pool", 1..=256)?.unwrap_or(DEFAULT_POOL);
        let schema = s.string("schema")?;
        let pgvector = pgvector_setting(s)?;
        let from_file = s.string("url")?;
        let from_env = env.non_empty(DATABASE_URL_VAR).map(str::to_owned);
        let (url, key) = match (from_env, from_file) {
            (Some(url), _) => (Some(url), DATABASE_URL_VAR.to_owned()),
            (None, Some(url)) => (Some(url), s.key_path("url")),
            (None, None) => (None, s.key_path("url")),
        };
        let backend = match (backend, &url) {
            (Some(b), _) => b,
            (None, Some(_)) => StorageBackend::Postgres,
            (None, None) => StorageBackend::Sqlite,
        };
        let url = match (backend, url) {
            (StorageBackend::Sqlite, None) => None,
            (StorageBackend::Sqlite, Some(_)) => {
                return Err(ConfigError::Invalid {
                    key,
                    message: "a database URL is only used with storage.backend: postgres \
                              (remove it, or set the backend)"
                        .into(),
                });
            }
            (StorageBackend::Postgres, None) => {
                return Err(s.invalid(
                    "url",
                    format!(
                        "storage.backend: postgres needs a URL (here or in {DATABASE_URL_VAR})"
                    ),
                ));
            }
            (StorageBackend::Postgres, Some(url)) => Some(check_url(&key, url)?),
        };
        if schema.is_some() && backend == StorageBackend::Sqlite {
            return Err(s.invalid(
                "schema",
                "a schema is only used with storage.backend: postgres",
            ));
        }
        if pgvector == Some(PgvectorSetting::On) && backend == StorageBackend::Sqlite {
            return Err(s.invalid(
                "pgvector",
                "pgvector: on needs storage.backend: postgres (SQLite vectors are served by \
                 the in-process index)",
            ));
        }
        Ok(Self {
            backend,
            url,
            pool,
            schema,
            pgvector: pgvector.unwrap_or_default(),
        })
    }
}

/// `storage.pgvector`: `auto`, `on` or `off` (YAML 1.1 reads a bare `on`/`off` as a boolean,
/// which means the same).
fn pgvector_setting(s: &Section<'_>) -> Result<Option<PgvectorSetting>, ConfigError> {
    match s.raw("pgvector") {
        Some(Value::Bool(true)) => Ok(Some(PgvectorSetting::On)),
        Some(Value::Bool(false)) => Ok(Some(PgvectorSetting::Off)),
        _ => s.choice(
            "pgvector",
            &[
                ("auto", PgvectorSetting::Auto),
                ("on", PgvectorSetting::On),
                ("off", PgvectorSetting::Off),
            ],
        ),
    }
}

/// A `postgres://` URL naming a host, or an error naming `key` (never the password).
fn check_url(key: &str, url: String) -> Result<DatabaseUrlText, ConfigError> {
    let invalid = |message: String| ConfigError::Invalid {
        key: key.to_owned(),
        message,
    };
    let url = DatabaseUrlText(url);
    let Some((scheme, rest)) = url.0.split_once("://") else {
        return Err(invalid(
            "expected postgres://user:password@host/database".into(),
        ));
    };
    if scheme != "postgres" && scheme != "postgresql" {
        return Err(invalid(format!(
            "expected a postgres:// or postgresql:// URL, got {scheme}://"
        )));
    }
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let host = rest[..end].rsplit('@').next().unwrap_or_default();
    if host.is_empty() {
        return Err(invalid(format!("{} names no host", url.redacted())));
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(yaml: &str, env: &[(&str, &str)]) -> Result<StorageSettings, ConfigError> {
        let doc: Value = serde_saphyr::from_str(yaml).expect("yaml");
        let map = doc.as_object().cloned().unwrap_or_default();
        let env = env
            .iter()
            .fold(EnvVars::default(), |e, (k, v)| e.with(*k, *v));
        StorageSettings::from_document(&map, &env)
    }

    fn error(yaml: &str, env: &[(&str, &str)]) -> (String, String) {
        match load(yaml, env) {
            Err(ConfigError::Invalid { key, message }) => (key, message),
            other => panic!("expected an invalid value, got {other:?}"),
        }
    }

    #[test]
    fn no_section_is_sqlite() {
        let s = load("agent: {name: a}", &[]).expect("loads");
        assert_eq!(s, StorageSettings::default());
    }

    #[test]
    fn a_postgres_section_is_read_and_its_password_never_shown() {
        let s = load(
            "storage: {backend: postgres, url: 'postgres://signet:hunter2@db:5432/mem', pool: 4}",
            &[],
        )
        .expect("loads");
        assert_eq!(s.backend, StorageBackend::Postgres);
        assert_eq!(s.pool, 4);
        let url = s.url.expect("a url");
        assert_eq!(url.expose(), "postgres://signet:hunter2@db:5432/mem");
        let shown = [
            format!("{url:?}"),
            url.to_string(),
            serde_json::to_string(&url).expect("json"),
        ];
        for shown in shown {
            assert!(!shown.contains("hunter2"), "{shown}");
            assert!(shown.contains("signet:[redacted]@db:5432/mem"), "{shown}");
        }
    }

    #[test]
    fn the_environment_url_wins_and_selects_postgres() {
        let env = [(DATABASE_URL_VAR, "postgresql://u:$PGPASS@db/mem")];
        let s = load("", &env).expect("loads");
        assert_eq!(s.backend, StorageBackend::Postgres);
        assert_eq!(
            s.url.expect("url").expose(),
            "postgresql://u:$PGPASS@db/mem"
        );
        let s = load("storage: {url: 'postgres://file@db/x', pool: 2}", &env).expect("loads");
        assert_eq!(
            s.url.expect("url").expose(),
            "postgresql://u:$PGPASS@db/mem"
        );
        assert_eq!(s.pool, 2);
    }

    #[test]
    fn typos_fail_closed_naming_the_key() {
        let (key, message) = error("storage: {backend: postgress, url: 'postgres://db/x'}", &[]);
        assert_eq!(key, "storage.backend");
        assert!(
            message.contains("sqlite") && message.contains("postgres"),
            "{message}"
        );
        let (key, message) = error("storage: {backend: postgres, ulr: 'postgres://db/x'}", &[]);
        assert_eq!(key, "storage.ulr");
        assert!(message.contains("storage.url"), "{message}");
        let (key, _) = error("storage: {pool: 0}", &[]);
        assert_eq!(key, "storage.pool");
    }

    #[test]
    fn a_schema_is_read_for_postgres_and_refused_for_sqlite() {
        let s = load("storage: {url: 'postgres://db/x', schema: team_a}", &[]).expect("loads");
        assert_eq!(s.schema.as_deref(), Some("team_a"));
        let (key, _) = error("storage: {schema: team_a}", &[]);
        assert_eq!(key, "storage.schema");
    }

    #[test]
    fn pgvector_is_auto_unless_set_and_a_wrong_value_names_the_key() {
        let s = load("storage: {url: 'postgres://db/x'}", &[]).expect("loads");
        assert_eq!(s.pgvector, PgvectorSetting::Auto);
        for (text, want) in [
            ("auto", PgvectorSetting::Auto),
            ("on", PgvectorSetting::On),
            ("off", PgvectorSetting::Off),
        ] {
            let s = load(
                &format!("storage: {{url: 'postgres://db/x', pgvector: {text}}}"),
                &[],
            )
            .expect("loads");
            assert_eq!(s.pgvector, want);
        }
        let (key, message) = error("storage: {url: 'postgres://db/x', pgvector: always}", &[]);
        assert_eq!(key, "storage.pgvector");
        assert!(message.contains("auto, on, off"), "{message}");
        let (key, _) = error("storage: {pgvector: on}", &[]);
        assert_eq!(key, "storage.pgvector");
        let s = load("storage: {pgvector: 'off'}", &[]).expect("off is fine on SQLite");
        assert_eq!(s.backend, StorageBackend::Sqlite);
        let (key, message) = error("storage: {url: 'postgres://db/x', pgvectr: on}", &[]);
        assert_eq!(key, "storage.pgvectr");
        assert!(message.contains("storage.pgvector"), "{message}");
    }

    #[test]
    fn settings_load_reads_storage_with_the_environment() {
        let dir = tempfile::tempdir().expect("tempdir");
        let env = EnvVars::default().with(DATABASE_URL_VAR, "postgres://u:hunter2@db/mem");
        let loaded = super::super::Settings::load(dir.path(), &env).expect("loads");
        assert_eq!(loaded.settings.storage.backend, StorageBackend::Postgres);
        std::fs::write(dir.path().join("agent.yaml"), "storage: {pool: 3}\n").expect("write");
        let loaded = super::super::Settings::load(dir.path(), &env).expect("loads");
        assert_eq!(loaded.settings.storage.pool, 3);
        assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
        let shown = serde_json::to_string(&loaded.settings).expect("json");
        assert!(!shown.contains("hunter2"), "{shown}");
    }

    #[test]
    fn inconsistent_settings_are_refused_without_the_password() {
        let (key, message) = error("storage: {backend: postgres}", &[]);
        assert_eq!(key, "storage.url");
        assert!(message.contains(DATABASE_URL_VAR), "{message}");
        let (key, _) = error("storage: {backend: sqlite, url: 'postgres://db/x'}", &[]);
        assert_eq!(key, "storage.url");
        let (key, message) = error("", &[(DATABASE_URL_VAR, "mysql://u:hunter2@db/x")]);
        assert_eq!(key, DATABASE_URL_VAR);
        assert!(!message.contains("hunter2"), "{message}");
        let (_, message) = error("storage: {url: 'postgres://u:hunter2@/x'}", &[]);
        assert!(
            message.contains("no host") && !message.contains("hunter2"),
            "{message}"
        );
    }
}
