//! The OpenAPI document: the component schemas of `signet-api` plus one operation per route
//! of the route table (its permission, and the typed request and response where the route
//! has them; the dashboard's page and files, which are not JSON, are left out).
//! `GET /api/openapi.json` serves it, `signet api openapi` prints it, and a test
//! keeps `docs/openapi.json` in step.

use utoipa::OpenApi as _;
use utoipa::openapi::path::{
    HttpMethod, OperationBuilder, Parameter, ParameterBuilder, ParameterIn,
};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::{
    ContentBuilder, InfoBuilder, OpenApi, Ref, Required, ResponseBuilder, ResponsesBuilder,
};

use crate::routes::{RouteSpec, table};

/// The typed request and response schema names of a route, where it has them.
fn schemas(method: &str, path: &str) -> (Option<&'static str>, Option<&'static str>) {
    match (method, path) {
        ("POST", "/api/memory/remember" | "/api/memory/save" | "/api/hook/remember") => {
            (Some("RememberRequest"), Some("RememberResponse"))
        }
        ("POST", "/api/memory/recall") => (Some("RecallRequest"), Some("RecallResponse")),
        ("GET", "/api/memory/search") => (None, Some("RecallResponse")),
        ("PATCH" | "DELETE", "/api/memory/{id}") | ("POST", "/api/memory/{id}/recover") => {
            (None, Some("MutationResponse"))
        }
        ("GET", "/api/memory/{id}") => (None, Some("MemoryDetail")),
        ("GET", "/memory/search") => (None, Some("LegacySearchResponse")),
        ("GET", "/api/memory/{id}/history") => (None, Some("HistoryResponse")),
        ("GET", "/api/memories") => (None, Some("MemoryList")),
        ("POST", "/api/memory/modify") => (None, Some("BatchModifyResponse")),
        ("POST", "/api/memory/forget") => (None, Some("BatchForgetResponse")),
        ("GET", "/memory/similar") => (None, Some("SimilarResponse")),
        ("GET", "/api/embeddings") => (None, Some("EmbeddingList")),
        ("GET", "/api/embeddings/status") => (None, Some("EmbeddingStatus")),
        ("GET", "/api/embeddings/health") => (None, Some("EmbeddingHealth")),
        ("GET", "/api/embeddings/projection") => (None, Some("Projection")),
        ("GET", "/api/repair/dedup-stats") => (None, Some("DedupStats")),
        ("GET", "/api/repair/embedding-gaps") => (None, Some("EmbeddingGaps")),
        ("POST", "/api/repair/check-fts") => (Some("CheckFtsRequest"), Some("RepairResponse")),
        ("POST", "/api/repair/re-embed") => (Some("ReembedRequest"), Some("RepairResponse")),
        ("POST", "/api/repair/deduplicate") => (Some("DeduplicateRequest"), Some("RepairResponse")),
        ("GET", "/api/repair/cold-stats") => (None, Some("ColdStats")),
        // The export answers JSON Lines (`application/x-ndjson`), the import reads them.
        ("POST", "/api/export") => (Some("ExportRequest"), None),
        ("POST", "/api/import") => (None, Some("ImportReport")),
        ("POST", "/api/repair/prune-chunk-groups") => {
            (Some("PruneChunkGroupsRequest"), Some("RepairResponse"))
        }
        ("POST", "/api/repair/prune-singleton-entities") => {
            (Some("PruneSingletonsRequest"), Some("RepairResponse"))
        }
        ("POST", "/api/repair/backfill-skipped") => {
            (Some("BackfillSkippedRequest"), Some("RepairResponse"))
        }
        (
            "POST",
            "/api/repair/requeue-dead"
            | "/api/repair/requeue-dead-jobs"
            | "/api/repair/release-leases"
            | "/api/repair/retention-sweep"
            | "/api/repair/clean-orphans",
        ) => (None, Some("RepairResponse")),
        ("GET", "/health") => (None, Some("Health")),
        ("GET", "/api/status") => (None, Some("Status")),
        ("GET", "/api/features") => (None, Some("Features")),
        ("GET", "/api/identity") => (None, Some("Identity")),
        ("GET", "/api/config") => (None, Some("ConfigFiles")),
        ("POST", "/api/config") => (Some("ConfigWrite"), Some("Written")),
        ("GET", "/api/auth/status") => (None, Some("AuthStatus")),
        ("GET", "/api/auth/whoami") => (None, Some("Whoami")),
        ("POST", "/api/auth/token") => (Some("TokenRequest"), Some("MintedToken")),
        ("GET", "/api/diagnostics") => (None, Some("DiagnosticsReport")),
        ("GET", "/api/diagnostics/{domain}") => (None, Some("DiagnosticsDomain")),
        ("GET", "/api/analytics/usage") => (None, Some("UsageReport")),
        ("GET", "/api/analytics/errors") => (None, Some("ErrorsReport")),
        ("GET", "/api/analytics/latency") => (None, Some("LatencyReport")),
        ("GET", "/api/analytics/memory-safety") => (None, Some("MemorySafety")),
        ("GET", "/api/logs" | "/api/analytics/logs") => (None, Some("LogList")),
        ("POST", "/api/memory/feedback") => (Some("FeedbackRequest"), Some("FeedbackResponse")),
        ("GET", "/api/sessions") => (None, Some("SessionList")),
        ("GET", "/api/sessions/{key}") => (None, Some("SessionInfo")),
        ("POST", "/api/sessions/{key}/bypass") => (Some("BypassRequest"), Some("BypassResponse")),
        ("POST", "/api/hooks/session-start") => {
            (Some("SessionStartRequest"), Some("SessionStartResponse"))
        }
        ("POST", "/api/hooks/user-prompt-submit") => {
            (Some("UserPromptRequest"), Some("UserPromptResponse"))
        }
        ("POST", "/api/hooks/session-end") => {
            (Some("SessionEndRequest"), Some("SessionEndResponse"))
        }
        ("POST", "/api/hooks/remember") => {
            (Some("HookRememberRequest"), Some("HookRememberResponse"))
        }
        ("POST", "/api/hooks/recall") => (Some("HookRecallRequest"), Some("HookRecallResponse")),
        ("POST", "/api/hooks/pre-compaction") => {
            (Some("PreCompactionRequest"), Some("PreCompactionResponse"))
        }
        ("POST", "/api/hooks/compaction-complete") => (
            Some("CompactionCompleteRequest"),
            Some("CompactionCompleteResponse"),
        ),
        ("GET", "/api/harnesses") => (None, Some("HarnessList")),
        ("GET", "/api/checkpoints" | "/api/checkpoints/{key}") => (None, Some("CheckpointList")),
        ("POST", "/api/documents") => (Some("DocumentRequest"), Some("DocumentCreated")),
        ("GET", "/api/documents") => (None, Some("DocumentList")),
        ("GET", "/api/documents/{id}") => (None, Some("DocumentRow")),
        ("GET", "/api/documents/{id}/chunks") => (None, Some("DocumentChunks")),
        ("DELETE", "/api/documents/{id}") => (None, Some("DocumentDeleted")),
        ("GET", "/api/pipeline/status") => (None, Some("PipelineStatus")),
        ("POST", "/api/pipeline/pause" | "/api/pipeline/resume") => (None, Some("PipelineControl")),
        ("GET", "/api/memory/jobs/{id}") => (None, Some("JobStatus")),
        ("GET", "/api/pipeline/jobs") => (None, Some("JobList")),
        _ => (None, None),
    }
}

