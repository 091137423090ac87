//! The `qtap` binary: parse, configure, run, turn the result into an exit
//! code. A closed text pipe (`qtap --read big | head`) ends quietly, like
//! other Unix tools; a closed trace pipe (`--tap -`) is an error.

use std::io::Write;
use std::process::ExitCode;

use qtap::error::{exits, Error};

fn main() -> ExitCode {
    // A file size limit (`ulimit -f`) must surface as a write error that
    // qtap reports, not as a signal that kills it mid-trace.
    qtap::sys::ignore_sigxfsz();
    // A signal the process was started with ignored (nohup) stays ignored.
    qtap::sys::note_ignored_signals();
    // stdout stays locked for the run; stderr does not: other threads
    // write to it too (the progress bar of `--read`'s reading thread),
    // and would wait forever on a lock this thread holds.
    let (mut out, mut err) = (std::io::stdout().lock(), std::io::stderr());
    match run(&mut out, &mut err) {
        Ok(code) => code,
        Err(e) if e.is_broken_pipe() => ExitCode::from(exits::OK),
        Err(e) => {
            let _ = writeln!(err, "qtap: {}", e.message());
            ExitCode::from(e.exit_code())
        }
    }
}

fn run(out: &mut dyn Write, err: &mut dyn Write) -> Result<ExitCode, Error> {
    let config = match qtap::config::from_command_line(std::env::args_os(), out)? {
        Some(config) => config,
        // --help, --version, --generate: printed already.
        None => return Ok(ExitCode::from(exits::OK)),
    };
    qtap::run::run(config, out, err).map(ExitCode::from)
}
