//! The process exit codes, one table for both front ends (README and the
//! `--help` footer list the same).

/// Everything asked for was done (every job Active, for commands that wait).
pub const SUCCESS: u8 = 0;
/// The command ran, but some jobs are not Active (Failed, Rejected,
/// Uncertain, Stuck) or some lines were refused or held back (items that
/// exist already are not an error).
pub const NOT_ALL_ACTIVE: u8 = 1;
/// Bad usage, bad input or bad configuration.
pub const USAGE: u8 = 2;
/// The server refused the API key (401/403); creation was paused.
pub const AUTH: u8 = 3;
/// The server could not be reached (connection refused, DNS); creation was paused.
pub const UNREACHABLE: u8 = 4;
/// The job store is owned by another process, or cannot be written.
pub const JOURNAL: u8 = 5;
/// The account's asset quota is full: creation was paused (queued imports
/// are kept for `wait`).
pub const QUOTA: u8 = 6;
/// Interrupted by Ctrl-C, SIGTERM or SIGHUP (128 + SIGINT).
pub const INTERRUPTED: u8 = 130;

/// The table as shown in `--help`.
pub const TABLE: &str = "\
Exit codes:
  0    success: everything asked for was done
  1    some jobs are not Active (failed, rejected, uncertain, stuck), or lines were
       refused or held back (items that exist already are not an error)
  2    usage error, bad input or bad configuration; nothing to import (every line
       refused or held back)
  3    authentication: the server refused the API key
  4    the server could not be reached
  5    the job store is owned by another process (named), or cannot be written
  6    the account's asset quota is full: creation paused, queued imports kept
  130  interrupted (Ctrl-C, SIGTERM, SIGHUP)";

/// A command that could not do what was asked: a message for stderr and
/// the exit code that classifies it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Failure {
    /// One of the codes above.
    pub code: u8,
    /// What went wrong (empty for a closed stdout, which is not reported).
    pub message: String,
}

impl Failure {
    /// A failure with this code.
    pub fn new(code: u8, message: impl Into<String>) -> Failure {
        Failure { code, message: message.into() }
    }

    /// Stdout was closed by the reader (`| head`): stop quietly, successfully.
    pub fn closed_stdout() -> Failure {
        Failure { code: SUCCESS, message: String::new() }
    }

    /// Classifies a failed write to stdout: a closed pipe is a quiet success.
    pub fn stdout(e: std::io::Error) -> Failure {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            Failure::closed_stdout()
        } else {
            Failure::new(USAGE, format!("cannot write to stdout: {e}"))
        }
    }
}

impl From<String> for Failure {
    /// A plain message is a usage or input error.
    fn from(message: String) -> Failure {
        Failure::new(USAGE, message)
    }
}

impl From<&str> for Failure {
    fn from(message: &str) -> Failure {
        Failure::new(USAGE, message)
    }
}

// Each layer's errors get their exit code here, at the edge: the layers
// themselves know nothing of exit codes (a layering test keeps it so).

impl From<crate::store::StoreError> for Failure {
    /// The job store cannot be opened or written.
    fn from(e: crate::store::StoreError) -> Self {
        Failure::new(JOURNAL, e.to_string())
    }
}

impl From<crate::api::ClientError> for Failure {
    /// A client that cannot be built is a configuration (usage) error.
    fn from(e: crate::api::ClientError) -> Failure {
        Failure::new(USAGE, e.to_string())
    }
}

impl From<crate::config::ConfigError> for Failure {
    /// A configuration problem is a usage error.
    fn from(e: crate::config::ConfigError) -> Failure {
        Failure::new(USAGE, e.to_string())
    }
}

impl From<crate::options::PathsError> for Failure {
    /// Bad locations are a usage error.
    fn from(e: crate::options::PathsError) -> Failure {
        Failure::new(USAGE, e.to_string())
    }
}

impl From<crate::export::ExportError> for Failure {
    /// A failed export is reported as a usage error.
    fn from(e: crate::export::ExportError) -> Failure {
        Failure::new(USAGE, e.to_string())
    }
}
