//! The few calls into the C library that the standard library does not
//! offer, each wrapped in a safe function with its justification. This is
//! the only module allowed `unsafe` code (the crate root denies it
//! elsewhere, apart from two documented local exceptions); nothing here
//! decides policy, it only makes the call and reports the result.

use std::ffi::CStr;
use std::io;
use std::path::Path;

/// Ignores SIGXFSZ, so a file size limit (`ulimit -f`) surfaces as a write
/// error qtap reports (EFBIG), not as a signal that kills it mid-trace.
/// Why libc: std has no API for signal dispositions, and tokio's signal
/// handling only installs handlers, it cannot ignore a signal.
/// Call it first thing in `main`, before any thread exists.
pub fn ignore_sigxfsz() {
    // SAFETY: setting a signal's disposition to SIG_IGN passes no pointers
    // and is done before any other thread exists.
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
    }
}

/// SIGHUP was ignored (SIG_IGN) when qtap started: [`note_ignored_signals`]
/// sets it.
static HUP_IGNORED_AT_START: std::sync::atomic::AtomicBool =
    std::sync::atomic::AtomicBool::new(false);

/// Notes whether the process was started with SIGHUP ignored (`nohup`,
/// `trap '' HUP`), so that qtap leaves it ignored as other tools do
/// instead of acting on it ([`hup_ignored_at_start`]). SIGINT, SIGQUIT and
/// SIGTERM are always caught: a background job of a non-interactive shell
/// starts with SIGINT and SIGQUIT ignored, and a script that stops it
/// with them expects a finished trace.
/// Why libc: std has no API to read a signal's disposition, and tokio
/// installs its handler without saying what was there.
/// Call it first thing in `main`, before any handler is installed.
pub fn note_ignored_signals() {
    // SAFETY: sigaction with a null new action only reads the current one
    // into `old`, a zeroed struct we own.
    let ignored = unsafe {
        let mut old: libc::sigaction = std::mem::zeroed();
        libc::sigaction(libc::SIGHUP, std::ptr::null(), &mut old) == 0
            && old.sa_sigaction == libc::SIG_IGN
    };
    HUP_IGNORED_AT_START.store(ignored, std::sync::atomic::Ordering::Relaxed);
}

/// Whether SIGHUP was ignored when qtap started (see
/// [`note_ignored_signals`]).
pub fn hup_ignored_at_start() -> bool {
    HUP_IGNORED_AT_START.load(std::sync::atomic::Ordering::Relaxed)
}

/// The process's effective user ID.
/// Why libc: std does not offer it; the trace file code compares it with
/// a symbolic link's owner (see `tap::file`).
pub fn euid() -> u32 {
    // SAFETY: geteuid takes nothing and cannot fail.
    unsafe { libc::geteuid() }
}

/// The process's file mode creation mask (umask).
/// Why libc: POSIX can only read the mask by setting it, so this sets it
/// and puts it straight back; the trace file code uses it to give a new
/// trace the mode any new file would get, once it is complete.
pub fn umask() -> u32 {
    // SAFETY: umask takes and returns plain integers. Between the two calls
    // the mask is briefly 0o077 (stricter, never looser): a file created
    // by another thread in that instant would only be more private.
    let old = unsafe { libc::umask(0o077) };
    // SAFETY: as above; this restores the original mask.
    unsafe {
        libc::umask(old);
    }
    // mode_t is u32 on Linux and u16 on some other systems.
    #[allow(clippy::useless_conversion)]
    u32::from(old)
}

