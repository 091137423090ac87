//! Domain names (RFC 1035 §3.1): the uncompressed wire form, reading possibly
//! compressed names out of a message (RFC 1035 §4.1.4), and dig's presentation
//! form in both directions.
//!
//! This module owns name syntax only. It does no I/O, knows nothing about
//! records, and never panics on untrusted bytes: every problem is a
//! [`WireError`] (wire input) or a [`NameTextError`] (text input).

use std::fmt;
use std::net::IpAddr;

use super::WireError;

/// Longest name in wire form, root label included (RFC 1035 §3.1).
pub const MAX_NAME_LEN: usize = 255;
/// Longest label (RFC 1035 §3.1).
pub const MAX_LABEL_LEN: usize = 63;
/// Most compression pointers (RFC 1035 §4.1.4) a name may follow.
///
/// A name has at most 127 labels besides the root (127 one-byte labels
/// fill the 255 bytes). A compressor points at labels, so every pointer
/// but the last leads to at least one label before the next pointer, and
/// the last leads to labels or the bare root: 127 labels allow 128
/// pointers. More can only come from pointers to pointers, which no
/// encoder needs; without this cap such a chain (pointers may only go
/// backwards, but a 64 KiB message holds 32,768 of them) is walked for
/// every name that enters it.
pub const MAX_POINTERS: usize = 128;

/// A domain name in uncompressed wire form (length-prefixed labels, ending
/// with the root label 0).
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct Name {
    /// Inline up to 64 bytes (nearly every name), so reading a message
    /// allocates nothing per name.
    wire: NameBuf,
}

/// The storage of a name's wire form.
type NameBuf = smallvec::SmallVec<[u8; 64]>;

impl Default for Name {
    fn default() -> Name {
        Name::root()
    }
}

/// Why a presentation-form name could not be parsed. The message says
/// why only: the caller names the input (once), as in `qtap: invalid name
/// "a..b": empty label`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameTextError {
    /// The text was empty.
    #[error("empty domain name")]
    Empty,
    /// Two dots in a row, or a leading dot in a name other than ".".
    #[error("empty label")]
    EmptyLabel {
        /// The whole input.
        text: String,
    },
    /// A label longer than 63 octets.
    #[error("label longer than 63 bytes")]
    LabelTooLong {
        /// The whole input.
        text: String,
    },
    /// A name longer than 255 octets in wire form.
    #[error("longer than 255 bytes")]
    NameTooLong {
        /// The whole input.
        text: String,
    },
    /// A backslash at the end, or `\DDD` with a value above 255 or fewer than three digits.
    #[error("bad escape")]
    BadEscape {
        /// The whole input.
        text: String,
    },
}

impl Name {
    /// The root name ".".
    pub fn root() -> Name {
        Name {
            wire: smallvec::smallvec![0],
        }
    }

    /// The name in uncompressed wire form, root label included.
    pub fn as_wire(&self) -> &[u8] {
        &self.wire
    }

    /// Validates an uncompressed wire-form name that must fill `wire` exactly.
    /// Offsets in errors are relative to the start of `wire`.
    pub fn from_wire(wire: &[u8]) -> Result<Name, WireError> {
        let mut pos = 0;
        loop {
            let len = *wire.get(pos).ok_or(WireError::Truncated { offset: pos })?;
            if len & 0xc0 != 0 {
                return Err(WireError::LabelType {
                    offset: pos,
                    label: len,
                });
            }
            let next = pos + 1 + usize::from(len);
            if next > MAX_NAME_LEN {
                return Err(WireError::NameTooLong { offset: 0 });
            }
            if next > wire.len() {
                return Err(WireError::Truncated { offset: wire.len() });
            }
            pos = next;
            if len == 0 {
                break;
            }
        }
        if pos != wire.len() {
            return Err(WireError::BadRdata {
                offset: pos,
                rtype: "name".to_string(),
            });
        }
        Ok(Name {
            wire: NameBuf::from_slice(wire),
        })
    }

