//! [`View`]: the one path from events to the screen for a live run (and
//! for benchmarks and fuzzing of the single-threaded path): the pairer and
//! the printer, fed one event at a time. It does no I/O of its own beyond
//! writing to the stream it is handed.

use std::io::Write;

use crate::pair::{Item, Pairer};
use crate::render::printer::Printer;
use crate::render::DisplayOpts;
use crate::tap::event::Event;

/// Pairs events and shows them (live mode: one thread, eager output).
#[derive(Debug)]
pub struct View {
    pairer: Pairer,
    items: Vec<Item>,
    output: Printer,
}

impl View {
    /// A view with these display options, coloured or not.
    pub fn new(display: DisplayOpts, color: bool) -> View {
        View {
            pairer: Pairer::default(),
            items: Vec::new(),
            output: Printer::new(display, color, true),
        }
    }

    /// Takes one event; writes whatever it makes visible.
    pub fn push(&mut self, event: Event, out: &mut dyn Write) -> std::io::Result<()> {
        self.pairer.push(event, &mut self.items);
        self.output.show(self.items.drain(..), out)
    }

    /// Ends the stream: reports queries that got no response.
    pub fn finish(mut self, out: &mut dyn Write) -> std::io::Result<()> {
        self.pairer.finish(&mut self.items);
        self.output.show(self.items.drain(..), out)?;
        self.output.finish(out)
    }
}

/// What `--read` makes of the frames it selects.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReadOutput {
    /// Render them (the default).
    Render,
    /// `--write OUT`: save them as a dnstap file.
    Write(std::path::PathBuf),
    /// `--rrsets`: the passive-DNS view, JSON Lines or text.
    Rrsets {
        /// `--format json`/`jsonl`.
        json: bool,
    },
    /// `--stats`: a summary, `top` rows in the top lists, JSON or text.
    Stats {
        /// Rows in the top lists.
        top: usize,
        /// `--format json`.
        json: bool,
    },
}
