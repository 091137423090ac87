//! Colour for dig text: a calm palette added after layout, line by line.
//!
//! Colouring the finished text (instead of every renderer) guarantees the
//! characters never change, only escapes are added, and tab stops are
//! computed on plain text. Text from the wire or a trace never contains raw
//! control characters here (renderers escape them), so the only escapes in
//! the output are the ones added below. Pure.

use owo_colors::{OwoColorize, Style};

/// The palette. `Palette::plain()` adds nothing.
#[derive(Clone, Copy, Debug)]
pub struct Palette {
    /// Comment lines (`;; ...`).
    pub comment: Style,
    /// Section headings and the HEADER line.
    pub heading: Style,
    /// Owner names (and the question name).
    pub name: Style,
    /// Record type mnemonics.
    pub rtype: Style,
    /// Warnings and the unanswered-query lines.
    pub warning: Style,
    /// A response code other than NOERROR.
    pub error: Style,
}

impl Palette {
    /// No colour at all.
    pub fn plain() -> Palette {
        let s = Style::new();
        Palette {
            comment: s,
            heading: s,
            name: s,
            rtype: s,
            warning: s,
            error: s,
        }
    }

    /// qtap's colours.
    pub fn calm() -> Palette {
        Palette {
            comment: Style::new().dimmed(),
            heading: Style::new().bold(),
            name: Style::new().blue(),
            rtype: Style::new().cyan(),
            warning: Style::new().yellow(),
            error: Style::new().red().bold(),
        }
    }
}

/// Splits `line` after its first `n` fields (fields separated by runs of
/// spaces or tabs): returns the byte offsets where each field starts and
/// ends.
fn fields(line: &str, n: usize) -> Vec<(usize, usize)> {
    let bytes = line.as_bytes();
    let mut out = Vec::with_capacity(n);
    let mut i = 0;
    while out.len() < n && i < bytes.len() {
        while i < bytes.len() && (bytes[i] == b' ' || bytes[i] == b'\t') {
            i += 1;
        }
        let start = i;
        while i < bytes.len() && bytes[i] != b' ' && bytes[i] != b'\t' {
            i += 1;
        }
        if start < i {
            out.push((start, i));
        }
    }
    out
}

fn paint(out: &mut String, text: &str, style: Style) {
    use std::fmt::Write as _;
    let _ = write!(out, "{}", text.style(style));
}

/// Appends `text` (one or more complete lines of dig text) with colour.
pub fn colorize(out: &mut String, text: &str, p: &Palette) {
    for line in text.split_inclusive('\n') {
        let (body, nl) = match line.strip_suffix('\n') {
            Some(b) => (b, "\n"),
            None => (line, ""),
        };
        color_line(out, body, p);
        out.push_str(nl);
    }
}

fn color_line(out: &mut String, line: &str, p: &Palette) {
    if line.is_empty() {
        return;
    }
    if let Some(rest) = line.strip_prefix(";; ->>HEADER<<- ") {
        paint(out, ";; ->>HEADER<<- ", p.heading);
        // Colour the status when it is not NOERROR.
        if let Some(i) = rest.find("status: ") {
            let after = &rest[i + 8..];
            let end = after.find(',').unwrap_or(after.len());
            let status = &after[..end];
            paint(out, &rest[..i + 8], p.heading);
            paint(
                out,
                status,
                if status == "NOERROR" {
                    p.heading
                } else {
                    p.error
                },
            );
            paint(out, &after[end..], p.heading);
        } else {
            paint(out, rest, p.heading);
        }
        return;
    }
    if line.starts_with(";; WARNING")
        || line.starts_with(";; no response")
        || line.starts_with("; Transfer failed")
    {
        paint(out, line, p.warning);
        return;
    }
    if line.starts_with(";;") && line.ends_with("SECTION:") {
        paint(out, line, p.heading);
        return;
    }
    if let Some(body) = line.strip_prefix(';') {
        // A question line is ";name<tabs>CLASS<tab>TYPE"; other lines are comments.
        let f = fields(body, 4);
        if f.len() == 3 && !line.starts_with(";;") && !line.starts_with("; ") {
            out.push(';');
            paint(out, &body[..f[0].1], p.name);
            out.push_str(&body[f[0].1..f[2].0]);
            paint(out, &body[f[2].0..f[2].1], p.rtype);
            out.push_str(&body[f[2].1..]);
            return;
        }
        paint(out, line, p.comment);
        return;
    }
    // A record line: name TTL CLASS TYPE RDATA.
    let f = fields(line, 5);
    if f.len() == 5
        && f[1].0 < line.len()
        && line[f[1].0..f[1].1].bytes().all(|b| b.is_ascii_digit())
    {
        paint(out, &line[..f[0].1], p.name);
        out.push_str(&line[f[0].1..f[3].0]);
        paint(out, &line[f[3].0..f[3].1], p.rtype);
        out.push_str(&line[f[3].1..]);
        return;
    }
    out.push_str(line);
}

/// Removes ANSI escape sequences (CSI ... letter): for tests and checks.
pub fn strip_escapes(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' && chars.peek() == Some(&'[') {
            chars.next();
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str =
        "\n; <<>> qtap 0.1.0 <<>> @127.0.0.1 x.example. A\n;; global options: +cmd\n\
;; Got answer:\n;; ->>HEADER<<- opcode: QUERY, status: NXDOMAIN, id: 1\n\
;; flags: qr aa; QUERY: 1, ANSWER: 1, AUTHORITY: 0, ADDITIONAL: 0\n\n;; QUESTION SECTION:\n\
;x.example.\t\t\tIN\tA\n\n;; ANSWER SECTION:\nx.example.\t\t300\tIN\tA\t192.0.2.1\n\
;; WARNING: something\n\"plain short line\"\n";

    #[test]
    fn colour_only_adds_escapes() {
        let mut out = String::new();
        colorize(&mut out, SAMPLE, &Palette::calm());
        assert_ne!(out, SAMPLE);
        assert!(out.contains('\u{1b}'));
        assert_eq!(strip_escapes(&out), SAMPLE);
    }

    #[test]
    fn plain_palette_adds_nothing() {
        let mut out = String::new();
        colorize(&mut out, SAMPLE, &Palette::plain());
        assert_eq!(out, SAMPLE);
    }

    #[test]
    fn error_status_is_red_and_names_are_blue() {
        let mut out = String::new();
        colorize(&mut out, SAMPLE, &Palette::calm());
        let red = format!("{}", "NXDOMAIN".style(Style::new().red().bold()));
        assert!(out.contains(&red), "{out:?}");
        let blue = format!("{}", "x.example.".style(Style::new().blue()));
        assert_eq!(out.matches(&blue).count(), 2, "{out:?}");
    }
}
