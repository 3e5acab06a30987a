//! `/api/repair/*`: each handler reads the caller from the `x-signet-*` headers, runs one
//! repair and says what its result means: done, rate limited when the gate or limiter refused
//! (and, as upstream, whenever requeue-dead, release-leases or check-fts did not succeed),
//! else internal (`error.rs` turns these into 200 / 429 / 500).

use axum::Json;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use signet_api::{ColdStats, DedupStats, RepairResponse};
use signet_core::repair::{
    ChunkGroupPrune, DedupParams, FtsCheck, RepairContext, RepairResult, SingletonPrune,
    SkippedBackfill,
};

use crate::actor::{actor_name, header};
use crate::error::{ApiResult, Input, Kind, Reply};
use crate::request_id::RequestId;
use crate::state::AppState;

/// The repair context from `x-signet-reason`, `x-signet-actor`, `x-signet-actor-type` and the
/// request id (defaults: "manual repair", "operator", "operator").
pub struct RepairCaller(pub RepairContext);

impl<S: Send + Sync> FromRequestParts<S> for RepairCaller {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let d = RepairContext::default();
        Ok(Self(RepairContext {
            actor: actor_name(parts).unwrap_or(d.actor),
            actor_type: header(parts, "x-signet-actor-type")
                .map(|t| t.to_ascii_lowercase())
                .unwrap_or(d.actor_type),
            reason: header(parts, "x-signet-reason").unwrap_or(d.reason),
            request_id: parts.extensions.get::<RequestId>().map(|r| r.0.clone()),
        }))
    }
}

/// A repair's answer with its status.
pub type RepairReply = Reply<RepairResponse>;

/// The answer of a repair that ran: done, refused (the gate or limiter denied it; `strict`:
/// any failure, as upstream answers requeue, leases and FTS) or failed.
pub fn repair_response(
    r: signet_core::Result<RepairResult>,
    strict: bool,
) -> ApiResult<RepairReply> {
    let r = r?;
    let kind = if r.response.success {
        Kind::Done
    } else if r.denied || strict {
        Kind::RateLimited
    } else {
        Kind::Internal
    };
    Ok(Reply::new(kind, r.response))
}

/// `POST /api/repair/requeue-dead` (alias `requeue-dead-jobs`).
pub async fn requeue_dead(
    State(s): State<AppState>,
    RepairCaller(c): RepairCaller,
) -> ApiResult<RepairReply> {
    repair_response(s.maintenance().requeue_dead(&c).await, true)
}

/// `POST /api/repair/release-leases`.
pub async fn release_leases(
    State(s): State<AppState>,
    RepairCaller(c): RepairCaller,
) -> ApiResult<RepairReply> {
    repair_response(s.maintenance().release_leases(&c).await, true)
}

/// `POST /api/repair/check-fts` (`{"repair": bool}`).
pub async fn check_fts(
    State(s): State<AppState>,
    RepairCaller(c): RepairCaller,
    Input(req): Input<FtsCheck>,
) -> ApiResult<RepairReply> {
    repair_response(s.maintenance().check_fts(&c, req).await, true)
}

/// `POST /api/repair/retention-sweep`: runs a sweep now.
pub async fn retention_sweep(
    State(s): State<AppState>,
    RepairCaller(c): RepairCaller,
) -> ApiResult<RepairReply> {
    repair_response(s.maintenance().retention_sweep(&c).await, false)
}

/// `GET /api/repair/dedup-stats`.
pub async fn dedup_stats(State(s): State<AppState>) -> ApiResult<Json<DedupStats>> {
    Ok(Json(s.maintenance().dedup_stats().await?))
}

/// `POST /api/repair/deduplicate` (`{batchSize, dryRun, semanticThreshold, semanticEnabled}`).
pub async fn deduplicate(
    State(s): State<AppState>,
    RepairCaller(c): RepairCaller,
    Input(req): Input<DedupParams>,
) -> ApiResult<RepairReply> {
    repair_response(s.maintenance().deduplicate(&c, req).await, false)
}

/// `GET /api/repair/cold-stats`: the cold archive's counts (a read).
pub async fn cold_stats(State(s): State<AppState>) -> ApiResult<Json<ColdStats>> {
    Ok(Json(s.maintenance().cold_stats().await?))
}

/// `POST /api/repair/prune-chunk-groups` (`{batchSize, dryRun}`).
pub async fn prune_chunk_groups(
    State(s): State<AppState>,
    RepairCaller(c): RepairCaller,
    Input(req): Input<ChunkGroupPrune>,
) -> ApiResult<RepairReply> {
    repair_response(s.maintenance().prune_chunk_groups(&c, req).await, false)
}

/// `POST /api/repair/prune-singleton-entities` (`{batchSize, dryRun, maxMentions}`).
pub async fn prune_singletons(
    State(s): State<AppState>,
    RepairCaller(c): RepairCaller,
    Input(req): Input<SingletonPrune>,
) -> ApiResult<RepairReply> {
    repair_response(s.maintenance().prune_singletons(&c, req).await, false)
}

/// `POST /api/repair/backfill-skipped` (`{limit, dryRun}`).
pub async fn backfill_skipped(
    State(s): State<AppState>,
    RepairCaller(c): RepairCaller,
    Input(req): Input<SkippedBackfill>,
) -> ApiResult<RepairReply> {
    repair_response(s.maintenance().backfill_skipped(&c, req).await, false)
}

/// Upstream repairs this daemon does not have: the sqlite-vec table (there is none), entity
/// reclassification by the LLM and the structural backfill (no structural classifier runs
/// here): 501 with the reason, never a pretend success.
pub async fn not_implemented(uri: axum::http::Uri) -> RepairReply {
    let action = uri.path().rsplit('/').next().unwrap_or_default().to_owned();
    let message = match action.as_str() {
        "resync-vec" => {
            "not applicable: vectors live in an in-memory index built from the embeddings table; there is no sqlite-vec table to resync"
        }
        _ => {
            "not implemented: this repair needs the structural classification of entities (aspects, attributes), which this daemon does not run yet"
        }
    };
    let body = RepairResponse {
        error: Some(message.to_owned()),
        ..RepairResponse::new(action, false, 0, message.to_owned())
    };
    Reply::new(Kind::NotImplemented, body)
}
