//! The workspace's top-level config and identity files, as `/api/config` lists and writes
//! them. Names are plain file names ending in `.md` or `.yaml`: no separators, no `..`, no
//! hidden files, no links, so nothing outside the workspace can be read or written.

use std::path::Path;

use serde::Serialize;
use signet_core::CoreError;
use signet_core::config::error_chain;

/// Largest file `/api/config` writes.
pub const MAX_FILE_BYTES: usize = 1024 * 1024;
const PRIORITY: [&str; 5] = [
    "agent.yaml",
    "AGENTS.md",
    "SOUL.md",
    "IDENTITY.md",
    "USER.md",
];

/// One listed file.
#[derive(Debug, Serialize)]
pub struct ConfigFile {
    pub name: String,
    pub content: String,
    pub size: u64,
}

/// Whether `name` is a file `/api/config` may touch.
pub fn valid_name(name: &str) -> bool {
    let ext_ok = name.ends_with(".md") || name.ends_with(".yaml");
    let stem_ok = name.len() > 5 && !name.starts_with('.');
    let chars_ok = !name.contains(['/', '\\', '\0', ':']) && !name.contains("..");
    ext_ok && stem_ok && chars_ok && name.len() <= 255
}

/// The listable files, priority files first, then by name.
pub fn list(dir: &Path) -> Result<Vec<ConfigFile>, CoreError> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(Vec::new());
    };
    let mut files = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let is_file = entry.file_type().is_ok_and(|t| t.is_file());
        if !is_file || !valid_name(&name) {
            continue;
        }
        let Ok(content) = std::fs::read_to_string(entry.path()) else {
            continue;
        };
        files.push(ConfigFile {
            size: content.len() as u64,
            name,
            content,
        });
    }
    let rank = |n: &str| {
        PRIORITY
            .iter()
            .position(|p| *p == n)
            .unwrap_or(PRIORITY.len())
    };
    files.sort_by(|a, b| {
        rank(&a.name)
            .cmp(&rank(&b.name))
            .then_with(|| a.name.cmp(&b.name))
    });
    Ok(files)
}

/// Writes `name` atomically (temp file + rename). Refuses bad names, links and huge bodies.
/// `network` is where the daemon listens: a config it would refuse to start with there (for
/// example local mode on a non-loopback bind) is refused here too.
pub fn write(
    dir: &Path,
    name: &str,
    content: &str,
    network: &signet_core::config::Network,
) -> Result<(), CoreError> {
    if !valid_name(name) {
        return Err(CoreError::Invalid(
            "file must be a plain file name ending in .md or .yaml (no path separators or ..)"
                .into(),
        ));
    }
    if content.len() > MAX_FILE_BYTES {
        return Err(CoreError::Invalid(format!(
            "content is larger than {MAX_FILE_BYTES} bytes"
        )));
    }
    if signet_core::config::CONFIG_FILE_NAMES.contains(&name) {
        validate_config(dir, name, content, network)?;
    }
    let target = dir.join(name);
    if std::fs::symlink_metadata(&target).is_ok_and(|m| !m.is_file()) {
        return Err(CoreError::Invalid(format!("{name} is not a regular file")));
    }
    let io = |e: std::io::Error| CoreError::Internal(format!("writing {name}: {e}"));
    std::fs::create_dir_all(dir).map_err(io)?;
    // A temporary file of its own per write, so concurrent writes never share one.
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = dir.join(format!(".{name}.{}.{n}.tmp", std::process::id()));
    std::fs::write(&tmp, content).map_err(io)?;
    std::fs::rename(&tmp, &target).map_err(io)
}

/// Refuses an `agent.yaml` the daemon would refuse at start-up (parse errors, invalid values).
fn validate_config(
    dir: &Path,
    name: &str,
    content: &str,
    network: &signet_core::config::Network,
) -> Result<(), CoreError> {
    signet_core::config::Settings::check_text(&dir.join(name), content, network)
        .map(|_| ())
        .map_err(|e| CoreError::Invalid(format!("{name} is not valid: {}", error_chain(&e))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_traversal_and_odd_names() {
        for bad in [
            "../x.md",
            "a/b.md",
            "..md",
            ".hidden.md",
            "x.txt",
            "x.yml",
            "a\\b.md",
            ".md",
            "C:x.md",
        ] {
            assert!(!valid_name(bad), "{bad}");
        }
        for ok in ["agent.yaml", "SOUL.md", "notes-2026.md"] {
            assert!(valid_name(ok), "{ok}");
        }
    }

    /// A config write cannot install a file the daemon would refuse at its next start: an
    /// auth typo, or local mode while it listens on the network.
    #[test]
    fn config_writes_fail_closed_like_start_up() {
        let dir = tempfile::tempdir().unwrap();
        let exposed = signet_core::config::Network {
            bind: "0.0.0.0".into(),
            ..Default::default()
        };
        let local = signet_core::config::Network::default();
        let write = |text: &str, net| write(dir.path(), "agent.yaml", text, net);
        let err = write("auth:\n  mode: local\n", &exposed).unwrap_err();
        assert!(
            err.to_string().contains("refusing to listen on 0.0.0.0"),
            "{err}"
        );
        write("auth:\n  mode: team\n", &exposed).unwrap();
        let err = write("auth:\n  mdoe: team\n", &local).unwrap_err();
        assert!(err.to_string().contains("auth.mdoe"), "{err}");
        write("auth:\n  mode: local\n", &local).unwrap();
        let on_disk = std::fs::read_to_string(dir.path().join("agent.yaml")).unwrap();
        assert_eq!(on_disk, "auth:\n  mode: local\n");
    }
}
