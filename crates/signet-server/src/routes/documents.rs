//! `/api/documents*`: documents ingested as chunk memories. Each handler is one call of
//! `signet_core::documents::Documents`; the worker does the ingesting.

use axum::Json;
use axum::extract::{Path, Query, State};
use signet_api::{
    DocumentChunks, DocumentCreated, DocumentDeleteQuery, DocumentDeleted, DocumentList,
    DocumentListQuery, DocumentRow,
};
use signet_core::documents::{DocumentInput, DocumentListParams, delete_reason};

use crate::actor::CallerActor;
use crate::error::{ApiResult, Input, Kind, Params, Reply};
use crate::state::AppState;

/// `POST /api/documents`: 201 with the queued document and its job, or 200 naming the
/// document that already holds the URL or content.
pub async fn create(
    State(s): State<AppState>,
    Input(input): Input<DocumentInput>,
) -> ApiResult<Reply<DocumentCreated>> {
    let created = s.documents().create(input).await?;
    let kind = match created.deduplicated {
        Some(true) => Kind::Done,
        _ => Kind::Created,
    };
    Ok(Reply::new(kind, created))
}

/// `GET /api/documents?status&limit&offset`.
pub async fn list(
    State(s): State<AppState>,
    Params(p, _): Params<DocumentListQuery, DocumentListParams>,
) -> ApiResult<Json<DocumentList>> {
    Ok(Json(s.documents().list(p).await?))
}

/// `GET /api/documents/{id}`.
pub async fn get(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<DocumentRow>> {
    Ok(Json(s.documents().get(id).await?))
}

/// `GET /api/documents/{id}/chunks`.
pub async fn chunks(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<DocumentChunks>> {
    Ok(Json(s.documents().chunks(id).await?))
}

/// `DELETE /api/documents/{id}?reason=`.
pub async fn delete(
    State(s): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<DocumentDeleteQuery>,
    CallerActor(actor): CallerActor,
) -> ApiResult<Json<DocumentDeleted>> {
    let reason = delete_reason(&q)?;
    Ok(Json(s.documents().delete(id, reason, actor).await?))
}
