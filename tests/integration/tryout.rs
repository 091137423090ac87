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

#[test]
fn a_batch_line_with_escape_sequences_is_escaped_in_the_error() {
    let dir = tempfile::tempdir().unwrap();
    let batch = dir.path().join("batch");
    std::fs::write(&batch, "a.qtap.test +bogus\x1b]0;pwned\x07\x1b[2J\n").unwrap();
    let mut cmd = qtap();
    cmd.args(["@127.0.0.1", "-p", "1", "-f"]).arg(&batch);
    let run = Run::of(&mut cmd).expect_code(8);
    assert_eq!(run.stderr.lines().count(), 1, "{:?}", run.stderr);
    assert!(controls(&run.stderr).is_empty(), "{:?}", run.stderr);
    assert!(
        run.stderr.contains("+bogus\\027]0;pwned\\007\\027[2J"),
        "{:?}",
        run.stderr
    );
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
    assert_eq!(run.stderr.lines().count(), 1, "{:?}", run.stderr);
    assert!(controls(&run.stderr).is_empty(), "{:?}", run.stderr);
    assert!(
        run.stderr.contains("evil\\027[31m\\010qtap: fake.fstrm"),
        "{:?}",
        run.stderr
    );
}
