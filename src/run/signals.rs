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
    int: Signal,
    term: Signal,
    hup: Option<Signal>,
    quit: Signal,
}

impl Signals {
    /// Catches the four signals from now on (before anything is sent, so a
    /// signal never finds the default handler and kills the process with
    /// the trace unfinished), apart from SIGHUP when ignored at start.
    pub fn catch() -> Result<Signals, Error> {
        let on = |kind| {
            signal(kind)
                .map_err(|e| Error::Internal(format!("cannot install signal handlers: {e}")))
        };
        Ok(Signals {
            int: on(SignalKind::interrupt())?,
            term: on(SignalKind::terminate())?,
            hup: match crate::sys::hup_ignored_at_start() {
                true => None,
                false => Some(on(SignalKind::hangup())?),
            },
            quit: on(SignalKind::quit())?,
        })
    }

    /// Waits for one of them; returns its exit code.
    pub async fn recv(&mut self) -> u8 {
        tokio::select! {
            biased;
            _ = self.int.recv() => exits::SIGINT,
            _ = self.term.recv() => exits::SIGTERM,
            () = async {
                match self.hup.as_mut() {
                    Some(s) => {
                        s.recv().await;
                    }
                    None => std::future::pending().await,
                }
            } => exits::SIGHUP,
            _ = self.quit.recv() => exits::SIGQUIT,
        }
    }
}
