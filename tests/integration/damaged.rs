//! Damaged and hostile traces through the real binary (`qtap --read`): files
//! cut at every byte, garbage between frames, absurd frame lengths, odd or
//! missing START frames, unknown control frames, concatenated streams,
//! inputs that are not regular files, a closed output pipe, and trace
//! fields that try to reach the terminal with escape sequences.
//!
//! Each case checks what a user sees: one clear line on stderr naming the
//! file and the byte offset, every intact frame before the damage still
//! rendered (counted as `;; ->>HEADER<<-` lines under `+qr`), no
//! panic, and exit code 8 exactly when data was lost. Frame-level and
//! protobuf-level properties live in `props.rs`.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use qtap::tap::pb;
use qtap::tap::reader::{Item, ReaderOptions, TapReader};
use qtap::tap::writer::TapWriter;

use crate::qtap;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/corpus")
        .join(name)
}

/// What one run of `qtap --read` produced.
#[derive(Debug)]
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Run {
    fn headers(&self) -> usize {
        self.stdout.matches(";; ->>HEADER<<-").count()
    }

    /// No panic text and nothing that is not a one-line diagnostic.
    fn assert_sane(&self, what: &str) {
        for text in [&self.stdout, &self.stderr] {
            assert!(!text.contains("panicked"), "{what}: {text}");
            assert!(!text.contains("RUST_BACKTRACE"), "{what}: {text}");
        }
        for line in self.stderr.lines() {
            assert!(
                line.starts_with("qtap: ") || line.starts_with(";; WARNING: "),
                "{what}: unexpected stderr line {line:?}"
            );
        }
    }
}

