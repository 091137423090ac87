//! RDATA of SVCB and HTTPS records (RFC 9460): priority, target and the
//! SvcParams, with BIND 9.18's checks (keys in increasing order, mandatory
//! keys present, well-formed values) and its escapes.

use std::fmt::Write as _;
use std::net::{Ipv4Addr, Ipv6Addr};

use crate::dns::name::push_ddd;
use crate::render::text::{quoted, write_base64};

use super::{name, Rd, RdataStyle};

/// SvcParamKey names BIND 9.18 prints (RFC 9460 §14.3.2); others are `keyN`.
fn svc_key_name(out: &mut String, key: u16) {
    match key {
        0 => out.push_str("mandatory"),
        1 => out.push_str("alpn"),
        2 => out.push_str("no-default-alpn"),
        3 => out.push_str("port"),
        4 => out.push_str("ipv4hint"),
        5 => out.push_str("ech"),
        6 => out.push_str("ipv6hint"),
        n => {
            let _ = write!(out, "key{n}");
        }
    }
}

/// SVCB/HTTPS (RFC 9460 §2.2): priority, target, then each SvcParam as
/// ` key=value`.
pub(super) fn svcb(out: &mut String, rd: &mut Rd<'_>, st: &RdataStyle) -> Option<()> {
    let prio = rd.u16()?;
    let _ = write!(out, "{prio} ");
    name(out, rd, st)?;
    let mut keys: Vec<u16> = Vec::new();
    let mut mandatory: &[u8] = &[];
    while rd.left() > 0 {
        let key = rd.u16()?;
        let len = usize::from(rd.u16()?);
        let val = rd.bytes(len)?;
        if keys.last().is_some_and(|&k| k >= key) {
            return None;
        }
        keys.push(key);
        out.push(' ');
        svc_key_name(out, key);
        if key == 0 {
            mandatory = val;
        }
        param_value(out, key, val)?;
    }
    if keys.contains(&2) && !keys.contains(&1) {
        return None;
    }
    for pair in mandatory.chunks_exact(2) {
        let k = u16::from_be_bytes([*pair.first()?, *pair.get(1)?]);
        if !keys.contains(&k) {
            return None;
        }
    }
    Some(())
}

/// The `=value` of one SvcParam (nothing for an empty value where one is
/// allowed); None when the value is malformed for its key.
fn param_value(out: &mut String, key: u16, val: &[u8]) -> Option<()> {
    match key {
        0 => mandatory_keys(out, val),
        1 => alpn(out, val),
        2 => val.is_empty().then_some(()),
        3 => {
            let [a, b] = *val else { return None };
            let _ = write!(out, "={}", u16::from_be_bytes([a, b]));
            Some(())
        }
        4 => hints(out, val, 4),
        6 => hints(out, val, 16),
        5 => {
            if !val.is_empty() {
                out.push('=');
                write_base64(out, val, 0);
            }
            Some(())
        }
        _ => {
            if key == 7 && !dohpath_ok(val) {
                return None;
            }
            if !val.is_empty() {
                out.push('=');
                quoted(out, val);
            }
            Some(())
        }
    }
}

/// `mandatory=`: a non-empty list of keys, increasing, without key 0.
fn mandatory_keys(out: &mut String, val: &[u8]) -> Option<()> {
    if val.is_empty() || !val.len().is_multiple_of(2) {
        return None;
    }
    out.push('=');
    let mut prev: Option<u16> = None;
    for (i, pair) in val.chunks_exact(2).enumerate() {
        let k = u16::from_be_bytes([*pair.first()?, *pair.get(1)?]);
        if k == 0 || prev.is_some_and(|p| p >= k) {
            return None;
        }
        prev = Some(k);
        if i > 0 {
            out.push(',');
        }
        svc_key_name(out, k);
    }
    Some(())
}

/// `alpn="…"`: non-empty protocol ids joined by `,`, escaped as BIND does.
fn alpn(out: &mut String, val: &[u8]) -> Option<()> {
    if val.is_empty() {
        return None;
    }
    out.push_str("=\"");
    let mut r = val;
    let mut first = true;
    while let Some((&n, tail)) = r.split_first() {
        let id = tail.get(..usize::from(n))?;
        if id.is_empty() {
            return None;
        }
        if !first {
            out.push(',');
        }
        first = false;
        for &b in id {
            match b {
                b',' => out.push_str("\\\\,"),
                b'\\' => out.push_str("\\\\\\\\"),
                b'"' => out.push_str("\\\""),
                0x21..=0x7e => out.push(char::from(b)),
                _ => push_ddd(out, b),
            }
        }
        r = tail.get(usize::from(n)..)?;
    }
    out.push('"');
    Some(())
}

/// `ipv4hint=` / `ipv6hint=`: a non-empty list of `width`-byte addresses.
fn hints(out: &mut String, val: &[u8], width: usize) -> Option<()> {
    if val.is_empty() || !val.len().is_multiple_of(width) {
        return None;
    }
    out.push('=');
    for (i, a) in val.chunks_exact(width).enumerate() {
        if i > 0 {
            out.push(',');
        }
        if let Ok(v4) = <[u8; 4]>::try_from(a) {
            let _ = write!(out, "{}", Ipv4Addr::from(v4));
        } else if let Ok(v6) = <[u8; 16]>::try_from(a) {
            let _ = write!(out, "{}", Ipv6Addr::from(v6));
        }
    }
    Some(())
}

/// The dohpath key (RFC 9461 §5) as far as BIND 9.18 was observed to check
/// it: a relative URI template starting with `/` that contains `{?dns}`.
fn dohpath_ok(v: &[u8]) -> bool {
    v.first() == Some(&b'/')
        && v.windows(6).any(|w| w == b"{?dns}")
        && v.iter()
            .all(|&b| b < 0x80 && !matches!(b, b' ' | b'"' | b'\\'))
}
