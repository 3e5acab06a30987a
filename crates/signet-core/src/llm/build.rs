//! The extraction provider the config names, built and wrapped in [`Resilient`].

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use super::cli::shared_semaphore;
use super::{
    Anthropic, Breaker, ClaudeCode, Codex, LlmProvider, NoProvider, Ollama, OpenAi, Opencode,
    Resilient, RetryPolicy, anthropic, ollama, opencode, resolve_key,
};
use crate::config::{ConfigError, EnvVars, ExtractionProvider, ExtractionSettings};

/// The config's default model (meant for claude-code and anthropic).
const CONFIG_DEFAULT_MODEL: &str = "haiku";

/// Upstream's ollama model when none is configured.
pub const OLLAMA_DEFAULT_MODEL: &str = "llama3.2:3b";

/// Upstream's codex model.
pub const CODEX_DEFAULT_MODEL: &str = "gpt-5.3-codex";

/// The per-call timeout the settings ask for.
pub fn request_timeout(settings: &ExtractionSettings) -> Duration {
    Duration::from_millis(settings.timeout_ms)
}

fn invalid(key: &str, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        key: format!("memory.pipelineV2.extraction.{key}"),
        message: message.into(),
    }
}

/// The configured model, or `default` when it is the config's claude default (`haiku`),
/// which means nothing to this provider.
fn model_or<'a>(settings: &'a ExtractionSettings, default: &'a str) -> &'a str {
    if settings.model == CONFIG_DEFAULT_MODEL {
        default
    } else {
        &settings.model
    }
}

/// Builds the extraction provider: `none` as [`NoProvider`], any other wrapped in
/// [`Resilient`] with the default retry policy and breaker. Keys come from
/// `extraction.apiKey` or the provider's variable; the CLIs are found on `PATH`.
pub fn provider_from(
    settings: &ExtractionSettings,
    env: &EnvVars,
) -> Result<Arc<dyn LlmProvider>, ConfigError> {
    let endpoint = |default: &'static str| settings.endpoint.clone().unwrap_or(default.to_owned());
    let provider: Arc<dyn LlmProvider> = match settings.provider {
        ExtractionProvider::None => return Ok(Arc::new(NoProvider)),
        ExtractionProvider::Ollama => {
            let fallback = env
                .non_empty("SIGNET_OLLAMA_FALLBACK_MODEL")
                .unwrap_or(OLLAMA_DEFAULT_MODEL);
            let model = model_or(settings, fallback);
            resilient(Ollama::new(&endpoint(ollama::DEFAULT_BASE_URL), model))
        }
        ExtractionProvider::Openai => {
            if settings.model == CONFIG_DEFAULT_MODEL {
                return Err(invalid(
                    "model",
                    "openai needs a model (haiku is the claude default)",
                ));
            }
            let key = resolve_key(settings.api_key.as_ref(), env, "OPENAI_API_KEY");
            let base = endpoint(super::openai::DEFAULT_BASE_URL);
            if key.is_none() && base == super::openai::DEFAULT_BASE_URL {
                return Err(invalid(
                    "apiKey",
                    "openai needs a key (extraction.apiKey or OPENAI_API_KEY)",
                ));
            }
            resilient(OpenAi::new(&base, &settings.model, key))
        }
        ExtractionProvider::Anthropic => {
            let key = resolve_key(settings.api_key.as_ref(), env, "ANTHROPIC_API_KEY").ok_or_else(
                || {
                    invalid(
                        "apiKey",
                        "anthropic needs a key (extraction.apiKey or ANTHROPIC_API_KEY)",
                    )
                },
            )?;
            resilient(
                Anthropic::new(&endpoint(anthropic::DEFAULT_BASE_URL), &settings.model, key)
                    .with_semaphore(shared_semaphore(env)),
            )
        }
        ExtractionProvider::Opencode => resilient(Opencode::new(
            &endpoint(opencode::DEFAULT_BASE_URL),
            model_or(settings, opencode::DEFAULT_MODEL),
        )),
        ExtractionProvider::ClaudeCode => {
            resilient(ClaudeCode::new("claude", &settings.model, env))
        }
        ExtractionProvider::Codex => {
            let home = env
                .non_empty("HOME")
                .map_or_else(|| PathBuf::from("/"), PathBuf::from);
            resilient(Codex::new(
                "codex",
                model_or(settings, CODEX_DEFAULT_MODEL),
                &home,
                env,
            ))
        }
    };
    Ok(provider)
}

/// The CLI a provider runs (`claude`, `codex`), if it is one.
fn cli_program(p: ExtractionProvider) -> Option<&'static str> {
    match p {
        ExtractionProvider::ClaudeCode => Some("claude"),
        ExtractionProvider::Codex => Some("codex"),
        _ => None,
    }
}

/// Whether `program` is an executable file in one of `PATH`'s directories.
fn on_path(program: &str, env: &EnvVars) -> bool {
    let Some(path) = env.get("PATH") else {
        return false;
    };
    std::env::split_paths(path).any(|dir| {
        let f = dir.join(program);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            f.metadata()
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        }
        #[cfg(not(unix))]
        {
            f.is_file()
        }
    })
}

