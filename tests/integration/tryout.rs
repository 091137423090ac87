//! Findings from trying qtap as a demanding user, an operator and an
//! attacker would: each test pins one fixed behaviour (escaped file names
//! and batch lines in errors, a trace that fails in the middle of a run).

use crate::support::{qtap, Run};

/// Control characters anywhere in `text` (what a terminal would act on).
fn controls(text: &str) -> Vec<char> {
    text.chars()
        .filter(|c| c.is_control() && *c != '\n')
        .collect()
}

/// `stderr` is one line, with no control character, holding `escaped`.
fn assert_one_escaped_line(stderr: &str, escaped: &str) {
    assert_eq!(stderr.lines().count(), 1, "{stderr:?}");
    assert!(controls(stderr).is_empty(), "{stderr:?}");
    assert!(stderr.contains(escaped), "{stderr:?}");
}

#[test]
fn a_batch_line_with_escape_sequences_is_escaped_in_the_error() {
    let dir = tempfile::tempdir().unwrap();
    let batch = dir.path().join("batch");
    std::fs::write(&batch, "a.qtap.test +bogus\x1b]0;pwned\x07\x1b[2J\n").unwrap();
    let mut cmd = qtap();
    cmd.args(["@127.0.0.1", "-p", "1", "-f"]).arg(&batch);
    let run = Run::of(&mut cmd).expect_code(8);
    assert_one_escaped_line(&run.stderr, "+bogus\\027]0;pwned\\007\\027[2J");
}

#[test]
fn a_trace_path_with_escape_sequences_and_a_newline_is_escaped_in_the_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir
        .path()
        .join("missing")
        .join("evil\x1b[31m\nqtap: fake.fstrm");
    let mut cmd = qtap();
    cmd.args(["@127.0.0.1", "-p", "1", "a.qtap.test", "--tap"])
        .arg(&path);
    let run = Run::of(&mut cmd).expect_code(10);
    assert_one_escaped_line(&run.stderr, "evil\\027[31m\\010qtap: fake.fstrm");
}

#[test]
fn an_answer_that_arrives_after_the_trace_failed_is_still_shown() {
    // The reply comes late, so the trace's first write (to /dev/full) has
    // failed by the time it arrives.
    let server = crate::support::Hostile::udp(|q| {
        vec![
            crate::support::Reply::Sleep(std::time::Duration::from_millis(500)),
            crate::support::Reply::Send(crate::support::answer_a(q)),
        ]
    });
    let port = server.port();
    let mut cmd = crate::support::qtap_at(&port);
    cmd.args(["a.qtap.test", "+short", "--tap", "/dev/full"]);
    let run = Run::of(&mut cmd).expect_code(10);
    assert_eq!(run.stdout, "192.0.2.77\n");
    assert_eq!(
        run.stderr,
        "qtap: cannot write trace /dev/full: No space left on device (os error 28)\n"
    );
}

#[test]
fn a_link_local_server_on_an_unknown_interface_is_a_usage_error() {
    let mut cmd = qtap();
    cmd.args(["@fe80::1%qtap-no-such0", "a.qtap.test", "+tries=1"]);
    let run = Run::of(&mut cmd).expect_code(1);
    assert_eq!(
        run.stderr,
        "qtap: bad server \"fe80::1%qtap-no-such0\": \
         no network interface named \"qtap-no-such0\"\n"
    );
}

#[test]
fn a_url_zone_id_is_decoded_as_rfc_6874_says() {
    // `%25` is the percent sign: the zone is "qtap-no-such0", not
    // "25qtap-no-such0".
    let mut cmd = qtap();
    cmd.args([
        "@udp://[fe80::1%25qtap-no-such0]:53",
        "a.qtap.test",
        "+tries=1",
    ]);
    let run = Run::of(&mut cmd).expect_code(1);
    assert_eq!(
        run.stderr,
        "qtap: bad server \"udp://[fe80::1%25qtap-no-such0]:53\": \
         no network interface named \"qtap-no-such0\"\n"
    );
}
