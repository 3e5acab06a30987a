//! `GET /api/logs` (and `/api/analytics/logs`), the live log stream and the live event
//! stream `/sse`.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::response::sse::Event as Frame;
use serde_json::json;
use signet_api::{Extra, LogList, LogRecord};
use signet_core::auth::Scope;
use signet_core::events::Event;

use crate::error::{ApiError, ApiResult};
use crate::logs::{LogEntry, LogQuery};
use crate::permission::Authed;
use crate::sse;
use crate::state::AppState;

/// An entry of the hub as the wire type.
fn record(e: LogEntry) -> LogRecord {
    LogRecord {
        category: e.category,
        data: e.data,
        level: e.level,
        message: e.message,
        request_id: e.request_id,
        timestamp: e.timestamp,
        extra: Extra::new(),
    }
}

/// `GET /api/logs?limit=&level=&category=&since=` → `{logs, count}`, oldest first.
pub async fn list(
    State(s): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<LogList>> {
    let query = LogQuery::from_params(&q).map_err(ApiError::bad_request)?;
    let logs: Vec<LogRecord> = s
        .observe()
        .logs
        .recent(&query)
        .into_iter()
        .map(record)
        .collect();
    Ok(Json(LogList {
        count: logs.len(),
        logs,
        extra: Extra::new(),
    }))
}

/// `GET /api/logs/stream`: `data: {"type":"connected"}`, then `data: <LogEntry>` per entry.
pub async fn stream(State(s): State<AppState>) -> Response {
    let o = s.observe();
    let first = Frame::default().data(r#"{"type":"connected"}"#);
    sse::stream(first, o.logs.subscribe(), o.closing.clone(), |entry| {
        Frame::default().json_data(entry).ok()
    })
}

/// Whether a subscriber restricted to `scope` may see `ev`: only events about memories inside
/// its scope, plus daemon-wide health.
fn visible(scope: &Scope, ev: &Event) -> bool {
    match ev.scope() {
        None => true,
        Some((project, who, user)) => scope.admits(project, who, user).is_ok(),
    }
}

/// `GET /sse`: `event: connected`, then `event: <name>` / `data: <json>` per live event (see
/// docs/EVENTS.md).
pub async fn events(State(s): State<AppState>, caller: Authed) -> Response {
    // Local callers, admins and unscoped tokens see everything.
    let scope = Some(caller.scope()).filter(|s| !s.is_empty());
    let first = Frame::default()
        .event("connected")
        .json_data(json!({"type": "connected", "timestamp": signet_model::time::now_iso()}))
        .unwrap_or_default();
    let rx = s.memories().events().subscribe();
    sse::stream(first, rx, s.observe().closing.clone(), move |ev: &Event| {
        if scope.as_ref().is_some_and(|s| !visible(s, ev)) {
            return None;
        }
        Frame::default().event(ev.name()).json_data(ev.data()).ok()
    })
}