/// Why the extraction provider cannot be used, as far as is known without running anything:
/// a config it cannot run with (a missing key), or a CLI that is not on `PATH`. Cheap and
/// synchronous, so start-up knows at once; [`pipeline_provider`] then also runs the CLI's
/// `--version`.
pub fn quick_unusable(settings: &ExtractionSettings, env: &EnvVars) -> Option<String> {
    if settings.provider == ExtractionProvider::None {
        return None;
    }
    if let Err(e) = provider_from(settings, env) {
        return Some(format!("extraction provider unusable: {e}"));
    }
    let program = cli_program(settings.provider)?;
    (!on_path(program, env)).then(|| cli_missing(settings.provider, program, "is not on PATH"))
}

fn cli_missing(p: ExtractionProvider, program: &str, what: &str) -> String {
    format!(
        "extraction provider {} unusable: `{program}` {what}; install it, or set memory.pipelineV2.extraction.provider (ollama, openai, anthropic, none, ...)",
        p.as_str()
    )
}

/// The pipeline's provider and, when it cannot be used, why: a config the provider cannot
/// run with (a missing key), or a CLI that does not answer `--version` (upstream's start-up
/// check). An unusable provider is [`NoProvider`]: the daemon runs, the pipeline stays idle and
/// its status says why.
pub async fn pipeline_provider(
    settings: &ExtractionSettings,
    env: &EnvVars,
) -> (Arc<dyn LlmProvider>, Option<String>) {
    let unusable = |reason: String| -> (Arc<dyn LlmProvider>, Option<String>) {
        (Arc::new(NoProvider), Some(reason))
    };
    if let Some(reason) = quick_unusable(settings, env) {
        return unusable(reason);
    }
    let provider = match provider_from(settings, env) {
        Ok(p) => p,
        Err(e) => return unusable(format!("extraction provider unusable: {e}")),
    };
    let cli_ok = match settings.provider {
        ExtractionProvider::ClaudeCode => {
            ClaudeCode::new("claude", &settings.model, env)
                .available()
                .await
        }
        ExtractionProvider::Codex => {
            let home = env
                .non_empty("HOME")
                .map_or_else(|| PathBuf::from("/"), PathBuf::from);
            Codex::new("codex", model_or(settings, CODEX_DEFAULT_MODEL), &home, env)
                .available()
                .await
        }
        _ => true,
    };
    if let (false, Some(program)) = (cli_ok, cli_program(settings.provider)) {
        return unusable(cli_missing(
            settings.provider,
            program,
            "--version did not succeed",
        ));
    }
    (provider, None)
}

fn resilient(p: impl LlmProvider + 'static) -> Arc<dyn LlmProvider> {
    Arc::new(Resilient::new(
        p,
        RetryPolicy::default(),
        Breaker::default(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Secret;

    fn settings(provider: ExtractionProvider) -> ExtractionSettings {
        ExtractionSettings {
            provider,
            ..ExtractionSettings::default()
        }
    }

    #[test]
    fn each_provider_builds_with_its_name_and_default_model() {
        let env = EnvVars::default().with("ANTHROPIC_API_KEY", "sk-ant");
        let cases = [
            (ExtractionProvider::None, "none", ""),
            (ExtractionProvider::Ollama, "ollama", OLLAMA_DEFAULT_MODEL),
            (ExtractionProvider::ClaudeCode, "claude-code", "haiku"),
            (ExtractionProvider::Codex, "codex", CODEX_DEFAULT_MODEL),
            (
                ExtractionProvider::Opencode,
                "opencode",
                opencode::DEFAULT_MODEL,
            ),
            (
                ExtractionProvider::Anthropic,
                "anthropic",
                "claude-haiku-4-5-20251001",
            ),
        ];
        for (provider, name, model) in cases {
            let p = provider_from(&settings(provider), &env).unwrap();
            assert_eq!((p.name(), p.model()), (name, model), "{provider:?}");
        }
    }

    #[test]
    fn ollama_model_falls_back_to_the_env_and_explicit_models_win() {
        let env = EnvVars::default().with("SIGNET_OLLAMA_FALLBACK_MODEL", "qwen3:4b");
        let p = provider_from(&settings(ExtractionProvider::Ollama), &env).unwrap();
        assert_eq!(p.model(), "qwen3:4b");
        let explicit = ExtractionSettings {
            model: "gemma3:1b".to_owned(),
            ..settings(ExtractionProvider::Ollama)
        };
        assert_eq!(provider_from(&explicit, &env).unwrap().model(), "gemma3:1b");
    }

    #[test]
    fn keys_are_required_where_the_api_needs_them() {
        let env = EnvVars::default();
        let e = provider_from(&settings(ExtractionProvider::Anthropic), &env)
            .err()
            .unwrap();
        assert!(e.to_string().contains("ANTHROPIC_API_KEY"), "{e}");

        let openai = ExtractionSettings {
            model: "gpt-4o-mini".to_owned(),
            ..settings(ExtractionProvider::Openai)
        };
        assert!(provider_from(&openai, &env).is_err());
        let with_key = ExtractionSettings {
            api_key: Some(Secret::new("$MY_KEY")),
            ..openai.clone()
        };
        let env_with = EnvVars::default().with("MY_KEY", "sk-1");
        assert_eq!(
            provider_from(&with_key, &env_with).unwrap().name(),
            "openai"
        );
        // A local server needs no key.
        let local = ExtractionSettings {
            endpoint: Some("http://127.0.0.1:8080/v1".to_owned()),
            ..openai
        };
        assert_eq!(provider_from(&local, &env).unwrap().model(), "gpt-4o-mini");
        // `haiku` means nothing to openai.
        assert!(provider_from(&settings(ExtractionProvider::Openai), &env_with).is_err());
    }
}