/// The query parameters of a route, where its query string is typed.
fn query_params(method: &str, path: &str) -> Vec<Parameter> {
    use signet_api::{
        FilterQuery, GuardQuery, HistoryQuery, LegacySearchQuery, ListQuery, SearchQuery,
    };
    use utoipa::IntoParams;
    let q = || Some(ParameterIn::Query);
    match (method, path) {
        ("GET", "/api/memories") => ListQuery::into_params(q),
        ("GET", "/api/memory/{id}/history") => HistoryQuery::into_params(q),
        ("GET", "/api/memory/search") => {
            [SearchQuery::into_params(q), FilterQuery::into_params(q)].concat()
        }
        ("GET", "/memory/search") => [
            LegacySearchQuery::into_params(q),
            FilterQuery::into_params(q),
        ]
        .concat(),
        ("DELETE", "/api/memory/{id}") | ("POST", "/api/memory/{id}/recover") => {
            GuardQuery::into_params(q)
        }
        ("GET", "/api/analytics/errors") => signet_api::ErrorsQuery::into_params(q),
        ("GET", "/memory/similar") => signet_api::SimilarQuery::into_params(q),
        ("GET", "/api/embeddings") => signet_api::EmbeddingsQuery::into_params(q),
        ("GET", "/api/embeddings/projection") => signet_api::ProjectionQuery::into_params(q),
        ("GET", "/api/documents") => signet_api::DocumentListQuery::into_params(q),
        ("DELETE", "/api/documents/{id}") => signet_api::DocumentDeleteQuery::into_params(q),
        ("GET", "/api/pipeline/jobs") => signet_api::JobListQuery::into_params(q),
        _ => Vec::new(),
    }
}

