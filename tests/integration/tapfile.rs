//! The trace file's safety (`--tap PATH`, qtap's `tap::file`): what qtap
//! does with whatever is already at PATH (nothing, a trace, a read-only
//! file, hard links, a symlink, a FIFO, a device), its temporary file
//! (random name of fixed length, mode 0600, never left behind after a
//! signal, reported after SIGKILL), a failed run that records nothing, and
//! a trace cut by a closed pipe (`--tap -`).

use std::ffi::CString;
use std::net::UdpSocket;
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use qtap::tap::pb;

use crate::{qtap, read_trace, silent_server, tiny_server};

/// One answered query (`www.example A` against a tiny responder) recorded
/// with `--tap trace`.
fn record_to(trace: &Path) -> Output {
    let port = tiny_server(1);
    qtap()
        .args([
            "@127.0.0.1",
            "-p",
            &port.to_string(),
            "www.example",
            "--tap",
        ])
        .arg(trace)
        .output()
        .unwrap()
}

/// Checks a run's exit code, showing its stderr otherwise.
fn expect_code(out: &Output, code: i32) {
    assert_eq!(
        out.status.code(),
        Some(code),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The trace of [`record_to`]: a query and its response.
fn check_answered(trace: &Path) {
    let types: Vec<i32> = read_trace(trace)
        .iter()
        .map(|r| r.message.as_ref().expect("message").r#type)
        .collect();
    assert_eq!(
        types,
        [
            pb::message::Type::StubQuery as i32,
            pb::message::Type::StubResponse as i32
        ]
    );
}

/// qtap started with `--tap trace` against a server that never answers,
/// returned once its query is in flight (the server has it).
fn in_flight(trace: &Path) -> (Child, UdpSocket) {
    let qtap = Command::new(assert_cmd::cargo::cargo_bin("qtap"));
    start_in_flight(qtap, trace, "+timeout=30")
}

/// [`in_flight`] with the command that runs qtap given (a shell that
/// sets something up first, say) and the lookup's `+timeout`.
fn start_in_flight(mut qtap: Command, trace: &Path, timeout: &str) -> (Child, UdpSocket) {
    let server = silent_server();
    let port = server.local_addr().unwrap().port();
    let child = qtap
        .args(["@127.0.0.1", "-p", &port.to_string(), "x.example"])
        .args([timeout, "+tries=1", "--tap"])
        .arg(trace)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut buf = [0u8; 512];
    server
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    server.recv_from(&mut buf).expect("the query arrives");
    (child, server)
}

/// A shell that ignores SIGHUP, then runs qtap (`bin`) with the arguments
/// added to it.
fn ignoring_hup(bin: &Path) -> Command {
    let mut sh = Command::new("sh");
    sh.arg("-c").arg("trap '' HUP; exec \"$0\" \"$@\"").arg(bin);
    sh
}

fn kill(child: &Child, signal: libc::c_int) {
    let pid = libc::pid_t::try_from(child.id()).unwrap();
    // SAFETY: plain kill(2) on our own child.
    assert_eq!(unsafe { libc::kill(pid, signal) }, 0);
}

/// The names in `dir`, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().mode() & 0o7777
}

/// This process's umask (which qtap inherits), from /proc.
fn umask() -> Option<u32> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find_map(|l| l.strip_prefix("Umask:"))?;
    u32::from_str_radix(line.trim(), 8).ok()
}

fn is_root() -> bool {
    // SAFETY: geteuid has no arguments and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

fn c_path(path: &Path) -> CString {
    CString::new(path.as_os_str().as_bytes()).unwrap()
}

#[test]
fn temporary_file_is_private_and_randomly_named_until_complete() {
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("t.fstrm");
    let (child, _server) = in_flight(&trace);
    let during = names(dir.path());
    assert_eq!(during.len(), 1, "{during:?}");
    let temp = dir.path().join(&during[0]);
    let prefix = format!(".qtap-{}-", child.id());
    let random = during[0]
        .strip_prefix(&prefix)
        .and_then(|r| r.strip_suffix(".tmp"))
        .unwrap_or_else(|| panic!("{during:?}: not {prefix}RANDOM.tmp"));
    assert_eq!(random.len(), 16, "{random}");
    assert!(random.bytes().all(|b| b.is_ascii_hexdigit()), "{random}");
    assert_eq!(mode(&temp), 0o600, "private while being written");
    kill(&child, libc::SIGTERM);
    let status = child.wait_with_output().unwrap().status;
    assert_eq!(status.code(), Some(143));
    assert_eq!(names(dir.path()), ["t.fstrm"]);
    if let Some(mask) = umask() {
        assert_eq!(mode(&trace), 0o666 & !mask, "a new file's usual mode");
    }
}

#[test]
fn sighup_and_sigquit_leave_a_complete_trace_and_no_temporary_file() {
    for (signal, code) in [(libc::SIGHUP, 129), (libc::SIGQUIT, 131)] {
        let dir = tempfile::tempdir().unwrap();
        let trace = dir.path().join("t.fstrm");
        let (child, _server) = in_flight(&trace);
        kill(&child, signal);
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(code), "signal {signal}");
        let records = read_trace(&trace);
        assert_eq!(records.len(), 1, "the query frame");
        assert_eq!(names(dir.path()), ["t.fstrm"], "no temporary file left");
        let read = qtap().arg("--read").arg(&trace).output().unwrap();
        expect_code(&read, 0);
    }
}

/// A signal qtap was started with ignored (`nohup`, `trap '' HUP`) stays
/// ignored: the lookup goes on to its own end, and so does a collector.
#[test]
fn a_signal_ignored_at_start_stays_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("t.fstrm");
    let bin = assert_cmd::cargo::cargo_bin("qtap");
    let (child, _server) = start_in_flight(ignoring_hup(&bin), &trace, "+timeout=2");
    kill(&child, libc::SIGHUP);
    let out = child.wait_with_output().unwrap();
    // No reply within the timeout (9), not "interrupted by SIGHUP" (129).
    expect_code(&out, 9);
    assert_eq!(read_trace(&trace).len(), 1, "the query frame");

    let sock = dir.path().join("c.sock");
    let saved = dir.path().join("saved.fstrm");
    let mut collector = ignoring_hup(&bin)
        .arg("--read")
        .arg(format!("unix:{}", sock.display()))
        .args(["--no-output", "--write"])
        .arg(&saved)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    while !sock.exists() {
        assert!(start.elapsed() < Duration::from_secs(20), "never listened");
        std::thread::sleep(Duration::from_millis(20));
    }
    kill(&collector, libc::SIGHUP);
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        collector.try_wait().unwrap().is_none(),
        "the collector ended on an ignored SIGHUP"
    );
    kill(&collector, libc::SIGTERM);
    let out = collector.wait_with_output().unwrap();
    assert!(out.status.code().is_some(), "{out:?}");
}

