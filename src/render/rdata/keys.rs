//! RDATA of key, certificate and digest records outside DNSSEC proper:
//! SSHFP, TLSA and SMIMEA, OPENPGPKEY and DHCID, CERT, ZONEMD, IPSECKEY,
//! HIP and SINK.

use std::fmt::Write as _;

use crate::render::text::{write_base64, write_hex};

use super::address::gateway;
use super::dnssec::secalg_name;
use super::{name, Rd, RdataStyle};

/// SSHFP (RFC 4255 §3.1): algorithm, fingerprint type, the fingerprint.
pub(super) fn sshfp(out: &mut String, rd: &mut Rd<'_>, st: &RdataStyle) -> Option<()> {
    let (alg, fpt) = (rd.u8()?, rd.u8()?);
    let fp = rd.rest()?;
    let want = match fpt {
        1 => Some(20),
        2 => Some(32),
        _ => None,
    };
    if want.is_some_and(|w| w != fp.len()) {
        return None;
    }
    let _ = write!(out, "{alg} {fpt}");
    if !fp.is_empty() {
        out.push(' ');
        write_hex(out, fp, st.split);
    }
    Some(())
}

/// TLSA and SMIMEA (RFC 6698 §2.1): usage, selector, matching type, data.
pub(super) fn tlsa(out: &mut String, rd: &mut Rd<'_>, st: &RdataStyle) -> Option<()> {
    if rd.left() < 4 {
        return None;
    }
    let _ = write!(out, "{} {} {} ", rd.u8()?, rd.u8()?, rd.u8()?);
    write_hex(out, rd.rest()?, st.split);
    Some(())
}

/// OPENPGPKEY and DHCID: the RDATA in base64, not empty.
pub(super) fn base64_only(out: &mut String, rd: &mut Rd<'_>, st: &RdataStyle) -> Option<()> {
    let data = rd.rest()?;
    if data.is_empty() {
        return None;
    }
    write_base64(out, data, st.split);
    Some(())
}

/// CERT (RFC 4398 §2): type, key tag, algorithm (mnemonics where BIND has
/// them), the certificate in base64.
pub(super) fn cert(out: &mut String, rd: &mut Rd<'_>, st: &RdataStyle) -> Option<()> {
    if rd.left() < 6 {
        return None;
    }
    let ctype = rd.u16()?;
    match cert_type_name(ctype) {
        Some(s) => out.push_str(s),
        None => {
            let _ = write!(out, "{ctype}");
        }
    }
    let _ = write!(out, " {} ", rd.u16()?);
    let alg = rd.u8()?;
    match secalg_name(alg) {
        Some(s) => out.push_str(s),
        None => {
            let _ = write!(out, "{alg}");
        }
    }
    out.push(' ');
    write_base64(out, rd.rest()?, st.split);
    Some(())
}

/// ZONEMD (RFC 8976 §2): serial, scheme, hash algorithm, digest.
pub(super) fn zonemd(out: &mut String, rd: &mut Rd<'_>, st: &RdataStyle) -> Option<()> {
    let (serial, scheme, alg) = (rd.u32()?, rd.u8()?, rd.u8()?);
    let digest = rd.rest()?;
    let ok = match alg {
        1 => digest.len() == 48,
        2 => digest.len() == 64,
        _ => digest.len() >= 12,
    };
    if !ok {
        return None;
    }
    let _ = write!(out, "{serial} {scheme} {alg} ");
    write_hex(out, digest, st.split);
    Some(())
}

/// IPSECKEY (RFC 4025 §2): precedence, gateway type, algorithm, gateway,
/// the public key in base64.
pub(super) fn ipseckey(out: &mut String, rd: &mut Rd<'_>, st: &RdataStyle) -> Option<()> {
    let (prec, gwt, alg) = (rd.u8()?, rd.u8()?, rd.u8()?);
    let _ = write!(out, "{prec} {gwt} {alg} ");
    gateway(out, rd, gwt, st)?;
    let key = rd.rest()?;
    if key.is_empty() {
        return None;
    }
    out.push(' ');
    write_base64(out, key, st.split);
    Some(())
}

/// HIP (RFC 8005 §5): HIT length, algorithm, PK length, HIT, PK, servers.
pub(super) fn hip(out: &mut String, rd: &mut Rd<'_>, st: &RdataStyle) -> Option<()> {
    let hit_len = usize::from(rd.u8()?);
    let alg = rd.u8()?;
    let pk_len = usize::from(rd.u16()?);
    let hit = rd.bytes(hit_len)?;
    let pk = rd.bytes(pk_len)?;
    if hit.is_empty() || pk.is_empty() {
        return None;
    }
    let _ = write!(out, "{alg} ");
    write_hex(out, hit, 0);
    out.push(' ');
    write_base64(out, pk, 0);
    while rd.left() > 0 {
        out.push(' ');
        name(out, rd, st)?;
    }
    Some(())
}

/// SINK (draft-eastlake-kitchen-sink): meaning, coding, subcoding, data.
pub(super) fn sink(out: &mut String, rd: &mut Rd<'_>, st: &RdataStyle) -> Option<()> {
    let _ = write!(out, "{} {} {}", rd.u8()?, rd.u8()?, rd.u8()?);
    let data = rd.rest()?;
    if !data.is_empty() {
        out.push(' ');
        write_base64(out, data, st.split);
    }
    Some(())
}

/// CERT type mnemonics (RFC 4398 §2.1), as BIND's `dns_cert_totext`.
fn cert_type_name(t: u16) -> Option<&'static str> {
    Some(match t {
        1 => "PKIX",
        2 => "SPKI",
        3 => "PGP",
        4 => "IPKIX",
        5 => "ISPKI",
        6 => "IPGP",
        7 => "ACPKIX",
        8 => "IACPKIX",
        253 => "URI",
        254 => "OID",
        _ => return None,
    })
}
