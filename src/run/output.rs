//! [`Output`]: where a live run's lookups end up, in input order: the
//! trace (when recording), the [`View`] that shows each message, and the
//! diagnostic lines. Text for a terminal goes out as it comes; text for a
//! pipe or a file is gathered and written in large pieces, at the same
//! moments as the trace ([`Output::release`]). It is the only place that
//! writes to the run's streams.

use std::io::{IsTerminal, Write};

use crate::config::TapTarget;
use crate::error::Error;
use crate::render::DisplayOpts;
use crate::tap::event::Event;

use super::chunked::Chunked;
use super::hold::Produced;
use super::trace::Trace;
use super::view::View;

/// See the module documentation.
pub struct Output<'a> {
    trace: Option<Trace<'a>>,
    /// `--tap unix:PATH` / `tcp:ADDR:PORT`: streamed to a collector.
    sender: Option<crate::tap::sender::TapSender>,
    view: View,
    text: Chunked<&'a mut dyn Write>,
    /// Where diagnostics go; None: into `text` (when the trace is stdout).
    diag: Option<&'a mut dyn Write>,
    /// Something was written since the last release.
    dirty: bool,
}

impl<'a> Output<'a> {
    /// Opens the trace (before anything is sent, so a bad path fails
    /// early) and sets up the text: on `out`, or on `err` when the trace
    /// takes stdout (`--tap -`).
    pub fn open(
        tap: Option<&TapTarget>,
        view: View,
        out: &'a mut dyn Write,
        err: &'a mut dyn Write,
    ) -> Result<Output<'a>, Error> {
        let collector = tap.and_then(|t| super::collect::Endpoint::parse(t.path.as_os_str()));
        if let Some(endpoint) = collector {
            // Connected (handshake done) before any query is sent.
            let endpoint = endpoint.map_err(Error::Config)?;
            let sender = crate::tap::sender::TapSender::connect(
                &endpoint,
                crate::tap::sender::SenderOptions::default(),
            )
            .map_err(Error::Collector)?;
            return Ok(Output {
                trace: None,
                sender: Some(sender),
                view,
                text: Chunked::new(out, std::io::stdout().is_terminal()),
                diag: Some(err),
                dirty: false,
            });
        }
        Ok(match tap {
            Some(t) if t.path.as_os_str() == "-" => Output {
                trace: Some(Trace::stdout(out)?),
                sender: None,
                view,
                text: Chunked::new(err, true),
                diag: None,
                dirty: false,
            },
            _ => {
                let trace = match tap {
                    Some(t) => Some(Trace::create(&t.path, &mut *err)?),
                    None => None,
                };
                // Someone watching a terminal sees each answer as it comes;
                // a file or a pipe gets the text in large pieces.
                let eager = std::io::stdout().is_terminal();
                Output {
                    trace,
                    sender: None,
                    view,
                    text: Chunked::new(out, eager),
                    diag: Some(err),
                    dirty: false,
                }
            }
        })
    }

    /// Shows (and records) one thing a lookup produced.
    pub fn show(&mut self, item: Produced) -> Result<(), Error> {
        match item {
            Produced::Record(event) => self.record(event),
            Produced::Diag(line) => {
                self.diag(&line);
                Ok(())
            }
        }
    }

    /// Whether something was written since the last release.
    pub fn dirty(&self) -> bool {
        self.dirty
    }

    /// Writes out what the text and the trace gathered (a lookup ended, or
    /// the run waits). Errors are kept and reported by the next write.
    pub fn release(&mut self) {
        self.dirty = false;
        if self.text.holds() {
            let _ = self.text.release();
        }
        if let Some(trace) = &mut self.trace {
            trace.release();
        }
    }

    /// Ends the run's output: the view reports what got no response, then
    /// the text goes out and the trace is finished, even after a text
    /// error.
    pub fn close(mut self) -> Result<(), Error> {
        let view = std::mem::replace(&mut self.view, View::new(DisplayOpts::default(), false));
        let shown = view
            .finish(&mut self.text)
            .and_then(|()| self.text.release());
        let traced = match (self.trace.take(), self.sender.take()) {
            (Some(mut trace), _) => trace.finish(),
            (None, Some(sender)) => {
                let report = sender.finish();
                for line in &report.warnings {
                    self.diag(line);
                }
                match report.dropped {
                    0 => Ok(()),
                    n => Err(Error::Collector(format!(
                        "{n} dnstap frames were not delivered to the collector"
                    ))),
                }
            }
            (None, None) => Ok(()),
        };
        shown?;
        traced
    }
}

/// Waits until the sender posts a warning (forever without a sender).
pub async fn posted(warnings: Option<&crate::tap::sender::Warnings>) {
    match warnings {
        Some(w) => w.posted.notified().await,
        None => std::future::pending().await,
    }
}

impl Output<'_> {
    /// Records `event` in the trace (noting where its frame starts) and
    /// shows it.
    pub fn record(&mut self, mut event: Event) -> Result<(), Error> {
        self.dirty = true;
        // Where the frame lands in the trace, as `--read` will report it.
        let recorded = match (&mut self.trace, &self.sender) {
            (Some(trace), _) => trace.record(&event),
            (None, Some(sender)) => {
                use prost::Message as _;
                sender.send(bytes::Bytes::from(event.to_pb().encode_to_vec()));
                Ok(None)
            }
            (None, None) => Ok(None),
        };
        event.offset = recorded.as_ref().ok().copied().flatten();
        // A message that arrived is shown even when the trace just failed:
        // the run ends on the trace error, not with "no response recorded"
        // for a query that was answered.
        self.view.push(event, &mut self.text)?;
        recorded.map(|_| ())
    }

    /// Where the `--tap unix:`/`tcp:` sender posts its warnings (None
    /// without one): wait on it with [`posted`], then call
    /// [`Output::show_tap_warnings`].
    pub fn tap_warnings(&self) -> Option<std::sync::Arc<crate::tap::sender::Warnings>> {
        self.sender.as_ref().map(|s| s.warnings())
    }

    /// Writes the sender's warnings posted so far: they reach stderr when
    /// they happen, not at the end of the run.
    pub fn show_tap_warnings(&mut self) {
        let lines = self
            .sender
            .as_ref()
            .map(|s| s.warnings().take())
            .unwrap_or_default();
        for line in lines {
            self.diag(&line);
        }
    }

    /// Writes a diagnostic line, after the text gathered so far.
    pub fn diag(&mut self, line: &str) {
        self.dirty = true;
        match self.diag.as_mut() {
            Some(d) => {
                // What is gathered comes first, should both streams go to
                // the same place (an error shows up on the next write).
                let _ = self.text.release();
                let _ = writeln!(d, "{line}");
            }
            None => {
                let _ = writeln!(self.text, "{line}");
            }
        }
    }
}
