//! `GET /api/diagnostics` and `GET /api/diagnostics/{domain}`.

use axum::Json;
use axum::extract::{Path, State};
use signet_api::{DiagnosticsDomain, DiagnosticsReport};

use crate::error::ApiResult;
use crate::state::AppState;

/// The whole scored report (cached for 2 s).
pub async fn report(State(s): State<AppState>) -> ApiResult<Json<DiagnosticsReport>> {
    Ok(Json(s.maintenance().diagnostics().await?))
}

/// One domain; unknown domains (and `timestamp`) are 400 `Unknown domain: <d>`.
pub async fn domain(
    State(s): State<AppState>,
    Path(domain): Path<String>,
) -> ApiResult<Json<DiagnosticsDomain>> {
    Ok(Json(s.maintenance().diagnostics_domain(&domain).await?))
}
