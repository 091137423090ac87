//! The top-level error type and the one table of exit codes.
//!
//! | Code | Meaning |
//! |------|---------|
//! | 0    | a response was received (NXDOMAIN and SERVFAIL included); `--read` rendered everything |
//! | 1    | usage error |
//! | 8    | a `--read` input (or the `-f` batch file) could not be opened or was damaged |
//! | 9    | no reply from the server |
//! | 10   | internal error (cannot write the trace, the output, ...) |
//! | 129, 130, 131, 143 | interrupted by SIGHUP / SIGINT / SIGQUIT / SIGTERM (the trace is still closed properly) |

use std::path::PathBuf;

use crate::cli::CliError;

/// dig's exit codes, plus qtap's own for damaged traces.
pub mod exits {
    /// A response was received.
    pub const OK: u8 = 0;
    /// Usage error.
    pub const USAGE: u8 = 1;
    /// A `--read` input was unreadable or damaged.
    pub const DATA_LOST: u8 = 8;
    /// No reply from any server.
    pub const NO_REPLY: u8 = 9;
    /// Internal error.
    pub const INTERNAL: u8 = 10;
    /// Interrupted by SIGHUP (128 + 1): closed terminal, dropped session.
    pub const SIGHUP: u8 = 129;
    /// Interrupted by SIGINT (128 + 2).
    pub const SIGINT: u8 = 130;
    /// Interrupted by SIGQUIT (128 + 3).
    pub const SIGQUIT: u8 = 131;
    /// Interrupted by SIGTERM (128 + 15).
    pub const SIGTERM: u8 = 143;
}

/// Everything that can end a run early.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad command line.
    #[error("{0}")]
    Usage(#[from] CliError),
    /// A setting that only the environment can check is wrong: a server
    /// that cannot be parsed, a TLS file that cannot be read (exit 1).
    #[error("{0}")]
    Config(String),
    /// The `-f` batch file could not be read or has a bad line.
    #[error("batch file {path}: {reason}")]
    Batch {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// No server answered.
    #[error("{0}")]
    NoReply(String),
    /// The server name could not be resolved, or no usable server was found.
    #[error("{0}")]
    Server(String),
    /// The trace file could not be created or written.
    #[error("cannot write trace {path}: {source}")]
    Tap {
        /// The trace path.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// Writing the output failed (a closed pipe is handled by the caller).
    #[error("cannot write output: {0}")]
    Output(#[from] std::io::Error),
    /// Anything else that should not happen.
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// The process exit code for this error.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Usage(_) | Error::Config(_) => exits::USAGE,
            // dig: "couldn't open batch file" is 8 as well.
            Error::Batch { .. } => exits::DATA_LOST,
            Error::NoReply(_) | Error::Server(_) => exits::NO_REPLY,
            Error::Tap { .. } | Error::Output(_) | Error::Internal(_) => exits::INTERNAL,
        }
    }

    /// True when the error is a closed text output pipe (`qtap ... | head`),
    /// which ends quietly. A closed pipe under the trace (`--tap -`) is not
    /// one: the trace is cut, and that is an error.
    pub fn is_broken_pipe(&self) -> bool {
        match self {
            Error::Output(e) => e.kind() == std::io::ErrorKind::BrokenPipe,
            _ => false,
        }
    }
}

/// A copy of an I/O error, for when one failure must be reported in more
/// than one place (`io::Error` is not `Clone`): the same OS error code, or
/// the same kind and text.
pub fn copy_io_error(e: &std::io::Error) -> std::io::Error {
    match e.raw_os_error() {
        Some(code) => std::io::Error::from_raw_os_error(code),
        None => std::io::Error::new(e.kind(), e.to_string()),
    }
}
