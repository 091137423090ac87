//! The top-level error type: it wraps the module errors and maps each to
//! its exit code ([`Error::exit_code`]); [`exit_code`] does so for a
//! lookup's whole result. The codes themselves are the table of
//! [`crate::exit`].

use std::path::PathBuf;

use crate::cli::CliError;
use crate::query::{Outcome, QueryError};

/// The exit-code table ([`crate::exit`]), under the name the callers use.
pub use crate::exit as exits;

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
    /// No server answered: why the last try failed.
    #[error("{0}")]
    Query(#[from] QueryError),
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
    /// `--read unix:`/`tcp:`: a socket cannot be listened on.
    #[error("{0}")]
    Listen(String),
    /// `--tap unix:`/`tcp:`: the collector is absent or refused, or frames
    /// were lost on the way.
    #[error("{0}")]
    Collector(String),
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
            Error::Query(_) | Error::Server(_) => exits::NO_REPLY,
            Error::Tap { .. } | Error::Output(_) | Error::Internal(_) | Error::Listen(_) => {
                exits::INTERNAL
            }
            Error::Collector(_) => exits::COLLECTOR,
        }
    }

    /// The message as qtap prints it: one line, with the control characters
    /// that file names, batch-file lines or arguments may carry escaped
    /// ([`crate::render::controls_escaped`]).
    pub fn message(&self) -> String {
        crate::render::controls_escaped(&self.to_string())
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

/// The exit code of one lookup's result: 0 answered (whatever the
/// RCODE), 9 no reply, else the error's own code.
pub fn exit_code(result: &Result<Outcome, Error>) -> u8 {
    match result {
        Ok(Outcome::Answered) => exits::OK,
        Ok(Outcome::NoReply) => exits::NO_REPLY,
        Err(e) => e.exit_code(),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_escape_control_characters_from_paths_and_lines() {
        let e = Error::Tap {
            path: PathBuf::from("evil\x1b[31m\nline\u{9b}.fstrm"),
            source: std::io::Error::from_raw_os_error(28),
        };
        let shown = e.message();
        assert!(shown.starts_with("cannot write trace evil\\027[31m\\010line\\194\\155.fstrm: "));
        assert!(!shown.chars().any(char::is_control), "{shown:?}");
        // Backslashes and letters beyond ASCII stay as they are.
        let e = Error::Config("caf\u{e9} a\\b".into());
        assert_eq!(e.message(), "caf\u{e9} a\\b");
    }

    #[test]
    fn a_lookup_result_maps_to_digs_codes() {
        assert_eq!(exit_code(&Ok(Outcome::Answered)), exits::OK);
        assert_eq!(exit_code(&Ok(Outcome::NoReply)), exits::NO_REPLY);
        let timeout = Err(Error::Query(QueryError::Timeout));
        assert_eq!(exit_code(&timeout), exits::NO_REPLY);
        let internal = Err(Error::Internal("x".into()));
        assert_eq!(exit_code(&internal), exits::INTERNAL);
    }
}