/// `qtap --read PATH +qr` through the binary.
fn read_bin(path: &Path) -> Run {
    let out = qtap().arg("--read").arg(path).arg("+qr").output().unwrap();
    Run {
        code: out.status.code(),
        stdout: String::from_utf8(out.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(out.stderr).expect("stderr is UTF-8"),
    }
}

/// The same as [`read_bin`], in-process through `qtap::run::run`.
fn read_lib(path: &Path) -> Run {
    let argv = [
        "qtap".as_ref(),
        "--read".as_ref(),
        path.as_os_str(),
        "+qr".as_ref(),
    ];
    let args = qtap::cli::parse(argv).unwrap();
    let config = qtap::config::Config::from_args(args, Path::new("no-such-resolv.conf")).unwrap();
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = qtap::run::run(config, &mut out, &mut err).unwrap();
    Run {
        code: Some(i32::from(code)),
        stdout: String::from_utf8(out).unwrap(),
        stderr: String::from_utf8(err).unwrap(),
    }
}

/// Byte ranges of the data frames of an undamaged trace.
fn data_frames(bytes: &[u8]) -> Vec<std::ops::Range<usize>> {
    let mut reader = TapReader::new(bytes, ReaderOptions::default());
    let mut frames = Vec::new();
    while let Some(item) = reader.next_item().unwrap() {
        match item {
            Item::Data { offset, payload } => {
                let start = usize::try_from(offset).unwrap();
                frames.push(start..start + 4 + payload.len());
            }
            Item::Warning(w) => panic!("fixture is damaged: {w}"),
        }
    }
    frames
}

fn write_file(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// What a file cut at byte `cut` of `full` must produce, given its data frames.
fn check_cut(run: &Run, path: &Path, full: &[u8], frames: &[std::ops::Range<usize>], cut: usize) {
    let what = format!("cut at {cut}");
    run.assert_sane(&what);
    let name = path.display().to_string();
    let whole = frames.iter().filter(|f| f.end <= cut).count();
    assert_eq!(run.headers(), whole, "{what}: intact frames shown\n{run:?}");
    let start_end = frames.first().map_or(42, |f| f.start);
    let stop_at = full.len() - 12;
    let boundary = cut == start_end || frames.iter().any(|f| f.end == cut);
    let (want_code, want_text) = if cut == full.len() {
        (0, None)
    } else if cut == 0 {
        (8, Some("empty file".to_owned()))
    } else if boundary {
        // Ends cleanly between frames: only the STOP is missing.
        (
            0,
            Some(format!("no STOP frame: the stream ends at byte {cut}")),
        )
    } else {
        // The frame the cut falls in starts at the last boundary before it.
        let at = if cut < start_end {
            0
        } else {
            frames
                .iter()
                .map(|f| f.end)
                .chain([start_end])
                .filter(|&e| e <= cut)
                .max()
                .unwrap()
        };
        assert!(at <= stop_at);
        (8, Some(format!("frame at byte {at} is cut short")))
    };
    assert_eq!(run.code, Some(want_code), "{what}\n{run:?}");
    match want_text {
        None => assert_eq!(run.stderr, "", "{what}"),
        Some(text) => {
            assert_eq!(run.stderr.lines().count(), 1, "{what}: one line\n{run:?}");
            assert!(
                run.stderr.contains(&name),
                "{what}: names the file\n{run:?}"
            );
            assert!(
                run.stderr.contains(&text),
                "{what}: wants {text:?}\n{run:?}"
            );
        }
    }
}

#[test]
fn a_trace_cut_at_every_byte_offset_keeps_every_whole_frame() {
    let full = std::fs::read(fixture("kdig-multi.fstrm")).unwrap();
    let frames = data_frames(&full);
    assert_eq!(frames.len(), 12);
    let dir = tempfile::tempdir().unwrap();
    for cut in 0..=full.len() {
        let path = write_file(dir.path(), &format!("cut-{cut}.fstrm"), &full[..cut]);
        check_cut(&read_lib(&path), &path, &full, &frames, cut);
        // The binary on a sample of the cuts (and on both ends).
        if cut % 37 == 0 || cut == full.len() || cut + 1 == full.len() {
            check_cut(&read_bin(&path), &path, &full, &frames, cut);
        }
        std::fs::remove_file(&path).unwrap();
    }
}

/// kdig-multi with `garbage` inserted after its `k`th data frame.
fn with_garbage(k: usize, garbage: &[u8]) -> (Vec<u8>, usize) {
    let full = std::fs::read(fixture("kdig-multi.fstrm")).unwrap();
    let at = data_frames(&full)[k - 1].end;
    let mut bytes = full[..at].to_vec();
    bytes.extend_from_slice(garbage);
    bytes.extend_from_slice(&full[at..]);
    (bytes, at)
}

#[test]
fn garbage_between_frames_is_reported_at_its_offset() {
    let dir = tempfile::tempdir().unwrap();
    // Text: its first four bytes read as a length of about 1.2 GB.
    let (bytes, at) = with_garbage(4, b"GARBAGE! some text that is no frame");
    let path = write_file(dir.path(), "text.fstrm", &bytes);
    let run = read_bin(&path);
    run.assert_sane("text garbage");
    assert_eq!(run.code, Some(8), "{run:?}");
    assert_eq!(run.headers(), 4, "{run:?}");
    assert_eq!(run.stderr.lines().count(), 1, "{run:?}");
    assert!(run.stderr.contains(&path.display().to_string()), "{run:?}");
    assert!(
        run.stderr
            .contains(&format!("frame at byte {at} is cut short")),
        "{run:?}"
    );

    // Zeros: a control frame of length 0.
    let (bytes, at) = with_garbage(6, &[0; 8]);
    let path = write_file(dir.path(), "zeros.fstrm", &bytes);
    let run = read_bin(&path);
    run.assert_sane("zero garbage");
    assert_eq!(run.code, Some(8), "{run:?}");
    assert_eq!(run.headers(), 6, "{run:?}");
    assert!(
        run.stderr
            .contains(&format!("bad control frame at byte {at}")),
        "{run:?}"
    );

    // A well-framed data frame that is not dnstap: skipped, the rest is read.
    let (bytes, at) = with_garbage(2, b"\0\0\0\x05hello");
    let path = write_file(dir.path(), "frame.fstrm", &bytes);
    let run = read_bin(&path);
    run.assert_sane("garbage frame");
    assert_eq!(run.code, Some(8), "{run:?}");
    assert_eq!(run.headers(), 12, "{run:?}");
    assert_eq!(run.stderr.lines().count(), 1, "{run:?}");
    assert!(
        run.stderr.contains(&format!("frame at byte {at} skipped")),
        "{run:?}"
    );
    assert!(run.stderr.contains("frame.fstrm"), "{run:?}");
}

#[test]
fn frame_lengths_up_to_4_gib_are_reported_not_allocated() {
    let dir = tempfile::tempdir().unwrap();
    for len in [0xffff_ffffu32, 0x8000_0000, (1 << 20) + 1] {
        let (bytes, at) = with_garbage(3, &len.to_be_bytes());
        let path = write_file(dir.path(), &format!("len-{len:x}.fstrm"), &bytes);
        // Under a 1 GiB address-space limit: allocating the frame would abort.
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg("ulimit -v 1048576 && exec \"$0\" --read \"$1\" +qr")
            .arg(assert_cmd::cargo::cargo_bin("qtap"))
            .arg(&path)
            .env("TZ", "UTC")
            .output()
            .unwrap();
        let run = Run {
            code: out.status.code(),
            stdout: String::from_utf8(out.stdout).unwrap(),
            stderr: String::from_utf8(out.stderr).unwrap(),
        };
        let what = format!("length {len:#x}");
        run.assert_sane(&what);
        assert_eq!(run.code, Some(8), "{what}: {run:?}");
        assert_eq!(run.headers(), 3, "{what}: {run:?}");
        assert_eq!(run.stderr.lines().count(), 1, "{what}: {run:?}");
        let want = format!("frame at byte {at} is cut short");
        assert!(run.stderr.contains(&want), "{what}: {run:?}");
        assert!(
            run.stderr
                .contains(&format!("{} bytes", 4 + u64::from(len))),
            "{what}: {run:?}"
        );
    }
}

#[test]
fn an_oversize_frame_is_skipped_and_the_rest_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let mut frame = 5000u32.to_be_bytes().to_vec();
    frame.resize(4 + 5000, 0x61);
    let (bytes, at) = with_garbage(5, &frame);
    let path = write_file(dir.path(), "oversize.fstrm", &bytes);
    let run = Run::from(
        qtap()
            .arg("--read")
            .arg(&path)
            .args(["--max-frame-size", "4096", "+qr"])
            .output()
            .unwrap(),
    );
    run.assert_sane("oversize");
    assert_eq!(run.code, Some(8), "{run:?}");
    assert_eq!(run.headers(), 12, "{run:?}");
    assert_eq!(run.stderr.lines().count(), 1, "{run:?}");
    assert!(
        run.stderr
            .contains(&format!("skipped data frame at byte {at}: 5000 bytes")),
        "{run:?}"
    );
}

impl From<std::process::Output> for Run {
    fn from(out: std::process::Output) -> Run {
        Run {
            code: out.status.code(),
            stdout: String::from_utf8(out.stdout).unwrap(),
            stderr: String::from_utf8(out.stderr).unwrap(),
        }
    }
}

/// kdig-multi with its START frame replaced by `start` (raw bytes).
fn with_start(start: &[u8]) -> Vec<u8> {
    let full = std::fs::read(fixture("kdig-multi.fstrm")).unwrap();
    let first = data_frames(&full)[0].start;
    let mut bytes = start.to_vec();
    bytes.extend_from_slice(&full[first..]);
    bytes
}

/// A START control frame with these content types.
fn start_frame(content_types: &[&[u8]]) -> Vec<u8> {
    let mut out = bytes::BytesMut::new();
    let control = qtap::tap::frame::Control {
        kind: qtap::tap::frame::ControlType::Start,
        content_types: content_types
            .iter()
            .map(|c| Bytes::copy_from_slice(c))
            .collect(),
    };
    qtap::tap::frame::encode_control(&control, &mut out).unwrap();
    out.to_vec()
}

#[test]
fn start_with_a_wrong_content_type_is_refused_with_code_8() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_file(
        dir.path(),
        "wrong-ct.fstrm",
        &with_start(&start_frame(&[b"text/plain\x1b[31m"])),
    );
    let run = read_bin(&path);
    run.assert_sane("wrong content type");
    assert_eq!(run.code, Some(8), "{run:?}");
    assert_eq!(run.headers(), 0, "{run:?}");
    assert_eq!(run.stderr.lines().count(), 1, "{run:?}");
    assert!(run.stderr.contains("wrong-ct.fstrm"), "{run:?}");
    assert!(run.stderr.contains("START frame at byte 0"), "{run:?}");
    assert!(
        run.stderr.contains("text/plain\\x1b[31m"),
        "escaped: {run:?}"
    );
    assert!(!run.stderr.contains('\x1b'), "{run:?}");
}

