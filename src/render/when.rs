//! dig's `;; WHEN:` time format: `%a %b %d %H:%M:%S %Z %Y` in local time;
//! and the civil date of a day count, for the UTC times of RRSIG and JSON.
//!
//! chrono cannot name the local time zone (`%Z` gives an offset), and dig
//! prints the zone's abbreviation ("UTC", "CET"), so this asks the C
//! library, which honours `TZ` the same way dig does. Formatting only: the
//! time comes from the trace, never from the clock.

/// Formats `sec` (seconds since the Unix epoch) as dig's WHEN line does,
/// e.g. `Tue Nov 14 22:13:20 UTC 2023`.
pub fn format_when(sec: u64) -> String {
    i64::try_from(sec)
        .ok()
        .and_then(|t| crate::sys::strftime_local(t, c"%a %b %d %H:%M:%S %Z %Y"))
        .unwrap_or_else(|| format!("@{sec}"))
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_dig_in_the_process_time_zone() {
        // The test process may run in any zone; check the shape and the year.
        let s = format_when(1_700_000_000);
        let parts: Vec<&str> = s.split(' ').collect();
        assert_eq!(parts.len(), 6, "{s}");
        assert!(parts[5] == "2023", "{s}");
        assert_eq!(parts[3].len(), 8, "{s}");
    }

    #[test]
    fn absurd_times_do_not_panic() {
        let s = format_when(u64::MAX);
        assert!(!s.is_empty());
    }
}
