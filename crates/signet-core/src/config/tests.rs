//! Loading `agent.yaml` end to end: defaults, aliases, warnings, validation and layering.

use super::*;

fn load_text(text: &str) -> Result<LoadedConfig, ConfigError> {
    load_with_env(text, &EnvVars::default())
}

fn load_with_env(text: &str, env: &EnvVars) -> Result<LoadedConfig, ConfigError> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("agent.yaml"), text).unwrap();
    Settings::load(dir.path(), env)
}

fn settings(text: &str) -> Settings {
    let loaded = load_text(text).unwrap();
    assert!(
        loaded.warnings.is_empty(),
        "unexpected warnings: {:?}",
        loaded.warnings
    );
    loaded.settings
}

fn invalid_key(text: &str) -> (String, String) {
    match load_text(text) {
        Err(ConfigError::Invalid { key, message }) => (key, message),
        other => panic!("expected an Invalid error, got {other:?}"),
    }
}

#[test]
fn no_file_gives_defaults_and_no_warnings() {
    let dir = tempfile::tempdir().unwrap();
    let loaded = Settings::load(dir.path(), &EnvVars::default()).unwrap();
    assert_eq!(loaded.settings, Settings::default());
    assert!(loaded.warnings.is_empty());
    assert_eq!(loaded.source, None);
    let s = loaded.settings;
    assert_eq!(
        (s.search.alpha, s.search.top_k, s.search.min_score),
        (0.7, 20, 0.1)
    );
    assert_eq!(s.auth.mode, AuthMode::Local);
    assert_eq!(s.auth.default_token_ttl_seconds, 604_800);
    assert_eq!(
        s.auth.rate_limits.batch_forget,
        RateLimit {
            window_ms: 60_000,
            max: 5
        }
    );
    assert!(s.pipeline.enabled);
    assert_eq!(s.pipeline.guardrails.max_content_chars, 500);
    assert_eq!(s.embedding.provider, EmbeddingProvider::Native);
    assert_eq!(s.embedding.dimensions, 768);
    assert_eq!(s.network.port, 3850);
}

#[test]
fn empty_file_gives_defaults_with_source() {
    let loaded = load_text("# just a comment\n").unwrap();
    assert_eq!(loaded.settings, Settings::default());
    assert!(loaded.source.unwrap().ends_with("agent.yaml"));
}

#[test]
fn realistic_file_maps_onto_typed_settings() {
    let s = settings(
        "configVersion: 2\nagent:\n  name: Mr. Claude\n  created: 2025-01-02T03:04:05Z\n\
         search:\n  top_k: 12\n  min_score: 0.25\nauth:\n  mode: team\n  rateLimits:\n    forget:\n      max: 10\n\
         features:\n  predictor: true\n  dashboard: \"false\"\n\
         memory:\n  database: memory/memories.db\n  pipelineV2:\n    shadowMode: \"TRUE\"\n\
         \x20   worker:\n      pollMs: \"500\"\n    guardrails:\n      maxContentChars: 800\n",
    );
    assert_eq!(s.config_version, Some(2));
    assert_eq!(s.agent.name.as_deref(), Some("Mr. Claude"));
    assert_eq!(s.agent.created.as_deref(), Some("2025-01-02T03:04:05Z"));
    // No alpha gate: top_k and min_score are read without `alpha`.
    assert_eq!(
        (s.search.alpha, s.search.top_k, s.search.min_score),
        (0.7, 12, 0.25)
    );
    assert_eq!(s.auth.mode, AuthMode::Team);
    assert_eq!(
        s.auth.rate_limits.forget,
        RateLimit {
            window_ms: 60_000,
            max: 10
        }
    );
    assert_eq!(s.features.get("dashboard"), Some(&false));
    assert_eq!(s.features.get("predictor"), Some(&true));
    assert!(s.pipeline.shadow_mode);
    assert_eq!(s.pipeline.worker.poll_ms, 500);
    assert_eq!(s.pipeline.guardrails.max_content_chars, 800);
}