#[test]
fn start_without_a_content_type_is_a_warning_and_everything_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_file(dir.path(), "no-ct.fstrm", &with_start(&start_frame(&[])));
    let run = read_bin(&path);
    run.assert_sane("no content type");
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(run.headers(), 12, "{run:?}");
    assert_eq!(run.stderr.lines().count(), 1, "{run:?}");
    assert!(
        run.stderr
            .contains("no-ct.fstrm: START frame at byte 0 has no content type"),
        "{run:?}"
    );
}

#[test]
fn unknown_control_frames_are_skipped_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    // Control type 77 with one unknown field.
    let unknown = [
        0, 0, 0, 0, 0, 0, 0, 15, 0, 0, 0, 77, 0, 0, 0, 9, 0, 0, 0, 3, b'x', b'y', b'z',
    ];
    let (bytes, at) = with_garbage(7, &unknown);
    let path = write_file(dir.path(), "unknown.fstrm", &bytes);
    let run = read_bin(&path);
    run.assert_sane("unknown control");
    assert_eq!(run.code, Some(0), "nothing was lost: {run:?}");
    assert_eq!(run.headers(), 12, "{run:?}");
    assert_eq!(run.stderr.lines().count(), 1, "{run:?}");
    assert!(run.stderr.contains("unknown.fstrm"), "{run:?}");
    assert!(
        run.stderr
            .contains(&format!("control frame of unknown type 77 at byte {at}")),
        "{run:?}"
    );
}

