//! What the server offers beyond core PostgreSQL: whether the `vector` extension (pgvector)
//! is there, and so which vector path a node uses (`storage.pgvector`, [`PgvectorMode`]).
//!
//! Vectors are always stored in `embeddings.vector` (`bytea`, SQLite's blob format, the
//! source of truth). Where the database has pgvector, `embeddings.vec` (a generated column,
//! migration 4) mirrors every blob and the database answers nearest-vector queries through an
//! HNSW index per dimension count ([`crate::pgvector`]); the daemon then holds no vectors in
//! RAM. Elsewhere the daemon's in-process index serves them. The decision is made once per
//! open, per database: migrations run on every server, with or without the extension.

use postgres::{Client, GenericClient};
use signet_model::{Result, StoreError};

use crate::PgStore;
use crate::error::PgResultExt;
use crate::pgvector::Pgvector;
use crate::pool::Pool;
use crate::schema::MIGRATION_LOCK;

/// `storage.pgvector`: whether a node uses pgvector.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum PgvectorMode {
    /// Where the extension is installed, or can be (`CREATE EXTENSION IF NOT EXISTS vector`
    /// succeeds); else the in-process index.
    #[default]
    Auto,
    /// pgvector or nothing: a database where it cannot be used stops the open.
    On,
    /// The in-process index, even where pgvector is installed.
    Off,
}

impl PgvectorMode {
    /// The configured name (`auto`, `on`, `off`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Auto => "auto",
            Self::On => "on",
            Self::Off => "off",
        }
    }
}

/// Where vector search runs, and what the server could offer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VectorCapability {
    /// The server can install `vector` (`pg_available_extensions`): its default version.
    pub available: Option<String>,
    /// The version installed in this database (`pg_extension`), if any.
    pub installed: Option<String>,
    /// Whether vector search runs in pgvector; `false`: the in-process index.
    pub used: bool,
    /// Why pgvector is used or not.
    pub reason: String,
}

/// `storage.vectorIndex` when the daemon's own index serves vectors.
pub const IN_PROCESS: &str = "in-process";
/// `storage.vectorIndex` when the database does (pgvector's HNSW).
pub const PGVECTOR: &str = "pgvector";

/// The extension as the catalogs describe it.
struct Catalog {
    available: Option<String>,
    installed: Option<String>,
}

fn catalog(c: &mut impl GenericClient) -> Result<Catalog> {
    let row = c
        .query_one(
            "SELECT (SELECT default_version FROM pg_available_extensions WHERE name = 'vector'),
                    (SELECT extversion FROM pg_extension WHERE extname = 'vector')",
            &[],
        )
        .pg()?;
    Ok(Catalog {
        available: row.get(0),
        installed: row.get(1),
    })
}

impl VectorCapability {
    /// `vectorIndex` of the status: where vector search runs.
    pub fn vector_index(&self) -> &'static str {
        if self.used { PGVECTOR } else { IN_PROCESS }
    }

    /// Asks the server (two catalog reads), deciding nothing: what an `off` node reports.
    pub fn detect(client: &mut Client) -> Result<Self> {
        let c = catalog(client)?;
        Ok(Self::unused(c, "storage.pgvector is off".to_owned()))
    }

    fn unused(c: Catalog, why: String) -> Self {
        Self {
            available: c.available,
            installed: c.installed,
            used: false,
            reason: format!("{why}; vectors are served by the in-process index"),
        }
    }
}

/// Decides the vector path of a freshly migrated database under `mode`: with `auto` or `on`,
/// creates the extension where the server offers it and this role may (in the `public`
/// schema when there is one, so every Signet schema of the database sees the same one), then
/// adds `embeddings.vec` (`signet_pgvector_setup`, migration 4; idempotent). `on` without a
/// usable extension is an error naming `storage.pgvector`.
pub(crate) fn prepare(
    pool: &Pool,
    mode: PgvectorMode,
) -> Result<(VectorCapability, Option<Pgvector>)> {
    let mut c = pool.with(catalog)?;
    if mode == PgvectorMode::Off {
        return Ok((
            VectorCapability::unused(c, "storage.pgvector is off".into()),
            None,
        ));
    }
    let mut create_failed = None;
    if c.installed.is_none() && c.available.is_some() {
        let created = pool.tx(|tx| {
            tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
                .pg()?;
            let public: bool = tx
                .query_one("SELECT to_regnamespace('public') IS NOT NULL", &[])
                .pg()?
                .get(0);
            let target = if public { " SCHEMA public" } else { "" };
            tx.batch_execute(&format!("CREATE EXTENSION IF NOT EXISTS vector{target}"))
                .pg()
        });
        match created {
            Ok(()) => tracing::info!(target: "storage", "created the vector extension (pgvector)"),
            Err(e) => create_failed = Some(e.to_string()),
        }
        c = pool.with(catalog)?;
    }
    let unusable = match (&c.installed, &c.available, create_failed) {
        (Some(_), _, _) => None,
        (None, None, _) => {
            Some("the server does not offer the vector extension (pgvector)".to_owned())
        }
        (None, Some(_), Some(e)) => Some(format!(
            "the server offers pgvector but `CREATE EXTENSION vector` failed ({e}); a superuser \
             can run it once in this database"
        )),
        (None, Some(_), None) => Some("the vector extension is not installed".to_owned()),
    };
    if let Some(why) = unusable {
        if mode == PgvectorMode::On {
            return Err(StoreError::Invalid(format!(
                "storage.pgvector: on, but {why}; install pgvector on the server, or set \
                 storage.pgvector to auto or off"
            )));
        }
        return Ok((VectorCapability::unused(c, why), None));
    }
    let pgvector = pool.tx(|tx| {
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
            .pg()?;
        let ready: bool = tx
            .query_one("SELECT signet_pgvector_setup()", &[])
            .pg()?
            .get(0);
        if !ready {
            return Err(StoreError::Backend(
                "signet_pgvector_setup() found no vector extension".into(),
            ));
        }
        Pgvector::find(tx)
    })?;
    let version = c.installed.clone().unwrap_or_default();
    let capability = VectorCapability {
        available: c.available,
        installed: c.installed,
        used: true,
        reason: format!(
            "pgvector {version} is installed (storage.pgvector: {}): nearest-vector search runs \
             in the database, through an HNSW index per dimension count, shared by every node",
            mode.as_str()
        ),
    };
    Ok((capability, Some(pgvector)))
}

impl PgStore {
    /// The vector path decided at open (see [`PgvectorMode`]).
    pub fn vector_capability(&self) -> Result<VectorCapability> {
        Ok(self.capability().clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_status_names_the_path_in_use() {
        let c = Catalog {
            available: Some("0.7.4".into()),
            installed: None,
        };
        let unused = VectorCapability::unused(c, "storage.pgvector is off".into());
        assert!(!unused.used);
        assert_eq!(unused.vector_index(), IN_PROCESS);
        assert!(unused.reason.contains("in-process"), "{}", unused.reason);
        let used = VectorCapability {
            used: true,
            ..unused
        };
        assert_eq!(used.vector_index(), PGVECTOR);
        assert_eq!(PgvectorMode::default(), PgvectorMode::Auto);
    }
}
