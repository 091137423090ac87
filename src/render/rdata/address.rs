//! RDATA of address records: A (and CHAOS A), AAAA, A6, APL, WKS, EUI48/64,
//! the ILNP locators (L32, L64, NID), NSAP, ATMA, EID/NIMLOC, and the
//! AMTRELAY gateway (IPSECKEY's gateway is the same field).

use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::dns::types;
use crate::render::text::{push_ip, write_hex};

use super::{name, write_unknown, Rd, RdataStyle};

/// A: an IPv4 address in IN and HS; in CHAOS a domain and an octal
/// address (RFC 1035 §3.4.1 as BIND implements it); generic elsewhere.
pub(super) fn a(out: &mut String, rd: &mut Rd<'_>, class: u16, st: &RdataStyle) -> Option<()> {
    match class {
        types::CLASS_IN | types::CLASS_HS => push_ip(out, IpAddr::V4(rd.ipv4()?)),
        types::CLASS_CH => {
            name(out, rd, st)?;
            let _ = write!(out, " {:o}", rd.u16()?);
        }
        _ => write_unknown(out, rd.rest()?, st),
    }
    Some(())
}

/// AAAA (RFC 3596): RFC 5952 text, or every digit with `+expandaaaa`.
pub(super) fn aaaa(out: &mut String, rd: &mut Rd<'_>, st: &RdataStyle) -> Option<()> {
    let a = rd.ipv6()?;
    if st.expand_aaaa {
        for (i, group) in a.segments().iter().enumerate() {
            if i > 0 {
                out.push(':');
            }
            let _ = write!(out, "{group:04x}");
        }
    } else {
        let _ = write!(out, "{a}");
    }
    Some(())
}

/// A gateway of type `kind` (RFC 4025 §2.3, RFC 8777 §4.2): none (`.`),
/// IPv4, IPv6 or a name.
pub(super) fn gateway(out: &mut String, rd: &mut Rd<'_>, kind: u8, st: &RdataStyle) -> Option<()> {
    match kind {
        0 => out.push('.'),
        1 => {
            let _ = write!(out, "{}", rd.ipv4()?);
        }
        2 => {
            let _ = write!(out, "{}", rd.ipv6()?);
        }
        3 => name(out, rd, st)?,
        _ => return None,
    }
    Some(())
}

/// AMTRELAY (RFC 8777): precedence, discovery bit, type, gateway.
pub(super) fn amtrelay(out: &mut String, rd: &mut Rd<'_>, st: &RdataStyle) -> Option<()> {
    let (prec, dt) = (rd.u8()?, rd.u8()?);
    let _ = write!(out, "{prec} {} {} ", dt >> 7, dt & 0x7f);
    gateway(out, rd, dt & 0x7f, st)
}

/// EUI48/EUI64 (RFC 7043): `n` bytes in hex joined by `-`.
pub(super) fn eui(out: &mut String, rd: &mut Rd<'_>, n: usize) -> Option<()> {
    let b = rd.bytes(n)?;
    for (i, x) in b.iter().enumerate() {
        if i > 0 {
            out.push('-');
        }
        let _ = write!(out, "{x:02x}");
    }
    Some(())
}

/// L32 (RFC 6742): preference and an IPv4-like locator.
pub(super) fn l32(out: &mut String, rd: &mut Rd<'_>) -> Option<()> {
    let _ = write!(out, "{} {}", rd.u16()?, rd.ipv4()?);
    Some(())
}

/// L64 and NID (RFC 6742): preference and four groups of hex.
pub(super) fn l64(out: &mut String, rd: &mut Rd<'_>) -> Option<()> {
    let _ = write!(out, "{} ", rd.u16()?);
    let groups = [rd.u16()?, rd.u16()?, rd.u16()?, rd.u16()?];
    let _ = write!(
        out,
        "{:x}:{:x}:{:x}:{:x}",
        groups[0], groups[1], groups[2], groups[3]
    );
    Some(())
}