#[test]
fn two_concatenated_streams_are_both_read() {
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = std::fs::read(fixture("kdig-multi.fstrm")).unwrap();
    let second_at = bytes.len();
    bytes.extend(std::fs::read(fixture("kdig-udp.fstrm")).unwrap());
    let path = write_file(dir.path(), "two.fstrm", &bytes);
    let run = read_bin(&path);
    run.assert_sane("concatenated");
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(run.headers(), 12 + 2, "{run:?}");
    assert_eq!(run.stderr.lines().count(), 1, "{run:?}");
    assert!(
        run.stderr.contains(&format!(
            "two.fstrm: another stream starts at byte {second_at}"
        )),
        "{run:?}"
    );
}

#[test]
fn an_empty_file_and_a_directory_fail_with_code_8() {
    let dir = tempfile::tempdir().unwrap();
    let empty = write_file(dir.path(), "empty.fstrm", b"");
    let run = read_bin(&empty);
    run.assert_sane("empty");
    assert_eq!(run.code, Some(8), "{run:?}");
    assert_eq!(
        run.stderr,
        format!("qtap: {}: empty file (no START frame)\n", empty.display())
    );
    assert_eq!(run.stdout, "");

    let sub = dir.path().join("a-directory");
    std::fs::create_dir(&sub).unwrap();
    let run = read_bin(&sub);
    run.assert_sane("directory");
    assert_eq!(run.code, Some(8), "{run:?}");
    assert_eq!(run.stderr.lines().count(), 1, "{run:?}");
    assert!(run.stderr.contains("a-directory"), "{run:?}");
    assert!(run.stderr.to_lowercase().contains("directory"), "{run:?}");
}