#[test]
fn embedding_aliases_and_precedence() {
    for text in [
        "embedding:\n  provider: ollama\n  model: m\n",
        "memory:\n  embeddings:\n    provider: ollama\n    model: m\n",
        "embeddings:\n  provider: ollama\n  model: m\n",
    ] {
        let s = settings(text);
        assert_eq!(s.embedding.provider, EmbeddingProvider::Ollama, "{text}");
        assert_eq!(s.embedding.model, "m");
        assert_eq!(s.embedding.base_url, "http://localhost:11434");
    }
    let loaded =
        load_text("embeddings:\n  model: b\nembedding:\n  model: a\n  endpoint: http://e\n")
            .unwrap();
    assert_eq!(loaded.settings.embedding.model, "a");
    assert_eq!(loaded.settings.embedding.base_url, "http://e");
    assert_eq!(
        loaded.warnings,
        ["embeddings is ignored because embedding takes precedence"]
    );
}

#[test]
fn embedding_api_key_is_redacted() {
    let s =
        settings("embedding:\n  provider: openai\n  api_key: sk-secret\n  dimensions: '1536'\n");
    assert_eq!(s.embedding.base_url, "https://api.openai.com/v1");
    assert_eq!(s.embedding.dimensions, 1536);
    assert_eq!(s.embedding.api_key.as_ref().unwrap().expose(), "sk-secret");
    assert!(!format!("{s:?}").contains("sk-secret"));
    assert!(!serde_json::to_string(&s).unwrap().contains("sk-secret"));
}

#[test]
fn pipeline_flat_aliases() {
    let s = settings(
        "memory:\n  pipelineV2:\n    workerPollMs: 300\n    workerMaxRetries: 5\n    leaseTimeoutMs: 20000\n\
         \x20   graphEnabled: false\n    graphBoostWeight: 0.5\n    rerankerTopN: 7\n    rerankerModel: r\n\
         \x20   documentChunkSize: 1000\n    repairDedupHourlyBudget: 9\n    minFactConfidenceForWrite: 0.9\n\
         \x20   extractionTimeout: 6000\n    extractionEndpoint: http://x\n",
    );
    let p = s.pipeline;
    assert_eq!(
        (
            p.worker.poll_ms,
            p.worker.max_retries,
            p.worker.lease_timeout_ms
        ),
        (300, 5, 20_000)
    );
    assert!(!p.graph.enabled);
    assert_eq!(p.graph.boost_weight, 0.5);
    assert_eq!((p.reranker.top_n, p.reranker.model.as_str()), (7, "r"));
    assert_eq!(p.documents.chunk_size, 1000);
    assert_eq!(p.repair.dedup_hourly_budget, 9);
    assert_eq!(p.extraction.min_confidence, 0.9);
    assert_eq!(p.extraction.timeout_ms, 6000);
    assert_eq!(p.extraction.endpoint.as_deref(), Some("http://x"));
}

#[test]
fn documents_keys_have_ranges_and_the_private_url_opt_in() {
    let d = Settings::default().pipeline.documents;
    assert_eq!(
        (d.chunk_size, d.chunk_overlap, d.allow_private_urls),
        (2_000, 200, false)
    );
    let nested = "memory:\n  pipelineV2:\n    documents:\n      allowPrivateUrls: true\n      workerIntervalMs: 1000\n";
    let d = settings(nested).pipeline.documents;
    assert_eq!((d.allow_private_urls, d.worker_interval_ms), (true, 1_000));
    let flat = "memory:\n  pipelineV2:\n    documentAllowPrivateUrls: true\n";
    assert!(settings(flat).pipeline.documents.allow_private_urls);
    let (key, _) = invalid_key("memory:\n  pipelineV2:\n    documents:\n      chunkSize: 100\n");
    assert_eq!(key, "memory.pipelineV2.documents.chunkSize");
    let (key, _) =
        invalid_key("memory:\n  pipelineV2:\n    documents:\n      allowPrivateUrls: maybe\n");
    assert_eq!(key, "memory.pipelineV2.documents.allowPrivateUrls");
}

#[test]
fn nested_key_beats_flat_alias() {
    let s =
        settings("memory:\n  pipelineV2:\n    workerPollMs: 300\n    worker:\n      pollMs: 400\n");
    assert_eq!(s.pipeline.worker.poll_ms, 400);
}

