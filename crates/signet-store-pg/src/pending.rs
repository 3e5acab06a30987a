//! The store trait not yet written for PostgreSQL (the whole-row export and import). Each method fails with a `Backend` error
//! naming itself — never a fake success — so nothing can run on a half-done backend unnoticed
//! (the daemon does not offer the backend until these are done).

use signet_model::export::{ExportPage, ImportItem, ImportedItem};
use signet_model::{ExportStore, Result, StoreError};

use crate::PgStore;

fn pending<T>(what: &str) -> Result<T> {
    Err(StoreError::Backend(format!(
        "{what} is not implemented on PostgreSQL yet"
    )))
}

impl ExportStore for PgStore {
    fn export_page(
        &self,
        _after: i64,
        _limit: usize,
        _include_deleted: bool,
        _with_vectors: bool,
    ) -> Result<ExportPage> {
        pending("export_page")
    }
    fn import_batch(
        &self,
        _items: Vec<ImportItem>,
        _now: &str,
        _dry_run: bool,
    ) -> Result<Vec<ImportedItem>> {
        pending("import_batch")
    }
}
