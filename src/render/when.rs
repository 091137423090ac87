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

pub use crate::civil::civil_from_days;

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