    /// The labels, left to right, without the root label.
    pub fn labels(&self) -> impl Iterator<Item = &[u8]> {
        Labels { rest: &self.wire }
    }

    /// Number of labels, not counting the root.
    pub fn label_count(&self) -> usize {
        self.labels().count()
    }

    /// Whether this is the root name.
    pub fn is_root(&self) -> bool {
        self.wire.len() == 1
    }

    /// ASCII case-insensitive equality (RFC 4343).
    pub fn eq_ignore_case(&self, other: &Name) -> bool {
        self.wire.eq_ignore_ascii_case(&other.wire)
    }

    /// Parses presentation text ("www.example.com", "example.com.", ".",
    /// "a\.b.c", "\065bc") with dig's escapes `\X` and `\DDD`. A relative name
    /// is made absolute.
    pub fn from_text(text: &str) -> Result<Name, NameTextError> {
        if text.is_empty() {
            return Err(NameTextError::Empty);
        }
        if text == "." {
            return Ok(Name::root());
        }
        if !text.contains('\\') {
            return Name::from_plain_text(text);
        }
        Name::from_escaped_text(text)
    }

    /// [`Name::from_text`] for text without escapes: the labels are the
    /// pieces between dots, copied whole.
    fn from_plain_text(text: &str) -> Result<Name, NameTextError> {
        let mut wire = NameBuf::new();
        let mut labels = text.split('.').peekable();
        while let Some(label) = labels.next() {
            if label.is_empty() {
                if labels.peek().is_none() {
                    // The trailing dot of an absolute name.
                    break;
                }
                return Err(NameTextError::EmptyLabel {
                    text: text.to_string(),
                });
            }
            push_label(&mut wire, label.as_bytes(), text)?;
        }
        wire.push(0);
        if wire.len() > MAX_NAME_LEN {
            return Err(NameTextError::NameTooLong {
                text: text.to_string(),
            });
        }
        Ok(Name { wire })
    }

    /// [`Name::from_text`] for text with `\X` and `\DDD` escapes.
    fn from_escaped_text(text: &str) -> Result<Name, NameTextError> {
        let err_text = || text.to_string();
        let bytes = text.as_bytes();
        let mut wire = NameBuf::with_capacity(bytes.len() + 2);
        let mut label: Vec<u8> = Vec::new();
        let mut i = 0;
        // Whether the last thing seen was an unescaped dot ending a label.
        let mut ended = false;
        while i < bytes.len() {
            let c = bytes[i];
            ended = false;
            match c {
                b'.' => {
                    if label.is_empty() {
                        return Err(NameTextError::EmptyLabel { text: err_text() });
                    }
                    push_label(&mut wire, &label, text)?;
                    label.clear();
                    ended = true;
                    i += 1;
                }
                b'\\' => {
                    let d = bytes.get(i + 1..).unwrap_or_default();
                    match d.first() {
                        None => return Err(NameTextError::BadEscape { text: err_text() }),
                        Some(x) if x.is_ascii_digit() => {
                            let digits = d.get(..3).unwrap_or_default();
                            if digits.len() != 3 || !digits.iter().all(u8::is_ascii_digit) {
                                return Err(NameTextError::BadEscape { text: err_text() });
                            }
                            let v = digits
                                .iter()
                                .fold(0u32, |a, b| a * 10 + u32::from(b - b'0'));
                            let v = u8::try_from(v)
                                .map_err(|_| NameTextError::BadEscape { text: err_text() })?;
                            label.push(v);
                            i += 4;
                        }
                        Some(&x) => {
                            label.push(x);
                            i += 2;
                        }
                    }
                }
                _ => {
                    label.push(c);
                    i += 1;
                }
            }
            if label.len() > MAX_LABEL_LEN {
                return Err(NameTextError::LabelTooLong { text: err_text() });
            }
        }
        if !ended {
            push_label(&mut wire, &label, text)?;
        }
        wire.push(0);
        if wire.len() > MAX_NAME_LEN {
            return Err(NameTextError::NameTooLong { text: err_text() });
        }
        Ok(Name { wire })
    }

