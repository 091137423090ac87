//! Helpers shared by the fuzz targets: turning a few input bytes into
//! display options, and the terminal-safety oracle every renderer output
//! must satisfy. No I/O.

use qtap::render::rdata::RdataStyle;
use qtap::render::DisplayOpts;

/// Display options chosen by the bits of `a` and `b`, so the fuzzer
/// explores every `+[no]option` combination the renderer branches on.
pub fn display_opts(a: u8, b: u8) -> DisplayOpts {
    let bit = |x: u8, n: u8| x & (1 << n) != 0;
    DisplayOpts {
        cmd: !bit(a, 0),
        comments: !bit(a, 1),
        question: !bit(a, 2),
        answer: !bit(a, 3),
        authority: !bit(a, 4),
        additional: !bit(a, 5),
        stats: !bit(a, 6),
        qr: bit(a, 7),
        short: bit(b, 0),
        multiline: bit(b, 1),
        crypto: !bit(b, 1) || !bit(a, 0),
        rdata: RdataStyle {
            split: usize::from(b >> 3) * 4,
            unknown_format: bit(b, 2),
            ..RdataStyle::default()
        },
        expandaaaa: bit(a, 6),
        identify: bit(b, 2),
        onesoa: bit(a, 4),
        ttlunits: bit(b, 1),
        ..DisplayOpts::default()
    }
}

/// Panics if rendered text could send a control character to the
/// terminal: every byte from a trace must have been escaped (`\DDD`) or
/// replaced, so only tabs, newlines and printable characters remain (no
/// C0, DEL or C1 controls, which terminals may take as escape sequences).
pub fn assert_terminal_safe(text: &str) {
    if let Some((at, c)) = text
        .char_indices()
        .find(|&(_, c)| c != '\n' && c != '\t' && c.is_control())
    {
        panic!("unescaped control {c:?} at byte {at} in rendered text:\n{text}");
    }
}
