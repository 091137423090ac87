//! The one printer: every output format (dig text, `+short`, JSON, JSON
//! Lines, YAML) with its framing (JSON's `[`, commas and `]`), the `+qr`
//! filter and colour (`+idn` is applied where names are rendered). Live
//! queries and every `--read` thread go through it, so the same trace gives
//! the same output.
//!
//! `--read` splits the work over threads: a [`Batcher`] (the ordered half:
//! text planning, or the `+qr` filter) runs on the reading thread, a
//! [`BatchDrawer`] per core lays batches out, and the [`Printer`] puts the
//! drawn text back in order. Live mode uses [`Printer::show`], which does
//! all three in turn. No I/O but the `Write` it is handed.

use std::io::Write;

use crate::pair::Item;
use crate::render::color::{colorize, Palette};
use crate::render::{DisplayOpts, Drawer, Planner, Renderer, Step};

/// How much rendered text waits before it is written out when not eager.
const OUTPUT_CHUNK: usize = 64 * 1024;

/// The structured output formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Structured {
    Json,
    Jsonl,
    Yaml,
}

impl Structured {
    /// The structured format the display options ask for, if any.
    fn of(display: &DisplayOpts) -> Option<Structured> {
        use super::Format;
        match display.format {
            Some(Format::Json) => Some(Structured::Json),
            Some(Format::Jsonl) => Some(Structured::Jsonl),
            Some(Format::Yaml) => Some(Structured::Yaml),
            _ => None,
        }
    }

    /// What goes before the `nth` object of the output (JSON's `[` and
    /// commas; nothing for the line formats).
    fn separator(self, nth: u64) -> &'static str {
        match (self, nth) {
            (Structured::Json, 0) => "[\n",
            (Structured::Json, _) => ",\n",
            _ => "",
        }
    }

    /// What closes an output of `objects` objects.
    fn closing(self, objects: u64) -> &'static str {
        match (self, objects) {
            (Structured::Json, 0) => "[]\n",
            (Structured::Json, _) => "\n]\n",
            _ => "",
        }
    }

    /// Appends one item without its separator (JSON Lines: with its
    /// newline). False when the item has no object.
    fn write(self, buf: &mut String, item: &Item) -> bool {
        let written = match self {
            Structured::Json | Structured::Jsonl => crate::render::json::write_json(buf, item),
            Structured::Yaml => crate::render::yaml::write_yaml(buf, item),
        };
        if written && self == Structured::Jsonl {
            buf.push('\n');
        }
        written
    }
}

/// Whether a structured output shows this item: queries only with `+qr`,
/// as in the text layout; an unanswered query only without `+qr`, since
/// with it the query was already shown when it was sent (the pairer hands
/// every query over as [`Item::Query`] before it can be reported
/// unanswered) and would appear twice; answers always.
fn shown(qr: bool, item: &Item) -> bool {
    match item {
        Item::Query(_) => qr,
        Item::Unanswered(_) => !qr,
        Item::Response { .. } => true,
    }
}

/// Renders items and writes the text: the one path from a paired record
/// to the screen, for live queries and `--read` alike.
#[derive(Debug)]
pub struct Printer {
    renderer: Renderer,
    /// Structured output instead of dig text.
    structured: Option<Structured>,
    /// Objects written so far (JSON arrays need commas).
    objects: u64,
    buf: String,
    /// Colours to add after layout (None: plain text).
    palette: Option<Palette>,
    colored: String,
    /// Write out after every record (live: the user is watching) or only in
    /// large chunks (`--read`: throughput).
    eager: bool,
}

impl Printer {
    /// A printer with these display options, coloured or not, writing after
    /// every call (`eager`) or in large pieces.
    pub fn new(display: DisplayOpts, color: bool, eager: bool) -> Printer {
        let structured = Structured::of(&display);
        // Structured formats are never coloured.
        let color = color && structured.is_none();
        Printer {
            structured,
            objects: 0,
            renderer: Renderer::new(display),
            buf: String::new(),
            palette: color.then(Palette::calm),
            colored: String::new(),
            eager,
        }
    }

    /// Renders items; writes them out now (eager) or once enough text waits.
    pub fn show(
        &mut self,
        items: impl IntoIterator<Item = Item>,
        out: &mut dyn Write,
    ) -> std::io::Result<()> {
        for item in items {
            match self.structured {
                None => self.renderer.render(&mut self.buf, item),
                Some(kind) => {
                    if !shown(self.renderer.opts().qr, &item) {
                        continue;
                    }
                    let start = self.buf.len();
                    self.buf.push_str(kind.separator(self.objects));
                    if kind.write(&mut self.buf, &item) {
                        self.objects += 1;
                    } else {
                        self.buf.truncate(start);
                    }
                }
            }
        }
        if self.eager || self.buf.len() >= OUTPUT_CHUNK {
            self.write_out(out)?;
        }
        Ok(())
    }

    /// The ordered half of this printer's work, for a reading thread.
    pub fn batcher(&self) -> Batcher {
        let opts = self.renderer.opts();
        match self.structured {
            None => Batcher::Text {
                planner: Box::new(Planner::new(opts.clone())),
                steps: Vec::new(),
            },
            Some(_) => Batcher::Structured {
                qr: opts.qr,
                items: Vec::new(),
            },
        }
    }