#[test]
fn leftovers_of_a_killed_run_are_reported_escaped_by_the_next_one() {
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("t.fstrm");
    let (mut child, _server) = in_flight(&trace);
    kill(&child, libc::SIGKILL);
    let _ = child.wait();
    let left = names(dir.path());
    assert_eq!(left.len(), 1, "SIGKILL cannot be caught: {left:?}");
    // A leftover whose name would drive a terminal (PIDs above 2^22 are
    // never running).
    std::fs::write(dir.path().join(".qtap-99999999-\x1b]0;owned\x07.tmp"), b"").unwrap();
    let out = record_to(&trace);
    expect_code(&out, 0);
    check_answered(&trace);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let killed = format!(
        ";; WARNING: temporary trace file left by a qtap run that was killed: {}",
        dir.path().join(&left[0]).display()
    );
    assert!(stderr.lines().any(|l| l == killed), "{stderr}");
    assert!(
        stderr.contains("/.qtap-99999999-\\027]0;owned\\007.tmp"),
        "{stderr}"
    );
    assert!(!stderr.contains('\x1b'), "{stderr}");
}

#[test]
fn a_long_valid_file_name_is_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("t".repeat(250));
    let out = record_to(&trace);
    expect_code(&out, 0);
    check_answered(&trace);
    assert_eq!(names(dir.path()).len(), 1);
}

#[test]
fn read_only_trace_is_refused_before_sending() {
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("t.fstrm");
    std::fs::write(&trace, b"old trace").unwrap();
    std::fs::set_permissions(&trace, std::fs::Permissions::from_mode(0o444)).unwrap();
    let server = silent_server();
    server.set_nonblocking(true).unwrap();
    let port = server.local_addr().unwrap().port();
    let out = qtap()
        .args(["@127.0.0.1", "-p", &port.to_string(), "x.example"])
        .args(["+timeout=1", "+tries=1", "--tap"])
        .arg(&trace)
        .output()
        .unwrap();
    expect_code(&out, 10);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        stderr.trim_end(),
        format!(
            "qtap: cannot write trace {}: file is read-only",
            trace.display()
        )
    );
    assert_eq!(std::fs::read(&trace).unwrap(), b"old trace");
    assert_eq!(mode(&trace), 0o444);
    assert_eq!(names(dir.path()), ["t.fstrm"]);
    let mut buf = [0u8; 512];
    assert!(server.recv_from(&mut buf).is_err(), "nothing was sent");
}