/// Routes that answer 201 when they create something (with the same schema as their 200,
/// which then means the thing already existed).
fn creates(method: &str, path: &str) -> bool {
    matches!((method, path), ("POST", "/api/documents"))
}

fn method(name: &str) -> Option<HttpMethod> {
    Some(match name {
        "GET" => HttpMethod::Get,
        "POST" => HttpMethod::Post,
        "PATCH" => HttpMethod::Patch,
        "DELETE" => HttpMethod::Delete,
        "PUT" => HttpMethod::Put,
        _ => return None,
    })
}

fn json_body(schema: &str) -> utoipa::openapi::Content {
    ContentBuilder::new()
        .schema(Some(Ref::from_schema_name(schema)))
        .build()
}

fn operation(spec: &RouteSpec) -> utoipa::openapi::path::Operation {
    let (request, response) = schemas(spec.method_name, spec.path);
    let ok = match response {
        Some(s) => ResponseBuilder::new()
            .description("Success")
            .content("application/json", json_body(s)),
        None if (spec.method_name, spec.path) == ("POST", "/api/export") => ResponseBuilder::new()
            .description("Success: the export as JSON Lines (`application/x-ndjson`)")
            .content("application/x-ndjson", ContentBuilder::new().build()),
        None => ResponseBuilder::new().description("Success (JSON; not yet typed in signet-api)"),
    };
    let error = ResponseBuilder::new().description("`{\"error\": ...}`");
    let mut responses = ResponsesBuilder::new();
    if let (true, Some(s)) = (creates(spec.method_name, spec.path), response) {
        let created = ResponseBuilder::new()
            .description("Created")
            .content("application/json", json_body(s));
        responses = responses.response("201", created.build());
    }
    let mut op = OperationBuilder::new()
        .summary(Some(format!("permission: {}", spec.permission.as_str())))
        .responses(
            responses
                .response("200", ok.build())
                .response("4XX", error.build())
                .build(),
        );
    if let Some(r) = request {
        let body = RequestBodyBuilder::new()
            .content("application/json", json_body(r))
            .required(Some(Required::True));
        op = op.request_body(Some(body.build()));
    }
    for p in query_params(spec.method_name, spec.path) {
        op = op.parameter(p);
    }
    for name in path_params(spec.path) {
        let p = ParameterBuilder::new()
            .name(name)
            .parameter_in(ParameterIn::Path)
            .required(Required::True);
        op = op.parameter(p.build());
    }
    op.build()
}

fn path_params(path: &str) -> Vec<&str> {
    path.split('/')
        .filter_map(|seg| seg.strip_prefix('{')?.strip_suffix('}'))
        .collect()
}

/// The whole document.
pub fn document() -> OpenApi {
    let mut doc = signet_api::Schemas::openapi();
    doc.info = InfoBuilder::new()
        .title("Signet daemon")
        .version(env!("CARGO_PKG_VERSION"))
        .description(Some(
            "The memory daemon's HTTP API. Every route declares a permission (team mode: a \
             bearer token whose role grants it).",
        ))
        .build();
    for spec in table()
        .iter()
        .filter(|s| !crate::dashboard::is_route(s.path))
    {
        if let Some(m) = method(spec.method_name) {
            doc.paths
                .add_path_operation(spec.path, vec![m], operation(spec));
        }
    }
    doc
}

/// The document as the pretty JSON that `docs/openapi.json` holds (with a final newline).
pub fn document_json() -> String {
    let mut text = document().to_pretty_json().unwrap_or_default();
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `docs/openapi.json` is what the code generates; regenerate it with
    /// `cargo run -p signet -- api openapi > docs/openapi.json`.
    #[test]
    fn committed_document_has_not_drifted() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/openapi.json");
        let committed = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            committed == document_json(),
            "docs/openapi.json is stale: run `cargo run -p signet -- api openapi > docs/openapi.json`"
        );
    }

    #[test]
    fn every_route_is_documented_and_typed_routes_reference_schemas() {
        let doc = serde_json::to_value(document()).unwrap();
        for spec in table() {
            let op = &doc["paths"][spec.path][spec.method_name.to_lowercase()];
            let dashboard = crate::dashboard::is_route(spec.path);
            assert_eq!(
                op.is_object(),
                !dashboard,
                "{} {}",
                spec.method_name,
                spec.path
            );
        }
        let recall = &doc["paths"]["/api/memory/recall"]["post"];
        assert_eq!(
            recall["responses"]["200"]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/RecallResponse"
        );
        assert!(doc["components"]["schemas"]["MutationStatus"].is_object());
    }
}
