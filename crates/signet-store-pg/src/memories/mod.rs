//! The memory domain's SQL: writes (remember, chunks, access), mutations, reads, keyword
//! search, vectors, and what the hooks keep about sessions. Each function runs on a
//! connection or inside a transaction the caller opened; none commits itself.

pub(crate) mod embeddings;
pub(crate) mod mutate;
pub(crate) mod read;
pub(crate) mod search;
pub(crate) mod sessions;
pub(crate) mod write;
