//! Every typed response round-trips through `signet-api`'s types (what the client decodes):
//! decoding then encoding gives back the exact JSON the server sent, and no field falls into
//! `extra` (each one is modelled).

use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use signet_api::{
    BatchForgetResponse, BatchModifyResponse, BatchModifyResult, Health, HistoryResponse,
    MemoryList, MutationResponse, MutationStatus, RecallResponse, RememberResponse,
};

use crate::common::TestServer;

/// Decodes `raw` as `T`, checks nothing was left unmodelled, and that it encodes back to `raw`.
fn round_trip<T: DeserializeOwned + Serialize>(raw: &Value, extra: impl Fn(&T) -> usize) -> T {
    let typed: T = serde_json::from_value(raw.clone()).unwrap_or_else(|e| panic!("{e}: {raw}"));
    assert_eq!(extra(&typed), 0, "unmodelled fields in {raw}");
    assert_eq!(&serde_json::to_value(&typed).unwrap(), raw);
    typed
}

fn remember_extra(r: &RememberResponse) -> usize {
    match r {
        RememberResponse::Stored(m) => m.extra.len(),
        RememberResponse::Chunked(c) => c.extra.len(),
    }
}

#[tokio::test]
async fn remember_recall_and_health_match_the_wire_types() {
    let s = TestServer::start().await;
    let (_, raw) = s.get("/health").await;
    let h: Health = serde_json::from_value(raw.clone()).unwrap();
    assert_eq!(h.status, "healthy");

    // Remembered twice: the second answer is the dedup of the first.
    let remember_rotate = || s.remember_json(json!({"content": "critical: [ops]: rotate keys"}));
    let (_, raw) = remember_rotate().await;
    let RememberResponse::Stored(m) = round_trip(&raw, remember_extra) else {
        panic!("expected a stored memory: {raw}");
    };
    let (_, raw) = remember_rotate().await;
    let RememberResponse::Stored(again) = round_trip(&raw, remember_extra) else {
        panic!("expected a dedup: {raw}");
    };
    assert!(again.deduped && again.id == m.id);
    let long = "word ".repeat(400);
    let (_, raw) = s.remember_json(json!({"content": long})).await;
    assert!(matches!(
        round_trip(&raw, remember_extra),
        RememberResponse::Chunked(_)
    ));

    for body in [
        json!({"query": "rotate keys"}),
        json!({"query": "rotate", "mode": "keyword", "limt": 3}),
        json!({"query": "nothing matches this"}),
    ] {
        let (st, raw) = s.post("/api/memory/recall", body).await;
        assert_eq!(st, StatusCode::OK);
        let r: RecallResponse = round_trip(&raw, |r: &RecallResponse| {
            r.extra.len() + r.results.iter().map(|x| x.extra.len()).sum::<usize>()
        });
        assert!(r.results.iter().all(|x| !x.id.is_empty()));
    }
    let (_, raw) = s.get("/api/memory/search?q=rotate").await;
    round_trip(&raw, |r: &RecallResponse| r.extra.len());
}

#[tokio::test]
async fn every_mutation_outcome_matches_the_wire_type() {
    let s = TestServer::start().await;
    let id = s.remember("the wire type test memory").await;
    let pinned = s.remember("critical: the pinned wire memory").await;
    let path = format!("/api/memory/{id}");
    let cases: Vec<(Method, String, Value, MutationStatus)> = vec![
        (
            Method::PATCH,
            path.clone(),
            json!({"importance": 0.3, "reason": "r"}),
            MutationStatus::Updated,
        ),
        (
            Method::PATCH,
            path.clone(),
            json!({"importance": 0.3, "reason": "r"}),
            MutationStatus::NoChanges,
        ),
        (
            Method::PATCH,
            path.clone(),
            json!({"importance": 0.4, "reason": "r", "if_version": 1}),
            MutationStatus::VersionConflict,
        ),
        (
            Method::PATCH,
            "/api/memory/nope".into(),
            json!({"importance": 0.4, "reason": "r"}),
            MutationStatus::NotFound,
        ),
        (
            Method::DELETE,
            format!("/api/memory/{pinned}"),
            json!({"reason": "r"}),
            MutationStatus::PinnedRequiresForce,
        ),
        (
            Method::POST,
            format!("{path}/recover"),
            json!({"reason": "r"}),
            MutationStatus::NotDeleted,
        ),
        (
            Method::DELETE,
            path.clone(),
            json!({"reason": "r", "extra_field": 1}),
            MutationStatus::Deleted,
        ),
        (
            Method::DELETE,
            path.clone(),
            json!({"reason": "r"}),
            MutationStatus::AlreadyDeleted,
        ),
        (
            Method::PATCH,
            path.clone(),
            json!({"importance": 0.5, "reason": "r"}),
            MutationStatus::Deleted,
        ),
        (
            Method::POST,
            format!("{path}/recover"),
            json!({"reason": "r"}),
            MutationStatus::Recovered,
        ),
    ];
    for (method, path, body, want) in cases {
        let (_, raw) = s.call(method.clone(), &path, Some(body)).await;
        let r: MutationResponse = round_trip(&raw, |r: &MutationResponse| r.extra.len());
        assert_eq!(r.status, want, "{method} {path}: {raw}");
    }
    let (_, raw) = s
        .post(
            "/api/memory/modify",
            json!({"patches": [{"id": id, "importance": 0.9, "reason": "r"}]}),
        )
        .await;
    for item in raw["results"].as_array().unwrap() {
        round_trip(item, |r: &MutationResponse| r.extra.len());
    }
}