    /// A drawer of batches, for a drawing thread.
    pub fn drawer(&self) -> BatchDrawer {
        BatchDrawer {
            drawer: Drawer::new(self.renderer.opts().clone()),
            structured: self.structured,
        }
    }

    /// Takes text drawn by a [`BatchDrawer`], in order.
    pub fn show_drawn(&mut self, drawn: Drawn, out: &mut dyn Write) -> std::io::Result<()> {
        match drawn {
            Drawn::Text(text) => {
                if self.buf.is_empty() && self.palette.is_none() {
                    // Plain text in a large piece: straight out, no copy.
                    return out.write_all(text.as_bytes());
                }
                self.buf.push_str(&text);
            }
            Drawn::Objects { text, count } => {
                if count == 0 {
                    return Ok(());
                }
                if let Some(kind) = self.structured {
                    self.buf.push_str(kind.separator(self.objects));
                }
                self.objects += count;
                self.buf.push_str(&text);
            }
        }
        if self.eager || self.buf.len() >= OUTPUT_CHUNK {
            self.write_out(out)?;
        }
        Ok(())
    }

    /// Writes out whatever text waits, and flushes `out` (a live input
    /// paused: nothing may sit in a buffer while nothing arrives).
    pub fn flush(&mut self, out: &mut dyn Write) -> std::io::Result<()> {
        self.write_out(out)?;
        out.flush()
    }

    fn write_out(&mut self, out: &mut dyn Write) -> std::io::Result<()> {
        if !self.buf.is_empty() {
            match &self.palette {
                Some(p) => {
                    self.colored.clear();
                    colorize(&mut self.colored, &self.buf, p);
                    out.write_all(self.colored.as_bytes())?;
                }
                None => out.write_all(self.buf.as_bytes())?,
            }
            out.flush()?;
            self.buf.clear();
        }
        Ok(())
    }

    /// Ends the output: what the renderer still holds, the closing of the
    /// format, then everything.
    pub fn finish(mut self, out: &mut dyn Write) -> std::io::Result<()> {
        match self.structured {
            None => self.renderer.finish(&mut self.buf),
            Some(kind) => self.buf.push_str(kind.closing(self.objects)),
        }
        self.write_out(out)
    }
}

/// One batch of work for a drawing thread.
#[derive(Debug)]
pub enum Batch {
    /// Planned text steps to draw.
    Steps(Vec<Step>),
    /// Items to show in a structured format (already filtered for `+qr`).
    Items(Vec<Item>),
}

/// The ordered half of printing: text planning (which needs the items
/// before), or the `+qr` filter for a structured format.
pub enum Batcher {
    /// dig text and `+short`.
    Text {
        /// Decides what each item shows.
        planner: Box<Planner>,
        /// The steps so far.
        steps: Vec<Step>,
    },
    /// JSON, JSON Lines and YAML.
    Structured {
        /// `+qr`: queries are shown too.
        qr: bool,
        /// The items so far.
        items: Vec<Item>,
    },
}

impl Batcher {
    /// Adds one item to the batch.
    pub fn push(&mut self, item: Item) {
        match self {
            Batcher::Text { planner, steps } => planner.plan(item, steps),
            Batcher::Structured { qr, items } => {
                if shown(*qr, &item) {
                    items.push(item);
                }
            }
        }
    }

    /// How many steps or items the batch holds.
    pub fn len(&self) -> usize {
        match self {
            Batcher::Text { steps, .. } => steps.len(),
            Batcher::Structured { items, .. } => items.len(),
        }
    }

    /// Whether the batch is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The batch so far, leaving an empty one of `capacity`.
    pub fn take(&mut self, capacity: usize) -> Batch {
        match self {
            Batcher::Text { steps, .. } => {
                Batch::Steps(std::mem::replace(steps, Vec::with_capacity(capacity)))
            }
            Batcher::Structured { items, .. } => {
                Batch::Items(std::mem::replace(items, Vec::with_capacity(capacity)))
            }
        }
    }

    /// Ends the stream: what the planner still holds.
    pub fn finish(&mut self) {
        if let Batcher::Text { planner, steps } = self {
            planner.finish(steps);
        }
    }
}

/// Text drawn from one batch.
#[derive(Debug)]
pub enum Drawn {
    /// dig-style text.
    Text(String),
    /// Structured objects, without the separator that depends on what came
    /// before (JSON's `[` or comma before the first object).
    Objects {
        /// The objects' text.
        text: String,
        /// How many objects it holds.
        count: u64,
    },
}

/// Lays batches out as text (one per drawing thread).
pub struct BatchDrawer {
    drawer: Drawer,
    structured: Option<Structured>,
}

impl BatchDrawer {
    /// The text of one batch.
    pub fn draw(&mut self, batch: &Batch) -> Drawn {
        match batch {
            Batch::Steps(steps) => {
                let mut text = String::with_capacity(steps.len() * 1024);
                for step in steps {
                    self.drawer.draw(&mut text, step);
                }
                Drawn::Text(text)
            }
            Batch::Items(items) => {
                let mut text = String::with_capacity(items.len() * 1024);
                let mut count = 0u64;
                if let Some(kind) = self.structured {
                    for item in items {
                        let start = text.len();
                        // The first object's separator is the printer's.
                        if count > 0 {
                            text.push_str(kind.separator(count));
                        }
                        if kind.write(&mut text, item) {
                            count += 1;
                        } else {
                            text.truncate(start);
                        }
                    }
                }
                Drawn::Objects { text, count }
            }
        }
    }
}