#[test]
fn extraction_provider_flat_wins_and_flat_model_implies_ollama() {
    let text = "memory:\n  pipelineV2:\n    extractionProvider: codex\n\
                \x20   extraction:\n      provider: anthropic\n      model: opus\n";
    let e = settings(text).pipeline.extraction;
    assert_eq!(
        (e.provider, e.model.as_str()),
        (ExtractionProvider::Codex, "haiku")
    );
    let e = settings("memory:\n  pipelineV2:\n    extractionModel: qwen3:4b\n")
        .pipeline
        .extraction;
    assert_eq!(
        (e.provider, e.model.as_str()),
        (ExtractionProvider::Ollama, "qwen3:4b")
    );
    let text = "memory:\n  pipelineV2:\n    extractionStrength: high\n\
                \x20   extraction:\n      strength: medium\n";
    assert_eq!(
        settings(text).pipeline.extraction.strength,
        ExtractionStrength::High
    );
}

#[test]
fn updates_alias() {
    let s = settings("update:\n  auto_install: true\n  check_interval: 600\n  channel: next\n");
    assert_eq!(
        (s.updates.auto_install, s.updates.check_interval_secs),
        (true, 600)
    );
    assert_eq!(s.updates.channel, UpdateChannel::Next);
    let loaded =
        load_text("updates:\n  autoInstall: false\nupdate:\n  autoInstall: true\n").unwrap();
    assert!(!loaded.settings.updates.auto_install);
    assert_eq!(
        loaded.warnings,
        ["update is ignored because updates takes precedence"]
    );
}

#[test]
fn hooks_and_git() {
    let s = settings(
        "hooks:\n  sessionStart:\n    recallLimit: 10\n    recencyBias: 0.5\n  preCompaction:\n    memoryLimit: 2\n\
         git:\n  autoSync: 'false'\n  syncInterval: 60\n  branch: main\n",
    );
    assert_eq!(s.hooks.session_start.recall_limit, 10);
    assert_eq!(s.hooks.pre_compaction.memory_limit, 2);
    assert!(!s.git.auto_sync && s.git.enabled);
    assert_eq!(
        (s.git.sync_interval_secs, s.git.branch.as_deref()),
        (60, Some("main"))
    );
}

#[test]
fn the_recovery_budget_is_read_and_the_rest_of_continuity_still_checked() {
    let yaml = "memory:\n  pipelineV2:\n    continuity:\n      recoveryBudgetChars: 500\n      promptInterval: 5\n";
    let loaded = load_text(yaml).unwrap();
    assert_eq!(loaded.settings.pipeline.recovery_budget_chars, 500);
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    assert_eq!(Settings::default().pipeline.recovery_budget_chars, 2_000);
    let (key, _) =
        invalid_key("memory:\n  pipelineV2:\n    continuity:\n      recoveryBudgetChars: 50\n");
    assert_eq!(key, "memory.pipelineV2.continuity.recoveryBudgetChars");
}

#[test]
fn unknown_keys_warn_with_full_path() {
    let loaded = load_text(
        "mystery: 1\nidentity: {name: x}\nmemory:\n  vectors: x\n  pipelineV2:\n    grpah:\n      enabled: true\n\
         \x20   traversal:\n      maxHops: 3\n    extraction:\n      escalation:\n        level3: 1\n",
    )
    .unwrap();
    let mut warnings = loaded.warnings;
    warnings.sort();
    assert_eq!(
        warnings,
        [
            "unknown key memory.pipelineV2.extraction.escalation.level3 (ignored)",
            "unknown key memory.pipelineV2.grpah (ignored)",
            "unknown key memory.pipelineV2.traversal.maxHops (ignored)",
            "unknown key mystery (ignored)",
        ]
    );
}

#[test]
fn known_untyped_pipeline_keys_are_accepted_and_validated() {
    let s = settings(
        "memory:\n  pipelineV2:\n    autonomousEnabled: false\n    predictor:\n      rrfK: 50\n",
    );
    assert!(s.pipeline.enabled);
    let (key, message) = invalid_key("memory:\n  pipelineV2:\n    predictor:\n      rrfK: 500\n");
    assert_eq!(key, "memory.pipelineV2.predictor.rrfK");
    assert!(message.contains("between 1 and 100"), "{message}");
}

