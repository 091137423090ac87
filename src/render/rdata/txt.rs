//! RDATA of records made of character-strings and free text: TXT and its
//! look-alikes (SPF, AVC, NINFO, RESINFO, WALLET), HINFO, X25, ISDN, GPOS,
//! CAA, URI and DOA.

use std::fmt::Write as _;

use crate::render::text::{quoted, write_base64};

use super::{Rd, RdataStyle};

/// Character-strings separated by one space; between `min` and `max` of them
/// and nothing else in the RDATA.
pub(super) fn strings(out: &mut String, rd: &mut Rd<'_>, min: usize, max: usize) -> Option<()> {
    let mut n = 0;
    while rd.left() > 0 {
        if n == max {
            return None;
        }
        if n > 0 {
            out.push(' ');
        }
        quoted(out, rd.string()?);
        n += 1;
    }
    (n >= min).then_some(())
}

/// CAA (RFC 8659 §4.1): flags, an alphanumeric tag, the quoted value.
pub(super) fn caa(out: &mut String, rd: &mut Rd<'_>) -> Option<()> {
    let flags = rd.u8()?;
    let tag = rd.string()?;
    if tag.is_empty() || !tag.iter().all(u8::is_ascii_alphanumeric) {
        return None;
    }
    let _ = write!(out, "{flags} ");
    out.extend(tag.iter().map(|&b| char::from(b)));
    out.push(' ');
    quoted(out, rd.rest()?);
    Some(())
}

/// URI (RFC 7553): priority, weight, the quoted target.
pub(super) fn uri(out: &mut String, rd: &mut Rd<'_>) -> Option<()> {
    let _ = write!(out, "{} {} ", rd.u16()?, rd.u16()?);
    quoted(out, rd.rest()?);
    Some(())
}

/// DOA (draft-durand-doa-over-dns): enterprise, type, location, the quoted
/// media type, then the data in base64 (`-` when empty).
pub(super) fn doa(out: &mut String, rd: &mut Rd<'_>, st: &RdataStyle) -> Option<()> {
    let _ = write!(out, "{} {} {} ", rd.u32()?, rd.u32()?, rd.u8()?);
    quoted(out, rd.string()?);
    out.push(' ');
    let data = rd.rest()?;
    if data.is_empty() {
        out.push('-');
    } else {
        write_base64(out, data, st.split);
    }
    Some(())
}