/// WKS (RFC 1035 §3.4.2): address, protocol and the ports of the bitmap.
pub(super) fn wks(out: &mut String, rd: &mut Rd<'_>) -> Option<()> {
    let addr = rd.ipv4()?;
    let proto = rd.u8()?;
    let map = rd.rest()?;
    if map.len() > 8192 {
        return None;
    }
    let _ = write!(out, "{addr} {proto}");
    for (i, byte) in map.iter().enumerate() {
        for bit in 0..8 {
            if byte & (0x80 >> bit) != 0 {
                let _ = write!(out, " {}", i * 8 + bit);
            }
        }
    }
    Some(())
}

/// NSAP (RFC 1706): `0x` and lowercase hex.
pub(super) fn nsap(out: &mut String, rd: &mut Rd<'_>) -> Option<()> {
    let data = rd.rest()?;
    if data.is_empty() {
        return None;
    }
    out.push_str("0x");
    for b in data {
        let _ = write!(out, "{b:02x}");
    }
    Some(())
}

/// EID and NIMLOC: the RDATA in uppercase hex.
pub(super) fn hex(out: &mut String, rd: &mut Rd<'_>, st: &RdataStyle) -> Option<()> {
    write_hex(out, rd.rest()?, st.split);
    Some(())
}

/// ATMA: an AESA address in hex, or `+` and E.164 digits.
pub(super) fn atma(out: &mut String, rd: &mut Rd<'_>) -> Option<()> {
    match rd.u8()? {
        0 => {
            for b in rd.rest()? {
                let _ = write!(out, "{b:02x}");
            }
        }
        1 => {
            let digits = rd.rest()?;
            if !digits.iter().all(u8::is_ascii_digit) {
                return None;
            }
            out.push('+');
            out.extend(digits.iter().map(|&b| char::from(b)));
        }
        _ => return None,
    }
    Some(())
}

/// A6 (RFC 2874 §3.1): prefix length, address suffix, prefix name.
pub(super) fn a6(out: &mut String, rd: &mut Rd<'_>, st: &RdataStyle) -> Option<()> {
    let plen = rd.u8()?;
    if plen > 128 {
        return None;
    }
    let skip = usize::from(plen / 8);
    let suffix = rd.bytes(16 - skip)?;
    let used = plen % 8;
    if used != 0
        && suffix
            .first()
            .is_some_and(|b| b & (0xffu8 << (8 - used)) != 0)
    {
        return None;
    }
    let _ = write!(out, "{plen} ");
    if !suffix.is_empty() {
        let mut a = [0u8; 16];
        a.get_mut(skip..)?.copy_from_slice(suffix);
        let _ = write!(out, "{}", Ipv6Addr::from(a));
    }
    if plen > 0 {
        out.push(' ');
        name(out, rd, st)?;
    }
    Some(())
}

/// APL (RFC 3123 §4): `[!]family:address/prefix` items separated by spaces.
/// BIND shows the whole RDATA generically when a family is not 1 or 2.
pub(super) fn apl(out: &mut String, rd: &mut Rd<'_>, st: &RdataStyle) -> Option<()> {
    let all = rd.rest()?;
    let mut items = Vec::new();
    let mut r = all;
    while !r.is_empty() {
        let [f0, f1, prefix, nlen, ref tail @ ..] = *r else {
            return None;
        };
        let family = u16::from_be_bytes([f0, f1]);
        let len = usize::from(nlen & 0x7f);
        let addr = tail.get(..len)?;
        if addr.last() == Some(&0) {
            return None;
        }
        items.push((family, prefix, nlen & 0x80 != 0, addr));
        r = tail.get(len..)?;
    }
    if items.iter().any(|&(f, ..)| f != 1 && f != 2) {
        write_unknown(out, all, st);
        return Some(());
    }
    for (i, &(family, prefix, neg, addr)) in items.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        if neg {
            out.push('!');
        }
        if family == 1 {
            let mut a = [0u8; 4];
            if prefix > 32 {
                return None;
            }
            a.get_mut(..addr.len())?.copy_from_slice(addr);
            let _ = write!(out, "1:{}/{prefix}", Ipv4Addr::from(a));
        } else {
            let mut a = [0u8; 16];
            if prefix > 128 {
                return None;
            }
            a.get_mut(..addr.len())?.copy_from_slice(addr);
            let _ = write!(out, "2:{}/{prefix}", Ipv6Addr::from(a));
        }
    }
    Some(())
}