#[test]
fn replaced_trace_keeps_its_mode_and_owner() {
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("t.fstrm");
    std::fs::write(&trace, b"old trace").unwrap();
    std::fs::set_permissions(&trace, std::fs::Permissions::from_mode(0o640)).unwrap();
    let owner = if is_root() {
        std::os::unix::fs::chown(&trace, Some(4321), Some(4322)).unwrap();
        (4321, 4322)
    } else {
        let m = std::fs::metadata(&trace).unwrap();
        (m.uid(), m.gid())
    };
    let out = record_to(&trace);
    expect_code(&out, 0);
    check_answered(&trace);
    let m = std::fs::metadata(&trace).unwrap();
    assert_eq!(m.mode() & 0o7777, 0o640);
    assert_eq!((m.uid(), m.gid()), owner);
    assert_eq!(names(dir.path()), ["t.fstrm"]);
}

#[test]
fn hard_linked_trace_is_written_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let (trace, other) = (dir.path().join("t.fstrm"), dir.path().join("link"));
    std::fs::write(&trace, b"old trace").unwrap();
    std::fs::hard_link(&trace, &other).unwrap();
    let ino = std::fs::metadata(&trace).unwrap().ino();
    let out = record_to(&trace);
    expect_code(&out, 0);
    check_answered(&other);
    let m = std::fs::metadata(&trace).unwrap();
    assert_eq!((m.ino(), m.nlink()), (ino, 2), "the links stay");
    assert_eq!(names(dir.path()), ["link", "t.fstrm"]);
}

#[test]
fn symlinked_trace_is_written_through_to_its_target() {
    let dir = tempfile::tempdir().unwrap();
    let (link, real) = (dir.path().join("t.fstrm"), dir.path().join("real"));
    std::fs::write(&real, b"old trace").unwrap();
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let out = record_to(&link);
    expect_code(&out, 0);
    check_answered(&real);
    let m = std::fs::symlink_metadata(&link).unwrap();
    assert!(m.file_type().is_symlink(), "the link stays a link");
    assert_eq!(names(dir.path()), ["real", "t.fstrm"]);
}

#[test]
fn fifo_gets_the_trace_written_through_also_via_a_symlink() {
    for via_link in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        // SAFETY: mkfifo on a path we own.
        assert_eq!(unsafe { libc::mkfifo(c_path(&fifo).as_ptr(), 0o600) }, 0);
        let path = if via_link {
            // As `--tap /dev/stdout` is, when stdout is a pipe.
            let link = dir.path().join("link");
            std::os::unix::fs::symlink(&fifo, &link).unwrap();
            link
        } else {
            fifo.clone()
        };
        let (tx, rx) = std::sync::mpsc::channel();
        let reader_path = fifo.clone();
        std::thread::spawn(move || {
            let _ = tx.send(std::fs::read(&reader_path));
        });
        let out = record_to(&path);
        expect_code(&out, 0);
        let bytes = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("the FIFO's reader got the trace")
            .unwrap();
        let copy = dir.path().join("copy");
        std::fs::write(&copy, bytes).unwrap();
        check_answered(&copy);
        let m = std::fs::symlink_metadata(&fifo).unwrap();
        assert!(m.file_type().is_fifo(), "still a FIFO");
        let m = std::fs::symlink_metadata(&path).unwrap();
        assert_eq!(m.file_type().is_symlink(), via_link, "a link stays a link");
    }
}

