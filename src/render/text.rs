//! Leaf writers shared by the text renderers: decimal numbers, addresses,
//! hex, base64 and base32hex, quoted character-strings and escaped bytes
//! from a trace. They append to a `String`, never go through `core::fmt`
//! where a per-record cost shows, and import nothing from the rest of
//! `render` (so `dig`, `opt` and `rdata` can all use them without a
//! cycle). Pure.

use std::fmt::Write as _;
use std::net::IpAddr;

use crate::dns::name::push_ddd;

/// Appends a decimal number without going through `core::fmt`.
pub fn push_u32(out: &mut String, n: u32) {
    out.push_str(itoa::Buffer::new().format(n));
}

/// Appends an address as `Display` writes it, IPv4 without the
/// formatting machinery (a banner per exchange shows one).
pub fn push_ip(out: &mut String, addr: IpAddr) {
    match addr {
        IpAddr::V4(v4) => {
            for (i, octet) in v4.octets().into_iter().enumerate() {
                if i > 0 {
                    out.push('.');
                }
                push_u32(out, u32::from(octet));
            }
        }
        IpAddr::V6(v6) => {
            let _ = write!(out, "{v6}");
        }
    }
}

/// [`write_escaped`] into a new string: for text from the network or a file
/// that goes into a message (HTTP reason phrases, QUIC close reasons,
/// certificate names).
pub fn escaped(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    write_escaped(&mut out, bytes);
    out
}

/// Appends bytes from a trace as text, escaping anything that is not
/// printable ASCII as `\DDD` so a crafted trace cannot reach the terminal.
pub fn write_escaped(out: &mut String, bytes: &[u8]) {
    for &b in bytes {
        if (0x20..0x7f).contains(&b) && b != b'\\' {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "\\{b:03}");
        }
    }
}

/// `text` for a one-line message on a terminal: control characters (C0,
/// DEL and C1, which can move the cursor, recolour or retitle the terminal,
/// or start a line that looks like another message) become `\DDD`, one per
/// byte; everything else, backslashes and non-ASCII letters included, stays.
/// For text the user may not have chosen: file names, batch-file lines.
pub fn controls_escaped(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() {
            let mut utf8 = [0u8; 4];
            for &b in c.encode_utf8(&mut utf8).as_bytes() {
                let _ = write!(out, "\\{b:03}");
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// A quoted character-string as BIND prints TXT: `"` and `\` get a backslash,
/// bytes outside 0x20..=0x7E become `\DDD`.
pub fn quoted(out: &mut String, s: &[u8]) {
    out.push('"');
    for &b in s {
        match b {
            b'"' | b'\\' => {
                out.push('\\');
                out.push(char::from(b));
            }
            0x20..=0x7e => out.push(char::from(b)),
            _ => push_ddd(out, b),
        }
    }
    out.push('"');
}

/// Uppercase hex in chunks of `split` characters separated by one space
/// (BIND `isc_hex_totext` with word length `split + 1`); 0 = one chunk.
pub fn write_hex(out: &mut String, data: &[u8], split: usize) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let per = if split == 0 {
        usize::MAX
    } else {
        (split + 2) / 2 - 1
    }
    .max(1);
    for (i, b) in data.iter().enumerate() {
        if i > 0 && i % per == 0 {
            out.push(' ');
        }
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0xf)]));
    }
}

/// Base64 in chunks of `split` characters separated by one space (BIND
/// `isc_base64_totext` with word length `split + 1`); 0 = one chunk.
pub fn write_base64(out: &mut String, data: &[u8], split: usize) {
    const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let per = if split == 0 {
        usize::MAX
    } else {
        (split + 4) / 4 - 1
    }
    .max(1);
    let sym = |v: u32| char::from(B64[(v & 0x3f) as usize]);
    let mut groups = 0;
    let mut chunks = data.chunks(3).peekable();
    while let Some(c) = chunks.next() {
        match *c {
            [a, b, d] => {
                let v = u32::from(a) << 16 | u32::from(b) << 8 | u32::from(d);
                out.extend([sym(v >> 18), sym(v >> 12), sym(v >> 6), sym(v)]);
                groups += 1;
                if groups == per && chunks.peek().is_some() {
                    out.push(' ');
                    groups = 0;
                }
            }
            [a, b] => {
                let v = u32::from(a) << 16 | u32::from(b) << 8;
                out.extend([sym(v >> 18), sym(v >> 12), sym(v >> 6), '=']);
            }
            [a] => {
                let v = u32::from(a) << 16;
                out.extend([sym(v >> 18), sym(v >> 12), '=', '=']);
            }
            _ => {}
        }
    }
}

/// Base32hex without padding, uppercase (RFC 4648 §7), as NSEC3 prints it.
pub fn write_base32hex(out: &mut String, data: &[u8]) {
    const B32: &[u8; 32] = b"0123456789ABCDEFGHIJKLMNOPQRSTUV";
    let mut acc: u32 = 0;
    let mut bits = 0;
    for &b in data {
        acc = (acc << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(B32[((acc >> bits) & 0x1f) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(B32[((acc << (5 - bits)) & 0x1f) as usize]));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_u32_writes_what_display_writes() {
        let mut s = String::new();
        for n in [0, 7, 10, 86_400, u32::MAX] {
            s.clear();
            push_u32(&mut s, n);
            assert_eq!(s, n.to_string());
        }
    }

    #[test]
    fn push_ip_writes_what_display_writes() {
        let texts = [
            "0.0.0.0",
            "192.0.2.255",
            "10.200.3.40",
            "::1",
            "2001:db8::53",
            "::ffff:1.2.3.4",
        ];
        for text in texts {
            let addr: IpAddr = text.parse().unwrap();
            let mut out = String::new();
            push_ip(&mut out, addr);
            assert_eq!(out, addr.to_string());
        }
    }
}
