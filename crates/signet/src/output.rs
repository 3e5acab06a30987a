//! Small helpers for terminal output.
//!
//! Everything a command prints on stdout goes through [`print_line`] (or [`outln!`]), which
//! turns a reader that has gone away (EPIPE) into [`Exit::STDOUT_CLOSED`] instead of the panic
//! `println!` gives.

use std::fmt::Display;
use std::io::{ErrorKind, Write};

use serde::Serialize;

use crate::exit::Exit;

/// Writes `text` and a newline to stdout.
pub fn print_line(text: impl Display) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{text}")
        .and_then(|()| out.flush())
        .map_err(|e| {
            if e.kind() == ErrorKind::BrokenPipe {
                Exit::STDOUT_CLOSED.into()
            } else {
                anyhow::Error::new(e).context("writing to stdout")
            }
        })
}

/// `println!` through [`print_line`]: evaluates to its `Result`.
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::output::print_line(format_args!($($arg)*))
    };
}
pub(crate) use outln;

/// Prints `value` as pretty JSON on stdout.
pub fn print_json(value: &impl Serialize) -> anyhow::Result<()> {
    print_line(serde_json::to_string_pretty(value)?)
}

/// One line of at most `max` characters: whitespace runs (newlines included) collapse to a
/// space, and a cut line ends with `…`.
pub fn one_line(text: &str, max: usize) -> String {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= max {
        return flat;
    }
    let mut cut: String = flat.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// `3h 2m 5s`-style duration for a number of seconds.
pub fn uptime(secs: f64) -> String {
    let total = if secs.is_finite() && secs > 0.0 {
        secs as u64
    } else {
        0
    };
    let (d, h, m, s) = (
        total / 86_400,
        total / 3600 % 24,
        total / 60 % 60,
        total % 60,
    );
    match (d, h, m) {
        (0, 0, 0) => format!("{s}s"),
        (0, 0, _) => format!("{m}m {s}s"),
        (0, _, _) => format!("{h}h {m}m"),
        _ => format!("{d}d {h}h"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_flattens_and_truncates_on_char_boundaries() {
        assert_eq!(one_line("a\n b\tc", 10), "a b c");
        assert_eq!(one_line("ééééé", 3), "éé…");
        assert_eq!(one_line("abc", 3), "abc");
    }

    #[test]
    fn uptime_picks_the_two_largest_units() {
        assert_eq!(uptime(5.9), "5s");
        assert_eq!(uptime(65.0), "1m 5s");
        assert_eq!(uptime(3_726.0), "1h 2m");
        assert_eq!(uptime(90_000.0), "1d 1h");
        assert_eq!(uptime(f64::NAN), "0s");
    }
}
