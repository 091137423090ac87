//! RDATA of the DNSSEC records (RFC 4034, RFC 5155): DS (and CDS, TA, DLV),
//! DNSKEY (and CDNSKEY, KEY, RKEY), RRSIG and SIG, NSEC, NSEC3, NSEC3PARAM,
//! CSYNC and the old NXT, with their type bitmaps, salts, times and the
//! algorithm mnemonics.

use std::fmt::Write as _;

use crate::dns::types::{self, type_name};
use crate::render::text::{write_base32hex, write_base64, write_hex};

use super::{name, Rd, RdataStyle};

/// DS, CDS, TA, DLV (RFC 4034 §5): key tag, algorithm, digest type and a
/// digest of the length its type requires.
pub(super) fn ds(out: &mut String, rd: &mut Rd<'_>, st: &RdataStyle) -> Option<()> {
    if rd.left() < 5 {
        return None;
    }
    let (tag, alg, dt) = (rd.u16()?, rd.u8()?, rd.u8()?);
    let digest = rd.rest()?;
    let want = match dt {
        1 => Some(20),
        2 => Some(32),
        4 => Some(48),
        _ => None,
    };
    if want.is_some_and(|w| w != digest.len()) {
        return None;
    }
    let _ = write!(out, "{tag} {alg} {dt} ");
    write_hex(out, digest, st.split);
    Some(())
}

/// DNSKEY, CDNSKEY, KEY, RKEY (RFC 4034 §2): flags, protocol, algorithm,
/// the key in base64.
pub(super) fn dnskey(out: &mut String, rd: &mut Rd<'_>, rtype: u16, st: &RdataStyle) -> Option<()> {
    let min = if rtype == types::KEY { 4 } else { 5 };
    if rd.left() < min {
        return None;
    }
    let flags = rd.u16()?;
    if rtype == types::RKEY && flags != 0 {
        return None;
    }
    let _ = write!(out, "{flags} {} {}", rd.u8()?, rd.u8()?);
    let key = rd.rest()?;
    if !key.is_empty() {
        out.push(' ');
        write_base64(out, key, st.split);
    }
    Some(())
}

/// RRSIG and SIG (RFC 4034 §3): covered type, algorithm, labels, original
/// TTL, expiration, inception, key tag, signer, the signature in base64.
pub(super) fn rrsig(out: &mut String, rd: &mut Rd<'_>, st: &RdataStyle) -> Option<()> {
    if rd.left() < 18 {
        return None;
    }
    let covered = rd.u16()?;
    out.push_str(&type_name(covered));
    let _ = write!(out, " {} {} {} ", rd.u8()?, rd.u8()?, rd.u32()?);
    write_time(out, rd.u32()?);
    out.push(' ');
    write_time(out, rd.u32()?);
    let _ = write!(out, " {} ", rd.u16()?);
    name(out, rd, st)?;
    let sig = rd.rest()?;
    if sig.is_empty() {
        return None;
    }
    out.push(' ');
    write_base64(out, sig, st.split);
    Some(())
}

/// NSEC (RFC 4034 §4): next owner and a non-empty type bitmap.
pub(super) fn nsec(out: &mut String, rd: &mut Rd<'_>, st: &RdataStyle) -> Option<()> {
    name(out, rd, st)?;
    type_bitmap(out, rd.rest()?, false)
}

/// NSEC3 (RFC 5155 §3): hash algorithm, flags, iterations, salt, next
/// hashed owner in base32hex, type bitmap.
pub(super) fn nsec3(out: &mut String, rd: &mut Rd<'_>) -> Option<()> {
    let _ = write!(out, "{} {} {} ", rd.u8()?, rd.u8()?, rd.u16()?);
    salt(out, rd.string()?);
    let hash = rd.string()?;
    if hash.is_empty() {
        return None;
    }
    out.push(' ');
    write_base32hex(out, hash);
    type_bitmap(out, rd.rest()?, true)
}

