//! The hook command lines `signet connect` writes (harnesses run them through a POSIX shell),
//! and recognising them again for `signet disconnect`.

use std::path::Path;

/// `word` as one shell word: unchanged when it has only safe characters, else single-quoted.
pub fn quote(word: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "_-./:=@%+,".contains(c);
    if !word.is_empty() && word.chars().all(safe) {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// The words of a command line (single and double quotes and backslashes as a shell reads
/// them; no expansions).
pub fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                cur.extend(chars.by_ref().take_while(|&c| c != '\''));
            }
            '"' => {
                in_word = true;
                while let Some(c) = chars.next() {
                    match c {
                        '"' => break,
                        '\\' => cur.extend(chars.next()),
                        c => cur.push(c),
                    }
                }
            }
            '\\' => {
                in_word = true;
                cur.extend(chars.next());
            }
            c if c.is_whitespace() => {
                if in_word {
                    out.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    if in_word {
        out.push(cur);
    }
    out
}

/// Whether `line` runs `signet hook …` (after any `NAME=value` assignments), whatever the
/// binary's directory: the mark of a hook `signet connect` wrote.
pub fn is_signet_hook(line: &str) -> bool {
    let words = words(line);
    let mut rest = words.iter().skip_while(|w| is_assignment(w));
    let program = rest.next().map(|p| is_signet_program(p));
    program == Some(true) && rest.next().is_some_and(|w| w == "hook")
}

/// Whether `program` is a `signet` binary (by file name).
pub fn is_signet_program(program: &str) -> bool {
    Path::new(program)
        .file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n == "signet" || n == "signet.exe")
}

fn is_assignment(word: &str) -> bool {
    word.split_once('=').is_some_and(|(name, _)| {
        !name.is_empty()
            && !name.starts_with(|c: char| c.is_ascii_digit())
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_words_read_back() {
        for w in ["/usr/bin/signet", "/a b/it's", "", "x\"y", "$HOME"] {
            assert_eq!(words(&quote(w)), [w], "{w}");
        }
        assert_eq!(quote("/opt/signet/bin/signet"), "/opt/signet/bin/signet");
    }

    #[test]
    fn signet_hook_lines_are_recognised() {
        assert!(is_signet_hook(
            "/opt/bin/signet hook session-start --harness codex"
        ));
        assert!(is_signet_hook(
            "SIGNET_PATH='/w s' '/a b/signet' hook session-end -H x"
        ));
        assert!(!is_signet_hook("signet-other hook x"));
        assert!(!is_signet_hook("/opt/bin/signet mcp"));
        assert!(!is_signet_hook("echo signet hook"));
        assert!(!is_signet_hook(""));
    }
}