#[test]
fn a_fifo_is_read_as_a_stream() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("trace.fifo");
    let c_path = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path; mkfifo only creates a node.
    assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0);
    let trace = std::fs::read(fixture("kdig-udp.fstrm")).unwrap();
    let writer_fifo = fifo.clone();
    let writer = std::thread::spawn(move || {
        // Blocks until qtap opens the FIFO for reading.
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .open(writer_fifo)
            .unwrap();
        // Two writes, so the reader sees the stream arrive in pieces.
        f.write_all(&trace[..100]).unwrap();
        f.flush().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(50));
        f.write_all(&trace[100..]).unwrap();
    });
    let run = read_bin(&fifo);
    writer.join().unwrap();
    run.assert_sane("fifo");
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(run.headers(), 2, "{run:?}");
    assert_eq!(run.stderr, "");
}

#[test]
fn an_unreadable_file_fails_with_code_8() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        eprintln!("skipped: running as root, which may read any file");
        return;
    }
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    let path = write_file(
        dir.path(),
        "secret.fstrm",
        &std::fs::read(fixture("kdig-udp.fstrm")).unwrap(),
    );
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o000)).unwrap();
    let run = read_bin(&path);
    run.assert_sane("unreadable");
    assert_eq!(run.code, Some(8), "{run:?}");
    assert_eq!(run.headers(), 0);
    assert_eq!(run.stderr.lines().count(), 1, "{run:?}");
    assert!(run.stderr.contains("secret.fstrm"), "{run:?}");
    assert!(run.stderr.contains("ermission denied"), "{run:?}");
}

#[test]
fn a_closed_output_pipe_ends_quietly_with_code_0() {
    // A big trace: knotd-auth's records 30 times over (several MB of text).
    let records = crate::read_trace(&fixture("knotd-auth.fstrm"));
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.fstrm");
    let mut writer = TapWriter::new(std::fs::File::create(&big).unwrap()).unwrap();
    for _ in 0..30 {
        for r in &records {
            writer.write(r).unwrap();
        }
    }
    writer.finish().unwrap();
    if !crate::have("bash") || !crate::have("head") {
        return;
    }
    let out = std::process::Command::new("bash")
        .arg("-c")
        .arg("set -o pipefail; \"$0\" --read \"$1\" | head -1")
        .arg(assert_cmd::cargo::cargo_bin("qtap"))
        .arg(&big)
        .env("TZ", "UTC")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "qtap's status: {stderr}");
    assert_eq!(stderr, "", "nothing on stderr");
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 1);
}

// ---------------------------------------------------------------------------
// Terminal safety: bytes from a trace never reach the terminal raw.

/// A DNS name in wire form from its labels.
fn wire_name(labels: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::new();
    for l in labels {
        out.push(u8::try_from(l.len()).unwrap());
        out.extend_from_slice(l);
    }
    out.push(0);
    out
}

/// A response with ESC in the question name, a TXT string, an owner name,
/// an NSID and an EDE extra text (plus a C1 CSI in UTF-8 there).
fn hostile_response() -> Vec<u8> {
    let mut m = vec![0x12, 0x34, 0x81, 0x80, 0, 1, 0, 2, 0, 0, 0, 1];
    m.extend(wire_name(&[b"q\x1b]0;title\x07", b"test"]));
    m.extend_from_slice(&[0, 16, 0, 1]);
    // TXT at the question name (pointer to offset 12).
    let txt: &[u8] = b"hi\x1b[31mred\x9b2J";
    m.extend_from_slice(&[0xc0, 12, 0, 16, 0, 1, 0, 0, 0, 60, 0]);
    m.push(u8::try_from(txt.len() + 1).unwrap());
    m.push(u8::try_from(txt.len()).unwrap());
    m.extend_from_slice(txt);
    // A with an owner containing ESC.
    m.extend(wire_name(&[b"own\x1bner", b"test"]));
    m.extend_from_slice(&[0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1]);
    // OPT: NSID "ns\x1b[1m", EDE 6 with extra text "bad\x1b[0m" and U+009B.
    let nsid: &[u8] = b"ns\x1b[1m";
    let ede_text = "bad\x1b[0m\u{9b}2J".as_bytes();
    let mut opts = vec![0, 3, 0, u8::try_from(nsid.len()).unwrap()];
    opts.extend_from_slice(nsid);
    opts.extend_from_slice(&[0, 15, 0, u8::try_from(ede_text.len() + 2).unwrap(), 0, 6]);
    opts.extend_from_slice(ede_text);
    m.extend_from_slice(&[0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0]);
    m.push(u8::try_from(opts.len()).unwrap());
    m.extend_from_slice(&opts);
    m
}

