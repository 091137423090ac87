//! [`Signals`]: the signals that end a live run early. SIGINT (Ctrl-C),
//! SIGTERM, SIGHUP (closed terminal, dropped ssh session) and SIGQUIT
//! (Ctrl-\\) each end it with a complete trace instead of killing it, and
//! with the exit code 128 + the signal's number.

use crate::error::{exits, Error};
use tokio::signal::unix::{signal, Signal, SignalKind};

/// The four signals, caught; see the module documentation. SIGHUP, when
/// the process was started with it ignored (`nohup qtap …`), stays
/// ignored: it is not caught (None).
pub struct Signals {
    int: Option<Signal>,
    term: Option<Signal>,
    hup: Option<Signal>,
    quit: Option<Signal>,
}

/// Waits for `s`, or forever when it is not caught.
async fn next(s: &mut Option<Signal>) {
    match s {
        Some(s) => {
            s.recv().await;
        }
        None => std::future::pending().await,
    }
}

impl Signals {
    /// Catches the four signals from now on (before anything is sent, so a
    /// signal never finds the default handler and kills the process with
    /// the trace unfinished), apart from SIGHUP when ignored at start.
    pub fn catch() -> Result<Signals, Error> {
        let on = |kind: SignalKind| {
            if crate::sys::ignored_at_start(kind.as_raw_value()) {
                return Ok(None);
            }
            signal(kind)
                .map(Some)
                .map_err(|e| Error::Internal(format!("cannot install signal handlers: {e}")))
        };
        Ok(Signals {
            int: on(SignalKind::interrupt())?,
            term: on(SignalKind::terminate())?,
            hup: on(SignalKind::hangup())?,
            quit: on(SignalKind::quit())?,
        })
    }

    /// Waits for one of them; returns its exit code.
    pub async fn recv(&mut self) -> u8 {
        tokio::select! {
            biased;
            () = next(&mut self.int) => exits::SIGINT,
            () = next(&mut self.term) => exits::SIGTERM,
            () = next(&mut self.hup) => exits::SIGHUP,
            () = next(&mut self.quit) => exits::SIGQUIT,
        }
    }
}
