//! Hot reload: watch the workspace for config file changes and publish new [`Settings`].

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use notify::{Event, EventKind, RecommendedWatcher, RecursiveMode, Watcher};
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::yaml::CONFIG_FILE_NAMES;
use super::{ConfigError, EnvVars, Settings};

/// Quiet period after the last config event before re-reading; editors write in bursts.
const DEBOUNCE: Duration = Duration::from_millis(200);

type Events = mpsc::UnboundedReceiver<notify::Result<Event>>;

/// Watches `workspace` (non-recursively) and publishes reloaded settings on `tx`.
///
/// The watch is registered before this returns, so any later write is seen. The task runs on
/// `tracker` until `cancel` fires. A reload that fails validation is logged with
/// `tracing::error!` and the previous settings stay in place; warnings are logged with
/// `tracing::warn!`. `network` is carried over from the current value, since it comes from the
/// environment and CLI, not from the file.
pub fn spawn_watcher(
    workspace: PathBuf,
    env: EnvVars,
    tx: watch::Sender<Arc<Settings>>,
    cancel: CancellationToken,
    tracker: &TaskTracker,
) -> Result<(), ConfigError> {
    let (events_tx, events) = mpsc::unbounded_channel();
    let watch_error = |e: notify::Error| ConfigError::Io {
        path: workspace.clone(),
        source: std::io::Error::other(e),
    };
    let mut watcher = notify::recommended_watcher(move |event| {
        // The receiver is gone only once the task has stopped; nothing left to notify.
        let _ = events_tx.send(event);
    })
    .map_err(watch_error)?;
    watcher
        .watch(&workspace, RecursiveMode::NonRecursive)
        .map_err(watch_error)?;
    tracker.spawn(run(watcher, events, workspace, env, tx, cancel));
    Ok(())
}

/// The watcher loop; owns the notify watcher so that it lives exactly as long as the task.
async fn run(
    _watcher: RecommendedWatcher,
    mut events: Events,
    workspace: PathBuf,
    env: EnvVars,
    tx: watch::Sender<Arc<Settings>>,
    cancel: CancellationToken,
) {
    loop {
        let relevant = tokio::select! {
            () = cancel.cancelled() => return,
            event = events.recv() => match event {
                Some(event) => is_config_change(&event),
                None => return,
            },
        };
        if !relevant {
            continue;
        }
        if !settle(&mut events, &cancel).await {
            return;
        }
        // Errors are already logged by `reload`; the old settings stay in place.
        let _ = reload(&workspace, &env, &tx);
    }
}

/// Waits until no config event has arrived for [`DEBOUNCE`]. Returns `false` on shutdown.
async fn settle(events: &mut Events, cancel: &CancellationToken) -> bool {
    let quiet = tokio::time::sleep(DEBOUNCE);
    tokio::pin!(quiet);
    loop {
        tokio::select! {
            () = cancel.cancelled() => return false,
            () = &mut quiet => return true,
            event = events.recv() => match event {
                Some(event) if is_config_change(&event) => {
                    quiet.as_mut().reset(tokio::time::Instant::now() + DEBOUNCE);
                }
                Some(_) => {}
                None => return false,
            },
        }
    }
}

/// A create, modify, rename or remove event touching one of the config file names. Access
/// events (a write's first event can be `Access(Open)`) are ignored.
fn is_config_change(event: &notify::Result<Event>) -> bool {
    let event = match event {
        Ok(event) => event,
        Err(error) => {
            tracing::warn!(%error, "config watcher error");
            return false;
        }
    };
    let mutating = matches!(
        event.kind,
        EventKind::Create(_) | EventKind::Modify(_) | EventKind::Remove(_)
    );
    mutating
        && event.paths.iter().any(|path| {
            path.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| CONFIG_FILE_NAMES.contains(&n))
        })
}

/// Re-reads the config once and publishes it on `tx` if it differs from the current value.
///
/// Returns whether a new value was published. On error, logs it and leaves `tx` untouched.
/// `network` is kept from the current value (it is layered from env and CLI at startup).
pub fn reload(
    workspace: &Path,
    env: &EnvVars,
    tx: &watch::Sender<Arc<Settings>>,
) -> Result<bool, ConfigError> {
    let loaded = Settings::load(workspace, env).inspect_err(|error| {
        tracing::error!(error = %error_chain(error), "config reload rejected; keeping the previous settings");
    })?;
    for warning in &loaded.warnings {
        tracing::warn!(file = ?loaded.source, "{warning}");
    }
    let mut next = loaded.settings;
    let changed = tx.send_if_modified(|current| {
        next.network = current.network.clone();
        if **current == next {
            return false;
        }
        let restart = restart_required(current, &next);
        if !restart.is_empty() {
            tracing::warn!(keys = ?restart, "these config changes take effect after a restart");
        }
        *current = Arc::new(next);
        true
    });
    if changed {
        tracing::info!(file = ?loaded.source, "config reloaded");
    }
    Ok(changed)
}

/// What building the extraction provider reads.
fn extraction_provider(
    e: &super::ExtractionSettings,
) -> (super::ExtractionProvider, &str, Option<&str>, Option<&str>) {
    (
        e.provider,
        &e.model,
        e.endpoint.as_deref(),
        e.api_key.as_ref().map(super::Secret::expose),
    )
}

/// Keys that differ between `old` and `new` and are only applied at startup
/// (the listener, the auth layer and the providers are built once).
pub fn restart_required(old: &Settings, new: &Settings) -> Vec<&'static str> {
    let (o, n) = (&old.network, &new.network);
    let (oa, na) = (&old.auth, &new.auth);
    [
        ("network.host", o.host != n.host),
        ("network.bind", o.bind != n.bind),
        ("network.port", o.port != n.port),
        ("network.logFile", o.log_file != n.log_file),
        ("network.logDir", o.log_dir != n.log_dir),
        ("auth.mode", oa.mode != na.mode),
        (
            "auth.defaultTokenTtlSeconds",
            oa.default_token_ttl_seconds != na.default_token_ttl_seconds,
        ),
        (
            "auth.sessionTokenTtlSeconds",
            oa.session_token_ttl_seconds != na.session_token_ttl_seconds,
        ),
        ("auth.rateLimits", oa.rate_limits != na.rate_limits),
        ("storage", old.storage != new.storage),
        // The provider and the embedding worker are built once at start-up.
        ("embedding", old.embedding != new.embedding),
        (
            "memory.pipelineV2.embeddingTracker",
            old.pipeline.embedding_tracker != new.pipeline.embedding_tracker,
        ),
        // The extraction provider is built once too; its other keys apply at the next job.
        (
            "memory.pipelineV2.extraction (provider, model, endpoint, apiKey)",
            extraction_provider(&old.pipeline.extraction)
                != extraction_provider(&new.pipeline.extraction),
        ),
    ]
    .into_iter()
    .filter_map(|(key, differs)| differs.then_some(key))
    .collect()
}

/// `error: cause: cause` on one line.
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests;