#[test]
fn invalid_values_name_the_key() {
    let cases = [
        (
            "auth:\n  mode: open\n",
            "auth.mode",
            "expected one of local, team, hybrid",
        ),
        ("search:\n  alpha: 1.5\n", "search.alpha", "between 0 and 1"),
        (
            "search:\n  top_k: lots\n",
            "search.top_k",
            "expected an integer",
        ),
        (
            "memory:\n  pipelineV2:\n    enabled: yes please\n",
            "memory.pipelineV2.enabled",
            "expected true or false",
        ),
        (
            "memory:\n  pipelineV2:\n    worker:\n      pollMs: 50\n",
            "memory.pipelineV2.worker.pollMs",
            "between 100 and 60000",
        ),
        (
            "memory:\n  pipelineV2:\n    extraction:\n      provider: gpt\n",
            "memory.pipelineV2.extraction.provider",
            "claude-code",
        ),
        (
            "memory:\n  pipelineV2:\n    workerMaxRetries: 11\n",
            "memory.pipelineV2.workerMaxRetries",
            "between 1 and 10",
        ),
        (
            "auth:\n  rateLimits:\n    admin:\n      max: 0\n",
            "auth.rateLimits.admin.max",
            "between 1",
        ),
        (
            "embedding:\n  provider: cohere\n",
            "embedding.provider",
            "native, ollama, openai, none",
        ),
        (
            "features:\n  x: 3\n",
            "features.x",
            "expected true or false",
        ),
        ("auth: team\n", "auth", "expected a mapping"),
        (
            "updates:\n  checkInterval: 60\n",
            "updates.checkInterval",
            "between 300 and 604800",
        ),
    ];
    for (text, want_key, want_message) in cases {
        let (key, message) = invalid_key(text);
        assert_eq!(key, want_key, "{text}");
        assert!(message.contains(want_message), "{text}: {message}");
        assert!(message.contains("agent.yaml"), "{message}");
    }
}

#[test]
fn unparsable_file_is_an_error_without_fallback() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("agent.yaml"),
        "auth:\n  mode: team\n bad: [\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("config.yaml"), "auth:\n  mode: team\n").unwrap();
    match Settings::load(dir.path(), &EnvVars::default()) {
        Err(ConfigError::Parse { file, message }) => {
            assert_eq!(file, dir.path().join("agent.yaml"));
            assert!(message.contains("line 3"), "{message}");
        }
        other => panic!("expected a parse error, got {other:?}"),
    }
}

#[test]
fn later_file_names_are_used_when_earlier_ones_are_missing() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("config.yaml"), "auth:\n  mode: hybrid\n").unwrap();
    let loaded = Settings::load(dir.path(), &EnvVars::default()).unwrap();
    assert_eq!(loaded.settings.auth.mode, AuthMode::Hybrid);
    assert_eq!(loaded.source, Some(dir.path().join("config.yaml")));
}

#[test]
fn env_layers_over_file_and_invalid_port_fails() {
    let env = EnvVars::default()
        .with("SIGNET_PORT", "4100")
        .with("SIGNET_HOST", "localhost")
        .with("SIGNET_BIND", "0.0.0.0");
    let s = load_with_env("auth:\n  mode: team\n", &env)
        .unwrap()
        .settings;
    assert_eq!(
        (
            s.network.port,
            s.network.host.as_str(),
            s.network.bind.as_str()
        ),
        (4100, "127.0.0.1", "0.0.0.0")
    );
    assert_eq!(s.auth.mode, AuthMode::Team);
    let env = EnvVars::default().with("SIGNET_PORT", "99999");
    let dir = tempfile::tempdir().unwrap();
    match Settings::load(dir.path(), &env) {
        Err(ConfigError::Invalid { key, message }) => {
            assert_eq!(key, "SIGNET_PORT");
            assert!(message.contains("99999"), "{message}");
        }
        other => panic!("expected an Invalid error, got {other:?}"),
    }
}

