//! The `qtap` binary: parse, run, turn the result into an exit code.

use std::io::Write;
use std::process::ExitCode;

use qtap::error::{exits, Error};

fn main() -> ExitCode {
    // A file size limit (`ulimit -f`) must surface as a write error that
    // qtap reports, not as a signal that kills it mid-trace.
    qtap::sys::ignore_sigxfsz();
    let stdout = std::io::stdout();
    let stderr = std::io::stderr();
    let (mut out, mut err) = (stdout.lock(), stderr.lock());
    let code = match run(&mut out, &mut err) {
        Ok(code) => code,
        // A closed pipe (`qtap --read big | head`) ends quietly, like other Unix tools.
        Err(e) if e.is_broken_pipe() => exits::OK,
        Err(e) => {
            let _ = writeln!(err, "qtap: {e}");
            e.exit_code()
        }
    };
    ExitCode::from(code)
}

fn run(out: &mut dyn Write, err: &mut dyn Write) -> Result<u8, Error> {
    let mut args = match qtap::cli::parse(std::env::args_os()) {
        Ok(args) => args,
        // --help and --version are "errors" to clap; they print and exit 0.
        Err(qtap::cli::CliError::Help(text)) => {
            out.write_all(text.as_bytes())?;
            return Ok(exits::OK);
        }
        Err(e) => return Err(e.into()),
    };
    if let Some(what) = args.cli.generate {
        qtap::cli::doc::generate(what, out)?;
        return Ok(exits::OK);
    }
    if let Some(path) = args.batch.clone() {
        let lines = qtap::config::read_batch(&path)?;
        qtap::cli::add_batch(&mut args, &lines).map_err(|(n, e)| Error::Batch {
            path,
            reason: format!("line {n}: {e}"),
        })?;
    }
    let config = qtap::config::Config::from_args(args, std::path::Path::new("/etc/resolv.conf"))?;
    qtap::app::run(config, out, err)
}
