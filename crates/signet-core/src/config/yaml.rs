//! Locating and parsing the workspace's `agent.yaml` (read-only: this module never writes).

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use super::ConfigError;

/// Config file names, in the order upstream looks for them; the first that exists is used.
pub const CONFIG_FILE_NAMES: [&str; 3] = ["agent.yaml", "AGENT.yaml", "config.yaml"];

/// The first config file that exists in `workspace`, if any.
pub(crate) fn find_config_file(workspace: &Path) -> Option<PathBuf> {
    CONFIG_FILE_NAMES
        .iter()
        .map(|name| workspace.join(name))
        .find(|path| path.is_file())
}

/// Reads and parses `file` into its top-level mapping.
///
/// An empty document is an empty mapping. A file that does not parse is an error naming the
/// file and the YAML position; there is no fallback to the next candidate file.
pub(crate) fn read_text(file: &Path) -> Result<String, ConfigError> {
    std::fs::read_to_string(file).map_err(|source| ConfigError::Io {
        path: file.to_owned(),
        source,
    })
}

/// The 1-based line of the dotted `key` (e.g. `auth.mdoe`) in block-style YAML `text`: each
/// segment is looked for as `segment:` on a line indented deeper than its parent's, inside
/// the parent's block. Best effort (flow mappings such as `auth: {mdoe: team}` give the line
/// of the deepest key found on its own line); `None` when even the first segment is absent.
pub(crate) fn line_of(text: &str, key: &str) -> Option<usize> {
    let lines: Vec<&str> = text.lines().collect();
    let (mut from, mut parent_indent, mut found) = (0usize, None::<usize>, None);
    for segment in key.split('.') {
        let mut hit = None;
        for (i, line) in lines.iter().enumerate().skip(from) {
            let body = line.trim_start();
            if body.is_empty() || body.starts_with('#') {
                continue;
            }
            let indent = line.len() - body.len();
            if parent_indent.is_some_and(|p| indent <= p) && i > from {
                break; // left the parent's block
            }
            let bare = body.trim_start_matches("- ");
            let name = bare
                .split(':')
                .next()
                .unwrap_or("")
                .trim()
                .trim_matches(['"', '\'']);
            if name == segment && bare.contains(':') {
                hit = Some((i, indent));
                break;
            }
        }
        let Some((i, indent)) = hit else { break };
        found = Some(i + 1);
        (from, parent_indent) = (i + 1, Some(indent));
    }
    found
}

pub(crate) fn parse_document(file: &Path, text: &str) -> Result<Map<String, Value>, ConfigError> {
    let parse_error = |message: String| ConfigError::Parse {
        file: file.to_owned(),
        message,
    };
    let value: Value =
        serde_saphyr::from_str(text).map_err(|e| parse_error(first_line(&e.to_string())))?;
    match value {
        Value::Null => Ok(Map::new()),
        Value::Object(map) => Ok(map),
        other => Err(parse_error(format!(
            "the top level must be a mapping of keys, got {}",
            super::section::describe(&other)
        ))),
    }
}

/// serde-saphyr renders a source snippet after the first line; the first line already holds
/// "line L column C: message", which is what a log line needs.
fn first_line(rendered: &str) -> String {
    let line = rendered.lines().next().unwrap_or(rendered).trim();
    line.strip_prefix("error: ").unwrap_or(line).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_and_comment_only_documents_are_empty_mappings() {
        for text in ["", "# nothing here\n", "---\n"] {
            assert!(
                parse_document(Path::new("agent.yaml"), text)
                    .unwrap()
                    .is_empty()
            );
        }
    }

    #[test]
    fn syntax_errors_name_file_and_position() {
        let err = parse_document(Path::new("/w/agent.yaml"), "a: 1\n b: 2\n").unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("/w/agent.yaml") && text.contains("line 2"),
            "{text}"
        );
        assert!(!text.contains('\n'), "{text}");
    }

    #[test]
    fn non_mapping_top_level_is_rejected() {
        let err = parse_document(Path::new("agent.yaml"), "- a\n- b\n").unwrap_err();
        assert!(
            err.to_string().contains("top level must be a mapping"),
            "{err}"
        );
    }

    #[test]
    fn first_existing_file_wins() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(find_config_file(dir.path()), None);
        std::fs::write(dir.path().join("config.yaml"), "").unwrap();
        assert_eq!(
            find_config_file(dir.path()),
            Some(dir.path().join("config.yaml"))
        );
        std::fs::write(dir.path().join("agent.yaml"), "").unwrap();
        assert_eq!(
            find_config_file(dir.path()),
            Some(dir.path().join("agent.yaml"))
        );
    }
}