    /// Reverse-lookup name for `-x`: 192.0.2.1 → `1.2.0.192.in-addr.arpa.`,
    /// IPv6 → nibbles under `ip6.arpa.` (RFC 3596 §2.5).
    pub fn reverse(addr: IpAddr) -> Name {
        let mut wire = NameBuf::new();
        match addr {
            IpAddr::V4(v4) => {
                for octet in v4.octets().iter().rev() {
                    let s = octet.to_string();
                    wire.push(s.len() as u8);
                    wire.extend_from_slice(s.as_bytes());
                }
                for l in [&b"in-addr"[..], b"arpa"] {
                    wire.push(l.len() as u8);
                    wire.extend_from_slice(l);
                }
            }
            IpAddr::V6(v6) => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                for octet in v6.octets().iter().rev() {
                    wire.extend_from_slice(&[1, HEX[usize::from(octet & 0xf)]]);
                    wire.extend_from_slice(&[1, HEX[usize::from(octet >> 4)]]);
                }
                for l in [&b"ip6"[..], b"arpa"] {
                    wire.push(l.len() as u8);
                    wire.extend_from_slice(l);
                }
            }
        }
        wire.push(0);
        Name { wire }
    }
}

fn push_label(wire: &mut NameBuf, label: &[u8], text: &str) -> Result<(), NameTextError> {
    if label.len() > MAX_LABEL_LEN {
        return Err(NameTextError::LabelTooLong {
            text: text.to_string(),
        });
    }
    wire.push(label.len() as u8);
    wire.extend_from_slice(label);
    if wire.len() + 1 > MAX_NAME_LEN {
        return Err(NameTextError::NameTooLong {
            text: text.to_string(),
        });
    }
    Ok(())
}

struct Labels<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Labels<'a> {
    type Item = &'a [u8];
    fn next(&mut self) -> Option<&'a [u8]> {
        let (&len, tail) = self.rest.split_first()?;
        if len == 0 {
            return None;
        }
        let len = usize::from(len);
        let label = tail.get(..len)?;
        self.rest = tail.get(len..).unwrap_or_default();
        Some(label)
    }
}

/// Reads a possibly compressed name starting at `pos` in `msg`; returns the
/// name and the offset just after the name's bytes at `pos` (after the first
/// pointer, if any). Pointers must go strictly backwards, which rules out
/// loops; names longer than 255 bytes or following more than
/// [`MAX_POINTERS`] pointers are rejected. Never panics.
pub fn read_name(msg: &[u8], pos: usize) -> Result<(Name, usize), WireError> {
    // The name is gathered on the stack and stored once; the labels between
    // two pointers lie side by side in `msg` and are copied as one run.
    let mut wire = [0u8; MAX_NAME_LEN];
    let mut total = 0;
    let mut cur = pos;
    let mut run = pos;
    let mut end: Option<usize> = None;
    // Every pointer must point before the start of the label run that holds it.
    let mut limit = pos;
    let mut pointers = 0;
    loop {
        let len = *msg.get(cur).ok_or(WireError::Truncated { offset: cur })?;
        match len & 0xc0 {
            0x00 => {
                let l = usize::from(len);
                if msg.len() < cur + 1 + l {
                    return Err(WireError::Truncated { offset: msg.len() });
                }
                if total + 1 + l > MAX_NAME_LEN {
                    return Err(WireError::NameTooLong { offset: pos });
                }
                total += 1 + l;
                cur += 1 + l;
                if len == 0 {
                    let start = total - (cur - run);
                    wire[start..total].copy_from_slice(&msg[run..cur]);
                    let name = Name {
                        wire: NameBuf::from_slice(&wire[..total]),
                    };
                    return Ok((name, end.unwrap_or(cur)));
                }
            }
            0xc0 => {
                let low = *msg
                    .get(cur + 1)
                    .ok_or(WireError::Truncated { offset: msg.len() })?;
                let target = (usize::from(len & 0x3f) << 8) | usize::from(low);
                if target >= limit {
                    return Err(WireError::BadPointer { offset: cur });
                }
                pointers += 1;
                if pointers > MAX_POINTERS {
                    return Err(WireError::PointerChain { offset: pos });
                }
                if end.is_none() {
                    end = Some(cur + 2);
                }
                let start = total - (cur - run);
                wire[start..total].copy_from_slice(&msg[run..cur]);
                limit = target;
                cur = target;
                run = target;
            }
            _ => {
                return Err(WireError::LabelType {
                    offset: cur,
                    label: len,
                })
            }
        }
    }
}

