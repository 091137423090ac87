//! RDATA of LOC records (RFC 1876): latitude, longitude, altitude, size and
//! precisions, as BIND prints them.

use std::fmt::Write as _;

use super::{write_unknown, Rd, RdataStyle};

/// LOC (RFC 1876) as BIND prints it, e.g.
/// `52 22 23.000 N 4 53 32.000 E -2.00m 1m 10000m 10m`.
pub(super) fn loc(out: &mut String, rd: &mut Rd<'_>, st: &RdataStyle) -> Option<()> {
    let all = rd.rest()?;
    if all.first() != Some(&0) {
        // BIND treats any other version as opaque data.
        if all.is_empty() {
            return None;
        }
        write_unknown(out, all, st);
        return Some(());
    }
    let mut r = Rd {
        msg: all,
        pos: 1,
        end: all.len(),
    };
    let size = precision(r.u8()?)?;
    let hp = precision(r.u8()?)?;
    let vp = precision(r.u8()?)?;
    let lat = i64::from(r.u32()?) - (1i64 << 31);
    let lon = i64::from(r.u32()?) - (1i64 << 31);
    let alt = i64::from(r.u32()?) - 10_000_000;
    if r.pos != r.end || lat.abs() > 90 * 3_600_000 || lon.abs() > 180 * 3_600_000 {
        return None;
    }
    let angle = |out: &mut String, v: i64, pos: char, neg: char| {
        let a = v.abs();
        let _ = write!(
            out,
            "{} {} {}.{:03} {}",
            a / 3_600_000,
            (a / 60_000) % 60,
            (a / 1000) % 60,
            a % 1000,
            if v < 0 { neg } else { pos }
        );
    };
    angle(out, lat, 'N', 'S');
    out.push(' ');
    angle(out, lon, 'E', 'W');
    let sign = if alt < 0 { "-" } else { "" };
    let _ = write!(out, " {sign}{}.{:02}m", alt.abs() / 100, alt.abs() % 100);
    for p in [size, hp, vp] {
        out.push(' ');
        out.push_str(&p);
    }
    Some(())
}

/// One LOC size/precision byte (mantissa, power of ten, in cm) as BIND prints it.
fn precision(b: u8) -> Option<String> {
    let (mant, exp) = (u64::from(b >> 4), u32::from(b & 0x0f));
    if mant > 9 || exp > 9 {
        return None;
    }
    Some(if exp >= 2 {
        format!("{}m", mant * 10u64.pow(exp - 2))
    } else {
        format!("0.{:02}m", mant * 10u64.pow(exp))
    })
}