#[test]
fn devices_are_written_through_and_stay_devices() {
    if !is_root() {
        eprintln!("skipped: making a device node needs root");
        return;
    }
    // A private /dev/null (same device numbers) first: should qtap replace
    // it, the damage stays in the temporary directory.
    let dir = tempfile::tempdir().unwrap();
    let null = dir.path().join("null");
    let rdev = std::fs::metadata("/dev/null").unwrap().rdev();
    // SAFETY: mknod on a path we own, with the numbers of /dev/null.
    let made = unsafe {
        libc::mknod(
            c_path(&null).as_ptr(),
            libc::S_IFCHR | 0o666,
            libc::dev_t::from(rdev),
        )
    };
    if made != 0 || std::fs::OpenOptions::new().write(true).open(&null).is_err() {
        eprintln!("skipped: cannot make or open a device node here");
        return;
    }
    expect_code(&record_to(&null), 0);
    let m = std::fs::symlink_metadata(&null).unwrap();
    assert!(m.file_type().is_char_device(), "still a device");
    assert_eq!(m.rdev(), rdev);
    assert_eq!(names(dir.path()), ["null"]);
    // Only then the real one.
    expect_code(&record_to(Path::new("/dev/null")), 0);
    let m = std::fs::symlink_metadata("/dev/null").unwrap();
    assert!(
        m.file_type().is_char_device(),
        "/dev/null is still a device"
    );
}

#[test]
fn a_run_that_records_nothing_leaves_the_trace_path_alone() {
    let dir = tempfile::tempdir().unwrap();
    let (old, new) = (dir.path().join("old.fstrm"), dir.path().join("new.fstrm"));
    std::fs::write(&old, b"old trace").unwrap();
    for trace in [&old, &new] {
        // -6 with an IPv4 server: fails before anything is sent.
        let out = qtap()
            .args(["-6", "@127.0.0.1", "x.example", "--tap"])
            .arg(trace)
            .output()
            .unwrap();
        expect_code(&out, 1);
    }
    assert_eq!(std::fs::read(&old).unwrap(), b"old trace");
    assert!(!new.exists(), "no empty trace made");
    assert_eq!(names(dir.path()), ["old.fstrm"]);
}

/// A pipe whose reading end is already closed, as the writing end of a
/// child's stdout.
fn closed_pipe() -> Stdio {
    let mut fds = [0; 2];
    // SAFETY: pipe(2) fills in two descriptors we then own.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    // SAFETY: both descriptors are fresh and owned by nobody else.
    let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    drop(read);
    Stdio::from(write)
}

#[test]
fn trace_cut_by_a_closed_pipe_is_an_error() {
    let port = tiny_server(1);
    let out = Command::new(assert_cmd::cargo::cargo_bin("qtap"))
        .args(["@127.0.0.1", "-p", &port.to_string(), "www.example"])
        .args(["--tap", "-"])
        .stdout(closed_pipe())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    expect_code(&out, 10);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let last = stderr.lines().last().unwrap_or_default();
    assert!(last.starts_with("qtap: cannot write trace -: "), "{stderr}");
}

#[test]
fn a_selection_cut_by_a_closed_pipe_is_an_error() {
    let fixture =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/corpus/kdig-multi.fstrm");
    let out = Command::new(assert_cmd::cargo::cargo_bin("qtap"))
        .arg("--read")
        .arg(&fixture)
        .args(["--write", "-"])
        .stdout(closed_pipe())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    expect_code(&out, 10);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("qtap: cannot write trace -: "),
        "{stderr}"
    );
}

#[test]
fn closed_text_pipe_still_ends_quietly() {
    let port = tiny_server(1);
    let out = Command::new(assert_cmd::cargo::cargo_bin("qtap"))
        .args(["@127.0.0.1", "-p", &port.to_string(), "www.example"])
        .stdout(closed_pipe())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    expect_code(&out, 0);
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
}

#[test]
fn ctrl_c_still_ends_the_wait_for_a_fifo_reader() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("t.fstrm");
    // SAFETY: mkfifo on a path we own.
    assert_eq!(unsafe { libc::mkfifo(c_path(&fifo).as_ptr(), 0o600) }, 0);
    let server = silent_server();
    let port = server.local_addr().unwrap().port();
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("qtap"))
        .args(["@127.0.0.1", "-p", &port.to_string(), "x.example", "--tap"])
        .arg(&fifo)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Let qtap reach the open (a signal before it ends the run just the same).
    std::thread::sleep(Duration::from_millis(300));
    kill(&child, libc::SIGINT);
    let mut ended = None;
    for _ in 0..200 {
        ended = child.try_wait().unwrap();
        if ended.is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let Some(status) = ended else {
        let _ = child.kill();
        let _ = child.wait();
        panic!("SIGINT did not end qtap waiting for a FIFO reader");
    };
    use std::os::unix::process::ExitStatusExt;
    let code = status.code().or(status.signal().map(|s| 128 + s));
    assert_eq!(code, Some(130));
    assert_eq!(names(dir.path()), ["t.fstrm"]);
}