/// Appends one label with dig's escapes (BIND `dns_name_totext`).
// The one `unsafe` of the crate: the safe `str::from_utf8` (or pushing the
// bytes as chars) after the plain-byte check made this function about 1.5
// times slower in a micro-benchmark of typical labels (~20 ns a label), and
// every name of every rendered record comes through here.
#[allow(unsafe_code)]
pub fn write_label(out: &mut String, label: &[u8]) {
    // Nearly every label is plain: copy it whole.
    if label.iter().all(|&b| plain_label_byte(b)) {
        // SAFETY: every byte is printable ASCII (0x21..=0x7E), so the
        // label is valid UTF-8; checking it again cost more than the copy.
        // A measured local exception to the crate's deny(unsafe_code).
        #[allow(unsafe_code)]
        out.push_str(unsafe { std::str::from_utf8_unchecked(label) });
        return;
    }
    for &b in label {
        match b {
            b'"' | b'(' | b')' | b'.' | b';' | b'\\' | b'@' | b'$' => {
                out.push('\\');
                out.push(char::from(b));
            }
            0x21..=0x7e => out.push(char::from(b)),
            _ => push_ddd(out, b),
        }
    }
}

/// A byte that stands for itself in a label's presentation form.
fn plain_label_byte(b: u8) -> bool {
    matches!(b, 0x21..=0x7e) && !matches!(b, b'"' | b'(' | b')' | b'.' | b';' | b'\\' | b'@' | b'$')
}

/// Appends `\DDD` (three decimal digits) for one byte.
pub fn push_ddd(out: &mut String, b: u8) {
    out.push('\\');
    out.push(char::from(b'0' + b / 100));
    out.push(char::from(b'0' + (b / 10) % 10));
    out.push(char::from(b'0' + b % 10));
}

/// Appends the name in dig's presentation form: labels joined by '.', a
/// trailing '.', the root as "."; inside labels `" ( ) . ; \ @ $` get a
/// backslash and bytes outside 0x21..=0x7E become `\DDD`, as BIND's
/// `dns_name_totext` does.
pub fn write_name(out: &mut String, name: &Name) {
    if name.is_root() {
        out.push('.');
        return;
    }
    for label in name.labels() {
        write_label(out, label);
        out.push('.');
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = String::with_capacity(self.wire.len() + 4);
        write_name(&mut s, self);
        f.write_str(&s)
    }
}

#[cfg(test)]
mod tests {
    /// The plain label-by-label reading `read_name` must agree with.
    fn read_name_label_by_label(msg: &[u8], pos: usize) -> Result<(Vec<u8>, usize), WireError> {
        let (mut wire, mut cur, mut end, mut limit) = (Vec::new(), pos, None, pos);
        let mut pointers = 0;
        loop {
            let len = *msg.get(cur).ok_or(WireError::Truncated { offset: cur })?;
            match len & 0xc0 {
                0x00 => {
                    let l = usize::from(len);
                    let label = msg
                        .get(cur + 1..cur + 1 + l)
                        .ok_or(WireError::Truncated { offset: msg.len() })?;
                    if wire.len() + 1 + l > MAX_NAME_LEN {
                        return Err(WireError::NameTooLong { offset: pos });
                    }
                    wire.push(len);
                    wire.extend_from_slice(label);
                    cur += 1 + l;
                    if len == 0 {
                        return Ok((wire, end.unwrap_or(cur)));
                    }
                }
                0xc0 => {
                    let low = *msg
                        .get(cur + 1)
                        .ok_or(WireError::Truncated { offset: msg.len() })?;
                    let target = (usize::from(len & 0x3f) << 8) | usize::from(low);
                    if target >= limit {
                        return Err(WireError::BadPointer { offset: cur });
                    }
                    pointers += 1;
                    if pointers > MAX_POINTERS {
                        return Err(WireError::PointerChain { offset: pos });
                    }
                    end.get_or_insert(cur + 2);
                    limit = target;
                    cur = target;
                }
                _ => {
                    return Err(WireError::LabelType {
                        offset: cur,
                        label: len,
                    })
                }
            }
        }
    }

