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

/// Datagrams one [`send_datagrams`] or [`recv_datagrams`] call moves at
/// most (the kernel's own limit is 1024).
pub const BATCH_MAX: usize = 64;

/// Sends each of `msgs` (at most [`BATCH_MAX`]) as one datagram on the
/// connected socket `fd` without waiting, with one system call; returns
/// how many went. The first that cannot go ends the batch: its error is
/// returned only when none went (the caller sends the rest again, and
/// meets the error then).
/// Why libc: std sends one datagram per call (sendmmsg(2)); a replay at
/// tens of thousands of queries a second spent most of its time in the
/// kernel's entry and exit of one call per datagram.
pub fn send_datagrams(fd: std::os::fd::BorrowedFd<'_>, msgs: &[&[u8]]) -> io::Result<usize> {
    use std::os::fd::AsRawFd;
    let n = msgs.len().min(BATCH_MAX);
    if n == 0 {
        return Ok(0);
    }
    // SAFETY: iovec and mmsghdr are plain C structs, valid all zeroes.
    let mut iov: [libc::iovec; BATCH_MAX] = unsafe { std::mem::zeroed() };
    let mut hdrs: [libc::mmsghdr; BATCH_MAX] = unsafe { std::mem::zeroed() };
    for (i, m) in msgs.iter().take(n).enumerate() {
        iov[i].iov_base = m.as_ptr().cast_mut().cast();
        iov[i].iov_len = m.len();
        hdrs[i].msg_hdr.msg_iov = &mut iov[i];
        hdrs[i].msg_hdr.msg_iovlen = 1;
    }
    loop {
        // SAFETY: the first `n` headers each point at one iovec, which
        // points at a message that `msgs` borrows for the whole call; the
        // kernel only reads them (and writes each header's msg_len).
        // `n` is at most BATCH_MAX, the arrays' length.
        let rc = unsafe {
            libc::sendmmsg(
                fd.as_raw_fd(),
                hdrs.as_mut_ptr(),
                n as libc::c_uint,
                libc::MSG_DONTWAIT,
            )
        };
        if let Ok(sent) = usize::try_from(rc) {
            return Ok(sent);
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

/// Receives the datagrams waiting on socket `fd` without waiting, at most
/// `lens.len()` (and [`BATCH_MAX`]), with one system call: the i-th into
/// `buf[i * slot..][..slot]`, its length into `lens[i]` (a datagram longer
/// than `slot` is cut to it). Returns how many came; WouldBlock when none
/// was there; a pending socket error (an ICMP "port unreachable" as
/// connection refused) is returned as the error.
/// Why libc: std receives one datagram per call (recvmmsg(2)); see
/// [`send_datagrams`].
pub fn recv_datagrams(
    fd: std::os::fd::BorrowedFd<'_>,
    buf: &mut [u8],
    slot: usize,
    lens: &mut [usize],
) -> io::Result<usize> {
    use std::os::fd::AsRawFd;
    let n = lens
        .len()
        .min(BATCH_MAX)
        .min(buf.len().checked_div(slot).unwrap_or(0));
    if n == 0 {
        return Ok(0);
    }
    // SAFETY: iovec and mmsghdr are plain C structs, valid all zeroes.
    let mut iov: [libc::iovec; BATCH_MAX] = unsafe { std::mem::zeroed() };
    let mut hdrs: [libc::mmsghdr; BATCH_MAX] = unsafe { std::mem::zeroed() };
    for (i, chunk) in buf.chunks_exact_mut(slot).take(n).enumerate() {
        iov[i].iov_base = chunk.as_mut_ptr().cast();
        iov[i].iov_len = slot;
        hdrs[i].msg_hdr.msg_iov = &mut iov[i];
        hdrs[i].msg_hdr.msg_iovlen = 1;
    }
    loop {
        // SAFETY: the first `n` headers each point at one iovec, which
        // points at its own `slot` bytes of `buf`, borrowed mutably for the
        // whole call; the kernel writes at most `slot` bytes into each and
        // each header's msg_len and msg_flags. No address or control buffer
        // is given (the socket is connected). A null timeout: the call
        // does not wait (MSG_DONTWAIT).
        let rc = unsafe {
            libc::recvmmsg(
                fd.as_raw_fd(),
                hdrs.as_mut_ptr(),
                n as libc::c_uint,
                libc::MSG_DONTWAIT,
                std::ptr::null_mut(),
            )
        };
        if let Ok(got) = usize::try_from(rc) {
            for (len, h) in lens.iter_mut().zip(&hdrs[..got]) {
                *len = (h.msg_len as usize).min(slot);
            }
            return Ok(got);
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datagrams_go_and_come_in_batches() {
        use std::os::fd::AsFd;
        let a = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let b = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        a.connect(b.local_addr().unwrap()).unwrap();
        b.connect(a.local_addr().unwrap()).unwrap();
        let mut buf = vec![0u8; 4 * 16];
        let mut lens = [0usize; 4];
        // Nothing there: WouldBlock, not a wait.
        let e = recv_datagrams(b.as_fd(), &mut buf, 16, &mut lens).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::WouldBlock);
        let msgs: [&[u8]; 3] = [b"one", b"two!", &[7u8; 20]];
        assert_eq!(send_datagrams(a.as_fd(), &msgs).unwrap(), 3);
        assert_eq!(send_datagrams(a.as_fd(), &[]).unwrap(), 0);
        let got = recv_datagrams(b.as_fd(), &mut buf, 16, &mut lens).unwrap();
        assert_eq!(got, 3);
        assert_eq!(&buf[..lens[0]], b"one");
        assert_eq!(&buf[16..16 + lens[1]], b"two!");
        // Longer than its slot: cut to it.
        assert_eq!(lens[2], 16);
        assert_eq!(&buf[32..48], &[7u8; 16]);
        // A peer that is gone: connection refused, as an error.
        drop(b);
        send_datagrams(a.as_fd(), &[b"x"]).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(50));
        let e = recv_datagrams(a.as_fd(), &mut buf, 16, &mut lens).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::ConnectionRefused);
    }

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