fn hostile_trace(dir: &Path) -> PathBuf {
    let response = hostile_response();
    // The query: the response's header and question, flags cleared.
    let question_end = 12 + wire_name(&[b"q\x1b]0;title\x07", b"test"]).len() + 4;
    let mut query = response[..question_end].to_vec();
    query[2..4].copy_from_slice(&[0x01, 0x00]);
    query[6..12].fill(0);
    let record = |mtype: pb::message::Type, q: bool| pb::Dnstap {
        identity: Some(Bytes::from_static(b"id\x1b[5m")),
        version: Some(Bytes::from_static(b"ver\x1b[7m\x9b")),
        extra: None,
        r#type: pb::dnstap::Type::Message as i32,
        message: Some(pb::Message {
            r#type: mtype as i32,
            socket_family: Some(pb::SocketFamily::Inet as i32),
            socket_protocol: Some(pb::SocketProtocol::Udp as i32),
            query_address: Some(Bytes::from_static(&[127, 0, 0, 1])),
            response_address: Some(Bytes::from_static(&[127, 0, 0, 53])),
            query_port: Some(40000),
            response_port: Some(53),
            query_time_sec: Some(1_700_000_000),
            query_time_nsec: Some(0),
            query_message: Some(Bytes::from(query.clone())),
            response_time_sec: (!q).then_some(1_700_000_000),
            response_time_nsec: (!q).then_some(5_000_000),
            response_message: (!q).then(|| Bytes::from(response.clone())),
            ..Default::default()
        }),
    };
    let path = dir.join("hostile.fstrm");
    let mut writer = TapWriter::new(std::fs::File::create(&path).unwrap()).unwrap();
    writer
        .write(&record(pb::message::Type::StubQuery, true))
        .unwrap();
    writer
        .write(&record(pb::message::Type::StubResponse, false))
        .unwrap();
    writer.finish().unwrap();
    path
}

/// No C0 control but tab and newline, no DEL, no C1 control.
fn assert_no_controls(text: &[u8], what: &str) {
    let shown = String::from_utf8_lossy(text);
    assert!(!text.contains(&0x1b), "{what}: raw ESC\n{shown}");
    let bad = shown
        .chars()
        .find(|&c| c.is_control() && c != '\n' && c != '\t');
    assert_eq!(bad, None, "{what}: raw control character\n{shown}");
}

#[test]
fn escape_bytes_in_a_trace_never_reach_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let path = hostile_trace(dir.path());
    for args in [
        &["+qr"][..],
        &[],
        &["+short"],
        &["--format", "short"],
        &["+nocomments", "+qr"],
    ] {
        let out = qtap().arg("--read").arg(&path).args(args).output().unwrap();
        let what = format!("{args:?}");
        assert_eq!(out.status.code(), Some(0), "{what}");
        assert_no_controls(&out.stdout, &what);
        assert_no_controls(&out.stderr, &what);
        assert!(!out.stdout.is_empty(), "{what}");
    }
    let out = qtap().arg("--read").arg(&path).arg("+qr").output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    // Each hostile field is there, escaped.
    for want in [
        "; <<>> ver\\027[7m\\155 (id\\027[5m) <<>>",
        ";q\\027]0\\;title\\007.test.",
        "\"hi\\027[31mred\\1552J\"",
        "own\\027ner.test.",
        "; EDE: 6 (DNSSEC Bogus): (bad.[0m.2J)",
    ] {
        assert!(text.contains(want), "wants {want:?} in\n{text}");
    }
    // NSID: hex plus a text rendering in which ESC is not raw.
    let nsid = text
        .lines()
        .find(|l| l.starts_with("; NSID:"))
        .expect("NSID line");
    assert!(nsid.contains("6e 73 1b 5b 31 6d"), "{nsid}");
}