    #[test]
    fn plain_text_names_read_as_the_escaped_reader_reads_them() {
        let long = "a".repeat(63);
        let too_long = "b".repeat(64);
        let mut cases: Vec<String> = [
            "www.example.com",
            "www.example.com.",
            "a",
            "a.",
            "..",
            ".a",
            "a..b",
            "a.b..",
            "-.x",
            "x\u{e9}.y",
            "UPPER.case.",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        cases.push(format!("{long}.{long}.{long}.{long}"));
        cases.push(format!("{long}.{long}.{long}.{}", "c".repeat(61)));
        cases.push(format!("{long}.{long}.{long}.{}.", "c".repeat(61)));
        cases.push(format!("x.{too_long}.y"));
        cases.push(format!("{too_long}..y"));
        for text in &cases {
            assert_eq!(
                Name::from_plain_text(text),
                Name::from_escaped_text(text),
                "{text}"
            );
        }
    }

    #[test]
    fn read_name_agrees_with_label_by_label_reading() {
        // Pseudo-random messages biased towards label lengths, pointers
        // and long names (a fixed xorshift sequence: reproducible).
        let mut x: u32 = 0x9e37_79b9;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x
        };
        for _ in 0..20_000 {
            let n = (next() % 600) as usize;
            let msg: Vec<u8> = (0..n)
                .map(|_| match next() % 8 {
                    0 => 0,
                    1 => 0xc0,
                    2 => (next() % 64) as u8,
                    3 => 3,
                    _ => next() as u8,
                })
                .collect();
            for pos in [0, n / 3, n / 2, n.saturating_sub(4)] {
                let ours = read_name(&msg, pos).map(|(name, end)| (name.as_wire().to_vec(), end));
                assert_eq!(
                    ours,
                    read_name_label_by_label(&msg, pos),
                    "{msg:02x?} at {pos}"
                );
            }
        }
    }

    use super::*;

    fn text(n: &Name) -> String {
        n.to_string()
    }