/// NSEC3PARAM (RFC 5155 §4): hash algorithm, flags, iterations, salt.
pub(super) fn nsec3param(out: &mut String, rd: &mut Rd<'_>) -> Option<()> {
    let _ = write!(out, "{} {} {} ", rd.u8()?, rd.u8()?, rd.u16()?);
    salt(out, rd.string()?);
    Some(())
}

/// CSYNC (RFC 7477): SOA serial, flags, type bitmap.
pub(super) fn csync(out: &mut String, rd: &mut Rd<'_>) -> Option<()> {
    let _ = write!(out, "{} {}", rd.u32()?, rd.u16()?);
    type_bitmap(out, rd.rest()?, true)
}

/// NXT (RFC 2535 §5.2): next name and the old one-window type bitmap.
pub(super) fn nxt(out: &mut String, rd: &mut Rd<'_>, st: &RdataStyle) -> Option<()> {
    name(out, rd, st)?;
    let map = rd.rest()?;
    if map.first().is_some_and(|b| b & 0x80 != 0) || map.len() > 16 || map.last() == Some(&0) {
        return None;
    }
    for (i, byte) in map.iter().enumerate() {
        for bit in 0..8u16 {
            if byte & (0x80 >> bit) != 0 {
                out.push(' ');
                out.push_str(&type_name((i as u16) * 8 + bit));
            }
        }
    }
    Some(())
}

/// NSEC3/NSEC3PARAM salt: uppercase hex, or `-` when empty.
fn salt(out: &mut String, s: &[u8]) {
    if s.is_empty() {
        out.push('-');
    } else {
        write_hex(out, s, 0);
    }
}

/// Appends " TYPE" for each type in an RFC 4034 §4.1.2 type bitmap, checking
/// it as BIND does: windows strictly increasing, 1..=32 octets each, last
/// octet non-zero; an empty bitmap only where `allow_empty`.
fn type_bitmap(out: &mut String, map: &[u8], allow_empty: bool) -> Option<()> {
    if map.is_empty() && !allow_empty {
        return None;
    }
    let mut rest = map;
    let mut last_window: Option<u8> = None;
    while let [window, len, tail @ ..] = rest {
        let len = usize::from(*len);
        if len == 0 || len > 32 || last_window.is_some_and(|w| w >= *window) {
            return None;
        }
        let bits = tail.get(..len)?;
        if bits.last() == Some(&0) {
            return None;
        }
        for (i, byte) in bits.iter().enumerate() {
            for bit in 0..8u16 {
                if byte & (0x80 >> bit) != 0 {
                    let t = (u16::from(*window) << 8) | ((i as u16) << 3) | bit;
                    out.push(' ');
                    out.push_str(&type_name(t));
                }
            }
        }
        last_window = Some(*window);
        rest = tail.get(len..)?;
    }
    rest.is_empty().then_some(())
}

/// RRSIG time as YYYYMMDDHHMMSS (UTC), from unsigned seconds since 1970.
pub(super) fn write_time(out: &mut String, t: u32) {
    let secs = u64::from(t);
    let sod = secs % 86400;
    let (y, m, d) = crate::render::when::civil_from_days(secs / 86400);
    let _ = write!(
        out,
        "{y:04}{m:02}{d:02}{:02}{:02}{:02}",
        sod / 3600,
        (sod / 60) % 60,
        sod % 60
    );
}

/// DNSSEC algorithm mnemonics, as BIND's `dns_secalg_totext`.
pub(crate) fn secalg_name(a: u8) -> Option<&'static str> {
    Some(match a {
        1 => "RSAMD5",
        2 => "DH",
        3 => "DSA",
        4 => "ECC",
        5 => "RSASHA1",
        6 => "NSEC3DSA",
        7 => "NSEC3RSASHA1",
        8 => "RSASHA256",
        10 => "RSASHA512",
        12 => "ECCGOST",
        13 => "ECDSAP256SHA256",
        14 => "ECDSAP384SHA384",
        15 => "ED25519",
        16 => "ED448",
        252 => "INDIRECT",
        253 => "PRIVATEDNS",
        254 => "PRIVATEOID",
        _ => return None,
    })
}