#[test]
fn loading_never_writes_the_file() {
    let text = "memory:\n  pipelineV2:\n    graphEnabled: false\n";
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("agent.yaml");
    std::fs::write(&file, text).unwrap();
    Settings::load(dir.path(), &EnvVars::default()).unwrap();
    assert_eq!(std::fs::read_to_string(&file).unwrap(), text);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn settings_serialize_for_status_views() {
    let json = serde_json::to_value(Settings::default()).unwrap();
    assert_eq!(json["auth"]["mode"], "local");
    assert_eq!(json["pipelineV2"]["extraction"]["provider"], "claude-code");
    assert_eq!(json["search"]["topK"], 20);
}

/// Issue 9, item 1: the guide's recommended VPS configuration starts, and `none` is a valid
/// provider wherever a provider is chosen.
#[test]
fn provider_none_is_accepted_everywhere() {
    let s = settings(
        "memory:\n  pipelineV2:\n    enabled: false\n    extraction:\n      provider: none\n",
    );
    assert!(!s.pipeline.enabled);
    assert_eq!(s.pipeline.extraction.provider, ExtractionProvider::None);
    assert_eq!(s.pipeline.extraction.provider.as_str(), "none");
    let s = settings("memory:\n  pipelineV2:\n    extractionProvider: none\n");
    assert_eq!(s.pipeline.extraction.provider, ExtractionProvider::None);
    settings("memory:\n  pipelineV2:\n    synthesis:\n      provider: none\n");
    settings("embedding:\n  provider: none\n");
}

/// Issue 9, item 3: a mistake in `auth` stops start-up with the key named.
#[test]
fn auth_typos_fail_closed() {
    let (key, message) = invalid_key("auth:\n  mdoe: team\n");
    assert_eq!(key, "auth.mdoe");
    assert!(message.contains("did you mean auth.mode?"), "{message}");
    assert!(message.contains("line 2"), "{message}");
    let (key, _) = invalid_key("auth: {mdoe: team}\n");
    assert_eq!(key, "auth.mdoe");
    for text in [
        "autth:\n  mode: team\n",
        "Auth:\n  mode: team\n",
        "auht: {mode: team}\n",
    ] {
        let (key, message) = invalid_key(text);
        assert!(message.contains("did you mean auth?"), "{text}: {message}");
        assert_eq!(key, text.split(':').next().unwrap());
    }
    // The guide's snippet with its indentation lost: `mode` lands at the top level.
    let (key, message) = invalid_key("auth:\nmode: team\n");
    assert_eq!(key, "mode");
    assert!(message.contains("belongs under auth"), "{message}");
    let (key, _) = invalid_key("auth:\n  rateLimits:\n    forgett:\n      max: 1\n");
    assert_eq!(key, "auth.rateLimits.forgett");
    let (key, _) = invalid_key("auth:\n  rateLimits:\n    forget:\n      windowMS: 1000\n");
    assert_eq!(key, "auth.rateLimits.forget.windowMS");
    // Correct configs still load, with no warnings.
    let s = settings(
        "auth:\n  mode: team\n  defaultTokenTtlSeconds: 604800\n  sessionTokenTtlSeconds: 86400\n\
         \x20 rateLimits:\n    forget:\n      windowMs: 60000\n      max: 10\n",
    );
    assert_eq!(s.auth.mode, AuthMode::Team);
    assert_eq!(s.auth.rate_limits.forget.max, 10);
    // Unknown keys elsewhere still only warn.
    let loaded = load_text("autonomy: 1\n").unwrap();
    assert_eq!(loaded.warnings, ["unknown key autonomy (ignored)"]);
}

/// Issue 9, item 4: local mode refuses a non-loopback bind unless the operator opts in.
#[test]
fn local_mode_refuses_network_binds() {
    let env = |pairs: &[(&str, &str)]| -> EnvVars { pairs.iter().copied().collect() };
    for bind in ["0.0.0.0", "::", "192.168.1.20", "myhost.lan"] {
        let e = env(&[("SIGNET_BIND", bind)]);
        let dir = tempfile::tempdir().unwrap();
        let err = Settings::load(dir.path(), &e).unwrap_err().to_string();
        assert!(err.contains("team") && err.contains(bind), "{bind}: {err}");
        let err = load_with_env("search:\n  top_k: 5\n", &e)
            .unwrap_err()
            .to_string();
        assert!(err.contains("SIGNET_ALLOW_INSECURE_BIND"), "{err}");
    }
    let e = env(&[("SIGNET_HOST", "0.0.0.0")]);
    assert!(load_with_env("", &e).is_err());
    // Loopback in any spelling is fine.
    for bind in ["127.0.0.1", "::1", "localhost", "127.0.0.2"] {
        load_with_env("", &env(&[("SIGNET_BIND", bind)])).unwrap();
    }
    // Team and hybrid modes may bind anywhere.
    for mode in ["team", "hybrid"] {
        let text = format!("auth:\n  mode: {mode}\n");
        let loaded = load_with_env(&text, &env(&[("SIGNET_BIND", "0.0.0.0")])).unwrap();
        assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    }
    // The explicit opt-in starts, with a loud warning; a garbled opt-in is an error.
    let e = env(&[
        ("SIGNET_BIND", "0.0.0.0"),
        ("SIGNET_ALLOW_INSECURE_BIND", "1"),
    ]);
    let loaded = load_with_env("", &e).unwrap();
    assert!(
        loaded.warnings[0].contains("NO authentication"),
        "{:?}",
        loaded.warnings
    );
    let e = env(&[
        ("SIGNET_BIND", "0.0.0.0"),
        ("SIGNET_ALLOW_INSECURE_BIND", "sure"),
    ]);
    let err = load_with_env("", &e).unwrap_err().to_string();
    assert!(err.contains("SIGNET_ALLOW_INSECURE_BIND"), "{err}");
}

#[test]
fn invalid_values_name_the_line() {
    let err = load_text(
        "search:\n  top_k: 5\nmemory:\n  pipelineV2:\n    extraction:\n      provider: gpt\n",
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("memory.pipelineV2.extraction.provider"),
        "{err}"
    );
    assert!(err.contains("\"gpt\""), "{err}");
    assert!(err.contains("agent.yaml, line 6"), "{err}");
}

/// Issue 12: `openai` is an extraction provider, with an endpoint and a key reference.
#[test]
fn openai_extraction_takes_an_endpoint_and_a_key_reference() {
    let s = settings(
        "memory:\n  pipelineV2:\n    extraction:\n      provider: openai\n      model: qwen2.5\n      \
         endpoint: http://127.0.0.1:8000/v1\n      apiKey: $secret:VLLM_KEY\n",
    );
    let x = &s.pipeline.extraction;
    assert_eq!(x.provider, ExtractionProvider::Openai);
    assert_eq!(x.provider.as_str(), "openai");
    assert_eq!(x.endpoint.as_deref(), Some("http://127.0.0.1:8000/v1"));
    assert_eq!(
        x.api_key.as_ref().map(Secret::expose),
        Some("$secret:VLLM_KEY")
    );
    assert!(!format!("{s:?}").contains("VLLM_KEY"));
}

/// Issue 12: `privacy: local-only` refuses, at load, every provider that is not on this host.
#[test]
fn local_only_refuses_remote_extraction_and_embedding_providers() {
    let local = |rest: &str| format!("memory:\n  pipelineV2:\n    privacy: local-only\n{rest}");
    // Accepted: local ollama (default endpoint or a loopback one), a loopback openai server,
    // opencode with an ollama model, none, and the native embedder.
    let s = settings(&local("    extraction:\n      provider: ollama\n"));
    assert_eq!(s.pipeline.privacy, Privacy::LocalOnly);
    settings(&local(
        "    extraction:\n      provider: ollama\n      endpoint: http://localhost:11434\n",
    ));
    settings(&local(
        "    extraction:\n      provider: openai\n      model: m\n      endpoint: http://[::1]:8000/v1\n",
    ));
    settings(&local(
        "    extraction:\n      provider: opencode\n      model: ollama/qwen3:4b\n",
    ));
    settings(&local(
        "    extraction:\n      provider: none\nembedding:\n  provider: ollama\n  base_url: http://127.0.0.1:11434\n",
    ));

    // Refused: the cloud providers (including the claude-code default), remote endpoints,
    // openai without an endpoint, opencode forwarding to a cloud model.
    for provider in ["claude-code", "codex", "anthropic"] {
        let (key, message) = invalid_key(&local(&format!(
            "    extraction:\n      provider: {provider}\n"
        )));
        assert_eq!(key, "memory.pipelineV2.extraction.provider");
        assert!(message.contains("local-only"), "{message}");
    }
    let (key, _) = invalid_key(&local(""));
    assert_eq!(key, "memory.pipelineV2.extraction.provider");
    let (key, message) = invalid_key(&local(
        "    extraction:\n      provider: ollama\n      endpoint: http://10.0.0.5:11434\n",
    ));
    assert_eq!(key, "memory.pipelineV2.extraction.endpoint");
    assert!(message.contains("10.0.0.5"), "{message}");
    let (key, _) = invalid_key(&local(
        "    extraction:\n      provider: openai\n      model: m\n",
    ));
    assert_eq!(key, "memory.pipelineV2.extraction.endpoint");
    let (key, _) = invalid_key(&local("    extraction:\n      provider: opencode\n"));
    assert_eq!(key, "memory.pipelineV2.extraction.model");
    let (key, _) = invalid_key(&local(
        "    extraction:\n      provider: none\nembedding:\n  provider: openai\n",
    ));
    assert_eq!(key, "embedding.base_url");
    let (key, _) = invalid_key(&local(
        "    extraction:\n      provider: none\nembedding:\n  provider: ollama\n  base_url: http://gpu-box:11434\n",
    ));
    assert_eq!(key, "embedding.base_url");

    // Without the key, the same remote settings load.
    settings(
        "memory:\n  pipelineV2:\n    extraction:\n      provider: anthropic\nembedding:\n  provider: openai\n",
    );
}

#[test]
fn loopback_urls() {
    for url in [
        "http://127.0.0.1:1",
        "https://localhost/v1",
        "http://[::1]:4096",
        "http://127.3.0.1",
    ] {
        assert!(is_loopback_url(url), "{url}");
    }
    for url in [
        "http://10.0.0.1",
        "https://api.openai.com/v1",
        "http://localhost.evil.com",
        "",
        "not a url",
    ] {
        assert!(!is_loopback_url(url), "{url}");
    }
}

#[test]
fn the_pipeline_budget_and_safety_switches_parse_with_their_aliases() {
    let loaded = load_text(
        "memory:\n  pipelineV2:\n    allowUpdateDelete: false\n    semanticContradictionEnabled: false\n    budget:\n      maxTokensPerDay: 1000\n      maxCallsPerHour: 10\n",
    )
    .unwrap();
    let p = &loaded.settings.pipeline;
    assert!(!p.allow_update_delete && !p.semantic_contradiction);
    assert_eq!(p.budget.max_tokens_per_day, Some(1000));
    assert_eq!(p.budget.max_calls_per_hour, Some(10));
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    let nested =
        load_text("memory:\n  pipelineV2:\n    autonomous:\n      allowUpdateDelete: false\n")
            .unwrap();
    assert!(!nested.settings.pipeline.allow_update_delete);
    let d = Settings::default().pipeline;
    assert!(d.allow_update_delete && d.budget == Default::default());
    let typo = load_text("memory:\n  pipelineV2:\n    budget:\n      maxCallsPerHr: 10\n").unwrap();
    assert!(
        typo.warnings.iter().any(|w| w.contains("maxCallsPerHr")),
        "{:?}",
        typo.warnings
    );
    assert!(load_text("memory:\n  pipelineV2:\n    budget:\n      maxCallsPerHour: 0\n").is_err());
}

#[test]
fn backup_section_defaults_to_off_and_parses_schedule_dir_keep() {
    let none = settings("search:\n  top_k: 5\n").backup;
    assert_eq!(none, BackupSettings::default());
    assert_eq!(none.schedule, BackupSchedule::Off);
    assert_eq!((none.dir.as_deref(), none.keep), (None, 7));
    let ws = std::path::Path::new("/ws");
    assert_eq!(none.dir_in(ws), ws.join(".daemon/backups"));

    let b = settings("backup:\n  schedule: 6h\n  dir: /srv/backups\n  keep: 2\n").backup;
    assert_eq!(
        b.schedule,
        BackupSchedule::Every(std::time::Duration::from_secs(6 * 3600))
    );
    assert_eq!(b.dir_in(ws), std::path::Path::new("/srv/backups"));
    assert_eq!(b.keep, 2);
    let relative = settings("backup:\n  schedule: daily\n  dir: snaps\n").backup;
    assert_eq!(relative.dir_in(ws), ws.join("snaps"));
    assert_eq!(relative.schedule.as_text(), "1d");
}

#[test]
fn invalid_backup_values_name_their_key() {
    for (text, key, says) in [
        (
            "backup:\n  schedule: sometimes\n",
            "backup.schedule",
            "hourly, daily",
        ),
        ("backup:\n  schedule: 6\n", "backup.schedule", "30m, 6h"),
        (
            "backup:\n  schedule: 1m\n",
            "backup.schedule",
            "shortest schedule is 5m",
        ),
        ("backup:\n  keep: 0\n", "backup.keep", ""),
        ("backup:\n  keep: many\n", "backup.keep", ""),
        ("backup:\n  dir: ''\n", "backup.dir", "must not be empty"),
        ("backup: daily\n", "backup", "mapping"),
    ] {
        let (k, message) = invalid_key(text);
        assert_eq!(k, key, "{text}");
        assert!(message.contains(says), "{text}: {message}");
    }
    let loaded = load_text("backup:\n  schedule: off\n  kep: 3\n").unwrap();
    assert!(
        loaded.warnings.iter().any(|w| w.contains("backup.kep")),
        "{:?}",
        loaded.warnings
    );
}