    #[test]
    fn from_text_handles_dots_and_root() {
        assert_eq!(Name::from_text(".").unwrap(), Name::root());
        let a = Name::from_text("www.example.com").unwrap();
        let b = Name::from_text("www.example.com.").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.as_wire(), b"\x03www\x07example\x03com\x00");
        assert_eq!(a.label_count(), 3);
        assert_eq!(text(&a), "www.example.com.");
    }

    #[test]
    fn from_text_escapes() {
        let n = Name::from_text("a\\.b.c").unwrap();
        assert_eq!(n.as_wire(), b"\x03a.b\x01c\x00");
        let n = Name::from_text("\\065bc").unwrap();
        assert_eq!(n.as_wire(), b"\x03Abc\x00");
        let n = Name::from_text("\\000\\255x.").unwrap();
        assert_eq!(n.as_wire(), b"\x03\x00\xffx\x00");
        assert_eq!(text(&n), "\\000\\255x.");
    }

    #[test]
    fn from_text_errors() {
        assert_eq!(Name::from_text(""), Err(NameTextError::Empty));
        assert!(matches!(
            Name::from_text("a..b"),
            Err(NameTextError::EmptyLabel { .. })
        ));
        assert!(matches!(
            Name::from_text(".a"),
            Err(NameTextError::EmptyLabel { .. })
        ));
        assert!(matches!(
            Name::from_text("a\\"),
            Err(NameTextError::BadEscape { .. })
        ));
        assert!(matches!(
            Name::from_text("a\\25"),
            Err(NameTextError::BadEscape { .. })
        ));
        assert!(matches!(
            Name::from_text("\\256"),
            Err(NameTextError::BadEscape { .. })
        ));
        let l63 = "a".repeat(63);
        assert!(Name::from_text(&l63).is_ok());
        let l64 = "a".repeat(64);
        assert!(matches!(
            Name::from_text(&l64),
            Err(NameTextError::LabelTooLong { .. })
        ));
        // 4 labels of 63 = 256 bytes of labels + root: too long.
        let long = [l63.as_str(); 4].join(".");
        assert!(matches!(
            Name::from_text(&long),
            Err(NameTextError::NameTooLong { .. })
        ));
        // 3*64 + 62 = 254 bytes + root = 255: fits.
        let fits = format!("{l63}.{l63}.{l63}.{}", "b".repeat(61));
        assert_eq!(Name::from_text(&fits).unwrap().as_wire().len(), 255);
    }

    #[test]
    fn write_name_escapes_like_bind() {
        let n = Name::from_wire(b"\x09a.b\"(c);\\\x03@$ \x03\x00\x7f\x80\x00").unwrap();
        assert_eq!(
            text(&n),
            "a\\.b\\\"\\(c\\)\\;\\\\.\\@\\$\\032.\\000\\127\\128."
        );
        assert_eq!(text(&Name::root()), ".");
    }

    #[test]
    fn from_text_round_trips_escaped_output() {
        let wire = b"\x08a.\"();\\@\x02\x09\xff\x00";
        let n = Name::from_wire(wire).unwrap();
        let again = Name::from_text(&text(&n)).unwrap();
        assert_eq!(again, n);
    }

    #[test]
    fn reverse_names() {
        let v4 = Name::reverse("192.0.2.1".parse().unwrap());
        assert_eq!(text(&v4), "1.2.0.192.in-addr.arpa.");
        let v6 = Name::reverse("2001:db8::1".parse().unwrap());
        assert_eq!(
            text(&v6),
            "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa."
        );
    }

    #[test]
    fn eq_ignore_case_and_labels() {
        let a = Name::from_text("WwW.Example.").unwrap();
        let b = Name::from_text("www.example.").unwrap();
        assert_ne!(a, b);
        assert!(a.eq_ignore_case(&b));
        let labels: Vec<&[u8]> = a.labels().collect();
        assert_eq!(labels, vec![&b"WwW"[..], b"Example"]);
        assert_eq!(Name::root().label_count(), 0);
    }

    #[test]
    fn from_wire_rejects_bad_input() {
        assert!(matches!(
            Name::from_wire(b""),
            Err(WireError::Truncated { .. })
        ));
        assert!(matches!(
            Name::from_wire(b"\x03ab"),
            Err(WireError::Truncated { .. })
        ));
        assert!(matches!(
            Name::from_wire(b"\xc0\x00"),
            Err(WireError::LabelType { .. })
        ));
        assert!(Name::from_wire(b"\x01a\x00\x00").is_err());
    }

    #[test]
    fn read_name_follows_compression() {
        // header-ish padding, then "example.com." at 2, "www" + pointer at 15.
        let msg = b"\x00\x00\x07example\x03com\x00\x03www\xc0\x02\xff";
        let (n, end) = read_name(msg, 15).unwrap();
        assert_eq!(text(&n), "www.example.com.");
        assert_eq!(end, 21);
        let (n, end) = read_name(msg, 2).unwrap();
        assert_eq!(text(&n), "example.com.");
        assert_eq!(end, 15);
        // Pointer to a pointer (going backwards both times).
        let msg2 = b"\x01a\x00\xc0\x00\xc0\x03";
        let (n, end) = read_name(msg2, 5).unwrap();
        assert_eq!(text(&n), "a.");
        assert_eq!(end, 7);
    }

    #[test]
    fn read_name_rejects_loops_and_forward_pointers() {
        assert_eq!(
            read_name(b"\xc0\x00", 0),
            Err(WireError::BadPointer { offset: 0 })
        );
        assert_eq!(
            read_name(b"\x00\xc0\x03\x00", 1),
            Err(WireError::BadPointer { offset: 1 })
        );
        // a -> pointer back to 0, which points forward to 2: rejected.
        let msg = b"\xc0\x02\x01a\xc0\x00";
        assert!(matches!(
            read_name(msg, 2),
            Err(WireError::BadPointer { offset: 0 })
        ));
        // Pointer into the same label run that holds it.
        let msg = b"\x01a\x01b\xc0\x02";
        assert!(matches!(
            read_name(msg, 0),
            Err(WireError::BadPointer { .. })
        ));
        assert!(matches!(
            read_name(b"\x40", 0),
            Err(WireError::LabelType { label: 0x40, .. })
        ));
        assert!(matches!(
            read_name(b"\x80", 0),
            Err(WireError::LabelType { label: 0x80, .. })
        ));
    }

    #[test]
    fn read_name_truncated_at_every_offset() {
        let msg = b"\x07example\x03com\x00\x03www\xc0\x00";
        for cut in 0..msg.len() {
            let r = read_name(&msg[..cut], if cut >= 13 { 13 } else { 0 });
            assert!(
                matches!(r, Err(WireError::Truncated { .. })),
                "cut {cut}: {r:?}"
            );
        }
        assert!(read_name(msg, 13).is_ok());
        assert!(matches!(
            read_name(msg, 99),
            Err(WireError::Truncated { offset: 99 })
        ));
    }

    #[test]
    fn read_name_enforces_255_limit() {
        let mut msg = Vec::new();
        for _ in 0..4 {
            msg.push(63);
            msg.extend_from_slice(&[b'a'; 63]);
        }
        msg.push(0);
        assert!(matches!(
            read_name(&msg, 0),
            Err(WireError::NameTooLong { offset: 0 })
        ));
        // 3*64 + 1+61 + root = 255: accepted.
        let mut ok = msg[..192].to_vec();
        ok.push(61);
        ok.extend_from_slice(&[b'b'; 61]);
        ok.push(0);
        let (n, end) = read_name(&ok, 0).unwrap();
        assert_eq!(n.as_wire().len(), 255);
        assert_eq!(end, 255);
        // Same limit reached through pointers.
        let mut via = ok[..192].to_vec();
        via.extend_from_slice(&[1, b'x', 1, b'y', 0]);
        let tail = via.len();
        via.extend_from_slice(&[61]);
        via.extend_from_slice(&[b'c'; 61]);
        via.extend_from_slice(&[0xc0, 0x00]);
        assert!(matches!(
            read_name(&via, tail),
            Err(WireError::NameTooLong { .. })
        ));
    }

    /// A message whose name at the returned offset follows `hops`
    /// pointers: 127 segments "\x01x" + pointer to the previous segment,
    /// ending at a root byte, then `hops - 127` pointers to pointers.
    fn chained(hops: usize) -> (Vec<u8>, usize) {
        let mut msg = vec![0u8];
        let mut prev = 0usize;
        for i in 0..hops.min(127) {
            let at = msg.len();
            msg.extend_from_slice(&[1, b'a' + (i % 26) as u8]);
            msg.extend_from_slice(&[0xc0 | (prev >> 8) as u8, prev as u8]);
            prev = at;
        }
        for _ in 127..hops {
            let at = msg.len();
            msg.extend_from_slice(&[0xc0 | (prev >> 8) as u8, prev as u8]);
            prev = at;
        }
        (msg, prev)
    }

    #[test]
    fn read_name_follows_the_pointers_of_the_longest_legal_name() {
        // 127 labels, each reached through its own pointer, then the root
        // reached through one more: 128 pointers, 255 bytes.
        let (mut msg, last) = chained(127);
        let at = msg.len();
        msg.extend_from_slice(&[0xc0 | (last >> 8) as u8, last as u8]);
        let (name, end) = read_name(&msg, at).unwrap();
        assert_eq!((name.label_count(), name.as_wire().len()), (127, 255));
        assert_eq!(end, at + 2);
        assert_eq!(
            read_name_label_by_label(&msg, at).map(|(w, _)| w),
            Ok(name.as_wire().to_vec())
        );
    }

    #[test]
    fn read_name_rejects_pointer_chains_past_the_cap() {
        // One pointer more than the longest legal name needs.
        let (msg, at) = chained(MAX_POINTERS + 1);
        assert_eq!(
            read_name(&msg, at),
            Err(WireError::PointerChain { offset: at })
        );
        assert_eq!(
            read_name_label_by_label(&msg, at),
            Err(WireError::PointerChain { offset: at })
        );
        let (msg, at) = chained(MAX_POINTERS);
        assert!(read_name(&msg, at).is_ok());
        // A hostile message: "a." then 30,000 pointers, each pointing at
        // the one before it (every pointer goes backwards, so the
        // loop check lets them through), and a name entering at the end.
        let mut msg = b"\x01a\x00".to_vec();
        let mut prev = 0usize;
        while msg.len() < 60_000 {
            let at = msg.len();
            msg.extend_from_slice(&[0xc0 | (prev >> 8) as u8, prev as u8]);
            prev = at;
        }
        msg.extend_from_slice(&[1, b'w', 0xc0 | (prev >> 8) as u8, prev as u8]);
        let start = msg.len() - 4;
        assert_eq!(
            read_name(&msg, start),
            Err(WireError::PointerChain { offset: start })
        );
        assert_eq!(
            read_name_label_by_label(&msg, start),
            Err(WireError::PointerChain { offset: start })
        );
        // Entering the chain near its start stays legal.
        let (n, _) = read_name(&msg, 3 + 2 * 50).unwrap();
        assert_eq!(n.as_wire(), b"\x01a\x00");
    }

    #[test]
    fn a_message_naming_a_pointer_chain_is_reported_malformed() {
        use crate::dns::wire::Message;
        // Question "a."; a legally compressed A record; a NULL record whose
        // RDATA is a chain of 1,000 pointers to pointers; a record whose
        // owner enters the chain at its end.
        let mut msg = vec![0, 1, 0x84, 0, 0, 1, 0, 3, 0, 0, 0, 0];
        msg.extend_from_slice(b"\x01a\x00\x00\x01\x00\x01");
        msg.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1]);
        msg.extend_from_slice(&[0xc0, 12, 0, 10, 0, 1, 0, 0, 0, 60, 0x07, 0xd0]);
        let mut prev = 12usize;
        for _ in 0..1000 {
            let at = msg.len();
            msg.extend_from_slice(&[0xc0 | (prev >> 8) as u8, prev as u8]);
            prev = at;
        }
        let third = msg.len();
        msg.extend_from_slice(&[0xc0 | (prev >> 8) as u8, prev as u8]);
        msg.extend_from_slice(&[0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 2]);
        let m = Message::parse(&msg).unwrap();
        assert_eq!(m.answer.len(), 2);
        assert_eq!(m.answer[0].name, m.question[0].name);
        assert_eq!(m.error, Some(WireError::PointerChain { offset: third }));
    }

    #[test]
    fn read_name_never_panics_on_noise() {
        let mut seed = 0x1234_5678u32;
        for _ in 0..2000 {
            let mut buf = [0u8; 24];
            for b in buf.iter_mut() {
                seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
                *b = (seed >> 16) as u8;
            }
            for p in 0..buf.len() + 2 {
                let _ = read_name(&buf, p);
            }
        }
    }
}
