//! Traces written by qtap are read by the peer tools: kdig -G, BIND's
//! dnstap-read, the Go dnstap tool and fstrm_dump. Each test skips (and
//! says so) when its tool is not installed; CI installs them all.

use std::path::Path;
use std::process::Command;

use crate::{have, qtap, tiny_server};

fn write_trace(dir: &Path) -> std::path::PathBuf {
    let port = tiny_server(1);
    let trace = dir.join("interop.fstrm");
    qtap()
        .args([
            "@127.0.0.1",
            "-p",
            &port.to_string(),
            "www.interop.test",
            "A",
        ])
        .arg("--tap")
        .arg(&trace)
        .assert()
        .success();
    trace
}

fn run(tool: &str, args: &[&std::ffi::OsStr]) -> String {
    let out = Command::new(tool).args(args).output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{tool} failed: {text}");
    text
}

#[test]
fn kdig_reads_qtap_traces() {
    if !have("kdig") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let trace = write_trace(dir.path());
    let text = run("kdig", &["-G".as_ref(), trace.as_os_str(), "+qr".as_ref()]);
    assert!(text.contains("www.interop.test."), "{text}");
    assert!(text.contains("192.0.2.77"), "{text}");
}

#[test]
fn dnstap_read_reads_qtap_traces() {
    if !have("dnstap-read") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let trace = write_trace(dir.path());
    let text = run("dnstap-read", &["-p".as_ref(), trace.as_os_str()]);
    assert!(text.contains("www.interop.test."), "{text}");
    assert!(text.contains("192.0.2.77"), "{text}");
    // The summary mode names our message types.
    let summary = run("dnstap-read", &[trace.as_os_str()]);
    assert_eq!(summary.lines().count(), 2, "{summary}");
    assert!(
        summary.contains("SQ") && summary.contains("SR"),
        "{summary}"
    );
}

#[test]
fn go_dnstap_reads_qtap_traces() {
    if !have("dnstap") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let trace = write_trace(dir.path());
    let text = run("dnstap", &["-r".as_ref(), trace.as_os_str(), "-y".as_ref()]);
    assert!(text.contains("type: STUB_QUERY"), "{text}");
    assert!(text.contains("type: STUB_RESPONSE"), "{text}");
    assert!(text.contains("socket_protocol: UDP"), "{text}");
    assert!(text.contains("response_address: 127.0.0.1"), "{text}");
    assert!(text.contains("www.interop.test."), "{text}");
    assert!(text.contains(&format!("version: \"qtap {}\"", env!("CARGO_PKG_VERSION"))));
}

#[test]
fn fstrm_dump_reads_qtap_traces() {
    if !have("fstrm_dump") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let trace = write_trace(dir.path());
    let text = run("fstrm_dump", &[trace.as_os_str()]);
    assert!(text.contains("protobuf:dnstap.Dnstap"), "{text}");
    assert!(text.contains("STOP"), "{text}");
    assert_eq!(text.matches("Data frame").count(), 2, "{text}");
}
