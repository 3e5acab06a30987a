//! Wire types of the daemon's API, from `signet-api` (the server builds the same types, so a
//! shape the client decodes is the shape the server sends).

pub use signet_api::{
    ChunkedMemory, Health, MutationResponse, MutationStatus, RecallMethod, RecallRequest,
    RecallResponse, RecallResult, RememberRequest, RememberResponse, StoredMemory,
};
