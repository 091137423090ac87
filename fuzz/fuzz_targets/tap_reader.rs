//! Fuzz target: the whole `--read` pipeline over arbitrary bytes. A
//! `TapReader` (with a limit and read size picked by the first two bytes)
//! yields frames; each payload becomes an `Event` and goes through the
//! pairer and renderer. Nothing may panic, the reader must end, and the
//! rendered text must be terminal-safe.
#![no_main]

use std::io::Read;

use libfuzzer_sys::fuzz_target;
use qtap::run::View;
use qtap::tap::event::Event;
use qtap::tap::reader::{Item, ReaderOptions, TapReader};

#[path = "common.rs"]
mod common;

/// A reader that hands out at most `step` bytes per call, to exercise the
/// buffering at every frame boundary.
struct Trickle<'a> {
    bytes: &'a [u8],
    step: usize,
}

impl Read for Trickle<'_> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let n = self.step.min(out.len()).min(self.bytes.len());
        let (head, tail) = self.bytes.split_at(n);
        out[..n].copy_from_slice(head);
        self.bytes = tail;
        Ok(n)
    }
}

/// A sink that keeps the rendered text so it can be checked.
struct Text(Vec<u8>);

impl std::io::Write for Text {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fuzz_target!(|data: &[u8]| {
    let [limit, step, opt_a, opt_b, rest @ ..] = data else {
        return;
    };
    let max_data = match limit {
        0 => qtap::tap::frame::DEFAULT_MAX_DATA_FRAME,
        n => usize::from(*n) * 8,
    };
    let step = if *step == 0 {
        usize::MAX
    } else {
        usize::from(*step)
    };
    let mut reader = TapReader::new(Trickle { bytes: rest, step }, ReaderOptions { max_data });
    let mut view = View::new(common::display_opts(*opt_a, *opt_b), false);
    let mut out = Text(Vec::new());
    let mut items = 0usize;
    while let Ok(Some(item)) = reader.next_item() {
        items += 1;
        // Every item consumes at least one byte except a final warning.
        assert!(items <= rest.len() + 8, "reader does not end");
        if let Item::Data { offset, payload } = item {
            assert!(payload.len() <= max_data);
            if let Ok(event) = Event::from_payload(Some(offset), payload) {
                let _ = view.push(event, &mut out);
            }
        }
    }
    assert!(reader.position() <= rest.len() as u64);
    let _ = view.finish(&mut out);
    let text = String::from_utf8(out.0).expect("rendered text is UTF-8");
    common::assert_terminal_safe(&text);
});
