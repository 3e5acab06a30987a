//! `POST /api/export` and `POST /api/import` (admin): the JSON Lines export streamed out page
//! by page, and an import streamed in and written in batches (see `signet_core::export`).

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{RawQuery, State};
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt as _;
use signet_api::{ExportRequest, ImportReport};
use signet_core::export::Exporter;

use crate::error::{ApiError, ApiResult, JsonBody};
use crate::state::AppState;

/// The media type of the export.
pub const NDJSON: &str = "application/x-ndjson";

/// `POST /api/export` with `{"withVectors": bool, "includeDeleted": bool}` (both optional; no
/// body: both false). A failure midway ends the stream without its end record, which the
/// importer reports as a truncated file.
pub async fn export(State(s): State<AppState>, JsonBody(body): JsonBody) -> ApiResult<Response> {
    let req = if body.is_null() {
        ExportRequest::default()
    } else {
        serde_json::from_value::<ExportRequest>(body)
            .map_err(|e| ApiError::bad_request(format!("invalid export request: {e}")))?
    };
    let exporter = s.transfer().exporter(req);
    let stream = futures_util::stream::unfold(Some(exporter), next_chunk);
    Ok(([(CONTENT_TYPE, NDJSON)], Body::from_stream(stream)).into_response())
}

async fn next_chunk(state: Option<Exporter>) -> Option<(std::io::Result<Bytes>, Option<Exporter>)> {
    let mut e = state?;
    match e.next_chunk().await {
        Ok(Some(chunk)) => Some((Ok(Bytes::from(chunk)), Some(e))),
        Ok(None) => None,
        Err(err) => {
            tracing::error!(target: "api", error = %err, "export failed midway");
            Some((Err(std::io::Error::other("export failed")), None))
        }
    }
}

/// `POST /api/import[?dryRun=true]` with an export as the body (any size: it is read as a
/// stream). Answers the [`ImportReport`]; a bad or truncated file is a 400 naming the line,
/// with the report of what was kept under `report`.
pub async fn import(
    State(s): State<AppState>,
    RawQuery(query): RawQuery,
    body: Body,
) -> ApiResult<Json<ImportReport>> {
    let dry_run = dry_run(query.as_deref())?;
    let mut session = s.transfer().importer(dry_run);
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        let chunk =
            chunk.map_err(|e| ApiError::bad_request(format!("reading the request body: {e}")))?;
        if let Err(e) = session.feed(&chunk).await {
            // Read the rest before answering: a client still sending gets the answer, not a
            // reset connection.
            while let Some(Ok(_)) = stream.next().await {}
            return Err(e.into());
        }
    }
    Ok(Json(session.finish().await?))
}

fn dry_run(query: Option<&str>) -> ApiResult<bool> {
    let mut dry = false;
    for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, "true"));
        match (k, v) {
            ("dryRun" | "dry_run", "true" | "1") => dry = true,
            ("dryRun" | "dry_run", "false" | "0") => dry = false,
            ("dryRun" | "dry_run", _) => {
                return Err(ApiError::bad_request("dryRun must be true or false"));
            }
            _ => {
                return Err(ApiError::bad_request(format!(
                    "unknown query parameter {k:?} (only dryRun)"
                )));
            }
        }
    }
    Ok(dry)
}
