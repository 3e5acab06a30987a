//! signet-api: the daemon's wire types — request and response bodies as serde structs and
//! enums, shared by the core's service signatures, the HTTP server, the client and the tests,
//! so a response shape is defined once and checked by the compiler on both sides.
//!
//! No I/O, no dependencies beyond serde. Field names follow upstream's contract (a mix of
//! camelCase and snake_case, as upstream sends them). Responses a client decodes keep unknown
//! fields in `extra` (`#[serde(flatten)]`), so a value printed back loses nothing the daemon
//! sent; the daemon builds them with `extra` empty.
//!
//! Every route's answer is typed here except the OpenAPI document itself, the two SSE
//! streams, `/metrics` (text) and the 501 placeholders; the integration test
//! `signet-server/tests/it/roundtrip.rs` walks the route table to keep it so. Payloads that
//! are free-form by contract stay `serde_json::Value` (named where they occur: raw rows, user
//! metadata, log entry data).

#![forbid(unsafe_code)]

pub mod analytics;
pub mod auth;
pub mod batch;
pub mod diagnostics;
pub mod documents;
pub mod embeddings;
pub mod export;
pub mod hooks;
pub mod listing;
pub mod memory;
pub mod mutation;
pub mod pipeline;
pub mod query;
pub mod repair;
pub mod sessions;
pub mod status;
pub mod system;

pub use analytics::{
    ActorUsage, EndpointUsage, ErrorRecord, ErrorStage, ErrorsQuery, ErrorsReport, LatencyReport,
    LatencySummary, LogLevel, LogList, LogRecord, MemoryOperations, MemorySafety, UsageReport,
    UsageTotals,
};
pub use auth::{AuthStatus, MintedToken, TokenClaims, TokenRequest, TokenScope, Whoami};
pub use batch::{
    BatchForgetResponse, BatchModifyResponse, BatchModifyResult, ForgetCandidateItem,
    ForgetExecuted, ForgetPreview, UnidentifiedPatch,
};
pub use diagnostics::{DiagnosticsDomain, DiagnosticsReport};
pub use documents::{
    DocumentChunkItem, DocumentChunks, DocumentCreated, DocumentDeleteQuery, DocumentDeleted,
    DocumentList, DocumentListQuery, DocumentRequest, DocumentRow,
};
pub use embeddings::{
    CheckStatus, EmbeddingConfig, EmbeddingCoverage, EmbeddingHealth, EmbeddingItem, EmbeddingList,
    EmbeddingStatus, EmbeddingsQuery, HealthCheck, MutationSignals, Projection, ProjectionNode,
    ProjectionQuery, ReembedProgress, SimilarMemory, SimilarQuery, SimilarResponse,
    VectorIndexStatus,
};
pub use export::{ExportRequest, ImportMemoryCounts, ImportReport, ImportVectorCounts};
pub use hooks::{
    CheckpointItem, CheckpointList, CheckpointParams, CompactionCompleteRequest,
    CompactionCompleteResponse, HarnessInfo, HarnessList, HookIdentity, HookMemory, HookRecallItem,
    HookRecallRequest, HookRecallResponse, HookRememberRequest, HookRememberResponse,
    PreCompactionRequest, PreCompactionResponse, SessionEndRequest, SessionEndResponse,
    SessionStartRequest, SessionStartResponse, UserPromptRequest, UserPromptResponse,
};
pub use listing::{
    HistoryEvent, HistoryResponse, LegacySearchResponse, ListedMemoryItem, MemoryDetail,
    MemoryList, MemoryListStats, RawRow,
};
pub use memory::{
    ChunkedMemory, RecallExplain, RecallMethod, RecallRequest, RecallResponse, RecallResult,
    RememberRequest, RememberResponse, StoredMemory,
};
pub use mutation::{MutationResponse, MutationStatus};
pub use pipeline::{
    BudgetState, GraphState, JobList, JobStatus, LedgerState, LlmTotals, PipelineControl,
    PipelineStatus, ProviderState, QueueState, WorkerState,
};
pub use query::{
    FilterQuery, GuardQuery, HistoryQuery, JobListQuery, LegacySearchQuery, ListQuery, QueryMap,
    SearchQuery,
};
pub use repair::{
    BackfillSkippedRequest, CheckFtsRequest, ColdStats, DedupStats, DeduplicateRequest,
    EmbeddingGaps, PruneChunkGroupsRequest, PruneSingletonsRequest, ReembedRequest, RepairResponse,
    SweepRemoved,
};
pub use sessions::{
    BypassRequest, BypassResponse, FeedbackRequest, FeedbackResponse, SessionInfo, SessionList,
};
pub use status::{
    AuthSection, ConfigSection, ExtractionSection, LoggingSection, PeerSyncSection,
    PgvectorSection, PipelineSection, SchemaSection, Status, StorageSection,
};
pub use system::{ConfigFile, ConfigFiles, ConfigWrite, Features, Health, Identity, Written};

