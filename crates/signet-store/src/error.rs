//! The store's error type, defined in signet-model (every backend reports it) and re-exported
//! here at its old path. SQLite's errors convert through signet-model's `sqlite` feature, so
//! `?` on a rusqlite result works throughout this crate.

pub use signet_model::{Result, StoreError};
