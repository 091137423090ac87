//! RDATA of the meta records that carry transaction security: TSIG (class
//! ANY) and TKEY, with their error field.

use std::fmt::Write as _;

use crate::render::text::write_base64;

use super::{name, Rd, RdataStyle};

/// TSIG (RFC 8945 §4.2), printed as BIND's any_255/tsig_250.c does.
pub(super) fn tsig(out: &mut String, rd: &mut Rd<'_>, st: &RdataStyle) -> Option<()> {
    name(out, rd, st)?;
    let time = rd
        .bytes(6)?
        .iter()
        .fold(0u64, |a, &b| a << 8 | u64::from(b));
    let _ = write!(out, " {time} {}", rd.u16()?);
    let mac = rd.blob16()?;
    let _ = write!(out, " {}", mac.len());
    if !mac.is_empty() {
        out.push(' ');
        write_base64(out, mac, st.split);
    }
    let _ = write!(out, " {} ", rd.u16()?);
    tsig_error(out, rd.u16()?);
    let other = rd.blob16()?;
    let _ = write!(out, " {} ", other.len());
    write_base64(out, other, st.split);
    Some(())
}

/// TKEY (RFC 2930 §2).
pub(super) fn tkey(out: &mut String, rd: &mut Rd<'_>, st: &RdataStyle) -> Option<()> {
    name(out, rd, st)?;
    let _ = write!(out, " {} {} {} ", rd.u32()?, rd.u32()?, rd.u16()?);
    tsig_error(out, rd.u16()?);
    let key = rd.blob16()?;
    let _ = write!(out, " {} ", key.len());
    write_base64(out, key, st.split);
    let other = rd.blob16()?;
    let _ = write!(out, " {}", other.len());
    if !other.is_empty() {
        out.push(' ');
        write_base64(out, other, st.split);
    }
    Some(())
}

/// TSIG/TKEY error field as BIND's `dns_tsigrcode_totext` prints it.
fn tsig_error(out: &mut String, e: u16) {
    const RCODES: [&str; 11] = [
        "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED", "YXDOMAIN", "YXRRSET",
        "NXRRSET", "NOTAUTH", "NOTZONE",
    ];
    const TSIG: [&str; 7] = [
        "BADSIG", "BADKEY", "BADTIME", "BADMODE", "BADNAME", "BADALG", "BADTRUNC",
    ];
    match e {
        0..=10 => out.push_str(RCODES.get(usize::from(e)).copied().unwrap_or_default()),
        11..=15 => {
            let _ = write!(out, "RESERVED{e}");
        }
        16..=22 => out.push_str(TSIG.get(usize::from(e - 16)).copied().unwrap_or_default()),
        _ => {
            let _ = write!(out, "{e}");
        }
    }
}