/// Fields a type does not model, kept when decoding (always empty when the daemon builds it).
pub type Extra = serde_json::Map<String, serde_json::Value>;

/// The wire types as OpenAPI component schemas; the server adds the paths from its route
/// table (`signet_server::openapi::document`).
#[derive(utoipa::OpenApi)]
#[openapi(components(schemas(
    Health,
    ExportRequest,
    ImportReport,
    ImportMemoryCounts,
    ImportVectorCounts,
    Status,
    AuthSection,
    ConfigSection,
    LoggingSection,
    PipelineSection,
    ExtractionSection,
    SchemaSection,
    StorageSection,
    PeerSyncSection,
    PgvectorSection,
    Features,
    Identity,
    ConfigFiles,
    ConfigFile,
    ConfigWrite,
    Written,
    AuthStatus,
    Whoami,
    TokenClaims,
    TokenScope,
    TokenRequest,
    MintedToken,
    UsageReport,
    ActorUsage,
    EndpointUsage,
    UsageTotals,
    MemoryOperations,
    LatencyReport,
    LatencySummary,
    ErrorsReport,
    ErrorRecord,
    ErrorStage,
    MemorySafety,
    LogList,
    LogRecord,
    LogLevel,
    DiagnosticsReport,
    DiagnosticsDomain,
    diagnostics::DomainHealth,
    diagnostics::DomainStatus,
    diagnostics::QueueDomain,
    diagnostics::MemoryDomain,
    diagnostics::StorageDomain,
    diagnostics::IndexDomain,
    diagnostics::ProviderDomain,
    diagnostics::ProviderOutcomes,
    diagnostics::MutationDomain,
    diagnostics::DuplicateDomain,
    diagnostics::ConnectorDomain,
    diagnostics::PredictorDomain,
    diagnostics::BackupDomain,
    diagnostics::DomainAdvice,
    SimilarResponse,
    SimilarMemory,
    EmbeddingList,
    EmbeddingItem,
    EmbeddingStatus,
    EmbeddingCoverage,
    VectorIndexStatus,
    ReembedProgress,
    EmbeddingHealth,
    HealthCheck,
    CheckStatus,
    EmbeddingConfig,
    Projection,
    ProjectionNode,
    MutationSignals,
    RepairResponse,
    SweepRemoved,
    DedupStats,
    EmbeddingGaps,
    CheckFtsRequest,
    ReembedRequest,
    DeduplicateRequest,
    ColdStats,
    PruneChunkGroupsRequest,
    PruneSingletonsRequest,
    BackfillSkippedRequest,
    RememberRequest,
    RememberResponse,
    StoredMemory,
    ChunkedMemory,
    RecallRequest,
    RecallResponse,
    RecallResult,
    RecallExplain,
    RecallMethod,
    MutationResponse,
    MutationStatus,
    HistoryResponse,
    HistoryEvent,
    MemoryList,
    ListedMemoryItem,
    MemoryListStats,
    MemoryDetail,
    LegacySearchResponse,
    BatchModifyResponse,
    BatchModifyResult,
    UnidentifiedPatch,
    BatchForgetResponse,
    ForgetPreview,
    ForgetCandidateItem,
    ForgetExecuted,
    SessionInfo,
    SessionList,
    BypassRequest,
    BypassResponse,
    FeedbackRequest,
    FeedbackResponse,
    SessionStartRequest,
    SessionStartResponse,
    HookIdentity,
    HookMemory,
    UserPromptRequest,
    UserPromptResponse,
    SessionEndRequest,
    SessionEndResponse,
    HookRememberRequest,
    HookRememberResponse,
    HookRecallRequest,
    HookRecallResponse,
    HookRecallItem,
    PreCompactionRequest,
    PreCompactionResponse,
    CompactionCompleteRequest,
    CompactionCompleteResponse,
    HarnessList,
    HarnessInfo,
    CheckpointList,
    CheckpointItem,
    DocumentRequest,
    DocumentCreated,
    DocumentRow,
    DocumentList,
    DocumentChunkItem,
    DocumentChunks,
    DocumentDeleted,
    PipelineStatus,
    WorkerState,
    QueueState,
    ProviderState,
    LlmTotals,
    LedgerState,
    BudgetState,
    GraphState,
    PipelineControl,
    JobStatus,
    JobList
)))]
pub struct Schemas;
