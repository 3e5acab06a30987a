//! Exit statuses other than `main`'s defaults (0 on `Ok`, 1 after printing an error).
//!
//! A command that has already said what it had to say and must end with another status
//! returns [`Exit`] as its error; `main` turns it into that status and prints nothing.
//! The statuses in use:
//!
//! - `signet daemon status`: 0 running and healthy, 1 not running, 2 running but unhealthy or
//!   not answering;
//! - `signet token inspect`: 0 valid now, 1 not valid now, 3 signature not checked;
//! - any command: 141 when stdout's reader has gone ([`Exit::STDOUT_CLOSED`]).

use std::fmt;

/// Ends the command with this exit status, silently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exit(pub u8);

impl Exit {
    /// Stdout's reader closed the pipe (`signet status | head -1`). Rust ignores SIGPIPE, so
    /// the write fails with EPIPE instead of killing the process; we end quietly with 141
    /// (128 + SIGPIPE), the status a shell reports for `cat` or `ls` in the same pipeline, so
    /// scripts and `set -o pipefail` see what they see for any other program.
    pub const STDOUT_CLOSED: Self = Self(141);

    /// `Ok(())` for 0, else this status as the command's error.
    pub fn with_code(code: u8) -> anyhow::Result<()> {
        match code {
            0 => Ok(()),
            code => Err(Self(code).into()),
        }
    }
}

impl fmt::Display for Exit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "exit status {}", self.0)
    }
}

impl std::error::Error for Exit {}

/// The status requested by an [`Exit`] anywhere in `error`'s chain.
pub fn requested(error: &anyhow::Error) -> Option<u8> {
    error
        .chain()
        .find_map(|cause| cause.downcast_ref::<Exit>())
        .map(|exit| exit.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context as _;

    #[test]
    fn requested_status_survives_context_and_plain_errors_have_none() {
        assert!(Exit::with_code(0).is_ok());
        let err = Exit::with_code(2).context("daemon status").unwrap_err();
        assert_eq!(requested(&err), Some(2));
        let err: anyhow::Error = Exit::STDOUT_CLOSED.into();
        assert_eq!(requested(&err), Some(141));
        assert_eq!(requested(&anyhow::anyhow!("boom")), None);
    }
}