#[test]
fn another_users_files_are_refused_or_written_back() {
    use std::os::unix::process::CommandExt;
    if !is_root() {
        eprintln!("skipped: running qtap as another user needs root");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let (mine, shared) = (dir.path().join("mine"), dir.path().join("shared"));
    for (path, mode) in [(&mine, 0o644), (&shared, 0o666)] {
        std::fs::write(path, b"old trace").unwrap();
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    }
    let as_nobody = |trace: &Path| {
        let port = tiny_server(1);
        Command::new(assert_cmd::cargo::cargo_bin("qtap"))
            .args([
                "@127.0.0.1",
                "-p",
                &port.to_string(),
                "www.example",
                "--tap",
            ])
            .arg(trace)
            .uid(65534)
            .gid(65534)
            .output()
            .unwrap()
    };
    // Root's 0644 file: nobody may not write it.
    let out = as_nobody(&mine);
    expect_code(&out, 10);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.ends_with(": Permission denied (os error 13)\n"),
        "{stderr}"
    );
    assert_eq!(std::fs::read(&mine).unwrap(), b"old trace");
    // Root's 0666 file: nobody may write it but cannot give a new file
    // root's ownership, so the trace is written into the file itself.
    let out = as_nobody(&shared);
    expect_code(&out, 0);
    check_answered(&shared);
    let m = std::fs::metadata(&shared).unwrap();
    assert_eq!((m.uid(), m.gid(), m.mode() & 0o7777), (0, 0, 0o666));
    assert_eq!(names(dir.path()), ["mine", "shared"]);
    // A file nobody may write in a directory nobody may not (made for
    // them by root): written into the file itself, the temporary copy in
    // the temporary directory.
    let closed = dir.path().join("closed");
    std::fs::create_dir(&closed).unwrap();
    let theirs = closed.join("t.fstrm");
    std::fs::write(&theirs, b"old trace").unwrap();
    std::os::unix::fs::chown(&theirs, Some(65534), Some(65534)).unwrap();
    std::fs::set_permissions(&closed, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = as_nobody(&theirs);
    expect_code(&out, 0);
    check_answered(&theirs);
    assert_eq!(names(&closed), ["t.fstrm"]);
}

/// A trace never overwrites what the run was given (a TSIG key, the batch
/// file, the trace it replays) or another of its outputs: refused before
/// anything is sent, the file untouched, exit 1.
#[test]
fn a_trace_may_not_overwrite_an_input_or_another_output() {
    let dir = tempfile::tempdir().unwrap();
    let silent = silent_server();
    let port = silent.local_addr().unwrap().port().to_string();
    let key = dir.path().join("key.txt");
    let key_text = "hmac-sha256:tkey:c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0\n";
    std::fs::write(&key, key_text).unwrap();
    let batch = dir.path().join("batch.txt");
    std::fs::write(&batch, "www.example\n").unwrap();
    let replayed = dir.path().join("replayed.fstrm");
    let fixture =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/corpus/kdig-multi.fstrm");
    std::fs::copy(&fixture, &replayed).unwrap();
    // Through a symlink too: the same file is told by its inode.
    let link = dir.path().join("link.fstrm");
    std::os::unix::fs::symlink(&replayed, &link).unwrap();
    // Each case's words, split at spaces (the temporary paths have none).
    let (k, f, r, l) = (
        key.display(),
        batch.display(),
        replayed.display(),
        link.display(),
    );
    let same = dir.path().join("same.fstrm");
    let same = same.display();
    let cases = [
        (
            format!("-k {k} www.example --tap {k}"),
            "is also the -k file",
        ),
        (format!("-f {f} --tap {f}"), "is also the -f file"),
        (
            format!("--replay {r} --tap {l}"),
            "is also the --replay file",
        ),
        (
            format!("--replay {r} --mismatches {r}"),
            "is also the --replay file",
        ),
        (
            format!("--replay {r} --tap {same} --mismatches {same}"),
            "both name",
        ),
    ];
    for (args, said) in cases {
        let args: Vec<&str> = args.split(' ').collect();
        let out = qtap()
            .args(["@127.0.0.1", "-p", &port, "+tries=1", "+timeout=1"])
            .args(&args)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(err.contains(said), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{err}");
    }
    let mut buf = [0u8; 512];
    silent.set_nonblocking(true).unwrap();
    assert!(silent.recv_from(&mut buf).is_err(), "a query was sent");
    assert_eq!(std::fs::read_to_string(&key).unwrap(), key_text);
    assert_eq!(std::fs::read_to_string(&batch).unwrap(), "www.example\n");
    assert_eq!(
        std::fs::read(&replayed).unwrap(),
        std::fs::read(&fixture).unwrap()
    );
    assert!(!dir.path().join("same.fstrm").exists());
}

/// `--tap -` and `--write -` with stdout on a terminal: the trace's bytes
/// (a server's, raw) are not written to it; a one-line refusal, exit 1.
#[test]
fn a_binary_trace_is_not_written_to_a_terminal() {
    if Command::new("script").arg("--version").output().is_err() {
        eprintln!("skipped: script (util-linux) not installed");
        return;
    }
    let bin = assert_cmd::cargo::cargo_bin("qtap");
    let fixture =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/corpus/kdig-multi.fstrm");
    let silent = silent_server();
    let port = silent.local_addr().unwrap().port();
    for cmd in [
        format!("{} @127.0.0.1 -p {port} www.example --tap -", bin.display()),
        format!("{} --read {} --write -", bin.display(), fixture.display()),
    ] {
        let out = Command::new("script")
            .args(["-qec", &cmd, "/dev/null"])
            .output()
            .unwrap();
        let shown = String::from_utf8_lossy(&out.stdout);
        assert!(
            shown.contains("not writing a binary dnstap trace to a terminal"),
            "{cmd}: {shown}"
        );
        assert!(!shown.contains("protobuf:dnstap"), "{cmd}: {shown}");
        assert_eq!(out.status.code(), Some(1), "{cmd}: {shown}");
    }
}

/// `--tap /dev/stdout` would mix the trace into the text (or copy it over
/// the text): refused, pointing at `--tap -`. `-` where only files are
/// written (the collector's `--write`, `--mismatches`) is refused rather
/// than made into a file called `-`.
#[test]
fn a_trace_is_not_mixed_into_the_text_nor_written_to_a_file_called_dash() {
    let dir = tempfile::tempdir().unwrap();
    let silent = silent_server();
    let port = silent.local_addr().unwrap().port().to_string();
    let out = qtap()
        .current_dir(dir.path())
        .args([
            "@127.0.0.1",
            "-p",
            &port,
            "www.example",
            "--tap",
            "/dev/stdout",
        ])
        .output()
        .unwrap();
    expect_code(&out, 1);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("use --tap -"), "{err}");
    let fixture =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/corpus/kdig-multi.fstrm");
    let sock = dir.path().join("c.sock");
    for args in [
        vec![
            "--read".to_owned(),
            format!("unix:{}", sock.display()),
            "--write".into(),
            "-".into(),
        ],
        vec![
            "--replay".to_owned(),
            fixture.display().to_string(),
            "@127.0.0.1".into(),
            "-p".into(),
            port.clone(),
            "--mismatches".into(),
            "-".into(),
        ],
    ] {
        let out = qtap().current_dir(dir.path()).args(&args).output().unwrap();
        expect_code(&out, 1);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("writes files only here"), "{args:?}: {err}");
    }
    assert_eq!(names(dir.path()), Vec::<String>::new(), "nothing made");
    let mut buf = [0u8; 512];
    silent.set_nonblocking(true).unwrap();
    assert!(silent.recv_from(&mut buf).is_err(), "a query was sent");
}

/// A symbolic link someone else planted in a shared directory (sticky and
/// world-writable, like /tmp) is not followed, whatever the system's
/// `fs.protected_symlinks`: refused before anything is sent (exit 10), its
/// target untouched.
#[test]
fn a_link_planted_by_another_user_in_a_shared_directory_is_not_followed() {
    let dir = tempfile::tempdir().unwrap();
    let shared = dir.path().join("shared");
    std::fs::create_dir(&shared).unwrap();
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o1777)).unwrap();
    let victim = dir.path().join("victim");
    std::fs::write(&victim, b"precious").unwrap();
    let link = shared.join("t.fstrm");
    std::os::unix::fs::symlink(&victim, &link).unwrap();
    if std::os::unix::fs::lchown(&link, Some(65534), Some(65534)).is_err() {
        eprintln!("skipped: giving the link to another user needs root");
        return;
    }
    let out = record_to(&link);
    expect_code(&out, 10);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("owned by another user"), "{err}");
    assert_eq!(std::fs::read(&victim).unwrap(), b"precious");
}
