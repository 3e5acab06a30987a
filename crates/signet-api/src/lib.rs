//! signet-api: the daemon's wire types — request and response bodies as serde structs and
//! enums, shared by the core's service signatures, the HTTP server, the client and the tests,
//! so a response shape is defined once and checked by the compiler on both sides.
//!
//! No I/O, no dependencies beyond serde. Field names follow upstream's contract (a mix of
//! camelCase and snake_case, as upstream sends them). Responses a client decodes keep unknown
//! fields in `extra` (`#[serde(flatten)]`), so a value printed back loses nothing the daemon
//! sent; the daemon builds them with `extra` empty.
//!
//! Migration state: recall, remember, single mutation outcomes, the batch modify and forget
//! envelopes, history, the listing and `/health` are typed here; the remaining routes still
//! build JSON in the core (listed in ARCHITECTURE.md).

#![forbid(unsafe_code)]

pub mod batch;
pub mod listing;
pub mod memory;
pub mod mutation;
pub mod system;

pub use batch::{
    BatchForgetResponse, BatchModifyResponse, BatchModifyResult, ForgetCandidateItem,
    ForgetExecuted, ForgetPreview, UnidentifiedPatch,
};
pub use listing::{HistoryEvent, HistoryResponse, ListedMemoryItem, MemoryList, MemoryListStats};
pub use memory::{
    ChunkedMemory, RecallMethod, RecallRequest, RecallResponse, RecallResult, RememberRequest,
    RememberResponse, StoredMemory,
};
pub use mutation::{MutationResponse, MutationStatus};
pub use system::Health;

/// Fields a type does not model, kept when decoding (always empty when the daemon builds it).
pub type Extra = serde_json::Map<String, serde_json::Value>;

/// The wire types as OpenAPI component schemas; the server adds the paths from its route
/// table (`signet_server::openapi::document`).
#[derive(utoipa::OpenApi)]
#[openapi(components(schemas(
    Health,
    RememberRequest,
    RememberResponse,
    StoredMemory,
    ChunkedMemory,
    RecallRequest,
    RecallResponse,
    RecallResult,
    RecallMethod,
    MutationResponse,
    MutationStatus,
    HistoryResponse,
    HistoryEvent,
    MemoryList,
    ListedMemoryItem,
    MemoryListStats,
    BatchModifyResponse,
    BatchModifyResult,
    UnidentifiedPatch,
    BatchForgetResponse,
    ForgetPreview,
    ForgetCandidateItem,
    ForgetExecuted
)))]
pub struct Schemas;