/// Atomically swaps the files at `a` and `b` (Linux `renameat2` with
/// `RENAME_EXCHANGE`); both must exist. Why libc: std only has `rename`,
/// and a swap followed by removing the old file avoids ext4's costly
/// flush-on-replace heuristic (`auto_da_alloc`) that `rename` over an
/// existing file triggers. Fails with `Unsupported` where there is no such
/// call; the caller then falls back to `rename`.
pub fn rename_exchange(a: &Path, b: &Path) -> io::Result<()> {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        use std::os::unix::ffi::OsStrExt;
        let c = |p: &Path| {
            std::ffi::CString::new(p.as_os_str().as_bytes())
                .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "NUL in file name"))
        };
        let (from, to) = (c(a)?, c(b)?);
        // SAFETY: two valid NUL-terminated paths, relative to the current
        // directory, that live across the call; renameat2 only reads them.
        let rc = unsafe {
            libc::renameat2(
                libc::AT_FDCWD,
                from.as_ptr(),
                libc::AT_FDCWD,
                to.as_ptr(),
                libc::RENAME_EXCHANGE,
            )
        };
        if rc == 0 {
            Ok(())
        } else {
            Err(io::Error::last_os_error())
        }
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        let _ = (a, b);
        Err(io::Error::from(io::ErrorKind::Unsupported))
    }
}

/// Formats `t` (seconds since the Unix epoch) in local time with
/// strftime's `format`; None if the time or the result does not fit.
/// Why libc: chrono cannot name the local time zone (`%Z` gives an
/// offset), and dig prints its abbreviation ("UTC", "CET") the way the C
/// library does, honouring `TZ`.
pub fn strftime_local(t: i64, format: &CStr) -> Option<String> {
    let t = libc::time_t::try_from(t).ok()?;
    // SAFETY: `tm` is plain data (all-zero is a valid value) that
    // localtime_r fills in; both pointers are valid for the call.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    if unsafe { libc::localtime_r(&t, &mut tm) }.is_null() {
        return None;
    }
    // Room for a file name pattern (`--write`) as well as a date.
    let mut buf = [0u8; 4096];
    // SAFETY: strftime writes at most `buf.len()` bytes (including the
    // NUL) into `buf` and returns how many it wrote, 0 on overflow;
    // `format` is NUL-terminated and `tm` was filled in above.
    let n = unsafe { libc::strftime(buf.as_mut_ptr().cast(), buf.len(), format.as_ptr(), &tm) };
    let text = std::str::from_utf8(buf.get(..n)?).ok()?;
    (n > 0).then(|| text.to_owned())
}

/// The index of the network interface called `name` (for IPv6 scopes such
/// as `fe80::1%eth0`); None if there is none. Why libc: std has no
/// interface lookup.
pub fn if_nametoindex(name: &str) -> Option<u32> {
    let c = std::ffi::CString::new(name).ok()?;
    // SAFETY: `c` is a valid NUL-terminated string for the duration of the
    // call, which only reads it.
    let index = unsafe { libc::if_nametoindex(c.as_ptr()) };
    (index != 0).then_some(index)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn umask_reads_without_changing_it() {
        let first = umask();
        assert_eq!(umask(), first);
        assert_eq!(first & !0o777, 0);
    }

    #[test]
    fn rename_exchange_swaps_two_files() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        std::fs::write(&a, b"A").unwrap();
        std::fs::write(&b, b"B").unwrap();
        if let Err(e) = rename_exchange(&a, &b) {
            assert_eq!(e.kind(), io::ErrorKind::Unsupported);
            return;
        }
        assert_eq!(std::fs::read(&a).unwrap(), b"B");
        assert_eq!(std::fs::read(&b).unwrap(), b"A");
        assert!(rename_exchange(&a, &dir.path().join("missing")).is_err());
    }

    #[test]
    fn strftime_and_interfaces_do_not_fail_on_odd_input() {
        assert!(strftime_local(i64::MAX, c"%Y").is_none());
        assert_eq!(strftime_local(0, c"").as_deref(), None);
        assert!(if_nametoindex("no-such-interface-qtap").is_none());
        assert!(if_nametoindex("bad\0name").is_none());
        assert!(if_nametoindex("lo").is_some() || !Path::new("/sys/class/net/lo").exists());
    }
}
