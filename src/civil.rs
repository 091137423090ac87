//! Calendar arithmetic for UTC times: the date of a Unix day count and the
//! `YYYY-MM-DD HH:MM:SS` text of a Unix time. A leaf (no `crate` imports),
//! shared by the renderers (JSON, YAML, RRSIG times) and the TLS error
//! sentences, so none of them needs a date-time crate. Pure.

/// Seconds of 9999-12-31T23:59:59Z + 1: the first instant a four-digit
/// year cannot write.
pub const YEAR_10000: u64 = 253_402_300_800;

/// The proleptic Gregorian (year, month, day) of a day count since
/// 1970-01-01 (Howard Hinnant's `civil_from_days`, for days >= 0).
pub fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

/// `YYYY-MM-DD HH:MM:SS` of a Unix time in UTC; None past year 9999.
pub fn utc_text(sec: u64) -> Option<String> {
    if sec >= YEAR_10000 {
        return None;
    }
    let (y, m, d) = civil_from_days(sec / 86_400);
    let s = sec % 86_400;
    Some(format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        s / 3600,
        s / 60 % 60,
        s % 60
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_text_matches_chrono_across_the_range() {
        for sec in [0, 59, 86_399, 951_782_400, 1_764_709_200, YEAR_10000 - 1] {
            let want = chrono::DateTime::from_timestamp(sec as i64, 0)
                .unwrap()
                .format("%Y-%m-%d %H:%M:%S")
                .to_string();
            assert_eq!(utc_text(sec).as_deref(), Some(want.as_str()), "{sec}");
        }
        assert_eq!(utc_text(YEAR_10000), None);
    }
}
