//! Recall with `explain: true`: each result's score taken apart (keyword leg, vector leg,
//! fused, rehearsal factor, graph boost, final), and the parts add up the way recall applies
//! them: `final = fused * rehearsal + graph`. Without `explain` nothing changes.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{TestServer, eventually};

const EPS: f64 = 1e-9;

async fn seed(s: &TestServer) -> Vec<String> {
    let mut ids = Vec::new();
    for content in [
        "Rotate the signing keys every ninety days",
        "The deploy keys live in the vault under ops",
        "Lunch on Fridays is at the noodle bar",
    ] {
        ids.push(s.remember(content).await);
    }
    ids
}

fn parts(r: &Value) -> [f64; 6] {
    let e = &r["explain"];
    let keys = e.as_object().expect("explain is an object");
    assert_eq!(keys.len(), 6, "{e}");
    ["keyword", "vector", "fused", "rehearsal", "graph", "final"].map(|k| {
        e[k].as_f64()
            .unwrap_or_else(|| panic!("{k} missing in {e}"))
    })
}

/// The parts of one result are consistent with each other, its score and its source.
fn check_adds_up(r: &Value) -> [f64; 6] {
    let p @ [keyword, vector, fused, rehearsal, graph, total] = parts(r);
    for (name, v) in [("keyword", keyword), ("vector", vector), ("fused", fused)] {
        assert!((0.0..=1.0).contains(&v), "{name} = {v} out of [0, 1]: {r}");
    }
    assert!(rehearsal >= 1.0 && graph >= 0.0, "{r}");
    assert!((fused * rehearsal + graph - total).abs() < EPS, "{r}");
    let score = r["score"].as_f64().unwrap();
    assert!((score - (total * 100.0).round() / 100.0).abs() < EPS, "{r}");
    let source = r["source"].as_str().unwrap();
    assert_eq!(keyword > 0.0, source != "vector", "{r}");
    assert_eq!(vector > 0.0, source != "keyword", "{r}");
    // The default fusion blends both legs where both found it, else takes the one that did.
    let (lo, hi) = (keyword.min(vector), keyword.max(vector));
    match source {
        "hybrid" => assert!(fused >= lo - EPS && fused <= hi + EPS, "{r}"),
        _ => assert!((fused - hi).abs() < EPS, "{r}"),
    }
    p
}

#[tokio::test]
async fn explained_parts_add_up_to_each_score() {
    let s = TestServer::start().await;
    seed(&s).await;
    let (st, v) = s
        .recall(json!({"query": "rotate keys", "explain": true, "limit": 5}))
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["method"], "hybrid");
    let results = v["results"].as_array().unwrap();
    assert!(!results.is_empty(), "{v}");
    for r in results {
        let [.., rehearsal, graph, _] = check_adds_up(r);
        // Nothing was recalled before: no rehearsal; no pipeline graph: no boost.
        assert_eq!((rehearsal, graph), (1.0, 0.0), "{r}");
    }
    assert!(
        results.iter().any(|r| r["source"] == "hybrid"),
        "the keyword and vector legs both found the key rotation memory: {v}"
    );

    let (_, k) = s
        .recall(json!({"query": "rotate keys", "explain": true, "mode": "keyword"}))
        .await;
    for r in k["results"].as_array().unwrap() {
        let [_, vector, ..] = check_adds_up(r);
        assert_eq!(vector, 0.0, "{r}");
    }
}

#[tokio::test]
async fn a_recalled_memory_shows_its_rehearsal_factor() {
    let s = TestServer::start().await;
    let ids = seed(&s).await;
    let first = &ids[0];
    s.recall(json!({"query": "signing keys ninety days", "limit": 1}))
        .await;
    let counted = eventually(|| async {
        s.get(&format!("/api/memory/{first}")).await.1["access_count"] == 1
    })
    .await;
    assert!(counted, "access_count never reached 1");
    let (_, v) = s
        .recall(json!({"query": "rotate keys", "explain": true, "limit": 5}))
        .await;
    let r = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == first.as_str())
        .expect("the rehearsed memory is found");
    let [_, _, fused, rehearsal, graph, total] = check_adds_up(r);
    assert!(rehearsal > 1.0, "recalled once: a rehearsal boost {r}");
    assert_eq!(graph, 0.0);
    assert!(total > fused, "{r}");
}

#[tokio::test]
async fn without_explain_the_answer_is_unchanged() {
    // No rehearsal: each recall would otherwise boost what the one before it found.
    let s = TestServer::start_with_yaml(Some("search:\n  rehearsal_enabled: false\n")).await;
    seed(&s).await;
    let ask = |explain: Option<bool>| {
        let mut body = json!({"query": "rotate keys", "mode": "keyword"});
        if let Some(e) = explain {
            body["explain"] = json!(e);
        }
        body
    };
    let (_, plain) = s.recall(ask(None)).await;
    let (_, off) = s.recall(ask(Some(false))).await;
    let (_, on) = s.recall(ask(Some(true))).await;
    assert!(!plain["results"].as_array().unwrap().is_empty());
    for r in plain["results"].as_array().unwrap() {
        assert!(r.get("explain").is_none(), "{r}");
    }
    assert_eq!(plain, off);
    let no_warnings = |v: &Value| v.get("warnings").is_none_or(|w| w == &json!([]));
    assert!(no_warnings(&on), "explain is a known field: {on}");
    // With it, each result is the same plus `explain`.
    let strip = |mut v: Value| {
        for r in v["results"].as_array_mut().unwrap() {
            r.as_object_mut().unwrap().remove("explain");
        }
        v
    };
    assert_eq!(strip(on), plain);
}
