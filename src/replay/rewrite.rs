//! What a replayed query becomes. A recorded TSIG record is always
//! removed (a signature over the recorded ID and time cannot verify on a
//! new ID minutes or days later; `-y`/`-k` signs afresh). `--replay-edns`:
//! by default the recorded OPT record goes out as it is; the other modes
//! rewrite the COOKIE option (RFC 7873) or drop the OPT record. Pure:
//! bytes in, bytes out.

use crate::dns::types::{OPT, TSIG};
use crate::dns::wire::Message;

/// EDNS option code of COOKIE (RFC 7873 §4).
const COOKIE: u16 = 10;

/// What to do with a replayed query's EDNS.
#[derive(clap::ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum EdnsMode {
    /// Send the recorded OPT record as it is.
    #[default]
    Keep,
    /// Replace a recorded COOKIE by a fresh client cookie (no server
    /// cookie): a server whose secret changed answers as to a new client.
    FreshCookie,
    /// Remove the COOKIE option.
    NoCookie,
    /// Remove the OPT record (a query without EDNS).
    None,
}

/// `message` without its TSIG record and with its OPT record rewritten
/// as `mode` says; `cookie` is the fresh client cookie for
/// [`EdnsMode::FreshCookie`]. A message without an OPT record, or one
/// that does not parse, keeps its OPT bytes as they are.
pub fn rewrite(message: &[u8], mode: EdnsMode, cookie: [u8; 8]) -> Vec<u8> {
    let unsigned = without_tsig(message);
    let message = unsigned.as_deref().unwrap_or(message);
    if mode == EdnsMode::Keep {
        return message.to_vec();
    }
    let Ok(msg) = Message::parse(message) else {
        return message.to_vec();
    };
    let Some(opt) = msg.opt() else {
        return message.to_vec();
    };
    // The OPT owner is the root (one zero byte), then 10 fixed bytes.
    let Some(start) = opt.rdata.start.checked_sub(11) else {
        return message.to_vec();
    };
    if message.get(start) != Some(&0)
        || message.get(start + 1..start + 3) != Some(&OPT.to_be_bytes())
    {
        return message.to_vec();
    }
    let (head, tail) = (&message[..start], &message[opt.rdata.end..]);
    let mut out = head.to_vec();
    if mode == EdnsMode::None {
        let arcount = msg.header.arcount.saturating_sub(1);
        if let Some(b) = out.get_mut(10..12) {
            b.copy_from_slice(&arcount.to_be_bytes());
        }
        out.extend_from_slice(tail);
        return out;
    }
    let mut rdata = Vec::new();
    let mut rest = msg.rdata(opt);
    while let [c0, c1, l0, l1, more @ ..] = rest {
        let code = u16::from_be_bytes([*c0, *c1]);
        let len = usize::from(u16::from_be_bytes([*l0, *l1]));
        let Some(value) = more.get(..len) else {
            // A cut option: keep the bytes as they were.
            rdata.extend_from_slice(rest);
            break;
        };
        if code != COOKIE {
            rdata.extend_from_slice(&rest[..4 + len]);
        } else if mode == EdnsMode::FreshCookie {
            rdata.extend_from_slice(&[0, 10, 0, 8]);
            rdata.extend_from_slice(&cookie);
        }
        let _ = value;
        rest = &more[len..];
    }
    let Ok(rdlen) = u16::try_from(rdata.len()) else {
        return message.to_vec();
    };
    out.extend_from_slice(&message[start..opt.rdata.start - 2]);
    out.extend_from_slice(&rdlen.to_be_bytes());
    out.extend_from_slice(&rdata);
    out.extend_from_slice(tail);
    out
}

/// `message` without its TSIG record, ARCOUNT one less; None when it
/// has none. Most queries are unsigned: only a message holding TSIG's
/// type code (250) anywhere is parsed.
fn without_tsig(message: &[u8]) -> Option<Vec<u8>> {
    let code = TSIG.to_be_bytes();
    if !message.get(12..)?.windows(2).any(|w| w == code) {
        return None;
    }
    let mut unsigned = crate::dns::tsig::unsigned(message)?;
    // The ID is the one recorded, not the TSIG's original one.
    if let (Some(id), Some(to)) = (message.get(..2), unsigned.get_mut(..2)) {
        to.copy_from_slice(id);
    }
    Some(unsigned)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A query with an OPT record holding NSID and a full cookie.
    fn query() -> Vec<u8> {
        let mut m = vec![0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 1];
        m.extend_from_slice(b"\x01a\x00\x00\x01\x00\x01");
        m.extend_from_slice(&[0, 0, 41, 4, 0xd0, 0, 0, 0, 0]);
        let opts = [
            &[0u8, 3, 0, 0][..],
            &[0, 10, 0, 16, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2],
        ]
        .concat();
        m.extend_from_slice(&(opts.len() as u16).to_be_bytes());
        m.extend_from_slice(&opts);
        m
    }

    fn options(m: &[u8]) -> Option<Vec<u8>> {
        let msg = Message::parse(m).unwrap();
        assert!(msg.error.is_none());
        msg.opt().map(|o| msg.rdata(o).to_vec())
    }

    #[test]
    fn each_mode_rewrites_the_opt_record() {
        let q = query();
        assert_eq!(rewrite(&q, EdnsMode::Keep, [9; 8]), q);
        let fresh = rewrite(&q, EdnsMode::FreshCookie, [9; 8]);
        assert_eq!(
            options(&fresh).unwrap(),
            [0, 3, 0, 0, 0, 10, 0, 8, 9, 9, 9, 9, 9, 9, 9, 9]
        );
        let none = rewrite(&q, EdnsMode::NoCookie, [9; 8]);
        assert_eq!(options(&none).unwrap(), [0, 3, 0, 0]);
        let plain = rewrite(&q, EdnsMode::None, [9; 8]);
        assert_eq!(options(&plain), None);
        assert_eq!(Message::parse(&plain).unwrap().header.arcount, 0);
        assert_eq!(rewrite(b"junk", EdnsMode::None, [0; 8]), b"junk");
    }

    #[test]
    fn a_recorded_tsig_record_is_removed_in_every_mode() {
        let key = crate::dns::tsig::Key::from_arg(
            "hmac-sha256:k.example.:nBQxKyVHRgnpjdL9CLV1YcM14dc6eKJTuVDkLWZi/uo=",
        )
        .unwrap();
        let q = query();
        let mut signed = q.clone();
        crate::dns::tsig::sign_query(&mut signed, &key, 1_700_000_000, 300).unwrap();
        assert_eq!(Message::parse(&signed).unwrap().header.arcount, 2);
        // The recorded ID, not the original one of the signature.
        signed[..2].copy_from_slice(&[0xab, 0xcd]);
        let mut want = q.clone();
        want[..2].copy_from_slice(&[0xab, 0xcd]);
        assert_eq!(rewrite(&signed, EdnsMode::Keep, [9; 8]), want);
        let plain = rewrite(&signed, EdnsMode::None, [9; 8]);
        let m = Message::parse(&plain).unwrap();
        assert!(m.error.is_none() && m.trailing == 0);
        assert_eq!((m.header.arcount, m.additional.len()), (0, 0));
        // A message with 250 somewhere but no TSIG record stays as it is.
        let mut odd = q.clone();
        odd.extend_from_slice(&[0, 250]);
        assert_eq!(rewrite(&odd, EdnsMode::Keep, [9; 8]), odd);
    }
}
