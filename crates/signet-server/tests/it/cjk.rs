//! Keyword recall of Chinese, Japanese and Korean memories by a word inside a sentence (the
//! trigram index of migration 1004): two- and three-character words, filters and token scopes
//! still applied, deleted and edited memories never returned for their old text.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use signet_core::auth::{Role, Scope};

use crate::auth::{TEAM, as_bearer, project, token};
use crate::common::{TestServer, result_ids};

const ZH: &str = "我昨天在东京买了一台新相机，拍了很多照片";
const JA: &str = "週末は京都の古いお寺を訪ねて抹茶を飲みました";
const KO: &str = "저는 작년부터 서울에서 프로그래머로 일하고 있어요";

/// Remembers `content` with `extra` fields; its id.
async fn remember(s: &TestServer, content: &str, extra: Value) -> String {
    let mut body = json!({"content": content});
    body.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    let (st, v) = s.remember_json(body).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    v["id"].as_str().unwrap().to_owned()
}

/// The ids a keyword recall of `query` (with `extra` fields) returns.
async fn recall(s: &TestServer, query: &str, extra: Value) -> Vec<String> {
    let mut body = json!({"query": query, "limit": 10, "mode": "keyword"});
    body.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    let (st, v) = s.recall(body).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    result_ids(&v).iter().map(|s| s.to_string()).collect()
}

#[tokio::test]
async fn chinese_japanese_and_korean_words_inside_sentences_are_found() {
    let s = TestServer::start_keyword_only().await;
    let zh = remember(&s, ZH, json!({"project": "travel"})).await;
    let ja = remember(&s, JA, json!({"project": "travel", "who": "yuki"})).await;
    let ko = remember(&s, KO, json!({"project": "work"})).await;
    let en = remember(&s, "We bought a new camera in Tokyo", json!({})).await;
    for (query, want) in [
        ("相机", &zh),         // two characters, in the middle of the sentence
        ("东京", &zh),         // two characters
        ("照片", &zh),         // two characters at the end (before the padding)
        ("拍了很多", &zh),     // four characters: trigram windows
        ("京都", &ja),         // two kanji
        ("抹茶", &ja),         // two kanji followed by kana
        ("お寺を訪ねて", &ja), // kana and kanji
        ("서울", &ko),         // a Korean noun with a particle glued on (서울에서)
        ("프로그래머", &ko),   // five syllables
        ("东京 相机", &zh),    // two words, both required
    ] {
        assert_eq!(
            recall(&s, query, json!({})).await,
            [want.as_str()],
            "{query}"
        );
    }
    // A question in the script finds the sentence sharing part of it.
    let q = recall(&s, "你在东京买了什么？", json!({})).await;
    assert_eq!(q.first(), Some(&zh), "{q:?}");
    // A mixed any-word query still reaches memories in other scripts.
    let mixed = recall(&s, "camera OR 相机", json!({})).await;
    assert!(mixed.contains(&zh) && mixed.contains(&en), "{mixed:?}");
    // Words that are in no memory find nothing.
    assert!(recall(&s, "北京", json!({})).await.is_empty());
    assert!(recall(&s, "부산", json!({})).await.is_empty());
}

#[tokio::test]
async fn filters_apply_and_deleted_or_edited_memories_are_not_returned() {
    let s = TestServer::start_keyword_only().await;
    let travel = remember(&s, ZH, json!({"project": "travel", "who": "li"})).await;
    let work = remember(
        &s,
        "我们公司在东京有一个新办公室",
        json!({"project": "work", "who": "wang"}),
    )
    .await;
    let both = recall(&s, "东京", json!({})).await;
    assert_eq!(both.len(), 2, "{both:?}");
    assert_eq!(
        recall(&s, "东京", json!({"project": "work"})).await,
        [work.as_str()]
    );
    assert_eq!(
        recall(&s, "东京", json!({"who": "li"})).await,
        [travel.as_str()]
    );
    assert!(
        recall(&s, "东京", json!({"project": "none"}))
            .await
            .is_empty()
    );

    s.delete(&format!("/api/memory/{travel}?reason=gone")).await;
    assert_eq!(recall(&s, "东京", json!({})).await, [work.as_str()]);
    assert!(
        recall(&s, "相机", json!({})).await.is_empty(),
        "deleted memory recalled"
    );

    // An edit re-indexes: the old words are gone, the new ones are found.
    let (st, v) = s
        .patch_memory(
            &work,
            json!({"content": "我们公司在大阪有一个新办公室", "reason": "moved"}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert!(recall(&s, "东京", json!({})).await.is_empty());
    assert_eq!(recall(&s, "大阪", json!({})).await, [work]);
}

#[tokio::test]
async fn a_project_scoped_token_recalls_only_its_projects_cjk_memories() {
    let s = TestServer::start_with_yaml(Some(TEAM)).await;
    let admin = token(&s, Role::Admin, "root", Scope::default());
    let mut ids = Vec::new();
    for (content, project) in [
        ("acme的服务器在东京机房", "acme"),
        ("globex的服务器也在东京机房", "globex"),
    ] {
        let body = json!({"content": content, "project": project});
        let (st, v) = as_bearer(&s, Method::POST, "/api/memory/remember", Some(body), &admin).await;
        assert_eq!(st, StatusCode::OK, "{v}");
        ids.push(v["id"].as_str().unwrap().to_owned());
    }
    let acme = token(&s, Role::Agent, "claude-code:acme", project("acme"));
    let body = json!({"query": "东京机房", "mode": "keyword"});
    let (st, v) = as_bearer(&s, Method::POST, "/api/memory/recall", Some(body), &acme).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(result_ids(&v), [ids[0].as_str()], "{v}");
}

#[tokio::test]
async fn batch_forget_and_the_legacy_search_find_cjk_words_too() {
    let s = TestServer::start_keyword_only().await;
    let zh = remember(&s, ZH, json!({})).await;
    let ko = remember(&s, KO, json!({})).await;
    remember(&s, "an English note about cameras", json!({})).await;
    let (st, p) = s.forget_json(json!({"query": "相机"})).await;
    assert_eq!(st, StatusCode::OK, "{p}");
    assert_eq!(p["mode"], "preview");
    assert_eq!(p["count"], 1, "{p}");
    assert_eq!(p["candidates"][0]["id"], zh.as_str(), "{p}");
    let (st, v) = s.get("/memory/search?q=%EC%84%9C%EC%9A%B8").await; // 서울
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(result_ids(&v), [ko.as_str()], "{v}");
}
