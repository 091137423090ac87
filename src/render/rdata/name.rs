//! RDATA of records built around domain names: SOA, the preference-and-name
//! types (MX, AFSDB, RT, KX, LP), the two-name types (RP, MINFO, TALINK),
//! PX, SRV and NAPTR. The one-name types (NS, CNAME, PTR, DNAME…) need only
//! [`super::name`].

use std::fmt::Write as _;

use crate::render::text::{push_u32, quoted};

use super::{name, Rd, RdataStyle};

/// SOA (RFC 1035 §3.3.13): two names and five 32-bit numbers.
pub(super) fn soa(out: &mut String, rd: &mut Rd<'_>, st: &RdataStyle) -> Option<()> {
    two_names(out, rd, st)?;
    for _ in 0..5 {
        out.push(' ');
        push_u32(out, rd.u32()?);
    }
    Some(())
}

/// A 16-bit preference and a name (MX, AFSDB, RT, KX, LP).
pub(super) fn preference(out: &mut String, rd: &mut Rd<'_>, st: &RdataStyle) -> Option<()> {
    push_u32(out, u32::from(rd.u16()?));
    out.push(' ');
    name(out, rd, st)
}

/// Two names (RP, MINFO, TALINK).
pub(super) fn two_names(out: &mut String, rd: &mut Rd<'_>, st: &RdataStyle) -> Option<()> {
    name(out, rd, st)?;
    out.push(' ');
    name(out, rd, st)
}

/// PX (RFC 2163): preference and two names.
pub(super) fn px(out: &mut String, rd: &mut Rd<'_>, st: &RdataStyle) -> Option<()> {
    let _ = write!(out, "{} ", rd.u16()?);
    two_names(out, rd, st)
}

/// SRV (RFC 2782): priority, weight, port, target.
pub(super) fn srv(out: &mut String, rd: &mut Rd<'_>, st: &RdataStyle) -> Option<()> {
    let _ = write!(out, "{} {} {} ", rd.u16()?, rd.u16()?, rd.u16()?);
    name(out, rd, st)
}

/// NAPTR (RFC 3403 §4.1): order, preference, flags, services, regexp,
/// replacement; the regexp is checked as BIND does.
pub(super) fn naptr(out: &mut String, rd: &mut Rd<'_>, st: &RdataStyle) -> Option<()> {
    let _ = write!(out, "{} {} ", rd.u16()?, rd.u16()?);
    quoted(out, rd.string()?);
    out.push(' ');
    quoted(out, rd.string()?);
    out.push(' ');
    let re = rd.string()?;
    if !naptr_regex_ok(re) {
        return None;
    }
    quoted(out, re);
    out.push(' ');
    name(out, rd, st)
}

/// Structural NAPTR regexp check modelled on BIND's `txt_valid_regex`:
/// `<d>regex<d>replacement<d>[i]`, the delimiter not a digit, `\` or `i`,
/// balanced parentheses, and back-references only to existing groups.
pub(super) fn naptr_regex_ok(re: &[u8]) -> bool {
    let Some((&delim, body)) = re.split_first() else {
        return true;
    };
    if delim.is_ascii_digit() || delim == b'\\' || delim == b'i' {
        return false;
    }
    let mut part = 0; // 0 = regex, 1 = replacement, 2 = flags
    let mut groups = 0u32;
    let mut depth = 0i32;
    let mut it = body.iter();
    while let Some(&c) = it.next() {
        if c == 0 {
            return false;
        }
        if c == delim {
            if part == 0 && depth != 0 {
                return false;
            }
            part += 1;
            if part > 2 {
                return false;
            }
            continue;
        }
        match part {
            2 if c != b'i' => return false,
            2 => {}
            _ if c == b'\\' => {
                let Some(&e) = it.next() else {
                    return false;
                };
                if e == 0 {
                    return false;
                }
                if part == 1 && e.is_ascii_digit() && (e == b'0' || u32::from(e - b'0') > groups) {
                    return false;
                }
            }
            0 if c == b'(' => {
                depth += 1;
                groups += 1;
            }
            0 if c == b')' => {
                depth -= 1;
                if depth < 0 {
                    return false;
                }
            }
            _ => {}
        }
    }
    part == 2
}
