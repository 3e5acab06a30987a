//! Wire types of the daemon's API, from `signet-api` (the server builds the same types, so a
//! shape the client decodes is the shape the server sends).

pub use signet_api::{
    AuthStatus, BatchForgetResponse, BatchModifyResponse, BatchModifyResult, CheckFtsRequest,
    ChunkedMemory, ConfigFile, ConfigFiles, ConfigWrite, DedupStats, DeduplicateRequest,
    DiagnosticsDomain, DiagnosticsReport, EmbeddingGaps, EmbeddingHealth, EmbeddingStatus,
    ErrorRecord, ErrorStage, ErrorsReport, ExportRequest, Features, Health, HistoryEvent,
    HistoryResponse, Identity, ImportReport, JobStatus, LatencyReport, LogList, LogRecord,
    MemoryDetail, MemoryList, MemorySafety, MintedToken, MutationResponse, MutationStatus,
    PipelineControl, PipelineStatus, RecallMethod, RecallRequest, RecallResponse, RecallResult,
    ReembedRequest, RememberRequest, RememberResponse, RepairResponse, Status, StoredMemory,
    TokenClaims, TokenRequest, TokenScope, UsageReport, Whoami, Written,
};