#[tokio::test]
async fn history_and_listing_match_the_wire_types() {
    let s = TestServer::start().await;
    let id = s.remember("the wire history memory").await;
    s.remember("critical: [ops]: a pinned listed memory").await;
    let path = format!("/api/memory/{id}");
    let (st, _) = s
        .call(
            Method::PATCH,
            &path,
            Some(json!({"content": "changed", "reason": "r"})),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    let (st, _) = s
        .call(Method::DELETE, &path, Some(json!({"reason": "r"})))
        .await;
    assert_eq!(st, StatusCode::OK);

    let (st, raw) = s.get(&format!("{path}/history")).await;
    assert_eq!(st, StatusCode::OK);
    let h: HistoryResponse = round_trip(&raw, |h: &HistoryResponse| {
        h.extra.len() + h.history.iter().map(|e| e.extra.len()).sum::<usize>()
    });
    assert_eq!(
        (h.memory_id.as_str(), h.count),
        (id.as_str(), h.history.len())
    );
    assert!(h.count >= 3, "{raw}");

    for q in ["/api/memories", "/api/memories?limit=1&offset=0"] {
        let (st, raw) = s.get(q).await;
        assert_eq!(st, StatusCode::OK);
        let l: MemoryList = round_trip(&raw, |l: &MemoryList| {
            l.extra.len()
                + l.stats.extra.len()
                + l.memories.iter().map(|m| m.extra.len()).sum::<usize>()
        });
        assert!(!l.memories.is_empty() && l.stats.total >= 1, "{raw}");
    }
}

fn modify_extra(r: &BatchModifyResponse) -> usize {
    let item = |x: &BatchModifyResult| match x {
        BatchModifyResult::Outcome(o) => o.extra.len(),
        BatchModifyResult::Unidentified(u) => u.extra.len(),
    };
    r.extra.len() + r.results.iter().map(item).sum::<usize>()
}

fn forget_extra(r: &BatchForgetResponse) -> usize {
    match r {
        BatchForgetResponse::Preview(p) => {
            p.extra.len() + p.candidates.iter().map(|c| c.extra.len()).sum::<usize>()
        }
        BatchForgetResponse::Execute(x) => {
            x.extra.len() + x.results.iter().map(|o| o.extra.len()).sum::<usize>()
        }
    }
}

#[tokio::test]
async fn batch_envelopes_match_the_wire_types() {
    let s = TestServer::start().await;
    let a = s.remember("the first batch wire memory").await;
    let b = s.remember("the second batch wire memory").await;
    let body = json!({"reason": "r", "patches": [
        {"id": a, "content": "the first batch wire memory, edited"},
        {"id": b, "importance": 7},
        {"id": "missing", "importance": 0.1},
        {"importance": 0.2},
        {"id": "  ", "importance": 0.2},
    ]});
    let (st, raw) = s.post("/api/memory/modify", body).await;
    assert_eq!(st, StatusCode::OK, "{raw}");
    let m: BatchModifyResponse = round_trip(&raw, modify_extra);
    assert_eq!((m.total, m.updated), (5, 1));
    assert!(m.results[0].content_changed());
    let unnamed = m.results.iter().filter(|r| r.id().is_none()).count();
    assert_eq!(unnamed, 2, "{raw}");
    assert_eq!(raw["results"][3]["id"], Value::Null);

    for who in ["nobody-at-all", "wire-forget"] {
        let (st, raw) = s.post("/api/memory/forget", json!({"who": who})).await;
        assert_eq!(st, StatusCode::OK, "{raw}");
        assert!(matches!(
            round_trip(&raw, forget_extra),
            BatchForgetResponse::Preview(_)
        ));
    }
    s.remember_json(json!({"content": "a memory to forget in batch", "who": "wire-forget"}))
        .await;
    let (_, raw) = s
        .post("/api/memory/forget", json!({"query": "forget batch"}))
        .await;
    let BatchForgetResponse::Preview(p) = round_trip(&raw, forget_extra) else {
        panic!("expected a preview: {raw}");
    };
    assert_eq!(p.count, p.candidates.len());
    assert!(p.count >= 1, "{raw}");
    let body = json!({"who": "wire-forget", "mode": "execute", "reason": "r"});
    let (st, raw) = s.post("/api/memory/forget", body).await;
    assert_eq!(st, StatusCode::OK, "{raw}");
    let BatchForgetResponse::Execute(x) = round_trip(&raw, forget_extra) else {
        panic!("expected an execute: {raw}");
    };
    assert_eq!((x.requested, x.deleted), (1, 1));
}
