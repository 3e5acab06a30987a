//! Finding the workspace directory (upstream's `AGENTS_DIR`).

use std::path::{Path, PathBuf};

use super::{ConfigError, EnvVars};

/// Resolves the workspace: `SIGNET_PATH` when non-empty, else the `path` recorded in
/// `~/.config/signet/workspace.json` (`{"path": "..."}`, `~` expanded), else `~/.agents`.
///
/// A `workspace.json` that exists but cannot be read or does not hold a string `path` is an
/// error naming the file, not a silent fallback to the default.
pub fn resolve_workspace(env: &EnvVars) -> Result<PathBuf, ConfigError> {
    if let Some(path) = env.get("SIGNET_PATH").filter(|p| !p.is_empty()) {
        return expand_home(path, env);
    }
    let home = home_dir(env)?;
    let pointer = home.join(".config").join("signet").join("workspace.json");
    if let Some(path) = read_pointer(&pointer)? {
        return expand_home(&path, env);
    }
    Ok(home.join(".agents"))
}

fn home_dir(env: &EnvVars) -> Result<PathBuf, ConfigError> {
    env.non_empty("HOME").map(PathBuf::from).ok_or_else(|| {
        ConfigError::Workspace(
            "HOME is not set; set SIGNET_PATH to choose the workspace".to_owned(),
        )
    })
}

/// Expands a leading `~` or `~/` using `HOME`.
fn expand_home(path: &str, env: &EnvVars) -> Result<PathBuf, ConfigError> {
    match path.strip_prefix('~') {
        Some("") => home_dir(env),
        Some(rest) if rest.starts_with('/') => {
            Ok(home_dir(env)?.join(rest.trim_start_matches('/')))
        }
        _ => Ok(PathBuf::from(path)),
    }
}

/// The `path` field of `workspace.json`, or `None` when the file does not exist.
fn read_pointer(file: &Path) -> Result<Option<String>, ConfigError> {
    let text = match std::fs::read_to_string(file) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(ConfigError::Io {
                path: file.to_owned(),
                source,
            });
        }
    };
    let bad = |why: String| ConfigError::Workspace(format!("{}: {why}", file.display()));
    let value: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| bad(format!("not valid JSON: {e}")))?;
    match value
        .get("path")
        .and_then(serde_json::Value::as_str)
        .map(str::trim)
    {
        Some(path) if !path.is_empty() => Ok(Some(path.to_owned())),
        _ => Err(bad(
            "expected an object with a non-empty string \"path\"".to_owned()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn home_env(home: &Path) -> EnvVars {
        EnvVars::default().with("HOME", home.to_str().unwrap())
    }

    fn write_pointer(home: &Path, content: &str) -> PathBuf {
        let dir = home.join(".config/signet");
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("workspace.json");
        std::fs::write(&file, content).unwrap();
        file
    }

    #[test]
    fn signet_path_wins_over_everything() {
        let home = tempfile::tempdir().unwrap();
        write_pointer(home.path(), r#"{"path": "/elsewhere"}"#);
        let env = home_env(home.path()).with("SIGNET_PATH", "/srv/signet");
        assert_eq!(
            resolve_workspace(&env).unwrap(),
            PathBuf::from("/srv/signet")
        );
    }

    #[test]
    fn empty_signet_path_falls_back_to_default() {
        let home = tempfile::tempdir().unwrap();
        let env = home_env(home.path()).with("SIGNET_PATH", "");
        assert_eq!(
            resolve_workspace(&env).unwrap(),
            home.path().join(".agents")
        );
    }

    #[test]
    fn workspace_json_is_used_and_tilde_expanded() {
        let home = tempfile::tempdir().unwrap();
        write_pointer(home.path(), r#"{"path": "~/work/agents"}"#);
        assert_eq!(
            resolve_workspace(&home_env(home.path())).unwrap(),
            home.path().join("work/agents")
        );
        write_pointer(home.path(), r#"{"path": "/abs/agents"}"#);
        assert_eq!(
            resolve_workspace(&home_env(home.path())).unwrap(),
            PathBuf::from("/abs/agents")
        );
    }

    #[test]
    fn malformed_workspace_json_is_an_error_naming_the_file() {
        let home = tempfile::tempdir().unwrap();
        for content in ["{not json", r#"{"path": 3}"#, r#"{"dir": "/x"}"#] {
            let file = write_pointer(home.path(), content);
            let err = resolve_workspace(&home_env(home.path()))
                .unwrap_err()
                .to_string();
            assert!(err.contains(&file.display().to_string()), "{err}");
        }
    }

    #[test]
    fn missing_home_without_signet_path_is_an_error() {
        assert!(matches!(
            resolve_workspace(&EnvVars::default()),
            Err(ConfigError::Workspace(_))
        ));
    }
}
