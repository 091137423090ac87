//! dig's `;; WHEN:` time format: `%a %b %d %H:%M:%S %Z %Y` in local time.
//!
//! chrono cannot name the local time zone (`%Z` gives an offset), and dig
//! prints the zone's abbreviation ("UTC", "CET"), so this asks the C
//! library, which honours `TZ` the same way dig does. Formatting only: the
//! time comes from the trace, never from the clock.

/// Formats `sec` (seconds since the Unix epoch) as dig's WHEN line does,
/// e.g. `Tue Nov 14 22:13:20 UTC 2023`.
pub fn format_when(sec: u64) -> String {
    let Ok(t) = libc::time_t::try_from(sec) else {
        return format!("@{sec}");
    };
    // SAFETY: `tm` is plain data that localtime_r fills in; both pointers
    // are valid for the call. strftime writes at most `buf.len()` bytes
    // (including the NUL) and returns how many it wrote, 0 on overflow.
    unsafe {
        let mut tm: libc::tm = std::mem::zeroed();
        if libc::localtime_r(&t, &mut tm).is_null() {
            return format!("@{sec}");
        }
        let mut buf = [0u8; 128];
        let fmt = c"%a %b %d %H:%M:%S %Z %Y";
        let n = libc::strftime(buf.as_mut_ptr().cast(), buf.len(), fmt.as_ptr(), &tm);
        match std::str::from_utf8(&buf[..n]) {
            Ok(s) if n > 0 => s.to_owned(),
            _ => format!("@{sec}"),
        }
    }
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
